// The feed over an in-memory stream: what it sends, the events it delivers, when it ACKs,
// every way it ends, close(), bounded memory, and a failure at every I/O step.
#include "client/tap_feed.hpp"

#include <gtest/gtest.h>

#include "client/feed_error.hpp"
#include "tests/client/feed_test_support.hpp"
#include "tests/protocol/golden_frames.hpp"

namespace tapharness::client {
namespace {

using protocol::TapEvent;
using protocol::TapEventKind;
using testing::hex;
using testing::MemoryFeed;
namespace golden = tapharness::golden;

std::string ack_hex(std::string_view opcode_hex, std::string_view opaque_hex) {
  return fmt::format("81{}{}{}{}", opcode_hex, std::string(20, '0'), opaque_hex, std::string(16, '0'));
}

protocol::Bytes concat(std::initializer_list<std::string_view> parts) {
  protocol::Bytes out;
  for (auto p : parts) protocol::append(out, hex(p));
  return out;
}

// Events and ignored frames, with and without ACK requests, interleaved.
protocol::Bytes mixed_ack_stream() {
  return concat({golden::kOpaqueEnableAutoNack,  // ignored, ack 0x26
                 golden::kMutation,               // event, ack 0x10
                 golden::kOpaqueUnknown,          // ignored, ack 0x28
                 golden::kNoop,                   // ignored, never acked
                 golden::kDeletion,               // event, no ack
                 golden::kVBucketSetPending});    // event, ack 0x21
}

TEST(TapFeed, SendsTheSeedsTapConnectFirst) {
  FeedOptions options;  // the seed's DefaultTapArguments()
  MemoryFeed f(options);
  f.start();
  EXPECT_EQ(protocol::to_hex(f.received()),
            "80400000040000000000000c00000000000000000000000000000001ffffffffffffffff");
}

TEST(TapFeed, SendsEveryArgumentAsTheSeedEncodesIt) {
  FeedOptions options;
  options.args = {.backfill = 1, .dump = true, .vbuckets = {1, 2}, .takeover = true,
                  .support_ack = true, .keys_only = true, .checkpoint = true,
                  .client_name = "all", .registered_client = true};
  MemoryFeed f(options);
  f.start();
  // shared/seed-connect-vectors.txt, the "all options" case.
  EXPECT_EQ(protocol::to_hex(f.received()),
            "804000030400000000000015000000000000000000000000000000ff616c6c00000000000000010002"
            "00010002");
}

TEST(TapFeed, DeliversEventsInServerOrderThenEof) {
  MemoryFeed f;
  f.start();
  f.send(concat({golden::kOpaqueInitialVBucketStream, golden::kMutation, golden::kDeletion,
                 golden::kNoop, golden::kOpaqueCloseBackfill, golden::kCheckpointStart,
                 golden::kCheckpointEnd, golden::kVBucketSetPending, golden::kFlush}));
  f.server().close();
  FeedEnd end;
  auto events = f.drain(&end);
  std::vector<TapEventKind> kinds;
  for (const auto& e : events) kinds.push_back(e.kind);
  EXPECT_EQ(kinds, (std::vector<TapEventKind>{
                       TapEventKind::begin_backfill, TapEventKind::mutation, TapEventKind::deletion,
                       TapEventKind::end_backfill, TapEventKind::checkpoint_start,
                       TapEventKind::checkpoint_end, TapEventKind::vbucket_set, TapEventKind::flush}));
  ASSERT_EQ(events.size(), 8u);
  EXPECT_EQ(events[1].key, "mykey");
  EXPECT_EQ(events[1].value, "value");
  EXPECT_EQ(events[1].flags, 0x12u);
  EXPECT_EQ(events[1].expiry, 300u);
  EXPECT_EQ(events[1].cas, 0x1122u);
  EXPECT_EQ(events[1].vbucket, 3);
  EXPECT_EQ(events[2].flags, 0u) << "deletion flags must not come from engine-specific bytes";
  EXPECT_EQ(events[4].checkpoint_id, 42u);
  EXPECT_EQ(events[6].state, protocol::VBucketState::pending);
  EXPECT_EQ(end.reason, EndReason::eof) << end.message();
  EXPECT_TRUE(end.clean());
}

TEST(TapFeed, AcksOnlyOnceTheConsumerHasTakenTheEvent) {
  MemoryFeed f;
  f.start();
  const std::size_t connect_size = f.received().size();
  f.send_hex(golden::kMutation);  // ACK requested, opaque 0x10
  f.io().poll();
  EXPECT_EQ(f.received().size(), connect_size) << "acked an event nobody has seen";

  auto item = f.next();
  ASSERT_TRUE(std::holds_alternative<TapEvent>(item));
  const auto sent = f.received();
  EXPECT_EQ(protocol::to_hex(protocol::ByteView(sent).subspan(connect_size)),
            ack_hex("41", "00000010"));
}

TEST(TapFeed, AcksIgnoredMessagesInTurnAndNeverNoop) {
  MemoryFeed f;
  f.start();
  const std::size_t connect_size = f.received().size();
  f.send(mixed_ack_stream());
  f.io().poll();
  // The first message needs no consumer: nothing comes before it.
  EXPECT_EQ(protocol::to_hex(protocol::ByteView(f.received()).subspan(connect_size)),
            ack_hex("44", "00000026"));

  ASSERT_EQ(std::get<TapEvent>(f.next()).kind, TapEventKind::mutation);
  EXPECT_EQ(protocol::to_hex(protocol::ByteView(f.received()).subspan(connect_size)),
            ack_hex("44", "00000026") + ack_hex("41", "00000010") + ack_hex("44", "00000028"));

  ASSERT_EQ(std::get<TapEvent>(f.next()).kind, TapEventKind::deletion);
  ASSERT_EQ(std::get<TapEvent>(f.next()).kind, TapEventKind::vbucket_set);
  EXPECT_EQ(protocol::to_hex(protocol::ByteView(f.received()).subspan(connect_size)),
            ack_hex("44", "00000026") + ack_hex("41", "00000010") + ack_hex("44", "00000028") +
                ack_hex("45", "00000021"));
}

TEST(TapFeed, DeliversTheSameEventsWhateverTheReadSizes) {
  const auto stream = concat({golden::kOpaqueInitialVBucketStream, golden::kMutation,
                              golden::kDeletion, golden::kCheckpointStart});
  MemoryFeed whole;
  whole.start();
  whole.send(stream);
  whole.server().close();
  FeedEnd whole_end;
  const auto expected = whole.drain(&whole_end);

  for (std::size_t max_read : {1u, 2u, 7u, 23u, 24u, 25u}) {
    MemoryFeed f({}, [&](auto& client) { client.set_max_read(max_read); });
    f.start();
    f.send(stream);
    f.server().close();
    FeedEnd end;
    EXPECT_EQ(f.drain(&end), expected) << "max_read " << max_read;
    EXPECT_EQ(end.reason, EndReason::eof);
    EXPECT_EQ(end.offset, stream.size());
  }
}

TEST(TapFeed, EndStreamEndsCleanlyWithoutAckAfterEarlierEvents) {
  MemoryFeed f;
  f.start();
  const std::size_t connect_size = f.received().size();
  f.send(concat({golden::kDeletion, golden::kOpaqueCloseTapStream, golden::kMutation}));
  FeedEnd end;
  auto events = f.drain(&end);
  ASSERT_EQ(events.size(), 1u) << "nothing after CLOSE_TAP_STREAM is delivered";
  EXPECT_EQ(end.reason, EndReason::end_stream);
  EXPECT_TRUE(end.clean());
  EXPECT_EQ(f.received().size(), connect_size) << "CLOSE_TAP_STREAM is never acked";
}

TEST(TapFeed, ConnectRejectedCarriesStatusAndText) {
  MemoryFeed f;
  f.start();
  f.send_hex(golden::kConnectRejected);
  FeedEnd end;
  EXPECT_TRUE(f.drain(&end).empty());
  EXPECT_EQ(end.reason, EndReason::connect_rejected);
  EXPECT_EQ(end.status, protocol::Status::not_supported);
  EXPECT_EQ(end.body, "not supported");
  EXPECT_FALSE(end.clean());
  EXPECT_EQ(end.message(),
            "connect_rejected: the server refused TAP_CONNECT with status NOT_SUPPORTED: not "
            "supported");
}

TEST(TapFeed, EofInsideAHeaderOrBodyIsTruncation) {
  const auto mutation = hex(golden::kMutation);
  for (std::size_t cut : {std::size_t{1}, std::size_t{23}, std::size_t{24}, mutation.size() - 1}) {
    MemoryFeed f;
    f.start();
    f.send_hex(golden::kNoop);
    f.send(protocol::Bytes(mutation.begin(), mutation.begin() + static_cast<std::ptrdiff_t>(cut)));
    f.server().close();
    FeedEnd end;
    EXPECT_TRUE(f.drain(&end).empty());
    EXPECT_EQ(end.reason, EndReason::truncated) << cut;
    EXPECT_EQ(end.offset, 24u);
    EXPECT_EQ(end.partial_bytes, cut);
  }
}

TEST(TapFeed, ProtocolErrorCarriesTheCodecsTypedError) {
  MemoryFeed f;
  f.start();
  f.send(concat({golden::kMutation, "42 0a 0000 00 00 0000 00000000 00000000 0000000000000000"}));
  FeedEnd end;
  auto events = f.drain(&end);
  EXPECT_EQ(events.size(), 1u) << "the frame before the bad one is still delivered";
  ASSERT_EQ(end.reason, EndReason::protocol_error);
  ASSERT_TRUE(end.decode_error);
  EXPECT_EQ(end.decode_error->code, protocol::DecodeErrorCode::bad_magic);
  EXPECT_EQ(end.decode_error->offset, hex(golden::kMutation).size());
}

TEST(TapFeed, OversizedBodyClaimFailsWithoutWaitingForTheBody) {
  FeedOptions options;
  options.limits.max_value = 1024;
  MemoryFeed f(options);
  f.start();
  f.send_hex("80 41 0000 10 00 0000 ffffffff 00000000 0000000000000000");
  FeedEnd end;
  f.drain(&end);
  ASSERT_EQ(end.reason, EndReason::protocol_error);
  EXPECT_EQ(end.decode_error->code, protocol::DecodeErrorCode::value_too_long);
  EXPECT_EQ(end.decode_error->offset, 8u);
  EXPECT_EQ(end.decode_error->limit, 1024u) << "the option, not the default";
}

// Idle means no bytes: a frame that trickles in, a byte at a time, each well within the
// idle timeout, is delivered however long it takes in all.
TEST(TapFeed, AFrameThatTricklesInIsNotIdle) {
  FeedOptions options;
  options.idle_timeout = std::chrono::milliseconds(40);
  MemoryFeed f(options);
  f.start();
  const auto mutation = hex(golden::kMutation);
  for (std::uint8_t byte : mutation) {  // 59 bytes, 10 ms apart: 590 ms in all
    f.send(protocol::Bytes{byte});
    f.run_for(std::chrono::milliseconds(10));
  }
  f.server().close();
  FeedEnd end;
  auto events = f.drain(&end);
  EXPECT_EQ(events.size(), 1u);
  EXPECT_EQ(end.reason, EndReason::eof) << end.message();
}

TEST(TapFeed, SilenceAfterTapConnectSaysTheServerMayNotSpeakTap) {
  FeedOptions options;
  options.idle_timeout = std::chrono::milliseconds(20);
  MemoryFeed f(options);
  f.start();
  FeedEnd end;
  f.drain(&end);
  ASSERT_EQ(end.reason, EndReason::idle_timeout);
  EXPECT_EQ(end.message(),
            "idle_timeout: nothing arrived within 20ms of TAP_CONNECT: the server may not speak TAP (a memcached "
            "without TAP, such as Debian's memcached 1.6, answers nothing to it)");
}

TEST(TapFeed, AConnectFailureNamesNoOffset) {
  FeedEnd end{.reason = EndReason::io_error};
  end.io_error = asio::error::connection_refused;
  end.context = "connect to 127.0.0.1:1";
  EXPECT_EQ(end.message(), "io_error: connect to 127.0.0.1:1: Connection refused");
  end.context = "read";
  end.offset = 53;
  EXPECT_EQ(end.message(), "io_error: read: Connection refused (at offset 53)");
}

TEST(TapFeed, EndsAreErrorCodesInAsiosLanguage) {
  EXPECT_FALSE(FeedEnd{.reason = EndReason::eof}.error());
  EXPECT_FALSE(FeedEnd{.reason = EndReason::end_stream}.error());
  const boost::system::error_code idle = FeedEnd{.reason = EndReason::idle_timeout}.error();
  EXPECT_EQ(idle, EndReason::idle_timeout);
  EXPECT_EQ(idle.category().name(), std::string("tapharness.feed"));
  EXPECT_EQ(idle.message(), "idle_timeout");
  FeedEnd protocol_error{.reason = EndReason::protocol_error};
  protocol_error.decode_error = protocol::DecodeError{protocol::DecodeErrorCode::bad_magic, 0, "magic", 0x42, 0};
  EXPECT_EQ(protocol_error.error().category(), decode_category());
  EXPECT_EQ(protocol_error.error().message(), "bad_magic");
  EXPECT_EQ(std::error_code(protocol::DecodeErrorCode::bad_magic).message(), "bad_magic");
  FeedEnd io{.reason = EndReason::io_error};
  io.io_error = asio::error::connection_reset;
  EXPECT_EQ(io.error(), asio::error::connection_reset);
}

TEST(TapFeed, ResetIsAnIoError) {
  MemoryFeed f;
  f.start();
  f.send_hex(golden::kDeletion);
  f.server().reset();
  FeedEnd end;
  auto events = f.drain(&end);
  EXPECT_EQ(end.reason, EndReason::io_error);
  EXPECT_EQ(end.io_error, asio::error::connection_reset);
  EXPECT_EQ(end.context, "read");
}

TEST(TapFeed, IdleTimeoutWhenNoFrameArrives) {
  FeedOptions options;
  options.idle_timeout = std::chrono::milliseconds(30);
  MemoryFeed f(options);
  f.start();
  f.send_hex(golden::kDeletion);
  const auto mutation = hex(golden::kMutation);
  f.send(protocol::Bytes(mutation.begin(), mutation.begin() + 30));  // a frame that never completes
  FeedEnd end;
  auto events = f.drain(&end);
  EXPECT_EQ(events.size(), 1u);
  EXPECT_EQ(end.reason, EndReason::idle_timeout) << end.message();
  EXPECT_EQ(end.timeout, std::chrono::milliseconds(30));
}

TEST(TapFeed, CloseEndsAPendingNextAndEverythingAfter) {
  MemoryFeed f;
  f.start();
  std::optional<FeedItem> pending;
  f.feed().async_next([&](FeedItem item) { pending = std::move(item); });
  f.io().poll();
  EXPECT_FALSE(pending);
  f.feed().close();
  f.feed().close();  // twice is fine
  f.io().poll();
  ASSERT_TRUE(pending);
  EXPECT_EQ(std::get<FeedEnd>(*pending).reason, EndReason::closed);
  f.send_hex(golden::kMutation);  // the server end still writes; nobody must see it
  auto later = f.next();
  EXPECT_EQ(std::get<FeedEnd>(later).reason, EndReason::closed);
}

TEST(TapFeed, NoEventAfterCloseEvenIfAlreadyQueued) {
  MemoryFeed f;
  f.start();
  f.send(concat({golden::kMutation, golden::kDeletion}));
  f.io().poll();
  const std::size_t before = f.received().size();
  f.feed().close();
  auto item = f.next();
  EXPECT_EQ(std::get<FeedEnd>(item).reason, EndReason::closed);
  EXPECT_EQ(f.received().size(), before) << "no ACK for an event nobody saw";
}

TEST(TapFeed, CloseFromInsideTheHandler) {
  MemoryFeed f;
  f.start();
  f.send(concat({golden::kMutation, golden::kDeletion}));
  std::vector<FeedItem> items;
  std::function<void(FeedItem)> on_item = [&](FeedItem item) {
    items.push_back(item);
    if (items.size() == 1) f.feed().close();
    if (std::holds_alternative<TapEvent>(item)) f.feed().async_next(on_item);
  };
  f.feed().async_next(on_item);
  f.io().poll();
  f.feed().async_next([&](FeedItem item) { items.push_back(item); });
  f.io().poll();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<TapEvent>(items[0]));
  EXPECT_EQ(std::get<FeedEnd>(items[1]).reason, EndReason::closed);
}

TEST(TapFeed, DestructionWithoutCloseReleasesEverything) {
  MemoryFeed f;
  f.start();
  f.send_hex(golden::kMutation);
  f.feed().async_next([](FeedItem) {});
  f.io().poll();
  f.feed().async_next([](FeedItem) {});  // left pending
  f.destroy_feed();
  f.io().restart();
  f.io().run();
  EXPECT_TRUE(f.client_lifetime().expired()) << "the stream outlived the feed";
}

TEST(TapFeed, SlowConsumerPausesReadingAndLosesNothing) {
  FeedOptions options;
  options.max_queued_events = 16;
  MemoryFeed f(options, [](auto& client) { client.set_max_read(100); });
  f.start();
  protocol::Bytes stream;
  std::vector<std::size_t> frame_ends;
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    protocol::append(
        stream, protocol::ep_engine::mutation({.key = fmt::format("key-{}", i), .value = "v"}));
    frame_ends.push_back(stream.size());
  }
  f.send(stream);
  f.server().close();
  f.io().poll();
  const std::size_t read = stream.size() - f.server().bytes_unread_by_peer();
  // The client read its queue bound (16 events) plus at most one more read, then stopped.
  EXPECT_GE(read, frame_ends[15]);
  EXPECT_LE(read, frame_ends[16] + 100);

  FeedEnd end;
  auto events = f.drain(&end);
  ASSERT_EQ(events.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) ASSERT_EQ(events[i].key, fmt::format("key-{}", i));
  EXPECT_EQ(end.reason, EndReason::eof);
}

TEST(TapFeed, QueueBoundInBytesAlsoPausesReading) {
  FeedOptions options;
  options.max_queued_bytes = 10 * 1024;
  MemoryFeed f(options, [](auto& client) { client.set_max_read(4096); });
  f.start();
  protocol::Bytes stream;
  const std::string value(1024, 'v');
  for (int i = 0; i < 100; ++i) {
    protocol::append(stream, protocol::ep_engine::mutation({.key = "k", .value = value}));
  }
  f.send(stream);
  f.io().poll();
  const std::size_t read = stream.size() - f.server().bytes_unread_by_peer();
  EXPECT_LE(read, 11 * (1024 + 50) + 4096);
  f.server().close();
  FeedEnd end;
  EXPECT_EQ(f.drain(&end).size(), 100u);
}

// async_consume: the push-style consumer gets views straight from the read buffer.
struct Pushed {
  std::vector<TapEvent> events;
  std::vector<FeedEnd> ends;
};

void consume_into(MemoryFeed& f, Pushed& out, std::function<void(const protocol::TapEventView&)> also = {}) {
  f.feed().async_consume(
      [&out, also](const protocol::TapEventView& e) {
        out.events.push_back(e.to_owned());
        if (also) also(e);
      },
      [&out](const FeedEnd& end) { out.ends.push_back(end); });
}

TEST(TapFeedPush, DeliversEveryEventInOrderThenOneEnd) {
  MemoryFeed f({}, [](auto& client) { client.set_max_read(7); });
  Pushed pushed;
  consume_into(f, pushed);
  f.start();
  f.send(concat({golden::kOpaqueInitialVBucketStream, golden::kMutation, golden::kNoop, golden::kDeletion,
                 golden::kCheckpointEnd}));
  f.server().close();
  f.io().poll();
  ASSERT_EQ(pushed.events.size(), 4u);
  EXPECT_EQ(pushed.events[1].key, "mykey");
  EXPECT_EQ(pushed.events[1].value, "value");
  EXPECT_EQ(pushed.events[3].checkpoint_id, 42u);
  ASSERT_EQ(pushed.ends.size(), 1u);
  EXPECT_EQ(pushed.ends[0].reason, EndReason::eof);
}

TEST(TapFeedPush, AcksInOrderIgnoredOnesTooNeverNoop) {
  MemoryFeed f;
  Pushed pushed;
  consume_into(f, pushed);
  f.start();
  const std::size_t connect_size = f.received().size();
  f.send(concat({golden::kOpaqueEnableAutoNack, golden::kMutation, golden::kNoop, golden::kOpaqueUnknown}));
  f.io().poll();
  ASSERT_EQ(pushed.events.size(), 1u);
  EXPECT_EQ(protocol::to_hex(protocol::ByteView(f.received()).subspan(connect_size)),
            ack_hex("44", "00000026") + ack_hex("41", "00000010") + ack_hex("44", "00000028"));
}

TEST(TapFeedPush, CloseInsideTheCallbackStopsDeliveryAndEndsOnce) {
  MemoryFeed f;
  Pushed pushed;
  consume_into(f, pushed, [&](const protocol::TapEventView&) { f.feed().close(); });
  f.start();
  const std::size_t connect_size = f.received().size();
  f.send(concat({golden::kMutation, golden::kDeletion, golden::kFlush}));
  f.io().poll();
  EXPECT_EQ(pushed.events.size(), 1u) << "no event after close()";
  ASSERT_EQ(pushed.ends.size(), 1u);
  EXPECT_EQ(pushed.ends[0].reason, EndReason::closed);
  EXPECT_EQ(f.received().size(), connect_size) << "the closing event's ACK is not sent";
}

TEST(TapFeedPush, EventsQueuedBeforeTheConsumerCameArriveFirst) {
  MemoryFeed f;
  f.start();
  f.send(concat({golden::kMutation, golden::kDeletion}));
  f.io().poll();  // queued: nobody consumes yet
  Pushed pushed;
  consume_into(f, pushed);
  f.send_hex(golden::kFlush);
  f.server().close();
  f.io().poll();
  ASSERT_EQ(pushed.events.size(), 3u);
  EXPECT_EQ(pushed.events[0].kind, TapEventKind::mutation);
  EXPECT_EQ(pushed.events[1].kind, TapEventKind::deletion);
  EXPECT_EQ(pushed.events[2].kind, TapEventKind::flush);
  ASSERT_EQ(pushed.ends.size(), 1u);
}

TEST(TapFeedPush, ErrorsEndThePushToo) {
  MemoryFeed f;
  Pushed pushed;
  consume_into(f, pushed);
  f.start();
  f.send(concat({golden::kDeletion, "42 0a 0000 00 00 0000 00000000 00000000 0000000000000000"}));
  f.io().poll();
  EXPECT_EQ(pushed.events.size(), 1u);
  ASSERT_EQ(pushed.ends.size(), 1u);
  EXPECT_EQ(pushed.ends[0].reason, EndReason::protocol_error);
}

// async_next_batch: many events per handler, with the same ordering, ACK and close rules.
std::vector<std::string> describe(const std::vector<FeedItem>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    if (auto* e = std::get_if<TapEvent>(&item)) {
      out.push_back(fmt::format("{}", e->kind));
    } else {
      out.push_back(fmt::format("end {}", std::get<FeedEnd>(item).reason));
    }
  }
  return out;
}

TEST(TapFeedBatch, HandsOverWhatIsQueuedUpToMaxThenTheEnd) {
  MemoryFeed f;
  f.start();
  f.send(concat({golden::kMutation, golden::kDeletion, golden::kNoop, golden::kFlush, golden::kCheckpointEnd}));
  f.server().close();
  f.io().poll();
  EXPECT_EQ(describe(f.next_batch(3)), (std::vector<std::string>{"mutation", "deletion", "flush"}));
  EXPECT_EQ(describe(f.next_batch(10)), (std::vector<std::string>{"checkpoint_end", "end eof"}));
  EXPECT_EQ(describe(f.next_batch(10)), (std::vector<std::string>{"end eof"})) << "the same end again";
}

TEST(TapFeedBatch, AnEndWithoutRoomWaitsForTheNextBatch) {
  MemoryFeed f;
  f.start();
  f.send(concat({golden::kMutation, golden::kDeletion}));
  f.server().close();
  f.io().poll();
  EXPECT_EQ(describe(f.next_batch(2)), (std::vector<std::string>{"mutation", "deletion"}));
  // Nobody has seen the end yet, so close() replaces it.
  f.feed().close();
  EXPECT_EQ(describe(f.next_batch(2)), (std::vector<std::string>{"end closed"}));
}

TEST(TapFeedBatch, AcksTheBatchInQueueOrderOnceHandedOver) {
  MemoryFeed f;
  f.start();
  const std::size_t connect_size = f.received().size();
  f.send(mixed_ack_stream());
  f.io().poll();
  auto sent = [&] { return protocol::to_hex(protocol::ByteView(f.received()).subspan(connect_size)); };
  EXPECT_EQ(sent(), ack_hex("44", "00000026"));

  EXPECT_EQ(describe(f.next_batch(2)), (std::vector<std::string>{"mutation", "deletion"}));
  EXPECT_EQ(sent(), ack_hex("44", "00000026") + ack_hex("41", "00000010") + ack_hex("44", "00000028"))
      << "the vbucket_set is not handed over yet: no ACK for it";

  EXPECT_EQ(describe(f.next_batch(8)), (std::vector<std::string>{"vbucket_set"}));
  EXPECT_EQ(sent(), ack_hex("44", "00000026") + ack_hex("41", "00000010") + ack_hex("44", "00000028") +
                        ack_hex("45", "00000021"));
}

TEST(TapFeedBatch, WaitsForTheFirstEventThenTakesEverythingDecoded) {
  MemoryFeed f;
  f.start();
  std::optional<std::vector<FeedItem>> batch;
  f.feed().async_next_batch(100, [&](std::vector<FeedItem> items) { batch = std::move(items); });
  f.io().poll();
  EXPECT_FALSE(batch) << "a batch is never empty";
  f.send(concat({golden::kMutation, golden::kDeletion, golden::kFlush}));
  ASSERT_TRUE(batch);
  EXPECT_EQ(describe(*batch), (std::vector<std::string>{"mutation", "deletion", "flush"}));
}

TEST(TapFeedBatch, NoEventOrAckAfterClose) {
  MemoryFeed f;
  f.start();
  f.send(concat({golden::kMutation, golden::kDeletion}));
  f.io().poll();
  const std::size_t before = f.received().size();
  std::optional<std::vector<FeedItem>> batch;
  f.feed().async_next_batch(10, [&](std::vector<FeedItem> items) { batch = std::move(items); });
  f.feed().close();  // before the batch's handler could run
  f.io().poll();
  ASSERT_TRUE(batch);
  EXPECT_EQ(describe(*batch), (std::vector<std::string>{"end closed"}));
  EXPECT_EQ(f.received().size(), before) << "no ACK for an event nobody saw";
}

// Fails the n-th I/O operation of the client's stream for every n until the feed gets
// through without meeting the failure: each run must end exactly once, deliver a prefix of
// the events and nothing after its end, and release the stream.
TEST(TapFeed, FailureAtEveryIoStep) {
  const auto stream = concat({golden::kOpaqueEnableAutoNack, golden::kOpaqueInitialVBucketStream,
                              golden::kMutation, golden::kDeletion, golden::kOpaqueCloseBackfill,
                              golden::kCheckpointStart, golden::kCheckpointEnd});
  MemoryFeed reference;
  reference.start();
  reference.send(stream);
  reference.server().close();
  FeedEnd reference_end;
  const auto expected = reference.drain(&reference_end);
  ASSERT_EQ(reference_end.reason, EndReason::eof);

  bool reached_clean_run = false;
  for (std::size_t n = 0; n < 200 && !reached_clean_run; ++n) {
    SCOPED_TRACE(fmt::format("failing I/O operation {}", n));
    std::weak_ptr<const void> lifetime;
    {
      MemoryFeed f({}, [&](auto& client) {
        client.fail_operation(n, asio::error::connection_reset);
        client.set_max_read(37);  // several reads, so failures land mid-frame too
      });
      lifetime = f.client_lifetime();
      f.start();
      f.send(stream);
      f.server().close();
      std::vector<TapEvent> events;
      int ends = 0;
      FeedEnd end;
      for (int guard = 0; guard < 100; ++guard) {
        FeedItem item = f.next();
        if (auto* e = std::get_if<FeedEnd>(&item)) {
          ++ends;
          end = *e;
          break;
        }
        events.push_back(std::get<TapEvent>(item));
      }
      ASSERT_EQ(ends, 1);
      ASSERT_LE(events.size(), expected.size());
      EXPECT_TRUE(std::equal(events.begin(), events.end(), expected.begin()));
      // After the end, only the end again.
      EXPECT_TRUE(std::holds_alternative<FeedEnd>(f.next()));
      if (end.reason == EndReason::eof) {
        EXPECT_EQ(events, expected);
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

}  // namespace
}  // namespace tapharness::client
