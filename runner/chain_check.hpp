// What one client reported across the connections it makes, each connection checked against
// its own script: a scenario of one connection is a chain of one; with connection blocks, a
// client's chain is its first block and the reconnects that follow it (`after`).
//
//   ChainCheck check({first.get(), reconnect.get()});
//   check.observe(item);        // {"connection":2} moves on; so does anything after an end
//   check.finish();
//
// A client that prints `{"connection":N}` (tap_tail --reconnect) says which connection its
// lines belong to; one that does not is taken to move on after each end line.
#pragma once

#include <cstdint>
#include <vector>

#include "client/json_lines.hpp"
#include "runner/client_check.hpp"
#include "scenario/scenario.hpp"

namespace tapharness::runner {

class ChainCheck {
 public:
  explicit ChainCheck(std::vector<const scenario::Scenario*> connections);

  void observe(const client::ReportedItem& item);
  void bad_output(std::size_t line_number, const std::string& reason, const std::string& line);
  void finish();

  // Every connection's failures, in chain order.
  std::vector<ClientFailure> failures() const;
  std::size_t failures_dropped() const;
  std::uint64_t events_seen() const;

 private:
  std::vector<ClientCheck> checks_;
  std::vector<const scenario::Scenario*> connections_;
  std::size_t current_ = 0;
  bool current_ended_ = false;
  std::vector<ClientFailure> own_;  // connections the chain does not have
};

}  // namespace tapharness::runner
