// Parameterised scenarios: a `table` of rows, and the file run once per row with each
// `{column}` replaced by the row's word (scenarios/README.md, "Tables").
//
//   table name status body {
//     not_supported  NOT_SUPPORTED  "not supported"
//     eaccess        EACCESS        "access denied"
//   }
//   send connect_error status={status} body={body}
//
//   auto cases = expand_table(text, "sweep.scenario");   // one per row: "not_supported", "eaccess"
//
// The first column names the row: each row is its own case, "sweep/eaccess", in the runner
// and JUnit. Rows may also come from a file beside the scenario: `table name status body from
// "refusals.rows"` (a row per line, `#` comments). Expansion is textual and keeps every line
// where it was, so each case's errors point at the file's own lines.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "protocol/result.hpp"
#include "scenario/diagnostic.hpp"

namespace tapharness::scenario {

struct ScenarioCase {
  std::string row;   // the row's name; empty for a file without a table
  std::string text;  // the file with the table's lines blank and the row's words in place
};

// The file's cases: one per row, or the file itself when it has no table.
Result<std::vector<ScenarioCase>, Diagnostic> expand_table(std::string_view text, const std::string& path);

}  // namespace tapharness::scenario
