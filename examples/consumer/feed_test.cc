// The team's own test of code that consumes a TAP feed, against tapharness's mock server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/blocking_feed.hpp"
#include "testing/matchers.hpp"
#include "testing/mock_tap_server.hpp"

using tapharness::client::EndReason;
using tapharness::testing::EndedWith;
using tapharness::testing::HoldsEnd;
using tapharness::testing::HoldsEvent;
using tapharness::testing::IsMutation;
using tapharness::testing::MockTapServer;

TEST(Replica, TakesTheMutationsAndAcksThem) {
  auto server = MockTapServer::Start(R"(
expect connect name="replica" has=support_ack
send mutation vb=0 key="k1" value="v1" ack
send mutation vb=0 key="k2" value="v2" ack
close fin
)");
  ASSERT_TRUE(server->ok()) << server->error();

  tapharness::client::FeedOptions options;
  options.args.client_name = "replica";
  options.args.support_ack = true;
  tapharness::client::BlockingFeed feed(options);
  feed.connect(server->host(), std::to_string(server->port()));
  std::vector<tapharness::client::FeedItem> items;
  for (int i = 0; i < 3; ++i) {
    if (auto item = feed.next(std::chrono::seconds(10))) items.push_back(*item);
  }
  EXPECT_THAT(items, ::testing::ElementsAre(HoldsEvent(IsMutation("k1", "v1")), HoldsEvent(IsMutation("k2", "v2")),
                                            HoldsEnd(EndedWith(EndReason::eof))));
  EXPECT_TRUE(server->WaitForReport(std::chrono::seconds(10)));
}
