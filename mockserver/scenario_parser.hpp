// Parsing scenario files (the language: scenarios/README.md) into a Scenario.
//
//   auto parsed = load_scenario("scenarios/backfill.scenario");
//   if (auto* error = std::get_if<ParseError>(&parsed)) {
//     fmt::print(stderr, "{}\n", *error);   // "scenarios/backfill.scenario:4:6: unknown ..."
//   }
//
// Parsing never throws, never crashes and never allocates without bound on any input: it
// returns a Scenario, or the first error with its position.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include <fmt/format.h>

#include "mockserver/scenario.hpp"

namespace tapharness::mockserver {

struct ParseError {
  SourceLocation location;
  std::string message;     // what was wrong and what was expected there
  std::string suggestion;  // the closest valid word for a misspelling, or empty

  std::string text() const;  // "file:line:col: message; did you mean 'x'?"
};

// Parses `text`; `path` names the file in locations and gives the scenario its name.
std::variant<Scenario, ParseError> parse_scenario(std::string_view text, std::string path);

// Reads and parses a file; an unreadable file is a ParseError at line 0.
std::variant<Scenario, ParseError> load_scenario(const std::string& path);

}  // namespace tapharness::mockserver

template <>
struct fmt::formatter<tapharness::mockserver::ParseError> : fmt::formatter<std::string_view> {
  auto format(const tapharness::mockserver::ParseError& e, fmt::format_context& ctx) const
      -> decltype(ctx.out()) {
    return fmt::format_to(ctx.out(), "{}", e.text());
  }
};
