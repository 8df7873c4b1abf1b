// The HTML report of a tap_scenario run (`tap_scenario --report DIR`, and under `bazel test`
// the test's outputs): one self-contained page, its CSS, JS and SVG inline and no address
// outside it, that a person opens from disk. It holds the suite's summary, a row per scenario
// (the failing ones marked FAILED, with their first failure), and per scenario each
// connection's sequence diagram (report_diagram.hpp) with the failing step highlighted,
// expected against observed; and the kill matrix as a table when --defects ran. The page
// stays small: each connection keeps what report_sessions.hpp bounds, and once the page
// reaches `limit` the remaining diagrams are left out, saying so.
//
//   ReportPage page{.client = "built-in", .results = results};
//   auto written = write_report("out", page);   // out/report.html
//   if (!written) fmt::print(stderr, "{}\n", written.error().message());
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "protocol/result.hpp"
#include "runner/kill_matrix.hpp"
#include "runner/scenario_run.hpp"

namespace tapharness::runner {

// Where the diagrams stop, as the trace stops at mockserver's kDefaultTraceLimit.
inline constexpr std::size_t kDefaultReportLimit = 16 * 1024 * 1024;

struct ReportPage {
  std::string title = "tap_scenario report";
  std::string client = "built-in";        // the client that was checked (--client-name)
  std::span<const ScenarioResult> results;  // in the order they ran
  const KillMatrix* matrix = nullptr;     // --defects
  std::size_t limit = kDefaultReportLimit;
};

std::string render_report(const ReportPage& page);

// Writes DIR/report.html, creating DIR; returns the file's path. A failure names the
// directory or the file.
Result<std::string, InputError> write_report(const std::string& dir, const ReportPage& page);

}  // namespace tapharness::runner
