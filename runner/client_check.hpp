// Checks what a client reported against a scenario's `client event` and `client end`
// lines (scenarios/README.md), one item at a time, so a 100,000-event stream needs no
// buffer. Mismatches name the scenario line, the expected event against the observed
// one, and the fields that differ; an event the client skipped or added is found by
// looking ahead for the closest expected event.
//
//   ClientCheck check(scenario);
//   for (auto& item : reported) check.observe(item);
//   check.finish();
//   for (auto& failure : check.failures()) ...
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/json_lines.hpp"
#include "scenario/literals.hpp"
#include "scenario/scenario.hpp"

namespace tapharness::runner {

struct ClientFailure {
  scenario::SourceLocation location;  // the scenario line (line 0: the file as a whole)
  std::string what;                     // "client event", "client end"
  std::string expected;
  std::string observed;
};

// A `client event` line with its repeat index, in the order the client must report them.
struct ExpectedEvent {
  const scenario::ClientEvent* event = nullptr;
  std::uint64_t index = 0;
  scenario::SourceLocation location;
};

// Walks the expected events lazily, through repeat bodies.
class ExpectedEvents {
 public:
  explicit ExpectedEvents(const scenario::Scenario& scenario);
  // The event `ahead` places after the current one, if there is one.
  std::optional<ExpectedEvent> peek(std::size_t ahead = 0);
  void advance(std::size_t n = 1);
  bool done() { return !peek(); }

 private:
  bool fill(std::size_t count);
  const scenario::Scenario& scenario_;
  std::size_t item_ = 0;         // in scenario.client.events
  std::uint64_t iteration_ = 0;  // within a repeat
  std::size_t inner_ = 0;        // event within the repeat body
  std::vector<ExpectedEvent> window_;
};

using scenario::bytes_literal;  // scenario/literals.hpp: how lines write bytes
// A vbucket state as `state=` takes it: "pending", or the number of an unnamed one.
std::string state_word(protocol::VBucketState state);

// The `client event` line as the scenario language writes it, rendered for `index`:
// "mutation vb=0 key=\"a\" value=\"hello\" flags=18".
std::string describe(const scenario::ClientEvent& event, std::uint64_t index);
// An observed event in the same syntax, every field.
std::string describe_observed(const protocol::TapEvent& event);
// The fields of `observed` that `expected` rules out ("key, cas"); empty when it matches.
std::vector<std::string> differing_fields(const scenario::ClientEvent& expected, std::uint64_t index,
                                          const protocol::TapEvent& observed);

class ClientCheck {
 public:
  explicit ClientCheck(const scenario::Scenario& scenario);

  void observe(const client::ReportedItem& item);
  // An external client printed a line that is not the event format.
  void bad_output(std::size_t line_number, const std::string& reason, const std::string& line);
  // Call once the client has reported its end (or could not): what was still expected.
  void finish();

  bool passed() const { return failures_.empty() && failures_dropped_ == 0; }
  const std::vector<ClientFailure>& failures() const { return failures_; }
  std::size_t failures_dropped() const { return failures_dropped_; }
  std::uint64_t events_seen() const { return events_seen_; }

 private:
  void on_event(const protocol::TapEvent& event);
  void on_end(const client::ReportedEnd& end);
  void settle_pending();
  void fail(ClientFailure failure);

  const scenario::Scenario& scenario_;
  ExpectedEvents expected_;
  std::vector<ClientFailure> failures_;
  std::size_t failures_dropped_ = 0;
  std::uint64_t events_seen_ = 0;
  std::optional<client::ReportedEnd> end_;
  // An observed event that missed the next expected one and matched none after it: the
  // next observation tells whether it was an extra event or one in place of the expected.
  std::optional<protocol::TapEvent> pending_;
};

// "{\"end\":\"eof\"}"-style words for an end, as `client end` writes it.
std::string describe(const scenario::ClientEnd& end);
std::string describe(const client::ReportedEnd& end);

}  // namespace tapharness::runner
