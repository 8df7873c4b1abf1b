// FrameDecoder: golden frames of every kind, fed whole, split at every offset and one byte
// at a time; every frame-layer error at its offset; limits checked before any body byte.
#include "protocol/frame_decoder.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

#include <gtest/gtest.h>

#include "protocol/hex.hpp"
#include "tests/protocol/golden_frames.hpp"
#include "tests/support/decode_stream.hpp"
#include "testing/printers.hpp"

// Counts heap allocations so a test can show that a decode allocated nothing.
namespace {
std::atomic<std::size_t> g_allocations{0};
}  // namespace

// gcc 12 at -O2 sees the replaced operator new inlined as malloc and the matching delete as
// free, and calls the pair mismatched; it is this file's own replacement, so it is not.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace tapharness::protocol {
namespace {

using testing::decode_stream;
using testing::same_at_every_split;
using testing::StreamOutcome;

Bytes hex(std::string_view text) {
  auto bytes = parse_hex(text);
  EXPECT_TRUE(bytes.ok()) << text;
  return bytes ? *bytes : Bytes{};
}

Bytes concat(std::initializer_list<std::string_view> parts) {
  Bytes out;
  for (auto part : parts) append(out, hex(part));
  return out;
}

TEST(FrameDecoder, MutationAsEpEngineShipsIt) {
  const Bytes stream = hex(golden::kMutation);
  StreamOutcome outcome;
  ASSERT_TRUE(same_at_every_split(stream, &outcome));
  ASSERT_EQ(outcome.frames.size(), 1u);
  ASSERT_FALSE(outcome.error);
  EXPECT_EQ(outcome.pending, 0u);
  EXPECT_EQ(outcome.need_more, kHeaderSize);

  const auto& f = outcome.frames[0];
  EXPECT_EQ(f.header.magic, Magic::request);
  EXPECT_EQ(f.header.opcode, Opcode::tap_mutation);
  EXPECT_EQ(f.header.keylen, 5);
  EXPECT_EQ(f.header.extlen, 16);
  EXPECT_EQ(f.header.vbucket(), 3);
  EXPECT_EQ(f.header.bodylen, 35u);
  EXPECT_EQ(f.header.opaque, 0x10u);
  EXPECT_EQ(f.header.cas, 0x1122u);
  EXPECT_EQ(f.offset, 0u);
  EXPECT_EQ(to_hex(f.extras), "00090001ff000000000000120000012c");
  EXPECT_EQ(to_hex(f.engine_specific), "000000000000000100");
  EXPECT_EQ(as_chars(f.key), "mykey");
  EXPECT_EQ(as_chars(f.value), "value");
}

TEST(FrameDecoder, EveryFrameKindInOneStream) {
  const Bytes stream =
      concat({golden::kOpaqueEnableAutoNack, golden::kOpaqueInitialVBucketStream, golden::kMutation,
              golden::kDeletion, golden::kOpaqueCloseBackfill, golden::kCheckpointStart,
              golden::kCheckpointEnd, golden::kVBucketSetPending, golden::kFlush, golden::kNoop,
              golden::kOpaqueUnknown, golden::kOpaqueCloseTapStream});
  StreamOutcome outcome;
  ASSERT_TRUE(same_at_every_split(stream, &outcome));
  ASSERT_EQ(outcome.frames.size(), 12u);
  EXPECT_FALSE(outcome.error);
  EXPECT_EQ(outcome.pending, 0u);

  // Offsets are absolute and each frame starts where the previous one ended.
  std::uint64_t offset = 0;
  for (const auto& f : outcome.frames) {
    EXPECT_EQ(f.offset, offset);
    offset += kHeaderSize + f.header.bodylen;
  }
  EXPECT_EQ(offset, stream.size());

  // Engine-specific bytes are split off by their length field, never assumed.
  EXPECT_EQ(outcome.frames[1].engine_specific, hex("00000001"));
  EXPECT_EQ(outcome.frames[3].engine_specific, hex("0000000000000005"));
  EXPECT_EQ(as_chars(outcome.frames[3].key), "mykey");
  EXPECT_TRUE(outcome.frames[3].value.empty());
  EXPECT_EQ(as_chars(outcome.frames[5].key), "checkpoint_start");
  EXPECT_EQ(outcome.frames[5].value, hex("000000000000002a"));
  EXPECT_TRUE(outcome.frames[6].engine_specific.empty());
  EXPECT_EQ(as_chars(outcome.frames[6].key), "checkpoint_end");
  EXPECT_TRUE(outcome.frames[8].engine_specific.empty());
  EXPECT_TRUE(outcome.frames[9].extras.empty());
}

TEST(FrameDecoder, ResponsesAndConnectHaveNoEngineSpecificBytes) {
  const Bytes stream = concat({golden::kConnectNode1, golden::kMutationAck, golden::kConnectRejected});
  StreamOutcome outcome;
  ASSERT_TRUE(same_at_every_split(stream, &outcome));
  ASSERT_EQ(outcome.frames.size(), 3u);
  EXPECT_EQ(as_chars(outcome.frames[0].key), "node1");
  EXPECT_EQ(outcome.frames[0].extras, hex("00000035"));
  EXPECT_TRUE(outcome.frames[0].engine_specific.empty());
  EXPECT_EQ(outcome.frames[0].value.size(), 20u);
  EXPECT_EQ(outcome.frames[1].header.magic, Magic::response);
  EXPECT_EQ(outcome.frames[1].header.status(), Status::success);
  EXPECT_EQ(outcome.frames[2].header.status(), Status::not_supported);
  EXPECT_EQ(as_chars(outcome.frames[2].value), "not supported");
}

TEST(FrameDecoder, NeedMoreConsumesNothingAndSaysHowMuch) {
  const Bytes frame = hex(golden::kMutation);
  FrameDecoder decoder;
  auto partial_header = decoder.decode(ByteView(frame).first(10));
  ASSERT_TRUE(std::holds_alternative<NeedMore>(partial_header)) << fmt::format("{}", partial_header);
  EXPECT_EQ(std::get<NeedMore>(partial_header).bytes, 14u);

  auto partial_body = decoder.decode(ByteView(frame).first(30));
  ASSERT_TRUE(std::holds_alternative<NeedMore>(partial_body));
  EXPECT_EQ(std::get<NeedMore>(partial_body).bytes, frame.size() - 30);
  EXPECT_EQ(decoder.offset(), 0u);

  auto whole = decoder.decode(frame);
  ASSERT_TRUE(std::holds_alternative<Decoded>(whole));
  EXPECT_EQ(std::get<Decoded>(whole).consumed, frame.size());
  EXPECT_EQ(decoder.offset(), frame.size());
}

TEST(FrameDecoder, TruncatedStreamEndsWaitingForTheRest) {
  Bytes stream = concat({golden::kNoop, golden::kDeletion});
  stream.resize(stream.size() - 3);
  StreamOutcome outcome;
  ASSERT_TRUE(same_at_every_split(stream, &outcome));
  EXPECT_EQ(outcome.frames.size(), 1u);
  EXPECT_FALSE(outcome.error);
  EXPECT_EQ(outcome.pending, hex(golden::kDeletion).size() - 3);
  EXPECT_EQ(outcome.need_more, 3u);
}

// One error vector: the stream, and the error every chunking must report.
struct ErrorCase {
  friend void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }
  std::string name;
  Bytes stream;
  DecodeErrorCode code;
  std::uint64_t offset;
  std::string_view field;
  std::uint64_t value;
  std::size_t frames_before;
};

class FrameErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(FrameErrors, SameErrorAtSameOffsetAtEveryChunking) {
  const ErrorCase& c = GetParam();
  StreamOutcome outcome;
  ASSERT_TRUE(same_at_every_split(c.stream, &outcome));
  ASSERT_TRUE(outcome.error) << fmt::format("{}", outcome);
  EXPECT_EQ(outcome.error->code, c.code) << outcome.error->message();
  EXPECT_EQ(outcome.error->offset, c.offset) << outcome.error->message();
  EXPECT_EQ(outcome.error->field, c.field);
  EXPECT_EQ(outcome.error->value, c.value);
  EXPECT_EQ(outcome.frames.size(), c.frames_before);
}

// A NOOP first, so every offset below is absolute (24 + field offset), not frame-relative.
const Bytes kLead = parse_hex(golden::kNoop).value();

Bytes after_lead(std::string_view frame_hex) {
  Bytes out = kLead;
  append(out, parse_hex(frame_hex).value());
  return out;
}

INSTANTIATE_TEST_SUITE_P(
    Vectors, FrameErrors,
    ::testing::Values(
        ErrorCase{"bad_magic", after_lead("42 0a 0000 00 00 0000 00000000 00000000 0000000000000000"),
                  DecodeErrorCode::bad_magic, 24, "magic", 0x42, 1},
        ErrorCase{"flex_magic_is_not_tap",
                  after_lead("08 0a 0000 00 00 0000 00000000 00000000 0000000000000000"),
                  DecodeErrorCode::bad_magic, 24, "magic", 0x08, 1},
        ErrorCase{"extras_too_long",
                  after_lead("80 41 0000 c8 00 0000 000000c8 00000000 0000000000000000"),
                  DecodeErrorCode::extras_too_long, 28, "extlen", 200, 1},
        ErrorCase{"key_too_long",
                  after_lead("80 41 1388 00 00 0000 00001388 00000000 0000000000000000"),
                  DecodeErrorCode::key_too_long, 26, "keylen", 5000, 1},
        ErrorCase{"value_too_long_4GiB",
                  after_lead("80 41 0000 00 00 0000 ffffffff 00000000 0000000000000000"),
                  DecodeErrorCode::value_too_long, 32, "bodylen", 0xffffffff, 1},
        ErrorCase{"value_one_over_the_limit",
                  after_lead("80 41 0002 10 00 0000 0150001c 00000000 0000000000000000 0009"),
                  DecodeErrorCode::value_too_long, 24 + 24 + 16 + 9 + 2, "value", 22020097, 1},
        ErrorCase{"extras_and_key_exceed_body",
                  after_lead("80 42 0005 08 00 0000 0000000a 00000000 0000000000000000"
                             "0000 0000 ff 000000 6d79"),
                  DecodeErrorCode::lengths_exceed_body, 32, "bodylen", 10, 1},
        ErrorCase{"engine_length_exceeds_body",
                  after_lead("80 44 0000 08 00 0000 0000000c 00000000 0000000000000000"
                             "0100 0000 ff 000000 00000001"),
                  DecodeErrorCode::engine_length_exceeds_body, 48, "engine_specific_length", 0x100,
                  1},
        ErrorCase{"engine_length_eats_the_key",
                  after_lead("80 42 0005 08 00 0003 00000015 00000011 0000000000000007"
                             "0009 0000 ff 000000 0000000000000005 6d796b6579"),
                  DecodeErrorCode::engine_length_exceeds_body, 48, "engine_specific_length", 9, 1}),
    [](const auto& info) { return info.param.name; });

TEST(FrameDecoder, ErrorsAreStickyUntilReset) {
  const Bytes bad = hex("42 0a 0000 00 00 0000 00000000 00000000 0000000000000000");
  const Bytes good = hex(golden::kNoop);
  FrameDecoder decoder;
  ASSERT_TRUE(std::holds_alternative<DecodeError>(decoder.decode(bad)));
  auto again = decoder.decode(good);
  ASSERT_TRUE(std::holds_alternative<DecodeError>(again));
  EXPECT_EQ(std::get<DecodeError>(again).code, DecodeErrorCode::bad_magic);
  ASSERT_TRUE(decoder.error());

  decoder.reset(100);
  auto after_reset = decoder.decode(good);
  ASSERT_TRUE(std::holds_alternative<Decoded>(after_reset));
  EXPECT_EQ(std::get<Decoded>(after_reset).frame.offset, 100u);
}

TEST(FrameDecoder, FourGiBClaimFailsFromTheHeaderAloneAndAllocatesNothing) {
  const Bytes header = hex("80 41 0000 10 00 0000 ffffffff 00000000 0000000000000000");
  FrameDecoder decoder;
  const std::size_t before = g_allocations.load();
  auto result = decoder.decode(header);
  const std::size_t after = g_allocations.load();
  ASSERT_TRUE(std::holds_alternative<DecodeError>(result));
  EXPECT_EQ(std::get<DecodeError>(result).code, DecodeErrorCode::value_too_long);
  EXPECT_EQ(after, before) << "decode() allocated for a frame it rejected";
}

// The value limit is the reference's: on the value, not on the body (gomemcached applies
// MaxBodyLen after reading the body, to body minus extras and key).
constexpr std::uint32_t kValueLimit = 22'020'096;

Bytes tap_mutation_header(std::uint32_t bodylen, std::uint16_t nengine) {
  Bytes out = hex("80 41 0002 10 00 0000 00000000 00000000 0000000000000000");
  store_be32(out.data() + header_offset::bodylen, bodylen);
  out.push_back(static_cast<std::uint8_t>(nengine >> 8));
  out.push_back(static_cast<std::uint8_t>(nengine));
  return out;
}

TEST(FrameDecoder, AValueAtTheLimitIsTakenInABodyOverIt) {
  // 16 extras + 9 engine bytes + 2 key bytes + the limit: 22,020,123 bytes of body.
  const std::uint32_t bodylen = 16 + 9 + 2 + kValueLimit;
  FrameDecoder decoder;
  auto result = decoder.decode(tap_mutation_header(bodylen, 9));
  ASSERT_TRUE(std::holds_alternative<NeedMore>(result)) << fmt::format("{}", result);
  EXPECT_EQ(std::get<NeedMore>(result).bytes, 24u + bodylen - 26u);
}

TEST(FrameDecoder, AValueOneOverTheLimitFailsOnceItsEngineLengthIsKnown) {
  const std::uint32_t bodylen = 16 + 9 + 2 + kValueLimit + 1;
  const Bytes start = tap_mutation_header(bodylen, 9);
  FrameDecoder decoder;
  // The header alone cannot tell: the engine-specific length could take the excess.
  auto header_only = decoder.decode(ByteView(start).first(24));
  ASSERT_TRUE(std::holds_alternative<NeedMore>(header_only)) << fmt::format("{}", header_only);
  EXPECT_EQ(std::get<NeedMore>(header_only).bytes, bodylen);
  auto result = decoder.decode(start);
  ASSERT_TRUE(std::holds_alternative<DecodeError>(result)) << fmt::format("{}", result);
  EXPECT_EQ(std::get<DecodeError>(result),
            (DecodeError{DecodeErrorCode::value_too_long, 24 + 16 + 9 + 2, "value", kValueLimit + 1, kValueLimit}));
  EXPECT_EQ(std::get<DecodeError>(result).message(),
            "value_too_long at stream offset 51, field value = 22020097: exceeds the limit 22020096");
}

TEST(FrameDecoder, TheHeaderRefusesOnlyWhatNoEngineLengthCanSave) {
  // With 65535 engine-specific bytes the value is just at the limit: wait for the length.
  const std::uint32_t saved = 16 + 65535 + 2 + kValueLimit;
  EXPECT_TRUE(std::holds_alternative<NeedMore>(FrameDecoder().decode(ByteView(tap_mutation_header(saved, 0)).first(24))));
  auto lost = FrameDecoder().decode(ByteView(tap_mutation_header(saved + 1, 0)).first(24));
  ASSERT_TRUE(std::holds_alternative<DecodeError>(lost));
  EXPECT_EQ(std::get<DecodeError>(lost),
            (DecodeError{DecodeErrorCode::value_too_long, 8, "bodylen", saved + 1, kValueLimit}));
  // A frame without engine-specific bytes has its value's length in its header.
  Bytes noop = hex("80 0a 0000 00 00 0000 00000000 00000000 0000000000000000");
  store_be32(noop.data() + header_offset::bodylen, kValueLimit + 1);
  auto exact = FrameDecoder().decode(noop);
  ASSERT_TRUE(std::holds_alternative<DecodeError>(exact));
  EXPECT_EQ(std::get<DecodeError>(exact).code, DecodeErrorCode::value_too_long);
  EXPECT_EQ(FrameDecoder({.max_value = 10}).limits().max_value, 10u);
}

TEST(FrameDecoder, ALyingEngineLengthFailsBeforeTheBodyIsBuffered) {
  const Bytes start = tap_mutation_header(16 + 2 + 100, 200);
  auto result = FrameDecoder().decode(start);
  ASSERT_TRUE(std::holds_alternative<DecodeError>(result)) << fmt::format("{}", result);
  EXPECT_EQ(std::get<DecodeError>(result).code, DecodeErrorCode::engine_length_exceeds_body);
}

TEST(FrameDecoder, LimitsAreSettings) {
  const Bytes frame = hex(golden::kMutation);  // bodylen 35, keylen 5, extlen 16
  EXPECT_TRUE(std::holds_alternative<Decoded>(FrameDecoder({.max_body = 35}).decode(frame)));
  auto body = FrameDecoder({.max_body = 34}).decode(frame);
  ASSERT_TRUE(std::holds_alternative<DecodeError>(body));
  EXPECT_EQ(std::get<DecodeError>(body).limit, 34u);
  auto key = FrameDecoder({.max_key = 4}).decode(frame);
  ASSERT_TRUE(std::holds_alternative<DecodeError>(key));
  EXPECT_EQ(std::get<DecodeError>(key).code, DecodeErrorCode::key_too_long);
  auto extras = FrameDecoder({.max_extras = 8}).decode(frame);
  ASSERT_TRUE(std::holds_alternative<DecodeError>(extras));
  EXPECT_EQ(std::get<DecodeError>(extras).code, DecodeErrorCode::extras_too_long);
}

TEST(FrameDecoder, ErrorMessageNamesCodeOffsetFieldValueAndLimit) {
  FrameDecoder decoder;
  auto result = decoder.decode(hex("80 41 0000 00 00 0000 ffffffff 00000000 0000000000000000"));
  EXPECT_EQ(fmt::format("{}", std::get<DecodeError>(result)),
            "value_too_long at stream offset 8, field bodylen = 4294967295: the value it leaves is over the limit "
            "22020096");
  decoder.reset();
  result = decoder.decode(hex("42 0a 0000 00 00 0000 00000000 00000000 0000000000000000"));
  EXPECT_EQ(fmt::format("{}", std::get<DecodeError>(result)),
            "bad_magic at stream offset 0, field magic = 0x42: expected 0x80 (request) or 0x81 "
            "(response)");
}

TEST(FrameEncoder, EncodesTheGoldenFrameFromItsParts) {
  const Bytes golden = hex(golden::kMutation);
  Bytes out = {0xaa};  // encoders append
  const Bytes extras = hex("0009 0001 ff 000000 00000012 0000012c");
  const Bytes engine = hex("0000000000000001 00");
  const std::size_t n = encode_frame(out, FrameFields{.opcode = Opcode::tap_mutation,
                                                      .vbucket_or_status = 3,
                                                      .opaque = 0x10,
                                                      .cas = 0x1122,
                                                      .extras = extras,
                                                      .engine_specific = engine,
                                                      .key = as_bytes("mykey"),
                                                      .value = as_bytes("value")});
  EXPECT_EQ(n, golden.size());
  EXPECT_EQ(to_hex(ByteView(out).subspan(1)), to_hex(golden));
  EXPECT_EQ(out[0], 0xaa);
}

TEST(FrameEncoder, RefusesPartsTooLongForTheirLengthFields) {
  Bytes out;
  const Bytes long_key(70000, 'k');
  EXPECT_EQ(encode_frame(out, FrameFields{.key = long_key}), 0u);
  const Bytes long_extras(256, 0);
  EXPECT_EQ(encode_frame(out, FrameFields{.extras = long_extras}), 0u);
  EXPECT_TRUE(out.empty());
}

TEST(Header, ReadWriteRoundTripAndFormat) {
  const Bytes bytes = hex(golden::kConnectRejected);
  const Header h = read_header(bytes.data());
  EXPECT_EQ(h.status(), Status::not_supported);
  EXPECT_EQ(h.bodylen, 13u);
  std::uint8_t out[kHeaderSize];
  write_header(out, h);
  EXPECT_EQ(to_hex(ByteView(out)), to_hex(ByteView(bytes).first(kHeaderSize)));
  EXPECT_EQ(fmt::format("{}", h),
            "{magic=RESPONSE opcode=TAP_CONNECT keylen=0 extlen=0 datatype=0x00 "
            "status=NOT_SUPPORTED bodylen=13 opaque=0x00000000 cas=0}");
}

TEST(Names, OpcodesStatusesAndUnknownValuesPrintReadably) {
  EXPECT_EQ(fmt::format("{}", Opcode::tap_checkpoint_start), "TAP_CHECKPOINT_START");
  EXPECT_EQ(fmt::format("{}", Opcode{0x99}), "0x99");
  EXPECT_EQ(fmt::format("{}", Status::etmpfail), "ETMPFAIL");
  EXPECT_EQ(fmt::format("{}", Status{0x1234}), "0x1234");
  EXPECT_EQ(opcode_from_name("tap_opaque"), Opcode::tap_opaque);
  EXPECT_EQ(status_from_name("Ebusy"), Status::ebusy);
  EXPECT_FALSE(opcode_from_name("TAP_MUTATIONS").has_value());
  for (const auto& entry : all_opcodes()) EXPECT_EQ(opcode_from_name(entry.name), entry.value);
}

TEST(Hex, ParsesWithSeparatorsAndReportsWhereItFailed) {
  EXPECT_EQ(parse_hex("80 0a:FF\n00").value(), (Bytes{0x80, 0x0a, 0xff, 0x00}));
  EXPECT_EQ(parse_hex("80 0g").error(), (DecodeError{DecodeErrorCode::hex_not_a_digit, 4, "hex", 'g', 0}));
  EXPECT_EQ(parse_hex("80 0").error(), (DecodeError{DecodeErrorCode::hex_odd_digits, 3, "hex", '0', 0}));
  EXPECT_EQ(parse_hex("8 0").error(), (DecodeError{DecodeErrorCode::hex_odd_digits, 1, "hex", ' ', 0}));
  EXPECT_EQ(parse_hex("80 0g").error().message(),
            "hex_not_a_digit at text offset 4, field hex = 0x67: not a hex digit");
}

}  // namespace
}  // namespace tapharness::protocol
