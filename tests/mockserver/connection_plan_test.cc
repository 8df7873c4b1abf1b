// Which planned connection an arriving client is, and when a reconnect is overdue: the
// rules of mockserver/connection_plan.hpp, without sockets or timers.
#include "mockserver/connection_plan.hpp"

#include <gtest/gtest.h>

#include "tests/mockserver/engine_test_support.hpp"

namespace tapharness::mockserver {
namespace {

using Kind = ConnectionPlan::Arrival::Kind;
using std::chrono::milliseconds;

constexpr std::string_view kTwoReplicasAndAReconnect = R"(
connection a {
  expect connect name="ra"
}
connection b {
  expect connect name="rb"
}
connection a2 after a within 1s {
  expect connect name="ra"
}
)";

TEST(ConnectionPlan, ArrivalsGoByNameAmongTheAwaited) {
  const auto scenario = testing::parse(kTwoReplicasAndAReconnect);
  ConnectionPlan plan(*scenario);
  EXPECT_EQ(plan.candidates(), 2u);
  const auto b = plan.arrive("rb");
  EXPECT_EQ(b.kind, Kind::assigned);
  EXPECT_EQ(b.index, 1u);
  const auto a = plan.arrive(std::nullopt);  // no name known: the first awaited
  EXPECT_EQ(a.index, 0u);
  EXPECT_FALSE(plan.finished());
}

TEST(ConnectionPlan, AReconnectIsAwaitedOnlyOnceItsPredecessorEnded) {
  const auto scenario = testing::parse(kTwoReplicasAndAReconnect);
  ConnectionPlan plan(*scenario);
  plan.arrive("ra");
  plan.arrive("rb");
  const auto early = plan.arrive("ra");
  EXPECT_EQ(early.kind, Kind::held) << "a's client came back before a's end was seen";
  const auto now = ConnectionPlan::Clock::now();
  plan.ended(0, now);
  EXPECT_EQ(plan.next_deadline(), now + milliseconds(1000));
  const auto back = plan.arrive("ra");
  EXPECT_EQ(back.kind, Kind::assigned);
  EXPECT_EQ(back.index, 2u);
  EXPECT_FALSE(plan.next_deadline());
  plan.ended(1, now);
  plan.ended(2, now);
  EXPECT_TRUE(plan.finished());
  EXPECT_EQ(plan.arrive("ra").kind, Kind::unexpected);
}

TEST(ConnectionPlan, AReconnectThatIsLateIsGivenUpWithWhatFollowsIt) {
  const auto scenario = testing::parse(R"(
connection a {
  expect connect
}
connection b after a within 100ms {
  expect connect
}
connection c after b {
  expect connect
}
)");
  ConnectionPlan plan(*scenario);
  plan.arrive(std::nullopt);
  const auto now = ConnectionPlan::Clock::now();
  plan.ended(0, now);
  EXPECT_TRUE(plan.overdue(now + milliseconds(99)).empty());
  EXPECT_EQ(plan.overdue(now + milliseconds(100)), (std::vector<std::size_t>{1, 2}));
  EXPECT_TRUE(plan.finished());
}

}  // namespace
}  // namespace tapharness::mockserver
