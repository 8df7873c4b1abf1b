// The engine's ACK bookkeeping on its own: sends that owe ACKs, `expect ack` claims, ACKs
// that come early, out of order, or for nobody. No stream and no io_context: frames are
// headers the test makes.
#include "mockserver/ack_book.hpp"

#include <gtest/gtest.h>

namespace tapharness::mockserver {
namespace {

using protocol::Header;
using protocol::Opcode;
using protocol::Status;

const scenario::SourceLocation kWhere{"t.scenario", 3, 1};

Header ack(Opcode opcode, std::uint32_t opaque, Status status = Status::success) {
  Header h;
  h.magic = protocol::Magic::response;
  h.opcode = opcode;
  h.opaque = opaque;
  h.vbucket_or_status = static_cast<std::uint16_t>(status);
  return h;
}

AckTarget target(Opcode opcode, std::uint32_t opaque) { return {opaque, opcode, Status::success}; }

bool accepted(AckBook& book, const Header& frame, std::optional<std::uint64_t> before = std::nullopt) {
  const auto verdict = book.accept_unclaimed(frame, before);
  EXPECT_FALSE(verdict.out_of_order) << "out of order";
  return verdict.accepted;
}

constexpr auto kStrict = AckPolicy::strict;
constexpr auto kUnchecked = AckPolicy::unchecked;

TEST(AckBook, AnExpectAckClaimsTheOldestSendThatAskedAndIsJudgedOnTheAckThatComes) {
  AckBook book(kStrict, /*claims_acks=*/true);
  book.owe(target(Opcode::tap_opaque, 1), kWhere);
  book.owe(target(Opcode::tap_mutation, 2), kWhere);
  auto first = book.claim({});
  ASSERT_TRUE(first);
  EXPECT_EQ(first->owed.target.opaque, 1u);
  EXPECT_FALSE(first->arrived);
  EXPECT_TRUE(AckBook::judge(first->owed, ack(Opcode::tap_opaque, 1)).passed);

  const AckVerdict miss = AckBook::judge(first->owed, ack(Opcode::tap_opaque, 7));
  EXPECT_FALSE(miss.passed);
  EXPECT_EQ(miss.expected, "ACK (response) TAP_OPAQUE opaque=0x00000001 status=SUCCESS");
  EXPECT_EQ(miss.observed, "response TAP_OPAQUE opaque=0x00000007 status=SUCCESS (opaque differs: 0x00000007)");

  auto second = book.claim({});
  ASSERT_TRUE(second);
  EXPECT_EQ(second->owed.target.opaque, 2u);
  EXPECT_FALSE(book.claim({})) << "nothing is left to claim";
}

TEST(AckBook, AnAckThatCameEarlyIsKeptForTheClaimThatComesLater) {
  AckBook book(kStrict, true);
  book.owe(target(Opcode::tap_mutation, 5), kWhere);
  EXPECT_TRUE(accepted(book, ack(Opcode::tap_mutation, 5)));
  EXPECT_EQ(book.arrivals(), 1u);
  auto claim = book.claim({.opaque = 5});
  ASSERT_TRUE(claim);
  ASSERT_TRUE(claim->arrived);
  EXPECT_TRUE(book.judge_arrived(*claim, claim->owed.sequence).passed);
}

TEST(AckBook, UncheckedAnAckForALaterSendMustNotComeBeforeTheOneAwaited) {
  AckBook book(kUnchecked, true);
  book.owe(target(Opcode::tap_mutation, 1), kWhere);
  book.owe(target(Opcode::tap_mutation, 2), kWhere);
  // The ACK for the second send comes first, while nothing waits.
  EXPECT_TRUE(accepted(book, ack(Opcode::tap_mutation, 2)));
  EXPECT_TRUE(accepted(book, ack(Opcode::tap_mutation, 1)));
  auto first = book.claim({});
  ASSERT_TRUE(first && first->arrived);
  EXPECT_EQ(first->owed.target.opaque, 1u);
  const AckVerdict verdict = book.judge_arrived(*first, first->owed.sequence);
  EXPECT_FALSE(verdict.passed);
  EXPECT_EQ(verdict.observed, "response TAP_MUTATION opaque=0x00000002 status=SUCCESS first (out of order)");
}

TEST(AckBook, WhileAnExpectationWaitsOnlyEarlierSendsMayBeAcked) {
  AckBook book(kStrict, true);
  book.owe(target(Opcode::tap_mutation, 1), kWhere);
  book.owe(target(Opcode::tap_mutation, 2), kWhere);
  book.owe(target(Opcode::tap_mutation, 3), kWhere);
  // An expectation waits for the send with sequence 1: only sequence 0 may come before it.
  EXPECT_TRUE(accepted(book, ack(Opcode::tap_mutation, 1), /*before=*/1));
  EXPECT_FALSE(accepted(book, ack(Opcode::tap_mutation, 3), /*before=*/1));
}

TEST(AckBook, StrictAnAckThatSkipsAheadLeavesTheEarlierOneOwedAndOvertaken) {
  AckBook book(kStrict, /*claims_acks=*/false);
  book.owe(target(Opcode::tap_mutation, 1), kWhere);
  book.owe(target(Opcode::tap_mutation, 2), kWhere);
  book.owe(target(Opcode::tap_mutation, 3), kWhere);
  EXPECT_TRUE(accepted(book, ack(Opcode::tap_mutation, 2)));
  // The rest is in order again: no cascade of failures.
  EXPECT_TRUE(accepted(book, ack(Opcode::tap_mutation, 3)));
  ASSERT_TRUE(book.oldest_owed());
  EXPECT_EQ(book.oldest_owed()->target.opaque, 1u);
  ASSERT_TRUE(book.oldest_owed()->overtaken_by);
  EXPECT_EQ(book.oldest_owed()->overtaken_by->opaque, 2u) << "the first that overtook it";
  // Should it come now, it is out of order, once.
  const auto late = book.accept_unclaimed(ack(Opcode::tap_mutation, 1), std::nullopt);
  EXPECT_TRUE(late.accepted);
  ASSERT_TRUE(late.out_of_order);
  EXPECT_EQ(late.out_of_order->target.opaque, 1u);
}

TEST(AckBook, UncheckedAcceptsOwedAcksInAnyOrderAndRequiresNone) {
  AckBook book(kUnchecked, /*claims_acks=*/false);
  book.owe(target(Opcode::tap_mutation, 1), kWhere);
  book.owe(target(Opcode::tap_mutation, 2), kWhere);
  EXPECT_TRUE(accepted(book, ack(Opcode::tap_mutation, 2)));
  EXPECT_FALSE(book.strict());
  EXPECT_TRUE(accepted(book, ack(Opcode::tap_mutation, 1))) << "never out of order";
}

TEST(AckBook, ANackAnswersAnOwedAckOnlyWhereAllowed) {
  AckBook book(kStrict, /*claims_acks=*/false);
  book.owe(target(Opcode::tap_mutation, 1), kWhere);
  book.owe(target(Opcode::tap_mutation, 2), kWhere);
  EXPECT_FALSE(accepted(book, ack(Opcode::tap_mutation, 1, Status::etmpfail))) << "not asked for";
  book.allow_nacks();
  EXPECT_TRUE(accepted(book, ack(Opcode::tap_mutation, 1, Status::etmpfail)));
  EXPECT_TRUE(accepted(book, ack(Opcode::tap_mutation, 2, Status::ebusy)));
  EXPECT_FALSE(accepted(book, ack(Opcode::tap_mutation, 3, Status::etmpfail))) << "nothing owed for opaque 3";
}

TEST(AckBook, ANackKeptForALaterClaimIsJudgedByItsStatusOrReportedAtTheEnd) {
  AckBook book(kStrict, /*claims_acks=*/true);
  book.owe(target(Opcode::tap_mutation, 1), kWhere);
  book.owe(target(Opcode::tap_mutation, 2), kWhere);
  EXPECT_TRUE(accepted(book, ack(Opcode::tap_mutation, 1, Status::etmpfail)));
  EXPECT_TRUE(accepted(book, ack(Opcode::tap_mutation, 2, Status::etmpfail)));
  auto claim = book.claim({.status = Status::etmpfail});
  ASSERT_TRUE(claim && claim->arrived);
  EXPECT_TRUE(book.judge_arrived(*claim, claim->owed.sequence).passed);
  const auto unasked = book.take_unclaimed_nacks();
  ASSERT_EQ(unasked.size(), 1u);
  EXPECT_EQ(unasked[0].owed.target.opaque, 2u);
}

TEST(AckBook, OptionalAcksAreAcceptedOnceAndNeverRequired) {
  AckBook book(kStrict, true);
  book.owe(target(Opcode::tap_opaque, 9), kWhere);
  scenario::ExpectGroup optional{.kind = scenario::ExpectGroup::Kind::optional};
  optional.items.push_back({scenario::ExpectAck{}, kWhere});
  book.tolerate(optional);
  EXPECT_FALSE(book.oldest_owed()) << "the optional group claimed it";
  EXPECT_TRUE(accepted(book, ack(Opcode::tap_opaque, 9)));
  EXPECT_FALSE(accepted(book, ack(Opcode::tap_opaque, 9))) << "accepted once";
}

TEST(AckBook, AnUnorderedGroupSplitsIntoWaitingArrivedAndUnclaimable) {
  AckBook book(kStrict, true);
  book.owe(target(Opcode::tap_mutation, 1), kWhere);
  book.owe(target(Opcode::tap_mutation, 2), kWhere);
  EXPECT_TRUE(book.accept_unclaimed(ack(Opcode::tap_mutation, 2), std::nullopt).accepted);
  scenario::ExpectGroup group;
  const scenario::SourceLocation a{"t.scenario", 4, 3}, b{"t.scenario", 5, 3}, c{"t.scenario", 6, 3};
  group.items.push_back({scenario::ExpectAck{.opaque = 1, .within = scenario::Duration{700}}, a});
  group.items.push_back({scenario::ExpectAck{.opaque = 2}, b});
  group.items.push_back({scenario::ExpectAck{}, c});
  const auto claims = book.claim_group(group, scenario::Duration{5000});
  ASSERT_EQ(claims.waiting.size(), 1u);
  EXPECT_EQ(claims.waiting[0].target.opaque, 1u);
  EXPECT_EQ(claims.waiting[0].location, a);
  EXPECT_FALSE(claims.waiting[0].overtaken_by) << "a group's members may come in any order";
  ASSERT_EQ(claims.arrived.size(), 1u);
  EXPECT_EQ(claims.arrived[0].owed.location, b);
  ASSERT_EQ(claims.unclaimable.size(), 1u);
  EXPECT_EQ(claims.unclaimable[0], c);
  EXPECT_EQ(claims.newest, 1u);
  EXPECT_EQ(claims.within, scenario::Duration{700});
}

TEST(AckBook, ANamedOpaqueNoSendOwesIsStillClaimedWithTheStatusAsked) {
  AckBook book(kStrict, true);
  auto claim = book.claim({.opaque = 0x77, .opcode = Opcode::tap_delete, .status = Status::etmpfail});
  ASSERT_TRUE(claim);
  EXPECT_TRUE(AckBook::judge(claim->owed, ack(Opcode::tap_delete, 0x77, Status::etmpfail)).passed);
  EXPECT_FALSE(AckBook::judge(claim->owed, ack(Opcode::tap_delete, 0x77)).passed);
}

TEST(AckBook, AnythingGoesUnderAllowUnexpected) {
  AckBook book(kStrict, false);
  EXPECT_FALSE(accepted(book, ack(Opcode::noop, 0)));
  book.allow_unexpected();
  EXPECT_TRUE(accepted(book, ack(Opcode::noop, 0)));
}

}  // namespace
}  // namespace tapharness::mockserver
