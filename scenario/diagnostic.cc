#include "scenario/diagnostic.hpp"

namespace tapharness::scenario {

std::string Diagnostic::text() const {
  // Line 0 is "no line": the file itself could not be read.
  std::string out = location.line > 0 ? fmt::format("{}: {}", location, message)
                                      : fmt::format("{}: {}", location.file(), message);
  if (!suggestion.empty()) out += fmt::format("; did you mean '{}'?", suggestion);
  return out;
}

}  // namespace tapharness::scenario
