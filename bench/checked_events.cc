// Ten million checked events: the library's 100,000-mutation scenario grown to N mutations,
// every event checked by the runner, against the same scenario at 100,000. Reports each
// process's peak resident memory (from wait4's rusage) and the time per event at both sizes.
//
//   bazel run -c opt //bench:checked_events -- --scenario-runner PATH --mockserver PATH
//       --tail PATH --scenarios DIR [--events N] [--json FILE]
//
// Three runs per size: tap_scenario with its built-in client (server, runner and client in
// one process), tap_scenario with --client-cmd tap_tail (server and runner in one process,
// the client in another), and tap_mockserver serving the scenario to tap_tail (the server
// alone).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bench/child_process.hpp"
#include "bench/report.hpp"
#include "bench/stream_fixture.hpp"

namespace tapharness::bench {
namespace {

// The library's stream_100k_mutations.scenario with its repeat count set to `events`.
std::string grown_scenario(const std::string& library, std::size_t events, const std::string& dir) {
  std::ifstream in(library);
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  const std::string from = "repeat 100000 {";
  const auto at = s.find(from);
  if (at == std::string::npos) return {};
  s.replace(at, from.size(), fmt::format("repeat {} {{", events));
  s = "# The default 20 s limit is for tests, not for ten million events.\nlimit 3600s\n" + s;
  const std::string path = fmt::format("{}/stream_{}_mutations.scenario", dir, events);
  std::ofstream(path) << s;
  return path;
}

// tap_mockserver serving `scenario` once to tap_tail: the server's own figures (its first
// line of output names the address it listens on).
Ran mockserver_alone(const std::string& mockserver, const std::string& tail, const std::string& scenario,
                     Ran& client) {
  Child server = spawn_piped({mockserver, "--scenario", scenario});
  char line[256] = {};
  if (server.out != nullptr && std::fgets(line, sizeof line, server.out) != nullptr) {
    std::string addr(line);
    addr = addr.substr(addr.find(' ') + 1);
    client = run({tail, "--addr", addr.substr(0, addr.find('\n')), "--name", "bulk", "--backfill", "0"});
  }
  while (server.out != nullptr && std::fgets(line, sizeof line, server.out) != nullptr) {
  }  // the verdict: read to EOF so the server never blocks on a full pipe
  return server.wait();
}

}  // namespace
}  // namespace tapharness::bench

int main(int argc, char** argv) {
  using namespace tapharness::bench;
  StreamArgs args = parse_stream_args(argc, argv);
  if (flag_value(argc, argv, "--events").empty()) args.events = 10'000'000;
  const std::string runner = flag_value(argc, argv, "--scenario-runner");
  const std::string mockserver = flag_value(argc, argv, "--mockserver");
  const std::string tail = flag_value(argc, argv, "--tail");
  const std::string library = flag_value(argc, argv, "--scenarios") + "/stream_100k_mutations.scenario";
  const std::string dir = std::filesystem::temp_directory_path() / fmt::format("checked_events.{}", getpid());
  std::filesystem::create_directories(dir);

  Report report("checked_events");
  struct Size {
    std::size_t events;
    Ran builtin, external, server, tail;
  };
  std::vector<Size> sizes{{100'000}, {args.events}};
  for (Size& size : sizes) {
    const std::string scenario = grown_scenario(library, size.events, dir);
    if (scenario.empty()) {
      fmt::print(stderr, "{} has no 'repeat 100000 {{'\n", library);
      return 2;
    }
    size.builtin = run({runner, scenario});
    size.external = run({runner, "--client-cmd", tail + " --addr {addr} {args}", scenario});
    size.server = mockserver_alone(mockserver, tail, scenario, size.tail);
    for (const Ran* r : {&size.builtin, &size.external, &size.server}) {
      if (r->status != 0) fmt::print(stderr, "a run of {} events ended with status {}\n", size.events, r->status);
    }
    const std::string n = size.events == 100'000 ? "100k" : fmt::format("{}M", size.events / 1'000'000.0);
    report.add(fmt::format("runner_builtin_{}_s", n), "s", size.builtin.seconds);
    report.add(fmt::format("runner_builtin_{}_ns_per_event", n), "ns", ns_each(size.builtin.seconds, size.events));
    report.add(fmt::format("runner_builtin_{}_peak_MiB", n), "MiB", size.builtin.peak_mib);
    report.add(fmt::format("runner_external_{}_ns_per_event", n), "ns", ns_each(size.external.seconds, size.events));
    report.add(fmt::format("runner_external_{}_peak_MiB", n), "MiB", size.external.peak_mib);
    report.add(fmt::format("mockserver_{}_peak_MiB", n), "MiB", size.server.peak_mib);
    report.add(fmt::format("tap_tail_{}_peak_MiB", n), "MiB", size.tail.peak_mib);
  }
  const Size& small = sizes[0];
  const Size& large = sizes[1];
  const double per_small = small.builtin.seconds / small.events;
  const double per_large = large.builtin.seconds / large.events;
  // Within 20% either way: the target is on the ratio of times per event, 0.8..1.2.
  report.add_ratio("runner_builtin_time_per_event_large_vs_100k", per_large / per_small, 0.8);
  report.add_ratio("runner_builtin_time_per_event_100k_vs_large", per_small / per_large, 0.8);
  // No growth with the count: the large run's peaks at most 1.2x the small run's.
  report.add_ratio("runner_builtin_peak_100k_vs_large", small.builtin.peak_mib / large.builtin.peak_mib, 0.83);
  report.add_ratio("runner_external_peak_100k_vs_large", small.external.peak_mib / large.external.peak_mib, 0.83);
  report.add_ratio("mockserver_peak_100k_vs_large", small.server.peak_mib / large.server.peak_mib, 0.83);
  report.print();
  report.append_json(args.json);
  std::filesystem::remove_all(dir);
  return 0;
}
