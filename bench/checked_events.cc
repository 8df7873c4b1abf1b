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
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bench/report.hpp"
#include "bench/stream_fixture.hpp"

extern char** environ;

namespace tapharness::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Ran {
  double seconds = -1;
  double peak_mib = 0;  // the process's own peak resident set
  int status = -1;
};

pid_t spawn(const std::vector<std::string>& argv, const std::string& stdout_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

Ran wait_for(pid_t pid, Clock::time_point started) {
  Ran ran;
  if (pid < 0) return ran;
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  ran.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  ran.peak_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux
  ran.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return ran;
}

Ran run(const std::vector<std::string>& argv) {
  const auto started = Clock::now();
  return wait_for(spawn(argv, "/dev/null"), started);
}

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
// line of output names the port it listens on).
Ran mockserver_alone(const std::string& mockserver, const std::string& tail, const std::string& scenario,
                     Ran& client) {
  int out[2];
  if (pipe(out) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  const std::vector<std::string> argv{mockserver, "--scenario", scenario};
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto started = Clock::now();
  pid_t server = -1;
  if (posix_spawn(&server, args[0], &actions, nullptr, args.data(), environ) != 0) server = -1;
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  FILE* lines = fdopen(out[0], "r");
  char first[256] = {};
  const bool listening = server > 0 && std::fgets(first, sizeof first, lines) != nullptr;
  std::string addr(first);
  addr = addr.substr(addr.find(' ') + 1);
  addr = addr.substr(0, addr.find('\n'));
  if (listening) client = run({tail, "--addr", addr, "--name", "bulk", "--backfill", "0"});
  while (std::fgets(first, sizeof first, lines) != nullptr) {
  }  // the verdict: read to EOF so the server never blocks on a full pipe
  std::fclose(lines);
  return wait_for(server, started);
}

std::string value_of(int argc, char** argv, std::string_view flag) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == flag) return argv[i + 1];
  }
  return {};
}

}  // namespace
}  // namespace tapharness::bench

int main(int argc, char** argv) {
  using namespace tapharness::bench;
  StreamArgs args = parse_stream_args(argc, argv);
  if (value_of(argc, argv, "--events").empty()) args.events = 10'000'000;
  const std::string runner = value_of(argc, argv, "--scenario-runner");
  const std::string mockserver = value_of(argc, argv, "--mockserver");
  const std::string tail = value_of(argc, argv, "--tail");
  const std::string library = value_of(argc, argv, "--scenarios") + "/stream_100k_mutations.scenario";
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
    report.add(fmt::format("runner_builtin_{}_ns_per_event", n), "ns", size.builtin.seconds / size.events * 1e9);
    report.add(fmt::format("runner_builtin_{}_peak_MiB", n), "MiB", size.builtin.peak_mib);
    report.add(fmt::format("runner_external_{}_ns_per_event", n), "ns", size.external.seconds / size.events * 1e9);
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
