// The feed over real sockets on 127.0.0.1 (ephemeral ports): connecting, connect failures
// and timeouts, the blocking API, awaitable consumption, and close() hammered from another
// thread against a streaming feed.
#include <atomic>
#include <random>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/blocking_feed.hpp"
#include "client/tap_feed.hpp"
#include "protocol/tap_message.hpp"
#include "tests/client/feed_test_support.hpp"
#include "tests/client/session_server.hpp"
#include "tests/protocol/golden_frames.hpp"
#include "tests/support/loopback_server.hpp"
#include "testing/matchers.hpp"

namespace tapharness::client {
namespace {

using protocol::TapEvent;
using tapharness::testing::EndedWith;
using tapharness::testing::HoldsEnd;
using tapharness::testing::HoldsEvent;
using tapharness::testing::IsBeginBackfill;
using tapharness::testing::IsDeletion;
using tapharness::testing::IsMutation;
using tapharness::testing::LoopbackServer;
using tapharness::testing::read_exactly;
using tapharness::testing::write_hex;
using tcp = asio::ip::tcp;
namespace golden = tapharness::golden;

constexpr auto kWait = std::chrono::seconds(10);

TEST(TapFeedLoopback, StreamsEventsAcksAndEndsOnEof) {
  protocol::Bytes connect_seen, ack_seen;
  LoopbackServer server([&](tcp::socket& s) {
    connect_seen = read_exactly(s, 24 + 4 + 5 + 8);  // name "peer1", backfill
    write_hex(s, golden::kOpaqueInitialVBucketStream);
    write_hex(s, golden::kMutation);
    ack_seen = read_exactly(s, 48);
    s.shutdown(tcp::socket::shutdown_send);
    read_exactly(s, 1);  // until the client closes
  });
  FeedOptions options;
  options.args.client_name = "peer1";
  BlockingFeed feed(options);
  feed.connect("127.0.0.1", server.port());

  auto first = feed.next(kWait);
  ASSERT_TRUE(first);
  EXPECT_THAT(*first, HoldsEvent(IsBeginBackfill(2)));
  auto second = feed.next(kWait);
  ASSERT_TRUE(second);
  EXPECT_THAT(*second, HoldsEvent(IsMutation("mykey", "value")));
  auto end = feed.next(kWait);
  ASSERT_TRUE(end);
  EXPECT_THAT(*end, HoldsEnd(EndedWith(EndReason::eof)));
  server.join();

  EXPECT_EQ(protocol::to_hex(connect_seen),
            "804000050400000000000011000000000000000000000000000000017065657231ffffffffffffffff");
  EXPECT_EQ(protocol::to_hex(ack_seen),
            "81440000000000000000000000000020000000000000000081410000000000000000000000000010"
            "0000000000000000");
}

TEST(TapFeedLoopback, ConnectionRefusedIsAnIoErrorNamingTheAddress) {
  std::string port;
  {
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = std::to_string(acceptor.local_endpoint().port());
  }  // closed: nothing listens there now
  BlockingFeed feed(FeedOptions{});
  feed.connect("127.0.0.1", port);
  auto item = feed.next(kWait);
  ASSERT_TRUE(item);
  const auto& end = std::get<FeedEnd>(*item);
  EXPECT_EQ(end.reason, EndReason::io_error);
  EXPECT_EQ(end.io_error, asio::error::connection_refused);
  EXPECT_EQ(end.context, "connect to 127.0.0.1:" + port);
}

TEST(TapFeedLoopback, ConnectTimeoutWhenTheServerNeverAccepts) {
  // A listener with backlog 0 whose queue is already full drops further SYNs, so a
  // connect to it hangs: loopback only, no address outside this machine.
  asio::io_context io;
  tcp::acceptor acceptor(io);
  acceptor.open(tcp::v4());
  acceptor.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  acceptor.listen(0);
  std::vector<tcp::socket> fillers;
  for (int i = 0; i < 4; ++i) {
    fillers.emplace_back(io);
    // Initiating sends the SYN; `io` never runs, so nothing waits for the outcome.
    fillers.back().async_connect(acceptor.local_endpoint(), [](auto) {});
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  FeedOptions options;
  options.connect_timeout = std::chrono::milliseconds(200);
  BlockingFeed feed(options);
  const auto start = std::chrono::steady_clock::now();
  feed.connect("127.0.0.1", std::to_string(acceptor.local_endpoint().port()));
  auto item = feed.next(kWait);
  ASSERT_TRUE(item);
  EXPECT_EQ(std::get<FeedEnd>(*item).reason, EndReason::connect_timeout)
      << fmt::format("{}", *item);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(TapFeedLoopback, BlockingNextTimesOutThenCarriesOn) {
  std::atomic<bool> release{false};
  LoopbackServer server([&](tcp::socket& s) {
    read_exactly(s, 36);
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    write_hex(s, golden::kDeletion);
  });
  BlockingFeed feed(FeedOptions{});
  feed.connect("127.0.0.1", server.port());
  EXPECT_FALSE(feed.next(std::chrono::milliseconds(50)));
  release = true;
  auto item = feed.next(kWait);
  ASSERT_TRUE(item);
  EXPECT_THAT(*item, HoldsEvent(IsDeletion(::testing::_)));
  feed.close();
  auto after = feed.next(kWait);
  ASSERT_TRUE(after);
  EXPECT_EQ(std::get<FeedEnd>(*after).reason, EndReason::closed);
}

TEST(TapFeedLoopback, CloseFromAnotherThreadWakesABlockedNext) {
  LoopbackServer server([&](tcp::socket& s) {
    read_exactly(s, 36);
    read_exactly(s, 1);  // silent until the client goes away
  });
  BlockingFeed feed(FeedOptions{});
  feed.connect("127.0.0.1", server.port());
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    feed.close();
  });
  const auto start = std::chrono::steady_clock::now();
  auto item = feed.next(kWait);
  closer.join();
  ASSERT_TRUE(item);
  EXPECT_EQ(std::get<FeedEnd>(*item).reason, EndReason::closed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  server.join();  // the server saw EOF: the socket was really closed
}

TEST(TapFeedLoopback, AwaitableConsumer) {
  LoopbackServer server([&](tcp::socket& s) {
    read_exactly(s, 36);
    write_hex(s, golden::kMutation);
    write_hex(s, golden::kOpaqueCloseTapStream);
    read_exactly(s, 24);  // the mutation's ACK
  });
  asio::io_context io;
  TapFeed feed = connect_feed(io.get_executor(), "127.0.0.1", server.port(), {});
  std::vector<FeedItem> items;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (;;) {
          FeedItem item = co_await feed.async_next(asio::use_awaitable);
          items.push_back(item);
          if (std::holds_alternative<FeedEnd>(item)) co_return;
        }
      },
      asio::detached);
  io.run_for(kWait);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(std::get<TapEvent>(items[0]).key, "mykey");
  EXPECT_EQ(std::get<FeedEnd>(items[1]).reason, EndReason::end_stream);
}

// ack_status in the blocking feed: the NACK goes out as next() returns the event.
TEST(TapFeedLoopback, BlockingFeedAcksWithTheStatusAckStatusGave) {
  protocol::Bytes acks;
  LoopbackServer server([&](tcp::socket& s) {
    testing::read_bounded(s, 36);
    write_hex(s, golden::kMutation);                    // "mykey", ACK 0x10
    write_hex(s, golden::kOpaqueInitialVBucketStream);  // ACK 0x20
    acks = testing::read_bounded(s, 48);
  });
  FeedOptions options;
  options.ack_status = [](const protocol::TapEventView& e) {
    return e.key == "mykey" ? protocol::Status::etmpfail : protocol::Status::success;
  };
  BlockingFeed feed(options);
  feed.connect("127.0.0.1", server.port());
  for (int i = 0; i < 2; ++i) {
    auto item = feed.next(kWait);
    ASSERT_TRUE(item);
    ASSERT_TRUE(std::holds_alternative<TapEvent>(*item)) << fmt::format("{}", *item);
  }
  // The last ACK is written while the feed runs again: as next() waits for the end.
  auto end = feed.next(kWait);
  ASSERT_TRUE(end);
  EXPECT_THAT(*end, HoldsEnd(EndedWith(EndReason::eof)));
  server.join();
  EXPECT_EQ(protocol::to_hex(acks),
            "81410000000000860000000000000010000000000000000081440000000000000000000000000020"
            "0000000000000000");
}

// SASL over TCP: the connect path authenticates before TAP_CONNECT, with the same bytes.
TEST(TapFeedLoopback, AuthenticatesAfterConnectingThenStreams) {
  protocol::Bytes list, auth, connect;
  LoopbackServer server([&](tcp::socket& s) {
    list = testing::read_bounded(s, 24);
    write_hex(s, "81 20 0000 00 00 0000 00000005 00000000 0000000000000000 504c41494e");  // "PLAIN"
    auth = testing::read_bounded(s, 24 + 5 + 1 + 1 + 1 + 2);  // user "u", password "pw"
    write_hex(s, "81 21 0000 00 00 0000 00000000 00000000 0000000000000000");
    connect = testing::read_bounded(s, 36);
    write_hex(s, golden::kDeletion);
  });
  FeedOptions options;
  options.auth = Credentials{"u", "pw"};
  BlockingFeed feed(options);
  feed.connect("127.0.0.1", server.port());
  auto item = feed.next(kWait);
  ASSERT_TRUE(item);
  EXPECT_THAT(*item, HoldsEvent(IsDeletion(::testing::_)));
  auto end = feed.next(kWait);
  ASSERT_TRUE(end);
  EXPECT_THAT(*end, HoldsEnd(EndedWith(EndReason::eof)));
  server.join();
  EXPECT_EQ(protocol::to_hex(list), "802000000000000000000000000000000000000000000000");
  EXPECT_EQ(protocol::to_hex(auth),
            "80210005000000000000000a0000000000000000000000005" "04c41494e" "0075007077");
  EXPECT_EQ(protocol::to_hex(connect),
            "80400000040000000000000c00000000000000000000000000000001ffffffffffffffff");
}

// A server that streams mutations until the client goes away.
void stream_until_closed(tcp::socket& s) {
  read_exactly(s, 36);
  protocol::Bytes batch;
  for (int i = 0; i < 64; ++i) {
    protocol::append(batch, protocol::ep_engine::mutation(
                                            {.key = "k", .value = "v", .opaque = 1, .tap_flags = 1}));
  }
  boost::system::error_code ec;
  for (int i = 0; i < 100000 && !ec; ++i) asio::write(s, asio::buffer(batch), ec);
}

// close() from another thread while events flow: once it has returned, no handler carrying
// events is entered, whatever the consumption style. A handler checks a flag the closing
// thread sets after close() returns; close() waits for a handler being handed events, so a
// set flag inside one is a handover after close() returned.
enum class Style { next, batch, push };

struct CloseRace {
  std::atomic<bool> close_returned{false};
  std::atomic<std::size_t> events{0};
  std::atomic<std::size_t> late{0};  // events handed over after close() returned
  std::atomic<int> ends{0};

  void on_events(std::size_t n) {
    events += n;
    if (close_returned.load()) late += n;
  }
};

void run_close_race(Style style, std::uint32_t seed, int rounds) {
  std::mt19937 random(seed);
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE(round);
    LoopbackServer server(stream_until_closed);
    asio::io_context io;
    auto feed = std::make_unique<TapFeed>(connect_feed(io.get_executor(), "127.0.0.1", server.port(), {}));
    CloseRace race;
    std::function<void(FeedItem)> next = [&](FeedItem item) {
      if (std::holds_alternative<FeedEnd>(item)) {
        ++race.ends;
        return;
      }
      race.on_events(1);
      feed->async_next(next);
    };
    std::function<void(std::vector<FeedItem>)> batch = [&](std::vector<FeedItem> items) {
      std::size_t events = 0;
      for (const auto& item : items) events += std::holds_alternative<TapEvent>(item);
      race.on_events(events);
      if (std::holds_alternative<FeedEnd>(items.back())) {
        ++race.ends;
        return;
      }
      feed->async_next_batch(64, batch);
    };
    switch (style) {
      case Style::next: feed->async_next(next); break;
      case Style::batch: feed->async_next_batch(64, batch); break;
      case Style::push:
        feed->async_consume([&](const protocol::TapEventView&) { race.on_events(1); },
                            [&](FeedEnd) { ++race.ends; });
        break;
    }
    std::thread io_a([&] { io.run(); });
    std::thread io_b([&] { io.run(); });
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 3000));
    feed->close();
    race.close_returned.store(true);
    if (round % 2) feed->close();  // twice, sometimes
    io_a.join();
    io_b.join();
    EXPECT_EQ(race.late.load(), 0u) << "events handed over after close() returned";
    EXPECT_EQ(race.ends.load(), 1);
    feed.reset();
    server.join();
  }
}

TEST(TapFeedLoopback, NoEventAfterCloseReturnsWithAsyncNext) { run_close_race(Style::next, 12345, 40); }
TEST(TapFeedLoopback, NoEventAfterCloseReturnsWithBatches) { run_close_race(Style::batch, 23456, 40); }
TEST(TapFeedLoopback, NoEventAfterCloseReturnsWithPush) { run_close_race(Style::push, 34567, 40); }

// The blocking feed: a next() called after close() returned never returns an event, and an
// event next() returns is one it took before the close.
TEST(TapFeedLoopback, NoEventAfterCloseReturnsWithTheBlockingFeed) {
  std::mt19937 random(45678);
  for (int round = 0; round < 40; ++round) {
    SCOPED_TRACE(round);
    LoopbackServer server(stream_until_closed);
    BlockingFeed feed({});
    feed.connect("127.0.0.1", server.port());
    std::atomic<bool> close_returned{false};
    std::size_t late = 0, events = 0;
    bool ended = false;
    std::thread consumer([&] {
      for (int calls = 0; calls < 1'000'000 && !ended; ++calls) {
        const bool after = close_returned.load();
        auto item = feed.next(std::chrono::seconds(5));
        if (!item) continue;
        if (std::holds_alternative<FeedEnd>(*item)) {
          ended = true;
        } else {
          ++events;
          if (after) ++late;
        }
      }
    });
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 3000));
    feed.close();
    close_returned.store(true);
    consumer.join();
    EXPECT_TRUE(ended);
    EXPECT_EQ(late, 0u) << "next() called after close() returned gave an event";
    server.join();
  }
}

}  // namespace
}  // namespace tapharness::client
