// TAP messages: decoding the TAP extras of hand-derived ep-engine frames, and the
// ep-engine-shaped encoders producing exactly those bytes.
#include "protocol/tap_message.hpp"

#include <gtest/gtest.h>

#include "protocol/frame_decoder.hpp"
#include "protocol/hex.hpp"
#include "tests/protocol/golden_frames.hpp"
#include "testing/printers.hpp"

namespace tapharness::protocol {
namespace {

// Decodes one golden frame and keeps its bytes alive alongside the views.
struct DecodedGolden {
  Bytes bytes;
  Frame frame;
};

DecodedGolden decode_golden(std::string_view text) {
  DecodedGolden g{parse_hex(text).value(), {}};
  FrameDecoder decoder;
  auto result = decoder.decode(g.bytes);
  EXPECT_TRUE(std::holds_alternative<Decoded>(result)) << fmt::format("{}", result);
  if (auto* d = std::get_if<Decoded>(&result)) g.frame = d->frame;
  return g;
}

TapMessage decode_message(const DecodedGolden& g) {
  auto result = decode_tap_message(g.frame);
  EXPECT_TRUE(result.ok());
  return result ? *result : TapMessage{};
}

std::string encoded_hex(const Bytes& frame) {
  EXPECT_FALSE(frame.empty());
  return to_hex(frame);
}

std::string golden_hex(std::string_view text) { return to_hex(parse_hex(text).value()); }

TEST(TapMessage, DecodesAMutationsExtrasAndEngineBytes) {
  const auto g = decode_golden(golden::kMutation);
  const TapMessage m = decode_message(g);
  EXPECT_EQ(m.opcode, Opcode::tap_mutation);
  EXPECT_TRUE(m.wants_ack());
  EXPECT_EQ(m.ttl, 0xff);
  ASSERT_TRUE(m.item);
  EXPECT_EQ(m.item->flags, 0x12u);
  EXPECT_EQ(m.item->expiry, 300u);
  EXPECT_EQ(to_hex(m.engine_specific), "000000000000000100");
  EXPECT_EQ(as_chars(m.key), "mykey");
  EXPECT_EQ(as_chars(m.value), "value");
}

TEST(TapMessage, DeletionHasNoItemFields) {
  const auto g = decode_golden(golden::kDeletion);  // the message views its bytes
  const TapMessage m = decode_message(g);
  EXPECT_FALSE(m.wants_ack());
  EXPECT_FALSE(m.item);
  EXPECT_EQ(to_hex(m.engine_specific), "0000000000000005");
}

TEST(TapMessage, OpaqueAndVBucketSetCarryTheirCodeInEngineBytes) {
  EXPECT_EQ(decode_message(decode_golden(golden::kOpaqueCloseBackfill)).engine_code(), 8u);
  EXPECT_EQ(decode_message(decode_golden(golden::kVBucketSetPending)).engine_code(), 3u);
  EXPECT_FALSE(decode_message(decode_golden(golden::kFlush)).engine_code());
}

TEST(TapMessage, RejectsExtrasShorterThanTheTapPrefix) {
  // A mutation with extlen 4 (the TAP prefix is 8 bytes): engine length 0, flags 0.
  const auto g = decode_golden("80 41 0001 04 00 0000 00000005 00000000 0000000000000000"
                               "0000 0000 6b");
  auto result = decode_tap_message(g.frame);
  ASSERT_FALSE(result);
  const auto& e = result.error();
  EXPECT_EQ(e.code, DecodeErrorCode::tap_extras_too_short);
  EXPECT_EQ(e.offset, 4u);
  EXPECT_EQ(e.value, 4u);
}

TEST(EpEngineShape, EncodersWriteTheGoldenFrames) {
  EXPECT_EQ(encoded_hex(ep_engine::mutation({.vbucket = 3,
                                             .key = "mykey",
                                             .value = "value",
                                             .flags = 0x12,
                                             .expiry = 300,
                                             .cas = 0x1122,
                                             .opaque = 0x10,
                                             .tap_flags = 0x01,
                                             .rev_seqno = 1})),
            golden_hex(golden::kMutation));
  EXPECT_EQ(encoded_hex(ep_engine::deletion(
                {.vbucket = 3, .key = "mykey", .cas = 7, .opaque = 0x11, .rev_seqno = 5})),
            golden_hex(golden::kDeletion));
  EXPECT_EQ(encoded_hex(ep_engine::flush(0x24)), golden_hex(golden::kFlush));
  EXPECT_EQ(encoded_hex(ep_engine::opaque(2, TapOpaqueCode::initial_vbucket_stream, 0x20, 0x01)),
            golden_hex(golden::kOpaqueInitialVBucketStream));
  EXPECT_EQ(encoded_hex(ep_engine::opaque(2, TapOpaqueCode::close_backfill, 0x25, 0x01)),
            golden_hex(golden::kOpaqueCloseBackfill));
  EXPECT_EQ(encoded_hex(ep_engine::vbucket_set(5, VBucketState::pending, 0x21, 0x01)),
            golden_hex(golden::kVBucketSetPending));
  EXPECT_EQ(encoded_hex(ep_engine::checkpoint_start(1, 42, 0x22, 0x01)),
            golden_hex(golden::kCheckpointStart));
  EXPECT_EQ(encoded_hex(ep_engine::checkpoint_end(1, 42, 0x23, 0x01)),
            golden_hex(golden::kCheckpointEnd));
}

TEST(TapAck, IsAResponseEchoingOpcodeAndOpaque) {
  EXPECT_EQ(to_hex(tap_ack(Opcode::tap_mutation, 0x10)), golden_hex(golden::kMutationAck));
  const auto nack = tap_ack(Opcode::tap_opaque, 0xdeadbeef, Status::etmpfail);
  EXPECT_EQ(to_hex(nack), golden_hex("81 44 0000 00 00 0086 00000000 deadbeef 0000000000000000"));
}

TEST(TapMessage, FormatsFieldByField) {
  const auto g = decode_golden(golden::kMutation);
  EXPECT_EQ(fmt::format("{}", decode_message(g)),
            "TAP_MUTATION vb=3 opaque=0x00000010 cas=4386 tap_flags=ACK ttl=255 flags=18 "
            "expiry=300 engine=000000000000000100 key=6d796b6579 value=76616c7565");
}

TEST(TapConstants, NamesAndFlagWords) {
  EXPECT_EQ(fmt::format("{}", TapOpaqueCode::close_backfill), "CLOSE_BACKFILL");
  EXPECT_EQ(fmt::format("{}", TapOpaqueCode{99}), "99");
  EXPECT_EQ(fmt::format("{}", VBucketState::replica), "REPLICA");
  EXPECT_EQ(tap_flags_text(0x0003), "ACK|NO_VALUE");
  EXPECT_EQ(tap_flags_text(0x8001), "ACK|0x8000");
  EXPECT_EQ(tap_flags_text(0), "0");
  EXPECT_EQ(tap_connect_flags_text(0x1ff),
            "BACKFILL|DUMP|LIST_VBUCKETS|TAKEOVER_VBUCKETS|SUPPORT_ACK|REQUEST_KEYS_ONLY|"
            "CHECKPOINT|REGISTERED_CLIENT|FIX_FLAG_BYTEORDER");
  EXPECT_EQ(tap_connect_flag_from_name("support_ack"), TapConnectFlag::support_ack);
  EXPECT_EQ(tap_opaque_code_from_name("CLOSE_TAP_STREAM"), TapOpaqueCode::close_tap_stream);
  EXPECT_EQ(vbucket_state_from_name("dead"), VBucketState::dead);
  EXPECT_EQ(tap_flag_from_name("no_value"), TapFlag::no_value);
}

}  // namespace
}  // namespace tapharness::protocol
