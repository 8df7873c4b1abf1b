// The engine's ACK bookkeeping, kept apart from the stream: which sends asked for an ACK,
// which `expect ack` lines claim them, which ACKs came before their claim, and whether a
// frame from the client is an ACK the scenario accounts for. No I/O and no clock: the
// engine (engine.hpp) asks, waits, and reports what it is told.
//
//   AckBook book(AckPolicy::strict, /*claims_acks=*/true);
//   book.owe({.opaque = 5, .opcode = Opcode::tap_mutation}, where);   // a frame that asks
//   auto claim = book.claim(expect_ack);          // expect ack: the oldest unclaimed one
//   if (claim->arrived) report(book.judge_arrived(*claim, claim->owed.sequence));
//   auto verdict = book.accept_unclaimed(frame_header, std::nullopt);   // between expectations
//
// The rules (scenarios/README.md, "Expecting what the client sends"):
// - an ACK is owed for every frame a correct client must ACK (client_model.hpp), and under
//   the strict policy (the default) every one must come, in the order the frames were sent;
//   an ACK for a later frame while an earlier one is still owed passes the earlier one over;
// - an ACK for an earlier frame may come before the ACK an expectation waits for; one for a
//   later frame may not (it "jumped ahead");
// - an ACK that came while nothing waited is kept, and the `expect ack` that claims its frame
//   later is judged on it;
// - a NACK (ETMPFAIL, EBUSY) answers an owed ACK only where the scenario allows it (`allow
//   nacks`) or an `expect ack status=...` claims it;
// - `optional` ACKs are tolerated when they come and not required;
// - under `acks unchecked` owed ACKs are neither required nor ordered.
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

using scenario::AckPolicy;

class AckBook {
 public:
  // A send that asked for an ACK (and, once claimed, the `expect ack` that stands for it).
  struct Owed {
    std::uint64_t sequence = 0;  // send order
    AckTarget target;
    scenario::SourceLocation location;
    // Strict: the first ACK for a later frame that came while this one was owed. Its own ACK
    // is then out of order, unless both belong to one `unordered` group.
    std::optional<protocol::Header> overtaken_by;
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
  AckBook(AckPolicy policy, bool claims_acks) : policy_(policy), claims_acks_(claims_acks) {}

  // A frame a correct client must ACK was sent (at `where`).
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

  // What became of a client frame that no waiting expectation matched.
  struct Unclaimed {
    bool accepted = false;             // an owed ACK (or a tolerated one, or anything allowed)
    std::optional<Owed> out_of_order;  // strict: the owed ACK it answers, which a later one overtook
  };
  // Judges `frame`, arriving when no expectation matches it: an ACK owed for an earlier frame
  // (sent before `before`, or any when nothing is awaited), a tolerated one, or anything
  // under `allow unexpected`. Kept for an `expect ack` that may claim its frame later.
  Unclaimed accept_unclaimed(const protocol::Header& frame, std::optional<std::uint64_t> before);

  // An ACK for send `sequence` came (`by`): under the strict policy every owed ACK before it
  // is overtaken, so its own ACK, should it come, is out of order.
  void overtake(std::uint64_t sequence, const protocol::Header& by);

  // A NACK (ETMPFAIL, EBUSY) of an owed ACK, which the scenario answers by sending the frame
  // again: the owed ACK it answers, removed (a retransmit owes its own). Empty when `frame`
  // is no NACK of an owed ACK.
  std::optional<Owed> take_nacked(const protocol::Header& frame);

  // How many owed ACKs are still to come (the ACK window's measure).
  std::size_t owed_count() const { return owed_.size(); }

  // The oldest owed ACK, removed: a frame that answers nothing is judged against it, once.
  std::optional<Owed> take_oldest();
  // Every ACK still owed, removed (at the end: each is missing).
  std::vector<Owed> take_all_owed();

  void allow_unexpected() { allow_unexpected_ = true; }
  void allow_nacks() { allow_nacks_ = true; }

  // ACKs that came while nothing waited, counted; what the next one's arrival number is.
  std::uint64_t arrivals() const { return arrivals_; }
  // The oldest frame whose ACK is still owed.
  const Owed* oldest_owed() const { return owed_.empty() ? nullptr : &owed_.front(); }
  bool strict() const { return policy_ == AckPolicy::strict; }

  // NACKs that came before any `expect ack` claimed their frame and that none claimed since,
  // removed: at the end each is a NACK the scenario did not ask for.
  struct Nack {
    Owed owed;
    protocol::Header header;
  };
  std::vector<Nack> take_unclaimed_nacks();

 private:
  AckPolicy policy_;
  bool claims_acks_;
  bool allow_unexpected_ = false;
  bool allow_nacks_ = false;
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
