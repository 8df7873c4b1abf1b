// --update: rewrites a scenario's `client event` and `client end` lines from what the
// client reported, for review (git diff shows what changed).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "client/json_lines.hpp"
#include "protocol/result.hpp"
#include "scenario/scenario.hpp"

namespace tapharness::runner {

// The new text of the file, or why it cannot be rewritten, at which line (client events
// inside a repeat block cannot be written back one by one).
Result<std::string, InputError> updated_scenario_text(const scenario::Scenario& scenario, std::string_view text,
                                                      const std::vector<client::ReportedItem>& observed);

// The `client end` line for how a client ended; errors match on the reason only
// ("truncated"), which stays stable when offsets change.
std::string client_end_line(const client::ReportedEnd& end);

}  // namespace tapharness::runner
