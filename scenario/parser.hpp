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

#include <string>
#include <string_view>

#include "protocol/result.hpp"
#include "scenario/diagnostic.hpp"
#include "scenario/scenario.hpp"

namespace tapharness::scenario {

// Parses `text`; `path` names the file in locations and gives the scenario its name.
Result<Scenario, Diagnostic> parse_scenario(std::string_view text, std::string path);

// Reads and parses a file; an unreadable file is a Diagnostic at line 0.
Result<Scenario, Diagnostic> load_scenario(const std::string& path);

}  // namespace tapharness::scenario
