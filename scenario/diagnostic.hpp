// What is wrong with a scenario file, and where: the one error type of the scenario
// language, from the lexer to the checks between lines.
//
//   Diagnostic d{{"x.scenario", 4, 6}, "unknown frame kind 'mutaton'; ...", "mutation"};
//   d.text();   // "x.scenario:4:6: unknown frame kind 'mutaton'; ...; did you mean 'mutation'?"
#pragma once

#include <string>

#include "scenario/scenario.hpp"

namespace tapharness::scenario {

struct Diagnostic {
  SourceLocation location;  // line 0: the file as a whole (it could not be read)
  std::string message;      // what was wrong and what was expected there
  std::string suggestion;   // the closest valid word for a misspelling, or empty
  bool warning = false;     // a warning: the file is valid, but probably not what was meant

  std::string text() const;  // "file:line:col: message; did you mean 'x'?", "file:line:col: warning: ..."
  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

inline FormatOut describe_to(FormatOut out, const Diagnostic& d) { return fmt::format_to(out, "{}", d.text()); }

}  // namespace tapharness::scenario
