#include "runner/chain_check.hpp"

#include <fmt/format.h>

namespace tapharness::runner {

ChainCheck::ChainCheck(std::vector<const scenario::Scenario*> connections) : connections_(std::move(connections)) {
  checks_.reserve(connections_.size());
  for (const scenario::Scenario* script : connections_) checks_.emplace_back(*script);
}

void ChainCheck::observe(const client::ReportedItem& item) {
  if (const auto* opened = std::get_if<client::ReportedConnection>(&item)) {
    if (opened->number == 0 || opened->number > checks_.size()) {
      const scenario::Scenario& last = *connections_.back();
      if (own_.size() < 8) {
        own_.push_back({{last.path, 0, 0},
                        "client connection",
                        fmt::format("at most {} connection{} from this client", checks_.size(),
                                    checks_.size() == 1 ? "" : "s"),
                        fmt::format("{{\"connection\":{}}}", opened->number)});
      }
      current_ = checks_.size() - 1;
    } else {
      current_ = opened->number - 1;
    }
    current_ended_ = false;
    return;
  }
  // Without a connection line, what follows an end is the next connection's.
  if (current_ended_ && current_ + 1 < checks_.size()) {
    ++current_;
    current_ended_ = false;
  }
  checks_[current_].observe(item);
  if (std::holds_alternative<client::ReportedEnd>(item)) current_ended_ = true;
}

void ChainCheck::bad_output(std::size_t line_number, const std::string& reason, const std::string& line) {
  checks_[current_].bad_output(line_number, reason, line);
}

void ChainCheck::finish() {
  for (ClientCheck& check : checks_) check.finish();
}

std::vector<ClientFailure> ChainCheck::failures() const {
  std::vector<ClientFailure> out = own_;
  for (const ClientCheck& check : checks_) out.insert(out.end(), check.failures().begin(), check.failures().end());
  return out;
}

std::size_t ChainCheck::failures_dropped() const {
  std::size_t dropped = 0;
  for (const ClientCheck& check : checks_) dropped += check.failures_dropped();
  return dropped;
}

std::uint64_t ChainCheck::events_seen() const {
  std::uint64_t seen = 0;
  for (const ClientCheck& check : checks_) seen += check.events_seen();
  return seen;
}

}  // namespace tapharness::runner
