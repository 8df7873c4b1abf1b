// Which planned connection (`connection LABEL { ... }`, scenarios/README.md) an arriving
// client is, and when a reconnect is overdue. No sockets and no timers: the server
// (server.hpp) asks on each accept and each end, and arms one timer for next_deadline().
//
//   ConnectionPlan plan(scenario);
//   auto arrival = plan.arrive("replica_b");          // assigned, held or unexpected
//   plan.ended(arrival.index, Clock::now());          // its reconnect is now due
//   for (std::size_t missed : plan.overdue(Clock::now())) report_missed(missed);
//
// Connections without `after` are awaited from the start; one with `after` once the
// connection it follows has ended, until `within` later. Among those awaited, an arrival
// whose TAP_CONNECT name is known goes to the first whose `expect connect name=` is that
// name, else to the first that names none, else to the first; without a name, to the first
// in file order. A client that comes back before the server has seen its connection end (a
// race on loopback) is held until it has.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "scenario/scenario.hpp"

namespace tapharness::mockserver {

class ConnectionPlan {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ConnectionPlan(const scenario::Scenario& scenario);

  std::size_t size() const { return states_.size(); }

  struct Arrival {
    enum class Kind {
      assigned,    // it is connection `index`
      held,        // a reconnect that came before its predecessor's end was seen: ask again after it
      unexpected,  // no planned connection is left for it
    };
    Kind kind = Kind::unexpected;
    std::size_t index = 0;
  };
  Arrival arrive(std::optional<std::string_view> name);

  // How many planned connections an arrival could be now (the server reads the name only
  // when there is a choice).
  std::size_t candidates() const;

  // Connection `index` ended at `now`: the one that follows it is due by now + its `within`.
  void ended(std::size_t index, Clock::time_point now);

  // The reconnects due before `now` that did not come, given up on, with the connections
  // after them (which can no longer come either), in file order.
  std::vector<std::size_t> overdue(Clock::time_point now);

  std::optional<Clock::time_point> next_deadline() const;

  // Every planned connection has ended or been given up on.
  bool finished() const;

 private:
  enum class State { after_predecessor, awaited, running, ended, missed };

  const scenario::Scenario& scenario_;
  std::vector<State> states_;
  std::vector<std::optional<Clock::time_point>> due_;  // awaited reconnects: their deadline
};

}  // namespace tapharness::mockserver
