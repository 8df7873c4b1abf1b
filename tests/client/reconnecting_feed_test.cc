// The reconnecting consumer over real sockets on 127.0.0.1: which ends it reconnects after,
// the same TAP_CONNECT each time, attempts in a row and what resets them, the backoff (a
// lower bound only), close() during a backoff, and a NACK rule counting across connections.
// Every wait is bounded: the server's accepts and socket I/O (session_server.hpp), and the
// client's run (kLimit).
#include "client/reconnecting_feed.hpp"

#include <thread>

#include <gtest/gtest.h>

#include "client/nack_rule.hpp"
#include "protocol/hex.hpp"
#include "tests/client/session_server.hpp"
#include "tests/protocol/golden_frames.hpp"
#include "tests/support/loopback_server.hpp"
#include "testing/printers.hpp"

namespace tapharness::client {
namespace {

using tcp = asio::ip::tcp;
using testing::Millis;
using testing::reset;
using testing::SessionServer;
using testing::read_bounded;
using testing::read_frame;
using tapharness::testing::write_hex;
namespace golden = tapharness::golden;
using Clock = std::chrono::steady_clock;

constexpr Millis kLimit(10000);

// What the handlers saw, as lines: "connection 1", "mutation mykey", "end io_error", and
// " last" on the last end.
struct Recorded {
  std::vector<std::string> log;
  std::vector<FeedEnd> ends;
  std::vector<Clock::time_point> end_times;
  bool done = false;
  std::function<void(const FeedEnd&, bool)> also_on_end;
};

ReconnectHandlers record(Recorded& r) {
  return {.on_connection = [&r](std::uint32_t n) { r.log.push_back(fmt::format("connection {}", n)); },
          .on_event =
              [&r](const protocol::TapEventView& e) {
                r.log.push_back(fmt::format("{} {}", e.kind, e.key));
                return protocol::Status::success;
              },
          .on_end =
              [&r](const FeedEnd& end, bool last) {
                EXPECT_FALSE(r.done) << "nothing after the last end";
                r.log.push_back(fmt::format("end {}{}", end.reason, last ? " last" : ""));
                r.ends.push_back(end);
                r.end_times.push_back(Clock::now());
                r.done = last;
                if (r.also_on_end) r.also_on_end(end, last);
              }};
}

// Runs the context until the last end, or kLimit.
void run_until_done(asio::io_context& io, const Recorded& r) {
  const auto deadline = Clock::now() + kLimit;
  while (!r.done && Clock::now() < deadline) io.run_one_for(Millis(20));
  EXPECT_TRUE(r.done) << "no last end within the limit";
}

FeedOptions reconnecting(std::uint32_t attempts, Millis backoff = Millis(10), Millis max_backoff = Millis(5000)) {
  FeedOptions options;
  options.args.client_name = "replica";
  options.reconnect = {.attempts = attempts, .backoff = backoff, .max_backoff = max_backoff};
  options.connect_timeout = Millis(2000);
  return options;
}

// A port nothing listens on: bound once, then closed.
std::string closed_port() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return std::to_string(acceptor.local_endpoint().port());
}

using Lines = std::vector<std::string>;

TEST(ReconnectSchedule, WhichEndsReconnect) {
  for (auto reason : {EndReason::truncated, EndReason::protocol_error, EndReason::io_error,
                      EndReason::connect_timeout, EndReason::idle_timeout}) {
    EXPECT_TRUE(reconnects_after(reason)) << name_of(reason);
  }
  for (auto reason : {EndReason::connect_rejected, EndReason::auth_failed, EndReason::eof, EndReason::end_stream,
                      EndReason::closed}) {
    EXPECT_FALSE(reconnects_after(reason)) << name_of(reason);
  }
}

TEST(ReconnectSchedule, AttemptsInARowWithADoublingCappedBackoff) {
  ReconnectSchedule schedule({.attempts = 4, .backoff = Millis(100), .max_backoff = Millis(350)});
  EXPECT_EQ(schedule.after_end(EndReason::io_error, false), Millis(100));
  EXPECT_EQ(schedule.after_end(EndReason::truncated, false), Millis(200));
  EXPECT_EQ(schedule.after_end(EndReason::connect_timeout, false), Millis(350)) << "capped";
  EXPECT_EQ(schedule.after_end(EndReason::idle_timeout, false), Millis(350));
  EXPECT_EQ(schedule.after_end(EndReason::io_error, false), std::nullopt) << "four in a row were allowed";
  EXPECT_EQ(schedule.attempts_in_a_row(), 4u);
}

TEST(ReconnectSchedule, AConnectionWithEventsResetsTheCountAndTheBackoff) {
  ReconnectSchedule schedule({.attempts = 2, .backoff = Millis(10)});
  EXPECT_EQ(schedule.after_end(EndReason::io_error, false), Millis(10));
  EXPECT_EQ(schedule.after_end(EndReason::io_error, false), Millis(20));
  EXPECT_EQ(schedule.after_end(EndReason::io_error, true), Millis(10)) << "events: a fresh start";
  EXPECT_EQ(schedule.after_end(EndReason::eof, true), std::nullopt) << "never after eof";
  ReconnectSchedule never({});
  EXPECT_EQ(never.after_end(EndReason::io_error, true), std::nullopt) << "attempts 0: never";
}

TEST(ReconnectSchedule, BackoffEdges) {
  EXPECT_EQ(ReconnectSchedule({.backoff = Millis(0)}).backoff(4000000000u), Millis(0));
  EXPECT_EQ(ReconnectSchedule({.backoff = Millis(-5)}).backoff(1), Millis(0));
  EXPECT_EQ(ReconnectSchedule({.backoff = Millis(900), .max_backoff = Millis(500)}).backoff(1), Millis(500));
  EXPECT_EQ(ReconnectSchedule({.backoff = Millis(1), .max_backoff = Millis(1) * 1000000000}).backoff(4000000000u),
            FeedOptions::kMaxTimeout);
}

// The server resets the first connection mid-stream and serves the second; the client sends
// the same TAP_CONNECT both times.
TEST(ReconnectingFeed, ReconnectsAfterAResetWithTheSameTapConnect) {
  protocol::Bytes connects[2];
  SessionServer server(2, [&](tcp::socket& s, int n) {
    connects[n - 1] = read_frame(s);
    if (n == 1) {
      write_hex(s, golden::kMutation);
      read_bounded(s, 24);  // its ACK: the client has taken it
      const auto deletion = protocol::parse_hex(golden::kDeletion).value();
      tapharness::testing::write_bytes(s, protocol::ByteView(deletion).first(10));
      reset(s);
    } else {
      write_hex(s, golden::kDeletion);
    }
  });
  asio::io_context io;
  Recorded r;
  auto feed = ReconnectingFeed::start(io.get_executor(), "127.0.0.1", server.port(), reconnecting(2), record(r));
  run_until_done(io, r);
  server.join();
  EXPECT_EQ(r.log, (Lines{"connection 1", "mutation mykey", "end io_error", "connection 2", "deletion mykey",
                          "end eof last"}));
  ASSERT_EQ(r.ends.size(), 2u);
  EXPECT_EQ(r.ends[0].io_error, asio::error::connection_reset) << r.ends[0].message();
  EXPECT_EQ(feed->connections(), 2u);
  EXPECT_FALSE(connects[0].empty());
  EXPECT_EQ(protocol::to_hex(connects[0]), protocol::to_hex(connects[1]));
  EXPECT_EQ(protocol::as_chars(protocol::ByteView(connects[0]).subspan(28, 7)), "replica");
}

// After an end it must not reconnect from, the server would take a second connection for
// longer than the backoff: none comes.
void expect_no_reconnect(const std::function<void(tcp::socket&)>& first, EndReason expected,
                         FeedOptions options = reconnecting(3)) {
  SessionServer server(2, [&](tcp::socket& s, int n) {
    if (n == 1) first(s);
  }, Millis(300));
  asio::io_context io;
  Recorded r;
  auto feed = ReconnectingFeed::start(io.get_executor(), "127.0.0.1", server.port(), options, record(r));
  run_until_done(io, r);
  io.run_for(Millis(100));  // ten backoffs' time for a wrong reconnect to begin
  server.join();            // its accept waits 300 ms for a second connection
  ASSERT_EQ(r.ends.size(), 1u);
  EXPECT_EQ(r.ends[0].reason, expected) << r.ends[0].message();
  EXPECT_EQ(r.log.back(), fmt::format("end {} last", expected));
  EXPECT_EQ(feed->connections(), 1u);
  EXPECT_EQ(server.accepted(), 1);
}

TEST(ReconnectingFeed, NoReconnectAfterEof) {
  expect_no_reconnect([](tcp::socket& s) {
    read_frame(s);
    write_hex(s, golden::kDeletion);
  }, EndReason::eof);
}

TEST(ReconnectingFeed, NoReconnectAfterEndStream) {
  expect_no_reconnect([](tcp::socket& s) {
    read_frame(s);
    write_hex(s, golden::kOpaqueCloseTapStream);
    read_bounded(s, 1);
  }, EndReason::end_stream);
}

TEST(ReconnectingFeed, NoReconnectAfterARefusedConnect) {
  expect_no_reconnect([](tcp::socket& s) {
    read_frame(s);
    write_hex(s, golden::kConnectRejected);
    read_bounded(s, 1);
  }, EndReason::connect_rejected);
}

TEST(ReconnectingFeed, NoReconnectAfterARefusedAuth) {
  FeedOptions options = reconnecting(3);
  options.auth = Credentials{"u", "wrong"};
  expect_no_reconnect([](tcp::socket& s) {
    read_frame(s);  // SASL_LIST_MECHS
    write_hex(s, "81 20 0000 00 00 0000 00000005 00000000 0000000000000000 504c41494e");
    read_frame(s);  // SASL_AUTH
    write_hex(s, "81 21 0000 00 00 0020 00000000 00000000 0000000000000000");
    read_bounded(s, 1);
  }, EndReason::auth_failed, options);
}

TEST(ReconnectingFeed, NoReconnectAfterClose) {
  SessionServer server(2, [&](tcp::socket& s, int n) {
    if (n > 1) return;
    read_frame(s);
    write_hex(s, golden::kMutation);
    read_bounded(s, 24 + 1);  // until the client goes away
  }, Millis(300));
  asio::io_context io;
  Recorded r;
  std::shared_ptr<ReconnectingFeed> feed;
  ReconnectHandlers handlers = record(r);
  handlers.on_event = [&, inner = handlers.on_event](const protocol::TapEventView& e) {
    feed->close();  // from inside the handler
    return inner(e);
  };
  feed = ReconnectingFeed::start(io.get_executor(), "127.0.0.1", server.port(), reconnecting(3), handlers);
  run_until_done(io, r);
  io.run_for(Millis(100));
  server.join();
  EXPECT_EQ(r.log, (Lines{"connection 1", "mutation mykey", "end closed last"}));
  EXPECT_EQ(server.accepted(), 1);
}

TEST(ReconnectingFeed, AttemptsRunOutAgainstAClosedPort) {
  asio::io_context io;
  Recorded r;
  auto feed = ReconnectingFeed::start(io.get_executor(), "127.0.0.1", closed_port(), reconnecting(3, Millis(1)),
                                      record(r));
  run_until_done(io, r);
  EXPECT_EQ(r.log, (Lines{"connection 1", "end io_error", "connection 2", "end io_error", "connection 3",
                          "end io_error", "connection 4", "end io_error last"}))
      << "the first connection and three attempts, each failed connect reported as its end";
  for (const auto& end : r.ends) EXPECT_EQ(end.io_error, asio::error::connection_refused) << end.message();
  EXPECT_EQ(feed->connections(), 4u);
}

TEST(ReconnectingFeed, WaitsTheBackoffDoublingUpToTheCap) {
  asio::io_context io;
  Recorded r;
  const auto begun = Clock::now();
  auto feed = ReconnectingFeed::start(io.get_executor(), "127.0.0.1", closed_port(),
                                      reconnecting(3, Millis(40), Millis(60)), record(r));
  run_until_done(io, r);
  ASSERT_EQ(r.end_times.size(), 4u);
  // Waits of 40, 60 (80 capped) and 60 ms: at least that long between the ends. (A lower
  // bound only: a loaded machine may take longer.)
  const auto gap = [&](int i) { return std::chrono::duration_cast<Millis>(r.end_times[i + 1] - r.end_times[i]); };
  EXPECT_GE(gap(0), Millis(40));
  EXPECT_GE(gap(1), Millis(60));
  EXPECT_GE(gap(2), Millis(60));
  EXPECT_LT(Clock::now() - begun, kLimit);
}

TEST(ReconnectingFeed, CloseDuringTheBackoffEndsPromptly) {
  asio::io_context io;
  Recorded r;
  auto feed = ReconnectingFeed::start(io.get_executor(), "127.0.0.1", closed_port(),
                                      reconnecting(3, Millis(10000)), record(r));
  const auto deadline = Clock::now() + kLimit;
  while (r.ends.empty() && Clock::now() < deadline) io.run_one_for(Millis(20));
  ASSERT_EQ(r.log, (Lines{"connection 1", "end io_error"})) << "now waiting 10 s";
  const auto closing = Clock::now();
  std::thread other([&] { feed->close(); });  // any thread
  other.join();
  run_until_done(io, r);
  EXPECT_LT(Clock::now() - closing, Millis(2000)) << "the 10 s backoff was not waited out";
  EXPECT_EQ(r.log, (Lines{"connection 1", "end io_error", "end closed last"}))
      << "the end, with no connection before it";
  EXPECT_EQ(feed->connections(), 1u);
}

// A connection that delivered an event resets the count: with one attempt allowed, it
// follows the server through two productive connections, then gives up after an empty one.
TEST(ReconnectingFeed, AConnectionWithEventsResetsTheAttempts) {
  SessionServer server(4, [&](tcp::socket& s, int n) {
    read_frame(s);
    if (n <= 2) {
      write_hex(s, golden::kMutation);
      read_bounded(s, 24);
    }
    reset(s);
  }, Millis(300));
  asio::io_context io;
  Recorded r;
  auto feed = ReconnectingFeed::start(io.get_executor(), "127.0.0.1", server.port(), reconnecting(1), record(r));
  run_until_done(io, r);
  io.run_for(Millis(100));
  server.join();
  EXPECT_EQ(r.log, (Lines{"connection 1", "mutation mykey", "end io_error", "connection 2", "mutation mykey",
                          "end io_error", "connection 3", "end io_error last"}));
  EXPECT_EQ(server.accepted(), 3);
}

// The NACK rule's state carries over: "mykey" is NACKed twice, once on each connection, and
// its third delivery is acknowledged.
TEST(ReconnectingFeed, ANackRuleCountsAcrossConnections) {
  std::vector<std::uint16_t> statuses;
  SessionServer server(2, [&](tcp::socket& s, int n) {
    read_frame(s);
    for (int i = 0; i < n; ++i) {
      write_hex(s, golden::kMutation);
      const auto ack = read_bounded(s, 24);
      if (ack.size() == 24) statuses.push_back(protocol::read_header(ack.data()).vbucket_or_status);
    }
    if (n == 1) reset(s);
  });
  FeedOptions options = reconnecting(2);
  options.ack_status = make_ack_status(NackRule{{{"mykey", 2}}, protocol::Status::etmpfail});
  asio::io_context io;
  Recorded r;
  auto feed = ReconnectingFeed::start(io.get_executor(), "127.0.0.1", server.port(), options, record(r));
  run_until_done(io, r);
  server.join();
  EXPECT_EQ(statuses, (std::vector<std::uint16_t>{0x86, 0x86, 0x0000}));
  EXPECT_EQ(r.log.back(), "end eof last");
}

TEST(ReconnectingFeed, WithoutAttemptsItIsOneConnection) {
  asio::io_context io;
  Recorded r;
  auto feed = ReconnectingFeed::start(io.get_executor(), "127.0.0.1", closed_port(), reconnecting(0), record(r));
  run_until_done(io, r);
  EXPECT_EQ(r.log, (Lines{"connection 1", "end io_error last"}));
}

TEST(ReconnectingFeed, DestroyingItClosesTheConnection) {
  std::atomic<Clock::rep> gone{0};
  SessionServer server(1, [&](tcp::socket& s, int) {
    read_frame(s);
    read_bounded(s, 1);  // returns once the client has gone (EOF), or after 10 s
    gone = Clock::now().time_since_epoch().count();
  });
  asio::io_context io;
  Recorded r;
  auto feed = ReconnectingFeed::start(io.get_executor(), "127.0.0.1", server.port(), reconnecting(3), record(r));
  const auto deadline = Clock::now() + kLimit;
  while (feed->connections() == 0 && Clock::now() < deadline) io.run_one_for(Millis(20));
  io.run_for(Millis(50));
  const auto destroyed = Clock::now();
  feed.reset();
  io.run_for(Millis(100));
  server.join();
  EXPECT_LT(Clock::time_point(Clock::duration(gone.load())) - destroyed, Millis(2000))
      << "the server saw the connection close at once, not its read time out";
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_FALSE(r.done) << "no handler after destruction";
}

}  // namespace
}  // namespace tapharness::client
