#include "mockserver/ack_book.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace tapharness::mockserver {

void AckBook::owe(AckTarget target, const scenario::SourceLocation& where) {
  owed_.push_back(Owed{sequence_++, target, where});
}

std::optional<AckBook::Claim> AckBook::claim(const scenario::ExpectAck& expect) {
  auto named = [&](const Owed& o) { return !expect.opaque || o.target.opaque == *expect.opaque; };
  // owed_ is in send order; arrived_ is in the order the ACKs came, so look for its oldest send.
  const auto owed_it = std::find_if(owed_.begin(), owed_.end(), named);
  auto arrived_it = arrived_.end();
  for (auto it = arrived_.begin(); it != arrived_.end(); ++it) {
    if (named(it->owed) && (arrived_it == arrived_.end() || it->owed.sequence < arrived_it->owed.sequence)) {
      arrived_it = it;
    }
  }
  const bool take_arrived =
      arrived_it != arrived_.end() && (owed_it == owed_.end() || arrived_it->owed.sequence < owed_it->sequence);
  std::optional<Claim> claimed;
  if (take_arrived) {
    claimed = Claim{arrived_it->owed, arrived_it->header, arrived_it->arrival};
    arrived_.erase(arrived_it);
  } else if (owed_it != owed_.end()) {
    claimed = Claim{*owed_it, std::nullopt};
    owed_.erase(owed_it);
  } else if (expect.opaque) {
    claimed = Claim{Owed{sequence_++, AckTarget{*expect.opaque, std::nullopt, std::nullopt}, {}}, std::nullopt};
  }
  if (!claimed) return std::nullopt;
  if (expect.opcode) claimed->owed.target.opcode = expect.opcode;
  claimed->owed.target.status = expect.status;
  return claimed;
}

void AckBook::tolerate(const scenario::ExpectGroup& group) {
  for (const auto& item : group.items) {
    auto claimed = claim(item.ack);
    if (claimed && !claimed->arrived) tolerated_.push_back(claimed->owed);  // arrived: nothing to wait for
  }
}

AckBook::GroupClaim AckBook::claim_group(const scenario::ExpectGroup& group, scenario::Duration default_within) {
  GroupClaim out;
  for (const auto& item : group.items) {
    auto claimed = claim(item.ack);
    if (!claimed) {
      out.unclaimable.push_back(item.location);
      continue;
    }
    claimed->owed.location = item.location;
    claimed->owed.overtaken_by.reset();  // the group's members may come in any order
    out.newest = std::max(out.newest, claimed->owed.sequence);
    if (claimed->arrived) {
      out.arrived.push_back(*claimed);
    } else {
      out.waiting.push_back(claimed->owed);
      out.within = std::max(out.within, item.ack.within.value_or(default_within));
    }
  }
  return out;
}

bool AckBook::has_ack_expectations(const scenario::Scenario& scenario) {
  auto expects = [](const scenario::Step& step) {
    return std::holds_alternative<scenario::ExpectAck>(step.action) ||
           std::holds_alternative<scenario::ExpectGroup>(step.action);
  };
  for (const scenario::Step& step : scenario.steps) {
    if (expects(step)) return true;
    if (const auto* repeat = std::get_if<scenario::Repeat>(&step.action)) {
      if (std::any_of(repeat->body.begin(), repeat->body.end(), expects)) return true;
    }
  }
  return false;
}

AckVerdict AckBook::judge_arrived(const Claim& claimed, std::uint64_t newest) const {
  // One that a later ACK overtook was reported out of order when it came.
  if (claimed.owed.overtaken_by) return judge(claimed.owed, *claimed.arrived);
  if (const auto jumped = jumped_ahead(newest, claimed.arrival)) {
    return {false, describe(claimed.owed.target),
            fmt::format("{} first (out of order)", describe_client_frame(*jumped))};
  }
  return judge(claimed.owed, *claimed.arrived);
}

AckVerdict AckBook::judge(const Owed& owed, const protocol::Header& frame) {
  if (matches(owed.target, frame)) return {};
  const auto miss = near_miss(owed.target, frame);
  return {false, describe(owed.target),
          fmt::format("{}{}", describe_client_frame(frame), miss.empty() ? "" : " (" + miss + ")")};
}

std::optional<protocol::Header> AckBook::jumped_ahead(std::uint64_t newest, std::uint64_t before) const {
  for (const Arrived& other : arrived_) {
    if (other.arrival < before && other.owed.sequence > newest) return other.header;
  }
  return std::nullopt;
}

namespace {

// A response to the frame `target` stands for, whatever its status.
bool answers(const AckTarget& target, const protocol::Header& frame) {
  return frame.magic == protocol::Magic::response && frame.opaque == target.opaque &&
         (!target.opcode || frame.opcode == *target.opcode);
}

}  // namespace

AckBook::Unclaimed AckBook::accept_unclaimed(const protocol::Header& frame, std::optional<std::uint64_t> before) {
  for (auto it = tolerated_.begin(); it != tolerated_.end(); ++it) {
    if (matches(it->target, frame)) {
      tolerated_.erase(it);
      return {.accepted = true};
    }
  }
  for (auto it = owed_.begin(); it != owed_.end(); ++it) {
    if (before && it->sequence >= *before) break;
    if (!answers(it->target, frame)) continue;
    const bool success = matches(it->target, frame);
    const bool allowed_nack = !success && allow_nacks_ && is_nack(frame.status());
    // Another status may be what a later `expect ack status=...` asks for: kept for it.
    if (!success && !allowed_nack && !claims_acks_) break;
    Unclaimed out{.accepted = true};
    if (strict() && it->overtaken_by) out.out_of_order = *it;
    const Owed answered = *it;
    owed_.erase(it);
    overtake(answered.sequence, frame);
    if (claims_acks_) arrived_.push_back(Arrived{answered, frame, arrivals_++});
    return out;
  }
  return {.accepted = allow_unexpected_};
}

std::optional<AckBook::Owed> AckBook::take_nacked(const protocol::Header& frame) {
  if (!is_nack(frame.status())) return std::nullopt;
  for (auto it = owed_.begin(); it != owed_.end(); ++it) {
    if (!answers(it->target, frame)) continue;
    const Owed nacked = *it;
    owed_.erase(it);
    overtake(nacked.sequence, frame);
    return nacked;
  }
  return std::nullopt;
}

void AckBook::overtake(std::uint64_t sequence, const protocol::Header& by) {
  if (!strict()) return;
  for (Owed& owed : owed_) {
    if (owed.sequence >= sequence) break;
    if (!owed.overtaken_by) owed.overtaken_by = by;
  }
}

std::optional<AckBook::Owed> AckBook::take_oldest() {
  if (owed_.empty()) return std::nullopt;
  Owed oldest = owed_.front();
  owed_.pop_front();
  return oldest;
}

std::vector<AckBook::Owed> AckBook::take_all_owed() {
  std::vector<Owed> out(owed_.begin(), owed_.end());
  owed_.clear();
  return out;
}

std::vector<AckBook::Nack> AckBook::take_unclaimed_nacks() {
  std::vector<Nack> out;
  for (auto it = arrived_.begin(); it != arrived_.end();) {
    if (!matches(it->owed.target, it->header) && !(allow_nacks_ && is_nack(it->header.status()))) {
      out.push_back(Nack{it->owed, it->header});
      it = arrived_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

}  // namespace tapharness::mockserver
