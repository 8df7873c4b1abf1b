// The defective client over real sockets on 127.0.0.1 with the session options: it
// reconnects and marks connections as the correct client does (unless no_reconnect), it
// authenticates through its proxy, it NACKs by ack_status and, with ignore_retransmit, drops
// the ACK of a NACKed key's retransmit (on one connection and across two). Every wait is
// bounded: the server's (session_server.hpp) and the client's run (kLimit).
#include "client/defects/defective_client.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "client/nack_rule.hpp"
#include "protocol/tap_message.hpp"
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
using tapharness::testing::write_bytes;
using tapharness::testing::write_hex;
namespace golden = tapharness::golden;
using Clock = std::chrono::steady_clock;
using Lines = std::vector<std::string>;

constexpr Millis kLimit(10000);

DefectSet with(Defect d) {
  DefectSet set;
  set.add(d);
  return set;
}

// What the client reported, one line per item: the JSON lines tap_tail would print.
struct Reported {
  Lines lines;
  bool done = false;
  std::optional<std::string> crash;
  std::weak_ptr<DefectiveClient> client;
};

Reported run_client(const std::string& port, FeedOptions options, DefectSet defects,
               const std::function<void(DefectiveClient&, Reported&)>& after_first_end = {}) {
  asio::io_context io;
  Reported run;
  bool first_end_seen = false;
  auto client = DefectiveClient::start(
      io.get_executor(), "127.0.0.1", port, std::move(options), defects,
      {.item =
           [&](ReportedItem item) {
             std::visit(
                 [&](const auto& v) {
                   using T = std::decay_t<decltype(v)>;
                   if constexpr (std::is_same_v<T, protocol::TapEvent>) {
                     run.lines.push_back(event_json(v));
                   } else if constexpr (std::is_same_v<T, ReportedEnd>) {
                     run.lines.push_back(end_json(v));
                   } else {
                     run.lines.push_back(connection_json(v));
                   }
                 },
                 item);
           },
       .crash = [&](const std::string& why) { run.crash = why; },
       .done = [&] { run.done = true; }});
  run.client = client;
  const auto deadline = Clock::now() + kLimit;
  while (!run.done && Clock::now() < deadline) {
    io.run_one_for(Millis(20));
    const bool ended = std::any_of(run.lines.begin(), run.lines.end(),
                                   [](const std::string& l) { return l.starts_with("{\"end\""); });
    if (ended && !first_end_seen) {
      first_end_seen = true;
      if (after_first_end) after_first_end(*client, run);
    }
  }
  EXPECT_TRUE(run.done) << defects.describe() << ": the client did not finish within the limit; it reported: " << fmt::format("{}", fmt::join(run.lines, " | "));
  client.reset();
  io.run_for(Millis(50));
  return run;
}

FeedOptions reconnecting(std::uint32_t attempts) {
  FeedOptions options;
  options.reconnect = {.attempts = attempts, .backoff = Millis(10)};
  options.connect_timeout = Millis(2000);
  return options;
}

const std::string kMutationLine = event_json(
    protocol::TapEvent{.kind = protocol::TapEventKind::mutation, .vbucket = 3, .key = "mykey", .value = "value",
                       .flags = 0x12, .expiry = 300, .cas = 0x1122});
const std::string kResetLine =
    R"j({"end":"error","error":"io_error: read: Connection reset by peer (at offset 59)"})j";

// The first connection: a mutation, its ACK read, then a reset; the second (if any) a clean close.
void reset_then_close(tcp::socket& s, int n) {
  read_frame(s);
  if (n == 1) {
    write_hex(s, golden::kMutation);
    read_bounded(s, 24);
    reset(s);
  }
}

TEST(DefectiveClient, ReconnectsAndMarksConnectionsAsTheCorrectClientDoes) {
  SessionServer server(2, reset_then_close);
  const Reported run = run_client(server.port(), reconnecting(2), with(Defect::drop_flush));
  server.join();
  EXPECT_EQ(run.lines, (Lines{R"({"connection":1})", kMutationLine, kResetLine, R"({"connection":2})",
                              R"({"end":"eof"})"}));
  EXPECT_EQ(server.accepted(), 2);
}

TEST(DefectiveClient, NoReconnectNeverComesBack) {
  SessionServer server(2, reset_then_close, Millis(300));
  const Reported run = run_client(server.port(), reconnecting(2), with(Defect::no_reconnect));
  server.join();
  EXPECT_EQ(run.lines, (Lines{R"({"connection":1})", kMutationLine, kResetLine}))
      << "the marker as asked, then no second connection";
  EXPECT_EQ(server.accepted(), 1);
}

TEST(DefectiveClient, WithoutReconnectThereAreNoMarkers) {
  SessionServer server(1, reset_then_close);
  const Reported run = run_client(server.port(), FeedOptions{}, with(Defect::drop_flush));
  server.join();
  EXPECT_EQ(run.lines, (Lines{kMutationLine, kResetLine}));
}

TEST(DefectiveClient, AuthenticatesThroughItsProxy) {
  protocol::Bytes auth;
  SessionServer server(1, [&](tcp::socket& s, int) {
    read_frame(s);
    write_hex(s, "81 20 0000 00 00 0000 00000005 00000000 0000000000000000 504c41494e");
    auth = read_frame(s);
    write_hex(s, "81 21 0000 00 00 0000 00000000 00000000 0000000000000000");
    read_frame(s);
    write_hex(s, golden::kMutation);
    read_bounded(s, 24);
  });
  FeedOptions options;
  options.auth = Credentials{"u", "pw"};
  const Reported run = run_client(server.port(), options, with(Defect::drop_flush));
  server.join();
  EXPECT_EQ(protocol::to_hex(auth), "80210005000000000000000a000000000000000000000000504c41494e0075007077");
  EXPECT_EQ(run.lines, (Lines{kMutationLine, R"({"end":"eof"})"}));
}

// A mutation of `key` with `opaque` that asks for an ACK.
protocol::Bytes mutation(std::string_view key, std::uint32_t opaque) {
  return protocol::ep_engine::mutation(
      {.key = key, .value = "v", .opaque = opaque, .tap_flags = static_cast<std::uint16_t>(protocol::TapFlag::ack)});
}

struct Ack {
  std::uint32_t opaque = 0;
  std::uint16_t status = 0;
  friend bool operator==(const Ack&, const Ack&) = default;
};
Ack read_ack(tcp::socket& s, Millis wait = testing::kReadWait) {
  const auto bytes = read_bounded(s, 24, wait);
  if (bytes.size() < 24) return {};
  const auto h = protocol::read_header(bytes.data());
  return {h.opaque, h.vbucket_or_status};
}

// k is NACKed (opaque 1), sent again (opaque 2), then another key follows (opaque 3): the
// ACKs the server reads after the NACK.
std::vector<Ack> retransmit_acks(DefectSet defects) {
  std::vector<Ack> acks;
  SessionServer server(1, [&](tcp::socket& s, int) {
    read_frame(s);
    write_bytes(s, mutation("k", 1));
    acks.push_back(read_ack(s));
    write_bytes(s, mutation("k", 2));  // the retransmit
    write_bytes(s, mutation("other", 3));
    acks.push_back(read_ack(s));
    acks.push_back(read_ack(s, Millis(500)));  // a dropped ACK: nothing within 0.5 s
  });
  FeedOptions options;
  options.ack_status = make_ack_status(NackRule{{{"k", 1}}});
  run_client(server.port(), options, defects);
  server.join();
  return acks;
}

TEST(DefectiveClient, IgnoreRetransmitDropsTheAckOfTheNackedKeysRetransmit) {
  EXPECT_EQ(retransmit_acks(with(Defect::drop_flush)), (std::vector<Ack>{{1, 0x86}, {2, 0}, {3, 0}}))
      << "the correct client NACKs once, then takes the retransmit";
  EXPECT_EQ(retransmit_acks(with(Defect::ignore_retransmit)), (std::vector<Ack>{{1, 0x86}, {3, 0}, {0, 0}}))
      << "the retransmit's ACK never comes";
}

TEST(DefectiveClient, IgnoreRetransmitRemembersAcrossConnections) {
  std::vector<Ack> acks;
  SessionServer server(2, [&](tcp::socket& s, int n) {
    read_frame(s);
    if (n == 1) {
      write_bytes(s, mutation("k", 1));
      acks.push_back(read_ack(s));
      reset(s);
      return;
    }
    write_bytes(s, mutation("k", 2));  // rolled back and sent again on the new connection
    write_bytes(s, mutation("other", 3));
    acks.push_back(read_ack(s));
  });
  FeedOptions options = reconnecting(1);
  options.ack_status = make_ack_status(NackRule{{{"k", 1}}});
  const Reported run = run_client(server.port(), options, with(Defect::ignore_retransmit));
  server.join();
  EXPECT_EQ(acks, (std::vector<Ack>{{1, 0x86}, {3, 0}}));
  EXPECT_EQ(run.lines.front(), R"({"connection":1})");
}

TEST(DefectiveClient, CloseDuringTheBackoffEndsClosedAndIsDone) {
  std::string port;
  {
    asio::io_context io;
    tcp::acceptor closed(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = std::to_string(closed.local_endpoint().port());
  }
  FeedOptions options = reconnecting(3);
  options.reconnect.backoff = Millis(10000);
  const auto begun = Clock::now();
  const Reported run = run_client(port, options, with(Defect::drop_flush), [](DefectiveClient& c, Reported&) { c.close(); });
  EXPECT_LT(Clock::now() - begun, Millis(3000)) << "the 10 s backoff was not waited out";
  ASSERT_EQ(run.lines.size(), 3u);
  EXPECT_EQ(run.lines[0], R"({"connection":1})");
  EXPECT_NE(run.lines[1].find("Connection refused"), std::string::npos) << run.lines[1];
  EXPECT_EQ(run.lines[2], R"({"end":"closed"})");
}

TEST(DefectiveClient, NothingKeepsItAliveOnceDone) {
  SessionServer server(2, reset_then_close);
  const Reported run = run_client(server.port(), reconnecting(2), with(Defect::ignore_retransmit));
  server.join();
  EXPECT_TRUE(run.done);
  EXPECT_TRUE(run.client.expired()) << "its proxies, feeds and timer hold it weakly";
}

}  // namespace
}  // namespace tapharness::client
