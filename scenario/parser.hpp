// Parsing scenario files (the language: scenarios/README.md) into a Scenario.
//
//   auto parsed = load_scenario("scenarios/backfill.scenario");
//   if (!parsed) {
//     fmt::print(stderr, "{}\n", parsed.error());   // "scenarios/backfill.scenario:4:6: unknown ..."
//   }
//   run(*parsed);
//
// Parsing never throws, never crashes and never allocates without bound on any input: it
// returns a Scenario, or the first error with its position.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/result.hpp"
#include "scenario/diagnostic.hpp"
#include "scenario/scenario.hpp"

namespace tapharness::scenario {

// The largest scenario file read: a hand-written script is far smaller.
inline constexpr std::size_t kMaxFileSize = 64 * 1024 * 1024;

// Parses `text`; `path` names the file in locations and gives the scenario its name.
Result<Scenario, Diagnostic> parse_scenario(std::string_view text, std::string path);

// Reads and parses a file; an unreadable file is a Diagnostic at line 0. A file with a
// `table` is several scenarios: load_scenario_cases() reads it (load_scenario() names the
// rows in its error).
Result<Scenario, Diagnostic> load_scenario(const std::string& path);

// Every case of a file: one per row of its table, named "file/row", or the file alone.
Result<std::vector<Scenario>, Diagnostic> load_scenario_cases(const std::string& path);
// The same for text already read from `path`.
Result<std::vector<Scenario>, Diagnostic> parse_scenario_cases(std::string_view text, const std::string& path);

// What `--check` reports of a file: every error (the first of each statement, up to
// kMaxErrors), and for a valid file the warnings: lines that are valid but probably not
// what was meant (scenarios/README.md, "Errors").
inline constexpr std::size_t kMaxErrors = 20;
struct ScenarioCheck {
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;
  std::size_t more_errors = 0;  // beyond kMaxErrors

  bool valid() const { return errors.empty() && more_errors == 0; }
};
ScenarioCheck check_scenario(std::string_view text, std::string path);
ScenarioCheck check_scenario_file(const std::string& path);

// The file's bytes ("-": standard input), bounded by kMaxFileSize; an unreadable file is a
// Diagnostic at line 0.
Result<std::string, Diagnostic> read_scenario_file(const std::string& path);

}  // namespace tapharness::scenario
