// tap_scenario: runs scenarios end to end against the built-in client or any other
// (see runner_cli.cc --help).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "cli/conventions.hpp"
#include "mockserver/pcap_capture.hpp"
#include "runner/interrupt.hpp"
#include "runner/junit.hpp"
#include "runner/format_files.hpp"
#include "runner/kill_matrix.hpp"
#include "runner/runner_cli.hpp"
#include "runner/scenario_run.hpp"
#include "runner/templates.hpp"
#include "runner/update.hpp"
#include "scenario/mutation.hpp"
#include "scenario/parser.hpp"

namespace {

using namespace tapharness::runner;

// --filter matched no scenario (documented in --help).
constexpr int kNoScenarioMatches = 4;

std::string name_of_path(const std::string& path) {
  return path == "-" ? "stdin" : std::filesystem::path(path).stem().string();
}

// Under `bazel test`, a failing scenario runs once more with its transcript written where
// Bazel keeps a test's outputs (TEST_UNDECLARED_OUTPUTS_DIR): scenarios are deterministic.
void keep_trace_of_failure(const std::string& path, RunOptions options, ScenarioResult& result) {
  const char* outputs = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  if (!outputs || options.trace_dir || result.verdict != Verdict::failed || path == "-") return;
  options.trace_dir = outputs;
  options.observe = nullptr;  // the capture has this run already
  run_scenario_cases(path, options, [&](const std::string& name) { return name == result.name; });
  std::string name = result.name;
  std::replace(name.begin(), name.end(), '/', '.');  // as the server names a table case's file
  result.trace_note = fmt::format("trace: {}/{}.1.trace (in the test's outputs)", outputs, name);
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

// --update, which must do no harm: only a run that failed on its client lines alone (or
// passed) is rewritten, unless --force; the diff is shown; --dry-run writes nothing.
void update(const ScenarioResult& result, const RunnerCommand& command) {
  const bool other_failure =
      (result.server && !result.server->passed()) || !result.problem.empty() || !result.server;
  if (result.verdict == Verdict::failed && other_failure && !command.force) {
    fmt::print(stderr,
               "tap_scenario: not updated: {} failed for another reason than its client lines ({}); fix that "
               "first, or --update --force\n",
               result.path, first_failure_line(result));
    return;
  }
  auto parsed = tapharness::scenario::load_scenario(result.path);
  if (!parsed) {
    fmt::print(stderr, "tap_scenario: not updated: {}\n", parsed.error().text());
    return;
  }
  std::ifstream in(result.path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  auto updated = updated_scenario_text(*parsed, text.str(), result.observed);
  if (!updated) {
    fmt::print(stderr, "tap_scenario: not updated: {}\n", updated.error().message());
    return;
  }
  const std::string diff = line_diff(text.str(), updated->text);
  if (diff.empty()) return;
  fmt::print("--- {}\n+++ {} (updated)\n{}", result.path, result.path, diff);
  if (command.dry_run) {
    fmt::print("would update {} (--dry-run: nothing written)\n", result.path);
    return;
  }
  for (const auto& side : updated->side_files) {
    if (!write_file(side.path, std::string(side.bytes.begin(), side.bytes.end()))) {
      fmt::print(stderr, "tap_scenario: not updated: cannot write {}\n", side.path);
      return;
    }
  }
  if (auto check = tapharness::scenario::parse_scenario(updated->text, result.path); !check) {
    fmt::print(stderr, "tap_scenario: not updated: the new text would not parse ({})\n", check.error().text());
    for (const auto& side : updated->side_files) std::filesystem::remove(side.path);
    return;
  }
  if (write_file(result.path, updated->text)) fmt::print("updated {}\n", result.path);
}

// Runs the scenario once per mutation seed; the first seed that breaks the client is the
// result (with its replay command), or a pass covering every seed.
ScenarioResult run_mutations(const std::string& path, std::shared_ptr<const tapharness::scenario::Scenario> scenario,
                             RunOptions options, const tapharness::scenario::MutationSpec& spec) {
  ScenarioResult total;
  for (std::uint64_t i = 0; i < spec.count; ++i) {
    options.mutation_seed = spec.seed + i;
    ScenarioResult one = run_scenario(scenario, options);
    total.elapsed += one.elapsed;
    total.events += one.events;
    if (one.verdict != Verdict::passed) {
      one.elapsed = total.elapsed;
      std::string mutated = tapharness::scenario::describe_mutation(*scenario, spec.seed + i);
      if (!mutated.empty() && mutated.back() == '\n') mutated.pop_back();
      for (std::size_t at = mutated.find('\n'); at != std::string::npos; at = mutated.find('\n', at + 1)) {
        mutated.replace(at, 1, "\n    ");
      }
      one.problem = fmt::format("{}{}replay: tap_scenario --mutate {} {}\n  what was mutated:\n    {}", one.problem,
                                one.problem.empty() ? "" : "\n  ", spec.seed + i, path, mutated);
      return one;
    }
  }
  total.verdict = Verdict::passed;
  total.path = path;
  total.name = fmt::format("{} mutate={}..{}", scenario->name, spec.seed, spec.seed + spec.count - 1);
  return total;
}

// Each case of the file the filter wants, mutated.
std::vector<ScenarioResult> run_mutations(const std::string& path, const RunOptions& options,
                                          const tapharness::scenario::MutationSpec& spec,
                                          const std::function<bool(const std::string&)>& wanted) {
  auto cases = tapharness::scenario::load_scenario_cases(path);
  if (!cases) return {run_scenario_file(path, options)};
  std::vector<ScenarioResult> results;
  for (auto& one : *cases) {
    if (!wanted(one.name)) continue;
    results.push_back(run_mutations(path, std::make_shared<const tapharness::scenario::Scenario>(std::move(one)),
                                    options, spec));
  }
  return results;
}

// Whether any case of the file (a table's rows) is one `wanted` picks.
bool any_case_wanted(const std::string& path, const std::function<bool(const std::string&)>& wanted) {
  auto cases = tapharness::scenario::load_scenario_cases(path);
  if (!cases) return false;
  return std::any_of(cases->begin(), cases->end(), [&](const auto& one) { return wanted(one.name); });
}

// `tap_scenario new KIND [FILE]`: FILE (default KIND.scenario) must not exist yet.
int write_template(const std::string& kind, std::string file, const std::string& base) {
  const Template* found = find_template(kind);
  if (!found) {
    std::string kinds;
    for (const Template& t : all_templates()) kinds += fmt::format("  {:<12} {}\n", t.kind, t.what);
    if (!kind.empty()) fmt::print(stderr, "tap_scenario: no template '{}'; the kinds are:\n{}", kind, kinds);
    if (kind.empty()) fmt::print("tap_scenario new KIND [FILE] writes a starting scenario; the kinds are:\n{}", kinds);
    return kind.empty() ? 0 : 2;
  }
  if (file.empty()) file = fmt::format("{}.scenario", kind);
  std::filesystem::path path(file);
  if (path.is_relative() && !base.empty()) path = std::filesystem::path(base) / path;
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    fmt::print(stderr, "tap_scenario: {} exists; not overwritten\n", path.string());
    return 2;
  }
  if (!write_file(path.string(), std::string(found->text))) {
    fmt::print(stderr, "tap_scenario: cannot write {}\n", path.string());
    return 2;
  }
  fmt::print("wrote {} ({}); run it with: tap_scenario {}\n", path.string(), found->what, path.string());
  return 0;
}

void print_timing(const std::vector<ScenarioResult>& results, double wall) {
  std::vector<const ScenarioResult*> sorted;
  double deliberate = 0;
  for (const auto& r : results) {
    sorted.push_back(&r);
    deliberate += r.deliberate_delay.count();
  }
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->elapsed > b->elapsed; });
  fmt::print("wall time {:.2f}s, of which {:.2f}s deliberate delays; slowest:\n", wall, deliberate);
  for (std::size_t i = 0; i < std::min<std::size_t>(5, sorted.size()); ++i) {
    fmt::print("  {:8.3f}s {} ({} events)\n", sorted[i]->elapsed.count(), sorted[i]->name, sorted[i]->events);
  }
}

}  // namespace

using tapharness::mockserver::PcapCapture;

int main(int argc, char** argv) {
  auto parsed = parse_runner_cli(argc, argv, [](const char* name) { return std::getenv(name); });
  if (auto* usage = std::get_if<RunnerUsage>(&parsed)) {
    fmt::print(usage->status == 0 ? stdout : stderr, "{}", usage->text);
    return usage->status;
  }
  auto& command = std::get<RunnerCommand>(parsed);
  const char* user_dir = std::getenv("BUILD_WORKING_DIRECTORY");  // set by `bazel run`
  if (command.new_kind) return write_template(*command.new_kind, command.new_file, user_dir ? user_dir : "");
  install_interrupt_handler();
  // One capture for the whole run: each scenario's connections have their own real ports.
  std::shared_ptr<PcapCapture> pcap;
  if (command.pcap && !command.check_only && !command.format) {
    auto opened = PcapCapture::open(*command.pcap);
    if (!opened) {
      fmt::print(stderr, "tap_scenario: --pcap {}\n", opened.error().message());
      return 2;
    }
    pcap = std::move(*opened);
    command.run.observe = pcap->observer();
  }
  struct SayLeftOut {  // however the run ends
    std::shared_ptr<PcapCapture>& pcap;
    ~SayLeftOut() {
      if (pcap && !pcap->left_out().empty()) fmt::print(stderr, "tap_scenario: {}\n", pcap->left_out());
    }
  } say_left_out{pcap};
  auto files = collect_scenarios(command.inputs, user_dir ? user_dir : "");
  if (!files) {
    fmt::print(stderr, "tap_scenario: {}\n", files.error().message());
    return 2;
  }
  if (command.shard_status_file) write_file(*command.shard_status_file, "");
  if (command.format) {
    std::string report;
    const int status = format_files(*files, command.check_only, report);
    fmt::print("{}", report);
    return status;
  }

  if (command.kill_matrix) {
    std::vector<std::string> selected;
    for (const auto& path : *files) {
      if (filter_matches(command.filter, name_of_path(path))) selected.push_back(path);
    }
    const KillMatrix matrix = run_kill_matrix(selected, command.run, command.jobs);
    fmt::print("{}", format_kill_matrix(matrix));
    const auto problems = kill_matrix_problems(matrix);
    for (const auto& problem : problems) fmt::print("PROBLEM {}\n", problem);
    fmt::print("{}\n", problems.empty() ? "the kill matrix holds" : "the kill matrix does not hold");
    return problems.empty() ? 0 : 1;
  }

  std::vector<ScenarioResult> results;
  std::size_t position = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& path : *files) {
    // A filter picks files by name, and a table's cases by "file/row".
    const bool whole = filter_matches(command.filter, name_of_path(path));
    const auto wanted = [&](const std::string& name) { return whole || filter_matches(command.filter, name); };
    if (!whole && !any_case_wanted(path, wanted)) continue;
    if (position++ % command.shard_count != command.shard_index) continue;
    std::vector<ScenarioResult> file_results(1);
    ScenarioResult& result = file_results.front();
    if (command.check_only) {
      auto check = tapharness::scenario::check_scenario_file(path);
      result.path = path;
      result.name = name_of_path(path);
      if (!check.valid()) {
        result.parse_error = check.errors.front();
        result.diagnostics.assign(check.errors.begin() + 1, check.errors.end());
        result.more_errors = check.more_errors;
      } else {
        result.verdict = Verdict::passed;
        result.diagnostics = std::move(check.warnings);
      }
    } else if (command.mutation) {
      file_results = run_mutations(path, command.run, *command.mutation, wanted);
    } else {
      file_results = run_scenario_cases(path, command.run, wanted);
      for (ScenarioResult& one : file_results) keep_trace_of_failure(path, command.run, one);
    }
    for (ScenarioResult& one : file_results) {
      fmt::print("{}", format_result(one));
      std::fflush(stdout);
      if (command.update && one.verdict != Verdict::invalid) update(one, command);
      results.push_back(std::move(one));
    }
    if (interrupt_requested()) break;
  }
  if (results.empty() && !command.filter.empty()) {
    // Under `bazel test --test_filter`, every scenario target gets the filter: most match nothing.
    fmt::print("no scenario matches the filter '{}'\n", command.filter);
    return command.filter_from_bazel ? 0 : kNoScenarioMatches;
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::size_t passed = 0, failed = 0, invalid = 0;
  for (const auto& r : results) {
    passed += r.verdict == Verdict::passed;
    failed += r.verdict == Verdict::failed;
    invalid += r.verdict == Verdict::invalid;
  }
  if (command.junit && !write_file(*command.junit, junit_xml(results, "tap_scenario." + command.client_name))) {
    fmt::print(stderr, "tap_scenario: cannot write {}\n", *command.junit);
  }
  if (command.timing) print_timing(results, wall);
  std::size_t interrupted = 0;
  for (const auto& r : results) interrupted += r.verdict == Verdict::interrupted;
  if (interrupted > 0 || interrupt_requested()) {
    fmt::print("interrupted: {} passed, {} failed\n", passed, failed + invalid);
    return tapharness::cli::kInterruptedStatus;
  }
  fmt::print("{} passed, {} failed\n", passed, failed + invalid);
  if (invalid > 0) return 2;
  return failed > 0 ? 1 : 0;
}
