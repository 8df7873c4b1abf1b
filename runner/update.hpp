// --update: rewrites a scenario's `client event` and `client end` lines from what the
// client reported, for review, and so that it can do no harm:
// - a line the client met is kept exactly as written;
// - a line it did not meet keeps its fields and their forms (hex stays hex, fill stays fill,
//   numbers keep their base) and only the values that differ change; a new event gets the
//   fields the file's other lines of that kind check (vb and key when there are none);
// - a value too long for a line goes to a file beside the scenario, read with file("...");
// - the new text must parse, or nothing is written.
// Whether the run failed for another reason than its client lines is the caller's to judge
// (tap_scenario refuses unless --force).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "client/json_lines.hpp"
#include "protocol/bytes.hpp"
#include "protocol/result.hpp"
#include "scenario/scenario.hpp"

namespace tapharness::runner {

struct ScenarioUpdate {
  std::string text;  // the new file
  struct SideFile {
    std::string path;  // beside the scenario
    protocol::Bytes bytes;
  };
  std::vector<SideFile> side_files;  // long values, named by the new text
};

// Values longer than this go to a file beside the scenario: a line holds at most 64 KiB,
// and a reviewer reads neither.
inline constexpr std::size_t kLongestInlineValue = 1024;

// `value` as a bytes word of the scenario language, in the form `written` shows where it can
// say it (`fill(` stays fill, `x"` stays hex; "" for a string, or hex when it is mostly not
// printable). A value longer than kLongestInlineValue is a fill when it is one byte repeated,
// otherwise `file("NAME")`, its bytes added to `side` as NAME beside `scenario_path`. Used by
// --update and by tap_record (record/), which write the same forms.
std::string bytes_word(std::string_view value, std::string_view written, const std::string& scenario_path,
                       const std::string& file_name, std::vector<ScenarioUpdate::SideFile>& side);

// The new text of the file, or why it cannot be rewritten, at which line (client events
// inside a repeat block cannot be written back one by one).
Result<ScenarioUpdate, InputError> updated_scenario_text(const scenario::Scenario& scenario, std::string_view text,
                                                         const std::vector<client::ReportedItem>& observed);

// The `client end` line for how a client ended; errors match on the reason only
// ("truncated"), which stays stable when offsets change.
std::string client_end_line(const client::ReportedEnd& end);

// The lines that differ, as a unified diff would show them ("-old", "+new", with the line
// numbers of the old text), for review before or after writing.
std::string line_diff(std::string_view before, std::string_view after);

}  // namespace tapharness::runner
