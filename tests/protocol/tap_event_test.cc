// The frame -> feed step mapping as a table: one golden frame per row, the step the feed
// must take, checked whole and at every chunking of the stream.
#include "protocol/tap_event.hpp"

#include <gtest/gtest.h>

#include "protocol/frame_decoder.hpp"
#include "protocol/hex.hpp"
#include "protocol/tap_message.hpp"
#include "tests/protocol/golden_frames.hpp"
#include "tests/support/decode_stream.hpp"
#include "testing/printers.hpp"

namespace tapharness::protocol {
namespace {

struct MappingRow {
  friend void PrintTo(const MappingRow& c, std::ostream* os) { *os << c.name; }
  std::string name;
  std::string_view frame_hex;
  FeedStep expected;
};

TapEvent event(TapEventKind kind, std::uint16_t vb) {
  TapEvent e;
  e.kind = kind;
  e.vbucket = vb;
  return e;
}

TapEvent mutation() {
  TapEvent e = event(TapEventKind::mutation, 3);
  e.key = "mykey";
  e.value = "value";
  e.flags = 0x12;
  e.expiry = 300;
  e.cas = 0x1122;
  return e;
}

TapEvent deletion() {
  TapEvent e = event(TapEventKind::deletion, 3);
  e.key = "mykey";
  e.cas = 7;
  return e;
}

TapEvent checkpoint(TapEventKind kind) {
  TapEvent e = event(kind, 1);
  e.checkpoint_id = 42;
  return e;
}

TapEvent vbucket_set() {
  TapEvent e = event(TapEventKind::vbucket_set, 5);
  e.state = VBucketState::pending;
  return e;
}

AckRequest ack(Opcode opcode, std::uint32_t opaque) { return AckRequest{opcode, opaque}; }

std::vector<MappingRow> rows() {
  return {
      {"mutation", golden::kMutation, Deliver{mutation(), ack(Opcode::tap_mutation, 0x10)}},
      // ep-engine's 8 rev-seqno bytes must never surface as item flags or expiry.
      {"deletion", golden::kDeletion, Deliver{deletion(), std::nullopt}},
      {"flush", golden::kFlush, Deliver{event(TapEventKind::flush, 0), std::nullopt}},
      {"begin_backfill", golden::kOpaqueInitialVBucketStream,
       Deliver{event(TapEventKind::begin_backfill, 2), ack(Opcode::tap_opaque, 0x20)}},
      {"end_backfill", golden::kOpaqueCloseBackfill,
       Deliver{event(TapEventKind::end_backfill, 2), ack(Opcode::tap_opaque, 0x25)}},
      {"enable_auto_nack_ignored_but_acked", golden::kOpaqueEnableAutoNack,
       Ignore{ack(Opcode::tap_opaque, 0x26)}},
      {"unknown_opaque_ignored_but_acked", golden::kOpaqueUnknown,
       Ignore{ack(Opcode::tap_opaque, 0x28)}},
      {"close_tap_stream_ends_without_ack", golden::kOpaqueCloseTapStream, EndOfStream{}},
      {"vbucket_set", golden::kVBucketSetPending,
       Deliver{vbucket_set(), ack(Opcode::tap_vbucket_set, 0x21)}},
      {"checkpoint_start", golden::kCheckpointStart,
       Deliver{checkpoint(TapEventKind::checkpoint_start), ack(Opcode::tap_checkpoint_start, 0x22)}},
      {"checkpoint_end", golden::kCheckpointEnd,
       Deliver{checkpoint(TapEventKind::checkpoint_end), ack(Opcode::tap_checkpoint_end, 0x23)}},
      {"noop_ignored_never_acked", golden::kNoop, Ignore{std::nullopt}},
      {"connect_rejected", golden::kConnectRejected,
       ConnectRejected{Status::not_supported, "not supported"}},
      // ENABLE_CHECKPOINT_SYNC (2): ignored, acked.
      {"enable_checkpoint_sync",
       "80 44 0000 08 00 0000 0000000c 00000030 0000000000000000 0004 0001 ff 000000 00000002",
       Ignore{ack(Opcode::tap_opaque, 0x30)}},
      // An opaque whose engine bytes are too short for a code: ignored, as the seed does.
      {"opaque_without_code",
       "80 44 0000 08 00 0000 0000000a 00000031 0000000000000000 0002 0001 ff 000000 0001",
       Ignore{ack(Opcode::tap_opaque, 0x31)}},
      // A request the feed does not know, with the ACK bit where TAP flags would be: only TAP
      // messages carry TAP flags, and a response the producer has no handler for makes it close
      // the connection (protocol.md 5.1), so it is ignored without a reply (the seed ACKs it).
      {"unknown_request_ignored_without_reply",
       "80 01 0000 08 00 0000 00000008 00000032 0000000000000000 0000 0001 ff 000000",
       Ignore{std::nullopt}},
      // SET_VBUCKET (0x3d) with state 1 in its 4 extras bytes: the seed reads 00 01 as TAP flags
      // and answers with a SET_VBUCKET response.
      {"set_vbucket_request_ignored_without_reply",
       "80 3d 0000 04 00 0005 00000004 00000034 0000000000000000 00000001", Ignore{std::nullopt}},
      // The TAP prefix alone on a mutation: its item flags and expiry cannot be read.
      {"mutation_with_tap_prefix_only",
       "80 41 0001 08 00 0000 00000012 00000035 0000000000000000 0009 0000 ff 000000 0000000000000001 00 6b",
       DecodeError{DecodeErrorCode::tap_extras_length, 4, "extlen", 8, 16}},
      {"deletion_with_item_extras",
       "80 42 0001 10 00 0000 00000011 00000036 0000000000000000 0000 0000 ff 000000 00000000 00000000 6b",
       DecodeError{DecodeErrorCode::tap_extras_length, 4, "extlen", 16, 8}},
      // INITIAL_VBUCKET_STREAM in 8 engine bytes: ep-engine reads a sub-code only from 4.
      {"opaque_code_in_eight_engine_bytes_is_ignored",
       "80 44 0000 08 00 0002 00000010 00000037 0000000000000000 0008 0001 ff 000000 00000001 00000000",
       Ignore{ack(Opcode::tap_opaque, 0x37)}},
      {"opaque_code_in_five_engine_bytes_is_ignored",
       "80 44 0000 08 00 0002 0000000d 00000038 0000000000000000 0005 0000 ff 000000 00000001 00",
       Ignore{std::nullopt}},
      // The server's TAP_CONNECT request is no refusal: check the magic.
      {"tap_connect_request_from_the_server",
       "80 40 0000 04 00 0000 00000004 00000000 0000000000000000 00000000",
       DecodeError{DecodeErrorCode::unexpected_connect, 0, "magic", 0x80, 0}},
      // Datatype travels with the event (a JSON value), and a deletion's value with it.
      {"mutation_datatype_json",
       "80 41 0001 10 01 0000 0000001c 00000039 0000000000000001"
       "0009 0000 ff 000000 00000000 00000000 0000000000000001 00 6b 7b 7d",
       [] {
         TapEvent e = event(TapEventKind::mutation, 0);
         e.key = "k";
         e.value = "{}";
         e.cas = 1;
         e.datatype = 1;
         return Deliver{e, std::nullopt};
       }()},
      {"deletion_with_a_value",
       "80 42 0001 08 02 0000 00000012 0000003a 0000000000000002 0008 0000 ff 000000 0000000000000001 6b 7a",
       [] {
         TapEvent e = event(TapEventKind::deletion, 0);
         e.key = "k";
         e.value = "z";
         e.cas = 2;
         e.datatype = 2;
         return Deliver{e, std::nullopt};
       }()},
      // Keys-only: NO_VALUE and an empty value.
      {"keys_only_mutation",
       "80 41 0001 10 00 0000 0000001a 00000033 0000000000000009"
       "0009 0002 ff 000000 00000000 00000000 0000000000000001 00 6b",
       [] {
         TapEvent e = event(TapEventKind::mutation, 0);
         e.key = "k";
         e.cas = 9;
         return Deliver{e, std::nullopt};
       }()},
      {"response_is_not_an_event",
       "81 41 0000 00 00 0000 00000000 00000010 0000000000000000",
       DecodeError{DecodeErrorCode::unexpected_response, 0, "magic", 0x81, 0}},
      {"checkpoint_without_id",
       "80 46 0001 10 00 0001 00000015 00000000 0000000000000000"
       "0000 0000 ff 000000 00000000 00000000 6b 00000001",
       DecodeError{DecodeErrorCode::checkpoint_id_length, 41, "value", 4, 8}},
      {"vbucket_set_without_state",
       "80 45 0000 08 00 0005 0000000a 00000000 0000000000000000 0002 0000 ff 000000 0001",
       DecodeError{DecodeErrorCode::vbucket_state_length, 24, "engine_specific_length", 2, 4}},
      {"tap_extras_too_short",
       "80 43 0000 04 00 0000 00000004 00000000 0000000000000000 0000 0001",
       DecodeError{DecodeErrorCode::tap_extras_too_short, 4, "extlen", 4, 8}},
  };
}

class FeedMapping : public ::testing::TestWithParam<MappingRow> {};

TEST_P(FeedMapping, FrameBecomesTheExpectedStep) {
  const MappingRow& row = GetParam();
  const Bytes bytes = parse_hex(row.frame_hex).value();
  FrameDecoder decoder;
  auto decoded = decoder.decode(bytes);
  ASSERT_TRUE(std::holds_alternative<Decoded>(decoded)) << fmt::format("{}", decoded);
  EXPECT_EQ(map_feed_frame(std::get<Decoded>(decoded).frame, StreamPosition::first), row.expected);

  testing::StreamOutcome outcome;
  ASSERT_TRUE(testing::same_at_every_split(bytes, &outcome));
  ASSERT_EQ(outcome.steps.size(), 1u);
  EXPECT_EQ(outcome.steps[0], fmt::format("{}", row.expected));
}

INSTANTIATE_TEST_SUITE_P(Table, FeedMapping, ::testing::ValuesIn(rows()),
                         [](const auto& info) { return info.param.name; });

// Only the first frame of a stream may refuse the connect: later, a TAP_CONNECT reply is a
// protocol error (the seed reports it as a refusal, its status read from the vbucket bytes).
TEST(FeedMapping, ATapConnectReplyAfterTheFirstFrameIsAProtocolError) {
  const Bytes stream = parse_hex(std::string(golden::kNoop) + std::string(golden::kConnectRejected)).value();
  testing::StreamOutcome outcome;
  ASSERT_TRUE(testing::same_at_every_split(stream, &outcome));
  ASSERT_EQ(outcome.steps.size(), 2u);
  EXPECT_EQ(outcome.steps[0], "ignore");
  EXPECT_EQ(outcome.steps[1], fmt::format("{}", FeedStep{DecodeError{DecodeErrorCode::connect_reply_mid_stream, 24,
                                                                      "magic", 0x81, 0}}));
}

// map_feed_frame_view decides a mutation with ep-engine's extras on an inline fast path;
// every such frame must map exactly as the general path maps it.
TEST(FeedMapping, TheMutationFastPathAgreesWithTheGeneralMapping) {
  const auto same = [](const FeedStepView& fast, const FeedStepView& general) {
    const auto* a = std::get_if<DeliverView>(&fast);
    const auto* b = std::get_if<DeliverView>(&general);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->event.to_owned(), b->event.to_owned());
    EXPECT_EQ(a->ack, b->ack);
  };
  for (const std::uint16_t tap_flags : {std::uint16_t{0}, static_cast<std::uint16_t>(TapFlag::ack), std::uint16_t{0xffff}}) {
    const Bytes bytes = ep_engine::mutation({.vbucket = 1023, .key = "key", .value = std::string_view("v\0\xff", 3),
                                             .flags = 0xdeadbeef, .expiry = 77, .cas = 0x0102030405060708,
                                             .opaque = 0xfffffff0, .tap_flags = tap_flags});
    FrameDecoder decoder;
    decoder.reset(24);  // not the first frame
    const auto decoded = decoder.decode(bytes);
    const Frame& frame = std::get<Decoded>(decoded).frame;
    same(map_feed_frame_view(frame, StreamPosition::later), detail::map_feed_frame_general(frame, StreamPosition::later));
    same(map_feed_frame_view(frame, StreamPosition::first), detail::map_feed_frame_general(frame, StreamPosition::first));
  }
}

TEST(TapEvent, FormatsAndEscapesBinaryKeys) {
  TapEvent e = mutation();
  e.key = std::string("k\x01\"\\", 4);
  EXPECT_EQ(fmt::format("{}", e),
            "mutation vb=3 key=\"k\\u0001\\\"\\\\\" value=\"value\" flags=18 expiry=300 cas=4386");
  EXPECT_EQ(fmt::format("{}", checkpoint(TapEventKind::checkpoint_end)),
            "checkpoint_end vb=1 checkpoint=42");
  EXPECT_EQ(fmt::format("{}", vbucket_set()), "vbucket_set vb=5 state=PENDING");
  EXPECT_EQ(escape_bytes(std::string("\xff\x7f", 2)), "\\u00ff\\u007f");
}

TEST(TapEvent, KindNamesRoundTrip) {
  for (const auto& entry : all_tap_event_kinds()) {
    EXPECT_EQ(tap_event_kind_from_name(entry.name), entry.value);
  }
  EXPECT_FALSE(tap_event_kind_from_name("mutations"));
}

}  // namespace
}  // namespace tapharness::protocol
