// The feed's replication-session pieces over an in-memory stream: SASL PLAIN before
// TAP_CONNECT (every way it ends, a failure at every I/O step), and the status of each ACK
// (FeedOptions::ack_status, a push consumer's returned status) in every way of consuming.
#include <gtest/gtest.h>

#include "client/feed_error.hpp"
#include "client/tap_feed.hpp"
#include "tests/client/feed_test_support.hpp"
#include "tests/protocol/golden_frames.hpp"

namespace tapharness::client {
namespace {

using protocol::Status;
using protocol::TapEvent;
using protocol::TapEventKind;
using testing::hex;
using testing::MemoryFeed;
namespace golden = tapharness::golden;

// The client's SASL requests, by hand from protocol.md sections 1 and 2 and RFC 4616.
constexpr std::string_view kListMechs = "80 20 0000 00 00 0000 00000000 00000000 0000000000000000";
// SASL_AUTH, key "PLAIN", value 00 "replica" 00 "secret": bodylen 5 + 15 = 20.
constexpr std::string_view kAuthReplica =
    "80 21 0005 00 00 0000 00000014 00000000 0000000000000000 504c41494e 00 7265706c696361 00 736563726574";
// The seed's default TAP_CONNECT (tap_feed_test's first vector).
const std::string kDefaultConnect =
    "80400000040000000000000c00000000000000000000000000000001ffffffffffffffff";

// A server's reply: response magic, `opcode`, `status`, `text` as the value.
std::string reply(std::uint8_t opcode, std::uint16_t status, std::string_view text) {
  std::string value;
  for (unsigned char c : text) value += fmt::format("{:02x}", c);
  return fmt::format("81 {:02x} 0000 00 00 {:04x} {:08x} 00000000 0000000000000000 {}", opcode, status,
                     text.size(), value);
}
const std::string kMechsPlain = reply(0x20, 0x0000, "CRAM-MD5 PLAIN");
const std::string kAuthOk = reply(0x21, 0x0000, "Authenticated");

std::string ack_hex(std::string_view opcode_hex, std::string_view opaque_hex, Status status = Status::success) {
  return fmt::format("81{}00000000{:04x}00000000{}0000000000000000", opcode_hex, static_cast<std::uint16_t>(status),
                     opaque_hex);
}

std::string sent_hex(MemoryFeed& f, std::size_t from = 0) {
  // After the feed has ended nothing else keeps the context busy: without the guard, its
  // first poll would stop it and the reads of what the client sent would never complete.
  auto busy = asio::make_work_guard(f.io());
  f.io().restart();
  return protocol::to_hex(protocol::ByteView(f.received()).subspan(from));
}

std::string h(std::string_view text) { return protocol::to_hex(hex(text)); }

FeedOptions with_auth() {
  FeedOptions options;
  options.auth = Credentials{"replica", "secret"};
  return options;
}

TEST(FeedAuth, ListsMechanismsThenAuthenticatesThenConnects) {
  MemoryFeed f(with_auth());
  f.start();
  EXPECT_EQ(sent_hex(f), h(kListMechs)) << "nothing of TAP before the SASL exchange";
  f.send_hex(kMechsPlain);
  EXPECT_EQ(sent_hex(f), h(kListMechs) + h(kAuthReplica));
  f.send_hex(kAuthOk);
  EXPECT_EQ(sent_hex(f), h(kListMechs) + h(kAuthReplica) + kDefaultConnect);

  const std::size_t before_acks = f.received().size();
  f.send_hex(golden::kMutation);
  auto item = f.next();
  ASSERT_TRUE(std::holds_alternative<TapEvent>(item)) << fmt::format("{}", item);
  EXPECT_EQ(std::get<TapEvent>(item).key, "mykey");
  EXPECT_EQ(sent_hex(f, before_acks), ack_hex("41", "00000010"));
  f.server().close();
  FeedEnd end;
  f.drain(&end);
  EXPECT_EQ(end.reason, EndReason::eof);
  // Offsets count every byte of the connection, the SASL replies' too.
  EXPECT_EQ(end.offset, hex(kMechsPlain).size() + hex(kAuthOk).size() + hex(golden::kMutation).size());
}

TEST(FeedAuth, ARefusedConnectAfterSaslIsStillARefusal) {
  MemoryFeed f(with_auth());
  f.start();
  f.send_hex(kMechsPlain);
  f.send_hex(kAuthOk);
  f.send_hex(golden::kConnectRejected);  // the stream's first frame, though not at offset 0
  FeedEnd end;
  f.drain(&end);
  EXPECT_EQ(end.reason, EndReason::connect_rejected) << end.message();
}

TEST(FeedAuth, NoPlainAmongTheMechanismsIsAuthFailed) {
  MemoryFeed f(with_auth());
  f.start();
  f.send_hex(reply(0x20, 0, "CRAM-MD5 PLAINTEXT"));
  FeedEnd end;
  f.drain(&end);
  EXPECT_EQ(end.reason, EndReason::auth_failed);
  EXPECT_EQ(end.message(), "auth_failed: the server lists no PLAIN among its SASL mechanisms: CRAM-MD5 PLAINTEXT");
  EXPECT_EQ(sent_hex(f), h(kListMechs)) << "neither AUTH nor TAP_CONNECT";
}

TEST(FeedAuth, ARefusedListIsAuthFailedWithTheStatusAndText) {
  MemoryFeed f(with_auth());
  f.start();
  f.send_hex(reply(0x20, 0x81, "Unknown command"));
  FeedEnd end;
  f.drain(&end);
  EXPECT_EQ(end.reason, EndReason::auth_failed);
  EXPECT_EQ(end.status, Status::unknown_command);
  EXPECT_EQ(end.message(),
            "auth_failed: the server answered SASL_LIST_MECHS with status UNKNOWN_COMMAND: Unknown command");
}

TEST(FeedAuth, ARefusedAuthIsAuthFailedAndNoTapConnectIsSent) {
  MemoryFeed f(with_auth());
  f.start();
  f.send_hex(kMechsPlain);
  f.send_hex(reply(0x21, 0x20, "Auth failure"));
  FeedEnd end;
  f.drain(&end);
  EXPECT_EQ(end.reason, EndReason::auth_failed);
  EXPECT_EQ(end.status, Status::auth_error);
  EXPECT_EQ(end.body, "Auth failure");
  EXPECT_EQ(end.message(), "auth_failed: the server refused SASL_AUTH PLAIN with status AUTH_ERROR: Auth failure");
  EXPECT_EQ(end.error(), EndReason::auth_failed);
  EXPECT_EQ(end.error().message(), "auth_failed");
  EXPECT_EQ(sent_hex(f), h(kListMechs) + h(kAuthReplica));
  // Without a text, the status alone.
  FeedEnd bare{.reason = EndReason::auth_failed, .context = "SASL_AUTH", .status = Status::auth_error};
  EXPECT_EQ(bare.message(), "auth_failed: the server refused SASL_AUTH PLAIN with status AUTH_ERROR");
}

TEST(FeedAuth, AFrameThatIsNotTheReplyIsAProtocolError) {
  MemoryFeed f(with_auth());
  f.start();
  f.send_hex(golden::kMutation);  // a TAP message before TAP_CONNECT was even sent
  FeedEnd end;
  EXPECT_TRUE(f.drain(&end).empty());
  ASSERT_EQ(end.reason, EndReason::protocol_error);
  ASSERT_TRUE(end.decode_error);
  EXPECT_EQ(end.decode_error->code, protocol::DecodeErrorCode::unexpected_sasl_reply);
  EXPECT_EQ(end.decode_error->field, "magic");
  // The reply to the other request is not this one's.
  MemoryFeed g(with_auth());
  g.start();
  g.send_hex(kAuthOk);
  g.drain(&end);
  ASSERT_TRUE(end.decode_error);
  EXPECT_EQ(end.message(),
            "protocol_error: unexpected_sasl_reply at stream offset 1, field opcode = 33: the client waits for the "
            "response (magic 0x81) to its SASL_LIST_MECHS");
}

TEST(FeedAuth, AReplyIsBoundedByTheFrameLimits) {
  FeedOptions options = with_auth();
  options.limits.max_value = 64;
  MemoryFeed f(options);
  f.start();
  // A reply claiming a 4 GiB value: refused from the header, nothing buffered for it.
  f.send_hex("81 20 0000 00 00 0000 ffffffff 00000000 0000000000000000");
  FeedEnd end;
  f.drain(&end);
  ASSERT_EQ(end.reason, EndReason::protocol_error);
  EXPECT_EQ(end.decode_error->code, protocol::DecodeErrorCode::value_too_long);
}

TEST(FeedAuth, AServerThatClosesBeforeReplyingIsNoCleanEnd) {
  MemoryFeed f(with_auth());
  f.start();
  f.server().close();
  FeedEnd end;
  f.drain(&end);
  EXPECT_EQ(end.reason, EndReason::io_error);
  EXPECT_EQ(end.message(), "io_error: read the SASL_LIST_MECHS reply: End of file");

  MemoryFeed g(with_auth());
  g.start();
  g.send_hex(kMechsPlain);
  const auto half = hex(kAuthOk);
  g.send(protocol::Bytes(half.begin(), half.begin() + 30));
  g.server().close();
  g.drain(&end);
  EXPECT_EQ(end.reason, EndReason::truncated);
  EXPECT_EQ(end.partial_bytes, 30u);
}

TEST(FeedAuth, SilenceIsAConnectTimeoutNamingTheStep) {
  FeedOptions options = with_auth();
  options.connect_timeout = std::chrono::milliseconds(30);
  options.idle_timeout = std::chrono::milliseconds(5000);  // not the one that applies
  MemoryFeed f(options);
  f.start();
  f.send_hex(kMechsPlain);
  FeedEnd end;
  f.drain(&end);
  EXPECT_EQ(end.reason, EndReason::connect_timeout);
  EXPECT_EQ(end.message(), "connect_timeout: no reply to SASL_AUTH within 30ms");
}

TEST(FeedAuth, CloseDuringTheExchangeEndsItAndWritesNothingMore) {
  MemoryFeed f(with_auth());
  f.start();
  f.feed().close();
  f.send_hex(kMechsPlain);
  FeedEnd end;
  f.drain(&end);
  EXPECT_EQ(end.reason, EndReason::closed);
  EXPECT_EQ(sent_hex(f), h(kListMechs));
}

TEST(FeedAuth, RepliesInSingleBytesGiveTheSameSession) {
  MemoryFeed f(with_auth(), [](auto& client) { client.set_max_read(1); });
  f.start();
  f.send_hex(kMechsPlain);
  f.send_hex(kAuthOk);
  f.send_hex(golden::kDeletion);
  f.server().shutdown_send();  // EOF for the client; this end still reads what it sent
  FeedEnd end;
  const auto events = f.drain(&end);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, TapEventKind::deletion);
  EXPECT_EQ(end.reason, EndReason::eof);
  EXPECT_EQ(sent_hex(f), h(kListMechs) + h(kAuthReplica) + kDefaultConnect);
}

TEST(FeedAuth, FailureAtEveryIoStep) {
  protocol::Bytes stream = hex(kMechsPlain);
  protocol::append(stream, hex(kAuthOk));
  protocol::append(stream, hex(golden::kMutation));
  protocol::append(stream, hex(golden::kDeletion));
  bool reached_clean_run = false;
  for (std::size_t n = 0; n < 100 && !reached_clean_run; ++n) {
    SCOPED_TRACE(fmt::format("failing I/O operation {}", n));
    std::weak_ptr<const void> lifetime;
    {
      MemoryFeed f(with_auth(), [&](auto& client) {
        client.fail_operation(n, asio::error::connection_reset);
        client.set_max_read(29);
      });
      lifetime = f.client_lifetime();
      f.start();
      f.send(stream);
      f.server().close();
      FeedEnd end;
      const auto events = f.drain(&end);
      EXPECT_LE(events.size(), 2u);
      EXPECT_TRUE(std::holds_alternative<FeedEnd>(f.next())) << "the end again, nothing else";
      if (end.reason == EndReason::eof) {
        EXPECT_EQ(events.size(), 2u);
        reached_clean_run = true;
      } else {
        EXPECT_EQ(end.reason, EndReason::io_error) << end.message();
        EXPECT_EQ(end.io_error, asio::error::connection_reset);
      }
      f.destroy_feed();
      f.io().restart();
      f.io().run();
    }
    EXPECT_TRUE(lifetime.expired());
  }
  EXPECT_TRUE(reached_clean_run);
}

// ack_status: what it was asked, and what it answers (ETMPFAIL for "mykey").
struct Asked {
  std::vector<TapEventKind> kinds;
};

FeedOptions nacking_mykey(Asked& asked, Status status = Status::etmpfail) {
  FeedOptions options;
  options.ack_status = [&asked, status](const protocol::TapEventView& e) {
    asked.kinds.push_back(e.kind);
    return e.key == "mykey" ? status : Status::success;
  };
  return options;
}

protocol::Bytes concat(std::initializer_list<std::string_view> parts) {
  protocol::Bytes out;
  for (auto p : parts) protocol::append(out, hex(p));
  return out;
}

// A mutation of "mykey" (ACK 0x10), an ignored opaque (ACK 0x28), a vbucket_set (ACK 0x21), a
// deletion (no ACK).
protocol::Bytes acked_stream() {
  return concat({golden::kMutation, golden::kOpaqueUnknown, golden::kVBucketSetPending, golden::kDeletion});
}
const std::string kAcks = ack_hex("41", "00000010", Status::etmpfail) + ack_hex("44", "00000028") +
                          ack_hex("45", "00000021");

TEST(FeedAckStatus, NextAcksWithTheStatusDecidedWhenDecoded) {
  Asked asked;
  MemoryFeed f(nacking_mykey(asked));
  f.start();
  const std::size_t from = f.received().size();
  f.send(acked_stream());
  f.io().poll();
  EXPECT_EQ(asked.kinds, (std::vector{TapEventKind::mutation, TapEventKind::vbucket_set}))
      << "asked as decoded, once per event that asks for an ACK, before anything is handed over";
  EXPECT_EQ(sent_hex(f, from), "") << "nothing acked before the consumer took it";
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(std::holds_alternative<TapEvent>(f.next()));
  EXPECT_EQ(sent_hex(f, from), kAcks);
  EXPECT_EQ(asked.kinds.size(), 2u) << "not asked again when handed over";
}

TEST(FeedAckStatus, BatchesAckWithTheDecidedStatus) {
  Asked asked;
  MemoryFeed f(nacking_mykey(asked, Status::ebusy));
  f.start();
  const std::size_t from = f.received().size();
  f.send(acked_stream());
  const auto items = f.next_batch(16);
  EXPECT_EQ(items.size(), 3u);
  EXPECT_EQ(sent_hex(f, from), ack_hex("41", "00000010", Status::ebusy) + ack_hex("44", "00000028") +
                                   ack_hex("45", "00000021"));
}

TEST(FeedAckStatus, PushWithAVoidHandlerAcksWithAckStatus) {
  Asked asked;
  MemoryFeed f(nacking_mykey(asked));
  int events = 0;
  f.feed().async_consume([&](const protocol::TapEventView&) { ++events; }, [](const FeedEnd&) {});
  f.start();
  const std::size_t from = f.received().size();
  f.send(acked_stream());
  EXPECT_EQ(events, 3);
  EXPECT_EQ(sent_hex(f, from), kAcks);
}

TEST(FeedAckStatus, PushHandlerReturningAStatusGivesTheAcksStatus) {
  MemoryFeed f;  // no ack_status
  f.feed().async_consume(
      [](const protocol::TapEventView& e) { return e.kind == TapEventKind::vbucket_set ? Status::ebusy : Status::success; },
      [](const FeedEnd&) {});
  f.start();
  const std::size_t from = f.received().size();
  f.send(acked_stream());
  EXPECT_EQ(sent_hex(f, from), ack_hex("41", "00000010") + ack_hex("44", "00000028") +
                                   ack_hex("45", "00000021", Status::ebusy));
}

TEST(FeedAckStatus, AckStatusRefusingStandsOverTheHandlersStatus) {
  Asked asked;
  MemoryFeed f(nacking_mykey(asked));  // ETMPFAIL for the mutation, SUCCESS for the rest
  f.feed().async_consume([](const protocol::TapEventView&) { return Status::ebusy; }, [](const FeedEnd&) {});
  f.start();
  const std::size_t from = f.received().size();
  f.send(acked_stream());
  EXPECT_EQ(sent_hex(f, from), ack_hex("41", "00000010", Status::etmpfail) + ack_hex("44", "00000028") +
                                   ack_hex("45", "00000021", Status::ebusy))
      << "ack_status's ETMPFAIL stands; where it said SUCCESS, the handler's EBUSY; an ignored frame: SUCCESS";
}

TEST(FeedAckStatus, EventsQueuedBeforeThePushConsumerKeepTheirStatus) {
  Asked asked;
  MemoryFeed f(nacking_mykey(asked));
  f.start();
  const std::size_t from = f.received().size();
  f.send(acked_stream());  // queued: nobody consumes yet
  EXPECT_EQ(asked.kinds.size(), 2u);
  f.feed().async_consume([](const protocol::TapEventView&) {}, [](const FeedEnd&) {});
  f.io().poll();
  EXPECT_EQ(sent_hex(f, from), kAcks);
}

}  // namespace
}  // namespace tapharness::client
