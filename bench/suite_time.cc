// The scenario suite's wall time with the built-in client, how much of it is deliberate
// waiting (delays, byte gaps, stalls the client must time out of), and the slowest
// scenarios.
//
//   bazel run -c opt //bench:suite_time -- [--json FILE] [DIR]
#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "bench/report.hpp"
#include "runner/runner_cli.hpp"
#include "runner/scenario_run.hpp"

int main(int argc, char** argv) {
  using namespace tapharness;
  std::string json = "-", dir = "scenarios";
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--json" && i + 1 < argc) {
      json = argv[++i];
    } else {
      dir = argv[i];
    }
  }
  const char* user_dir = std::getenv("BUILD_WORKING_DIRECTORY");
  auto files = runner::collect_scenarios({dir}, user_dir ? user_dir : "");
  if (!files) {
    fmt::print(stderr, "suite_time: {}\n", files.error().message());
    return 2;
  }
  std::vector<runner::ScenarioResult> results;
  const auto start = std::chrono::steady_clock::now();
  // Each case of a table file is its own run, as tap_scenario runs them.
  for (const auto& path : *files) {
    for (auto& result : runner::run_scenario_cases(path, {}, [](const std::string&) { return true; })) {
      results.push_back(std::move(result));
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  double deliberate = 0;
  std::size_t passed = 0;
  for (const auto& r : results) {
    deliberate += r.deliberate_delay.count();
    passed += r.verdict == runner::Verdict::passed;
  }
  std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) { return a.elapsed > b.elapsed; });
  bench::Report report("suite_time");
  report.add("scenarios", "count", static_cast<double>(results.size()));
  report.add("scenarios_passed", "count", static_cast<double>(passed));
  report.add("wall_time", "s", wall);
  report.add("deliberate_delays", "s", deliberate);
  report.add("wall_time_excluding_delays", "s", wall - deliberate);
  for (std::size_t i = 0; i < std::min<std::size_t>(5, results.size()); ++i) {
    report.add(fmt::format("slowest_{}_{}", i + 1, results[i].name), "s", results[i].elapsed.count());
  }
  report.print();
  report.append_json(json);
  fmt::print("\nsuite excluding deliberate delays: {:.2f}s (target < 10 s: {})\n", wall - deliberate,
             wall - deliberate < 10 ? "met" : "NOT MET");
  return passed == results.size() ? 0 : 1;
}
