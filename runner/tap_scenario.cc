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
#include "runner/interrupt.hpp"
#include "runner/junit.hpp"
#include "runner/kill_matrix.hpp"
#include "runner/runner_cli.hpp"
#include "runner/scenario_run.hpp"
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
  run_scenario_file(path, options);
  result.problem += fmt::format("{}trace: {}/{}.1.trace (in the test's outputs)", result.problem.empty() ? "" : "\n  ",
                                outputs, result.name);
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

void update(const ScenarioResult& result) {
  auto parsed = tapharness::scenario::load_scenario(result.path);
  if (!parsed) return;
  std::ifstream in(result.path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  auto updated = updated_scenario_text(*parsed, text.str(), result.observed);
  if (!updated) {
    fmt::print(stderr, "tap_scenario: not updated: {}\n", updated.error().message());
  } else if (*updated != text.str()) {
    if (write_file(result.path, *updated)) fmt::print("updated {}\n", result.path);
  }
}

// Runs the scenario once per mutation seed; the first seed that breaks the client is the
// result (with its replay command), or a pass covering every seed.
ScenarioResult run_mutations(const std::string& path, RunOptions options, const tapharness::scenario::MutationSpec& spec) {
  auto parsed = tapharness::scenario::load_scenario(path);
  if (!parsed) return run_scenario_file(path, options);
  auto scenario = std::make_shared<const tapharness::scenario::Scenario>(std::move(parsed).value());
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

int main(int argc, char** argv) {
  auto parsed = parse_runner_cli(argc, argv, [](const char* name) { return std::getenv(name); });
  if (auto* usage = std::get_if<RunnerUsage>(&parsed)) {
    fmt::print(usage->status == 0 ? stdout : stderr, "{}", usage->text);
    return usage->status;
  }
  const auto& command = std::get<RunnerCommand>(parsed);
  install_interrupt_handler();
  const char* user_dir = std::getenv("BUILD_WORKING_DIRECTORY");  // set by `bazel run`
  auto files = collect_scenarios(command.inputs, user_dir ? user_dir : "");
  if (!files) {
    fmt::print(stderr, "tap_scenario: {}\n", files.error().message());
    return 2;
  }
  if (command.shard_status_file) write_file(*command.shard_status_file, "");

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
    if (!filter_matches(command.filter, name_of_path(path))) continue;
    if (position++ % command.shard_count != command.shard_index) continue;
    ScenarioResult result;
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
      result = run_mutations(path, command.run, *command.mutation);
    } else {
      result = run_scenario_file(path, command.run);
      keep_trace_of_failure(path, command.run, result);
    }
    fmt::print("{}", format_result(result));
    std::fflush(stdout);
    if (command.update && result.verdict != Verdict::invalid) update(result);
    results.push_back(std::move(result));
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
