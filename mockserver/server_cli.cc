#include "mockserver/server_cli.hpp"

#include <cstdint>
#include <sstream>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "cli/conventions.hpp"

namespace tapharness::mockserver {
namespace po = boost::program_options;

namespace {

constexpr std::string_view kUsage =
    "usage: tap_mockserver --scenario FILE [--row NAME] [--listen HOST:PORT] [--connections N] [--trace DIR]\n"
    "                      [--pcap FILE]\n"
    "       tap_mockserver --check FILE...";

constexpr std::string_view kAbout = R"(
A scriptable fake TAP server. It replays a scenario file (scenarios/README.md) to every
client that connects and checks what the client sends back.

Its first line of output is "listening HOST:PORT". Each connection gets the scenario
afresh; the verdict of each is printed as it finishes.
Exit status: 0 when every server-side expectation held on every connection, 1 when one
failed, 2 for a scenario that does not parse or bad usage.
)";

}  // namespace

std::variant<ServeCommand, CheckCommand, CliUsage> parse_server_cli(int argc, const char* const* argv) {
  po::options_description described("options");
  ServeCommand serve;
  std::string listen = "127.0.0.1:0", trace_dir, pcap;
  std::vector<std::string> check;
  std::uint64_t seed = 0;
  std::string mutate;
  // Signed, so that "-1" is refused rather than read as 2^64-1 (Boost's lexical_cast wraps).
  std::int64_t connections = 1;
  // clang-format off
  described.add_options()
      ("help,h", "print this help")
      ("version", "print the version")
      ("scenario", po::value(&serve.scenario_path)->value_name("FILE"), "the scenario to serve ('-': standard input)")
      ("row", po::value(&serve.row)->value_name("NAME"), "a table's case to serve (a file with a table is one scenario per row)")
      ("listen", po::value(&listen)->value_name("HOST:PORT"), "where to listen (default 127.0.0.1:0, an ephemeral port)")
      ("connections", po::value(&connections)->value_name("N"), "serve N connections, concurrently (default 1)")
      ("trace", po::value(&trace_dir)->value_name("DIR"), "write a transcript per connection to DIR/<scenario>.<n>.trace (DIR is created)")
      ("pcap", po::value(&pcap)->value_name("FILE"), "write every connection to FILE as pcapng (Wireshark, tshark, tap_decode; README \"Captures\")")
      ("seed", po::value(&seed)->value_name("N"), "override the scenario's seed")
      ("mutate", po::value(&mutate)->value_name("SEED[:COUNT]"),
       "fuzz clients: connection k gets the scenario's frames and faults perturbed from seed SEED+k-1 "
       "(COUNT connections unless --connections says otherwise); only the client's invariant is "
       "checked: after the server's FIN it must close too, within the timeout")
      ("check", po::value(&check)->multitoken()->value_name("FILE..."), "only parse and validate the files");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(described).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return CliUsage{2, fmt::format("tap_mockserver: {}\n{}\n", e.what(), kUsage)};
  }
  auto usage_error = [](std::string message) {
    return CliUsage{2, fmt::format("tap_mockserver: {}\n{}\n", message, kUsage)};
  };
  if (vm.count("help")) {
    std::ostringstream help;
    help << described;
    return CliUsage{0, fmt::format("{}\n{}\n{}", kUsage, kAbout, help.str())};
  }
  if (vm.count("version")) return CliUsage{0, cli::version_text("tap_mockserver") + "\n"};
  // Under `bazel run`, paths are the user's (cli/conventions.hpp).
  for (auto& path : check) path = cli::user_path(path);
  serve.scenario_path = cli::user_path(serve.scenario_path);
  trace_dir = cli::user_path(trace_dir);
  if (vm.count("check")) {
    if (vm.count("scenario")) return usage_error("--check and --scenario do not go together");
    if (check.empty()) return usage_error("--check needs at least one FILE");
    return CheckCommand{check};
  }
  if (serve.scenario_path.empty()) return usage_error("--scenario FILE is required");
  if (connections < 1) return usage_error(fmt::format("--connections must be at least 1, not {}", connections));
  serve.server.connections = static_cast<std::size_t>(connections);
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    return usage_error(fmt::format("--listen '{}' is not HOST:PORT", listen));
  }
  serve.server.host = listen.substr(0, colon);
  serve.server.port = listen.substr(colon + 1);
  // The resolver would take a service name, or wrap 99999 to 34463.
  if (serve.server.port.size() > 5 || serve.server.port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(serve.server.port) > 65535) {
    return usage_error(fmt::format("--listen '{}': the port must be a number from 0 to 65535", listen));
  }
  if (serve.server.host.size() > 2 && serve.server.host.front() == '[') {
    serve.server.host = serve.server.host.substr(1, serve.server.host.size() - 2);
  }
  if (!trace_dir.empty()) serve.server.trace_dir = trace_dir;
  if (!pcap.empty()) serve.pcap = cli::user_path(pcap);
  if (vm.count("seed")) serve.server.seed = seed;
  if (!mutate.empty()) {
    serve.server.mutation = scenario::parse_mutation(mutate);
    if (!serve.server.mutation) return usage_error(fmt::format("--mutate '{}' is not SEED or SEED:COUNT", mutate));
    if (!vm.count("connections")) serve.server.connections = serve.server.mutation->count;
  }
  return serve;
}

}  // namespace tapharness::mockserver
