// What one run of a scenario found: every step line that ran, how often it passed or
// failed (repeat bodies run many times), and for the first failure what was expected
// against what was observed.
//
//   report.fail(step.location, "expect ack", "ACK ... opaque=0x00000005", "nothing within 5s");
//   fmt::print("{}", format_report(report));
//   // FAIL backfill (connection 1)
//   //   scenarios/backfill.scenario:7: expect ack
//   //     expected: ACK (response) TAP_OPAQUE opaque=0x00000005 status=SUCCESS
//   //     observed: nothing within 5000ms
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <exception>

#include "scenario/scenario.hpp"

namespace tapharness::mockserver {

using scenario::SourceLocation;

// What a step's first failure expected and observed.
struct StepFailure {
  std::string expected;
  std::string observed;
  std::optional<std::uint64_t> index;  // its repeat iteration
};

// One step line's tally. Small, since a generated scenario has millions of lines: the step's
// name is held once by the report, and only a failed step carries its details.
struct StepOutcome {
  SourceLocation location;
  std::string_view step;  // what the line does: "send mutation", "expect ack", ...
  std::uint64_t passed = 0;
  std::uint64_t failed = 0;
  std::shared_ptr<const StepFailure> failure;  // the first; set once failed > 0
};

class Report {
 public:
  Report() = default;
  Report(std::string scenario, std::size_t connection)
      : scenario_(std::move(scenario)), connection_(connection) {}

  void pass(const SourceLocation& location, std::string_view step, std::uint64_t times = 1);
  void fail(const SourceLocation& location, std::string_view step, std::string expected,
            std::string observed, std::optional<std::uint64_t> index = std::nullopt);

  // Takes in another connection's report of the same file (a scenario of several
  // connections has one report per connection; the runner judges the file on all of them).
  // Steps stay in the order they were first met; traffic adds up.
  void absorb(const Report& other);

  // From here on nothing is recorded: the run was cut off (its limit), and what its steps
  // meet on the way out is a consequence, not a finding.
  void close_books() { closed_ = true; }

  bool passed() const;
  // Whether the line at `location` has failed at least once.
  bool has_failed_at(const SourceLocation& location) const;
  const std::vector<StepOutcome>& steps() const { return steps_; }
  const StepOutcome* first_failure() const;
  const std::string& scenario() const { return scenario_; }
  std::size_t connection() const { return connection_; }

  // Traffic, for the verdict line and benchmarks.
  std::uint64_t frames_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t frames_received = 0;

 private:
  StepOutcome& outcome(const SourceLocation& location, std::string_view step);

  // The name `step` held once (names come from a small fixed set), and its number.
  std::pair<std::string_view, std::size_t> intern(std::string_view step);

  std::string_view name_of(std::size_t id) const { return *names_[id]; }

  std::string scenario_;
  std::size_t connection_ = 0;
  std::vector<StepOutcome> steps_;
  std::vector<std::shared_ptr<const std::string>> names_;  // shared by copies, so their views stay valid
  std::unordered_map<std::uint64_t, std::size_t> by_line_;   // (line, name number) -> steps_ index
  std::size_t last_ = 0;  // the outcome found last: repeat bodies hit the same few in turn
  bool closed_ = false;
};

// The report of a run the engine could not finish: `error` (an exception from inside it,
// which should never happen) as the failure of the scenario as a whole.
Report internal_failure(const scenario::Scenario& scenario, std::size_t connection, std::exception_ptr error);

// "PASS name (connection N): S steps, F frames sent, A frames received", or "FAIL ..."
// followed by each failed line with expected and observed.
std::string format_report(const Report& report);

}  // namespace tapharness::mockserver
