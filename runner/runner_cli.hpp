// tap_scenario's command line, and what Bazel's test environment adds to it
// (TESTBRIDGE_TEST_ONLY, TEST_TOTAL_SHARDS / TEST_SHARD_INDEX, XML_OUTPUT_FILE).
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "protocol/result.hpp"
#include "runner/scenario_run.hpp"
#include "scenario/mutation.hpp"

namespace tapharness::runner {

struct RunnerCommand {
  std::vector<std::string> inputs;   // files and directories as given
  RunOptions run;
  std::optional<std::string> junit;  // --junit FILE, or XML_OUTPUT_FILE under bazel test
  std::optional<std::string> pcap;   // --pcap FILE: every run's connections, as one pcapng
  std::string filter;                // --filter, or TESTBRIDGE_TEST_ONLY
  bool filter_from_bazel = false;    // it came from TESTBRIDGE_TEST_ONLY (bazel test --test_filter)
  std::string client_name = "built-in";  // --client-name: for the JUnit report
  bool version = false;
  bool check_only = false;
  bool format = false;               // --fmt (with --check: only judge the layout)
  // `tap_scenario new KIND [FILE]`: write a starting file (KIND empty: list the kinds).
  std::optional<std::string> new_kind;
  std::string new_file;
  bool update = false;
  bool force = false;                // --force: --update even after a failure of another kind
  bool dry_run = false;              // --dry-run: --update shows its diff and writes nothing
  bool timing = false;               // print the slowest scenarios and the suite's wall time
  std::optional<scenario::MutationSpec> mutation;  // --mutate SEED[:COUNT]
  bool kill_matrix = false;          // --defects
  std::size_t jobs = 16;             // --jobs: runs at once for --defects
  std::size_t shard_count = 1;
  std::size_t shard_index = 0;
  std::optional<std::string> shard_status_file;
};

struct RunnerUsage {
  int status = 2;
  std::string text;
};

// `environment` looks variables up (getenv in main(), a map in tests).
std::variant<RunnerCommand, RunnerUsage> parse_runner_cli(
    int argc, const char* const* argv, const std::function<const char*(const char*)>& environment);

// The scenario files the inputs name: files as given, directories searched recursively for
// *.scenario, in sorted order. Relative inputs resolve against `base` when it is set (the
// user's directory under `bazel run`).
Result<std::vector<std::string>, InputError> collect_scenarios(const std::vector<std::string>& inputs,
                                                              const std::string& base);

// gtest-style filter: patterns with * and ? separated by ':', negative ones after '-'.
bool filter_matches(const std::string& filter, const std::string& name);

}  // namespace tapharness::runner
