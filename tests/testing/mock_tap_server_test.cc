// The public test fixture as a user's test would use it: a mock server from scenario text, the
// library's feed as the client under test, gmock matchers on what it delivers, and the
// server's verdict as an AssertionResult.
#include "testing/mock_tap_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/blocking_feed.hpp"
#include "protocol/tap_connect.hpp"
#include "testing/matchers.hpp"

namespace tapharness::testing {
namespace {

using client::EndReason;
using client::FeedEnd;
using client::FeedItem;
using ::testing::_;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr auto kWait = std::chrono::seconds(10);

constexpr std::string_view kBackfill = R"(
expect connect name="replica-1" has=support_ack
send opaque vb=2 code=INITIAL_VBUCKET_STREAM ack
send mutation vb=2 key="user:1" value="alice" ack
send deletion vb=2 key="user:2"
send opaque vb=2 code=CLOSE_BACKFILL ack
close fin
)";

// Everything the feed delivers, up to its end.
std::vector<FeedItem> read_all(client::BlockingFeed& feed) {
  std::vector<FeedItem> items;
  for (int i = 0; i < 1000; ++i) {
    auto item = feed.next(kWait);
    if (!item) break;
    items.push_back(*item);
    if (std::holds_alternative<FeedEnd>(*item)) break;
  }
  return items;
}

TEST(MockTapServer, ACorrectClientPassesAndItsEventsMatch) {
  auto server = MockTapServer::Start(kBackfill);
  ASSERT_TRUE(server->ok()) << server->error();
  client::FeedOptions options;
  options.args.client_name = "replica-1";
  options.args.support_ack = true;
  client::BlockingFeed feed(options);
  feed.connect(server->host(), std::to_string(server->port()));

  EXPECT_THAT(read_all(feed), ElementsAre(HoldsEvent(IsBeginBackfill(2)), HoldsEvent(IsMutation("user:1", "alice")),
                                          HoldsEvent(IsDeletion(StartsWith("user:"))), HoldsEvent(IsEndBackfill(2)),
                                          HoldsEnd(EndedWith(EndReason::eof))));
  EXPECT_TRUE(server->WaitForReport(kWait));
}

// A client that connects and then answers nothing: the verdict fails, and says where.
TEST(MockTapServer, AWrongClientFailsWithExpectedAgainstObserved) {
  auto server = MockTapServer::Start("timeout 200ms\n" + std::string(kBackfill));
  ASSERT_TRUE(server->ok()) << server->error();
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address(server->host()), server->port()});
  protocol::TapArguments args;
  args.client_name = "replica-1";
  args.support_ack = true;
  protocol::Bytes connect;
  protocol::encode_tap_connect(connect, args);
  asio::write(socket, asio::buffer(connect));

  const ::testing::AssertionResult verdict = server->WaitForReport(kWait);
  EXPECT_FALSE(verdict);
  EXPECT_THAT(verdict.message(), HasSubstr("inline.scenario:4: ack owed"));
  EXPECT_THAT(verdict.message(), HasSubstr("expected: ACK (response) TAP_OPAQUE opaque=0x00000001 status=SUCCESS"));
}

TEST(MockTapServer, AScenarioThatDoesNotParseIsNotServed) {
  auto server = MockTapServer::Start("sned noop\n");
  EXPECT_FALSE(server->ok());
  EXPECT_THAT(server->error(), StartsWith("inline.scenario:1:1: unknown keyword 'sned'"));
  EXPECT_FALSE(server->WaitForReport(std::chrono::milliseconds(1)));
  EXPECT_FALSE(MockTapServer::StartFile("no/such.scenario")->ok());
}

TEST(MockTapServer, NoClientIsAFailureAfterTheWait) {
  auto server = MockTapServer::Start(kBackfill);
  const auto verdict = server->WaitForReport(std::chrono::milliseconds(50));
  EXPECT_FALSE(verdict);
  EXPECT_THAT(verdict.message(), HasSubstr("did not end within 50ms (has the client connected to 127.0.0.1:"));
}  // and the destructor cuts the run short at once

TEST(Matchers, DescribeWhatTheyWantAndPrintWhatCame) {
  protocol::TapEvent event;
  event.kind = protocol::TapEventKind::mutation;
  event.key = "k1";
  event.value = "v2";
  EXPECT_THAT(event, IsMutation("k1", _));
  EXPECT_THAT(event, ::testing::Not(IsMutation("k1", "v1")));
  EXPECT_THAT(::testing::PrintToString(event), HasSubstr("mutation vb=0 key=\"k1\" value=\"v2\""));
  EXPECT_THAT(::testing::DescribeMatcher<protocol::TapEvent>(IsDeletion("k1")), HasSubstr("deletion"));
  FeedEnd end;
  end.reason = EndReason::truncated;
  EXPECT_THAT(end, EndedWith(EndReason::truncated));
  EXPECT_THAT(::testing::PrintToString(end), HasSubstr("truncated"));
}

}  // namespace
}  // namespace tapharness::testing
