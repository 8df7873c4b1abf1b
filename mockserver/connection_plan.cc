#include "mockserver/connection_plan.hpp"

#include <algorithm>

namespace tapharness::mockserver {

ConnectionPlan::ConnectionPlan(const scenario::Scenario& scenario)
    : scenario_(scenario), due_(scenario.connections.size()) {
  for (const scenario::Connection& planned : scenario.connections) {
    states_.push_back(planned.after ? State::after_predecessor : State::awaited);
  }
}

std::size_t ConnectionPlan::candidates() const {
  return static_cast<std::size_t>(std::count(states_.begin(), states_.end(), State::awaited));
}

ConnectionPlan::Arrival ConnectionPlan::arrive(std::optional<std::string_view> name) {
  using Matcher = scenario::FieldMatcher<std::string>;
  std::optional<std::size_t> named, open, first;
  for (std::size_t i = 0; i < states_.size(); ++i) {
    if (states_[i] != State::awaited) continue;
    const Matcher& expected = scenario_.connections[i].script->connect.name;
    if (!first) first = i;
    if (expected.kind == Matcher::Kind::any && !open) open = i;
    if (name && expected.kind == Matcher::Kind::exact && expected.value == *name && !named) named = i;
  }
  const std::optional<std::size_t> chosen = named ? named : open ? open : first;
  if (chosen) {
    states_[*chosen] = State::running;
    due_[*chosen].reset();
    return {Arrival::Kind::assigned, *chosen};
  }
  // A reconnect can only be for a connection still running whose successor waits for it.
  for (std::size_t i = 0; i < states_.size(); ++i) {
    const auto& after = scenario_.connections[i].after;
    if (states_[i] == State::after_predecessor && after && states_[*after] == State::running) {
      return {Arrival::Kind::held, i};
    }
  }
  return {};
}

void ConnectionPlan::ended(std::size_t index, Clock::time_point now) {
  states_[index] = State::ended;
  for (std::size_t i = 0; i < states_.size(); ++i) {
    if (states_[i] == State::after_predecessor && scenario_.connections[i].after == index) {
      states_[i] = State::awaited;
      due_[i] = now + scenario_.connections[i].within;
    }
  }
}

std::vector<std::size_t> ConnectionPlan::overdue(Clock::time_point now) {
  std::vector<std::size_t> missed;
  for (std::size_t i = 0; i < states_.size(); ++i) {
    const bool late = states_[i] == State::awaited && due_[i] && *due_[i] <= now;
    const auto& after = scenario_.connections[i].after;
    // Connections are in file order and `after` names an earlier one, so one pass settles chains.
    const bool orphaned = states_[i] == State::after_predecessor && after && states_[*after] == State::missed;
    if (late || orphaned) {
      states_[i] = State::missed;
      due_[i].reset();
      missed.push_back(i);
    }
  }
  return missed;
}

std::optional<ConnectionPlan::Clock::time_point> ConnectionPlan::next_deadline() const {
  std::optional<Clock::time_point> next;
  for (const auto& due : due_) {
    if (due && (!next || *due < *next)) next = due;
  }
  return next;
}

bool ConnectionPlan::finished() const {
  return std::all_of(states_.begin(), states_.end(),
                     [](State s) { return s == State::ended || s == State::missed; });
}

}  // namespace tapharness::mockserver
