// The engine's ACK bookkeeping, kept apart from the stream: which sends asked for an ACK,
// which `expect ack` lines claim them, which ACKs came before their claim, and whether a
// frame from the client is an ACK the scenario accounts for. No I/O and no clock: the
// engine (engine.hpp) asks, waits, and reports what it is told.
//
//   AckBook book(/*acks_auto=*/false, /*claims_acks=*/true);
//   book.owe({.opaque = 5, .opcode = Opcode::tap_mutation}, where);   // send ... ack
//   auto claim = book.claim(expect_ack);          // expect ack: the oldest unclaimed send
//   if (claim->arrived) report(book.judge_arrived(*claim, claim->owed.sequence));
//   book.accept_unclaimed(frame_header, std::nullopt);   // between expectations
//
// The rules (scenarios/README.md, "Expecting what the client sends"):
// - an ACK for an earlier send that asked for one may come before the ACK an expectation
//   waits for; one for a later send may not (it "jumped ahead");
// - an ACK that came while nothing waited is kept, and the `expect ack` that claims its send
//   later is judged on it;
// - under `acks auto` owed ACKs must come in send order;
// - `optional` ACKs are tolerated when they come and not required.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "mockserver/expectations.hpp"
#include "protocol/header.hpp"
#include "scenario/scenario.hpp"

namespace tapharness::mockserver {

// The outcome of judging one expectation: passed, or what was expected against what came.
struct AckVerdict {
  bool passed = true;
  std::string expected;
  std::string observed;
};

class AckBook {
 public:
  // A send that asked for an ACK (and, once claimed, the `expect ack` that stands for it).
  struct Owed {
    std::uint64_t sequence = 0;  // send order
    AckTarget target;
    scenario::SourceLocation location;
  };

  // What an `expect ack` claims: a send that asked for an ACK, and the ACK itself when it
  // came before the claim.
  struct Claim {
    Owed owed;
    std::optional<protocol::Header> arrived;
    std::uint64_t arrival = 0;  // its place among the arrived ACKs
  };

  // `claims_acks`: whether any `expect ack` line may claim a send (otherwise arrived ACKs
  // need not be kept).
  AckBook(bool acks_auto, bool claims_acks) : acks_auto_(acks_auto), claims_acks_(claims_acks) {}

  // A send asked for this ACK.
  void owe(AckTarget target, const scenario::SourceLocation& where);

  // The ACK an `expect ack` stands for: the named opaque, or the oldest unclaimed send,
  // whether its ACK is still owed or came already; a named opaque no send owes is claimed
  // as it is. Empty when nothing is left to claim.
  std::optional<Claim> claim(const scenario::ExpectAck& expect);

  // An `optional { ... }` group: its ACKs are accepted if they come, not required.
  void tolerate(const scenario::ExpectGroup& group);

  // The claims of an `unordered { ... }` group.
  struct GroupClaim {
    std::vector<Owed> waiting;                            // ACKs still to come
    std::vector<Claim> arrived;                           // ACKs that came already
    std::vector<scenario::SourceLocation> unclaimable;    // lines that find no send to claim
    std::uint64_t newest = 0;                             // the newest send claimed
    scenario::Duration within{0};                         // the longest wait of the waiting ones
  };
  GroupClaim claim_group(const scenario::ExpectGroup& group, scenario::Duration default_within);

  // Whether any `expect ack` of `scenario` may claim a send (the `claims_acks` argument).
  static bool has_ack_expectations(const scenario::Scenario& scenario);

  // Judges a claim whose ACK came before it: an ACK for a send after `newest` (the newest
  // send the expectation waits for) must not have come first.
  AckVerdict judge_arrived(const Claim& claimed, std::uint64_t newest) const;

  // Judges `frame` as the ACK `owed` waits for, with the closest miss when it is not.
  static AckVerdict judge(const Owed& owed, const protocol::Header& frame);

  // An ACK that came before arrival number `before` for a send after `newest`: one that
  // jumped ahead of what an expectation waits for.
  std::optional<protocol::Header> jumped_ahead(std::uint64_t newest, std::uint64_t before) const;

  // Whether `frame`, arriving when no expectation matches it, is accounted for: an ACK for
  // an earlier send that asked for one (sent before `before`, or any when nothing is
  // awaited), a tolerated one, or anything under `allow unexpected`. Kept for an `expect
  // ack` that may claim its send later.
  bool accept_unclaimed(const protocol::Header& frame, std::optional<std::uint64_t> before);

  void allow_unexpected() { allow_unexpected_ = true; }

  // ACKs that came while nothing waited, counted; what the next one's arrival number is.
  std::uint64_t arrivals() const { return arrivals_; }
  // The oldest send whose ACK is still owed (`acks auto` requires it before the close).
  const Owed* oldest_owed() const { return owed_.empty() ? nullptr : &owed_.front(); }
  bool acks_auto() const { return acks_auto_; }

 private:
  bool acks_auto_;
  bool claims_acks_;
  bool allow_unexpected_ = false;
  std::uint64_t sequence_ = 0;

  std::deque<Owed> owed_;  // in send order

  // An ACK that came before any `expect ack` claimed its send.
  struct Arrived {
    Owed owed;
    protocol::Header header;
    std::uint64_t arrival = 0;
  };
  std::deque<Arrived> arrived_;  // in the order they came
  std::uint64_t arrivals_ = 0;
  std::vector<Owed> tolerated_;
};

}  // namespace tapharness::mockserver
