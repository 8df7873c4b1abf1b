#include "runner/runner_cli.hpp"

#include <algorithm>
#include <filesystem>
#include <fnmatch.h>
#include <sstream>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "cli/conventions.hpp"
#include "cli/duration.hpp"

namespace tapharness::runner {
namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kUsage =
    "usage: tap_scenario [options] FILE|DIR...\n"
    "       tap_scenario new KIND [FILE]   (a starting file; `tap_scenario new` lists the kinds)";

constexpr std::string_view kAbout = R"(
Runs each scenario end to end: an in-process mock TAP server on an ephemeral port and a
client (the built-in one, or --client-cmd), checking both sides' expectations. Prints one
PASS/FAIL line per scenario (with the failing lines, expected against observed), then
"N passed, N failed".
Exit status: 0 all passed, 1 a scenario failed, 2 a scenario is invalid or bad usage, 4 no
scenario matches --filter (0 under `bazel test --test_filter`), 130 interrupted (Ctrl-C: the
summary and JUnit so far, the interrupted scenario as an error).
)";

bool any_pattern_matches(const std::string& patterns, const std::string& name) {
  std::stringstream in(patterns);
  std::string pattern;
  while (std::getline(in, pattern, ':')) {
    if (!pattern.empty() && fnmatch(pattern.c_str(), name.c_str(), 0) == 0) return true;
  }
  return false;
}

}  // namespace

bool filter_matches(const std::string& filter, const std::string& name) {
  if (filter.empty()) return true;
  const auto dash = filter.find('-');
  const std::string positive = filter.substr(0, dash);
  const std::string negative = dash == std::string::npos ? "" : filter.substr(dash + 1);
  if (!positive.empty() && !any_pattern_matches(positive, name)) return false;
  return negative.empty() || !any_pattern_matches(negative, name);
}

std::variant<RunnerCommand, RunnerUsage> parse_runner_cli(
    int argc, const char* const* argv, const std::function<const char*(const char*)>& environment) {
  RunnerCommand command;
  if (argc >= 2 && std::string_view(argv[1]) == "new") {
    if (argc > 4) return RunnerUsage{2, fmt::format("tap_scenario: new takes KIND and at most one FILE\n{}\n", kUsage)};
    command.new_kind = argc >= 3 ? argv[2] : "";
    if (argc == 4) command.new_file = argv[3];
    return command;
  }
  std::string junit, client_cmd, trace_dir, mutate, pcap;
  std::vector<std::string> defect_words;
  std::uint64_t seed = 0;
  double limit = 0;
  po::options_description described("options");
  // clang-format off
  described.add_options()
      ("help,h", "print this help")
      ("version", "print the version")
      ("junit", po::value(&junit)->value_name("FILE"), "write JUnit XML, one testcase per scenario")
      ("seed", po::value(&seed)->value_name("N"), "override every scenario's seed")
      ("update", "rewrite each scenario's client event and client end lines from what was observed, showing the "
       "diff; refused when the run failed for another reason")
      ("dry-run", "with --update: show the diff, write nothing")
      ("force", "with --update: rewrite even when the run failed for another reason than its client lines")
      ("client-name", po::value(&command.client_name)->value_name("NAME"),
       "what the JUnit report calls the client (default: built-in, or the --client-cmd program)")
      ("client-cmd", po::value(&client_cmd)->value_name("'CMD {addr}'"),
       "run this client instead of the built-in one: it connects to {addr} and prints tap_tail's JSON "
       "lines; {args} becomes the scenario's client args as tap_tail flags")
      ("filter", po::value(&command.filter)->value_name("PATTERNS"), "only scenarios whose name matches (a:b*-c)")
      ("trace", po::value(&trace_dir)->value_name("DIR"), "write server transcripts to DIR")
      ("pcap", po::value(&pcap)->value_name("FILE"),
       "write every run's server connections to FILE as one pcapng, each with its own ports (Wireshark, "
       "tshark, tap_decode; README \"Captures\")")
      ("mutate", po::value(&mutate)->value_name("SEED[:COUNT]"),
       "fuzz the client: run each scenario COUNT times (default 1), perturbed from seeds SEED, SEED+1, ...; "
       "only the client's invariant is checked (one clean ending or error, no hang, no crash), and a "
       "failing seed is printed for replay")
      ("limit", po::value(&limit)->value_name("SECONDS"),
       "how long each run may take, over the scenarios' own `limit` (default 20)")
      ("defect", po::value(&defect_words)->value_name("NAME[:ARG]")->composing(),
       "run the built-in client with this defect (repeatable; tap_tail --help lists them): a scenario "
       "that catches it FAILs")
      ("defects", "the kill matrix: run every scenario against the correct client and each defect, print "
       "who catches whom, and fail unless every defect is caught, every scenario catches one (or its "
       "header says '# kills: none (why)') and the correct client passes everything")
      ("jobs", po::value(&command.jobs)->value_name("N"), "runs at once for --defects (default 16)")
      ("check", "only parse and validate (with --fmt: only say which files are not formatted)")
      ("fmt", "rewrite the files into the one canonical layout (scenarios/README.md, \"Layout\")")
      ("timing", "print the suite's wall time and its slowest scenarios");
  // clang-format on
  po::options_description hidden;
  hidden.add_options()("input", po::value(&command.inputs));
  po::options_description all;
  all.add(described).add(hidden);
  po::positional_options_description positional;
  positional.add("input", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return RunnerUsage{2, fmt::format("tap_scenario: {}\n{}\n", e.what(), kUsage)};
  }
  if (vm.count("help")) {
    std::ostringstream help;
    help << described;
    return RunnerUsage{0, fmt::format("{}\n{}\n{}", kUsage, kAbout, help.str())};
  }
  if (vm.count("version")) return RunnerUsage{0, cli::version_text("tap_scenario") + "\n"};
  if (command.inputs.empty()) return RunnerUsage{2, fmt::format("tap_scenario: no FILE or DIR\n{}\n", kUsage)};
  if (vm.count("fmt") && (vm.count("update") || vm.count("defects") || vm.count("mutate"))) {
    return RunnerUsage{2, fmt::format("tap_scenario: --fmt only rewrites layout; it takes no --update, --defects or "
                                      "--mutate\n{}\n",
                                      kUsage)};
  }
  if (!client_cmd.empty()) {
    if (client_cmd.find("{addr}") == std::string::npos) {
      return RunnerUsage{2, "tap_scenario: --client-cmd must contain {addr}\n"};
    }
    command.run.client_command = client_cmd;
    if (!vm.count("client-name")) command.client_name = client_cmd.substr(0, client_cmd.find(' '));
  }
  command.format = vm.count("fmt") > 0;
  command.force = vm.count("force") > 0;
  command.dry_run = vm.count("dry-run") > 0;
  if ((command.force || command.dry_run) && !vm.count("update")) {
    return RunnerUsage{2, fmt::format("tap_scenario: --force and --dry-run go with --update\n{}\n", kUsage)};
  }
  if (vm.count("seed")) command.run.seed = seed;
  if (vm.count("limit")) {
    auto parsed = cli::seconds_option("--limit", limit);
    if (!parsed) return RunnerUsage{2, fmt::format("tap_scenario: {}\n{}\n", parsed.error().message(), kUsage)};
    command.run.limit = *parsed;
  }
  if (!trace_dir.empty()) command.run.trace_dir = cli::user_path(trace_dir);
  if (!pcap.empty()) command.pcap = cli::user_path(pcap);
  if (!mutate.empty()) {
    command.mutation = scenario::parse_mutation(mutate);
    if (!command.mutation) {
      return RunnerUsage{2, fmt::format("tap_scenario: --mutate '{}' is not SEED or SEED:COUNT\n", mutate)};
    }
  }
  if (!defect_words.empty()) {
    auto defects = client::parse_defects(defect_words);
    if (!defects) {
      return RunnerUsage{2, fmt::format("tap_scenario: --defect {}\n{}\n", defects.error().message(), kUsage)};
    }
    command.run.defects = *defects;
  }
  command.kill_matrix = vm.count("defects") > 0;
  if ((command.run.defects || command.kill_matrix) && command.run.client_command) {
    return RunnerUsage{2, "tap_scenario: --defect and --defects change the built-in client; they do not go with "
                          "--client-cmd\n"};
  }
  if (command.jobs == 0) return RunnerUsage{2, "tap_scenario: --jobs must be at least 1\n"};
  command.check_only = vm.count("check") > 0;
  command.update = vm.count("update") > 0;
  command.timing = vm.count("timing") > 0;
  command.run.keep_observed = command.update;

  // Under `bazel test`: the test filter, sharding, and where the XML goes.
  if (const char* only = environment("TESTBRIDGE_TEST_ONLY"); only && command.filter.empty()) {
    command.filter = only;
    command.filter_from_bazel = true;
  }
  if (command.run.defects) command.client_name = "defect:" + command.run.defects->describe();
  if (!junit.empty()) {
    command.junit = cli::user_path(junit);
  } else if (const char* xml = environment("XML_OUTPUT_FILE"); xml && *xml) {
    command.junit = xml;
  }
  const char* total = environment("TEST_TOTAL_SHARDS");
  const char* index = environment("TEST_SHARD_INDEX");
  if (total && index) {
    command.shard_count = std::max<std::size_t>(1, std::strtoul(total, nullptr, 10));
    command.shard_index = std::strtoul(index, nullptr, 10);
    if (const char* status = environment("TEST_SHARD_STATUS_FILE")) command.shard_status_file = status;
  }
  return command;
}

Result<std::vector<std::string>, InputError> collect_scenarios(const std::vector<std::string>& inputs,
                                                              const std::string& base) {
  std::vector<std::string> files;
  for (const auto& input : inputs) {
    if (input == "-") {  // standard input
      files.push_back(input);
      continue;
    }
    fs::path path(input);
    if (path.is_relative() && !base.empty()) path = fs::path(base) / path;
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        if (it->is_regular_file() && it->path().extension() == ".scenario") found.push_back(it->path().string());
      }
      if (ec) return InputError{input, fmt::format("cannot read the directory: {}", ec.message())};
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(path, ec)) {
      files.push_back(path.string());
    } else {
      return InputError{input, "no such file or directory"};
    }
  }
  return files;
}

}  // namespace tapharness::runner
