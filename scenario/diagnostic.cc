#include "scenario/diagnostic.hpp"

namespace tapharness::scenario {

std::string Diagnostic::text() const {
  // Line 0 is "no line": the file itself could not be read.
  const std::string_view kind = warning ? "warning: " : "";
  std::string out = location.line > 0 ? fmt::format("{}: {}{}", location, kind, message)
                                      : fmt::format("{}: {}{}", location.file(), kind, message);
  if (!suggestion.empty()) out += fmt::format("; did you mean '{}'?", suggestion);
  return out;
}

}  // namespace tapharness::scenario
