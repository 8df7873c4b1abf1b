// The wire defects on the server's bytes, one at a time, as documents: what the defective
// client makes of ep-engine's frames, fed whole and a byte at a time.
#include "client/defects/frame_rewriter.hpp"

#include <gtest/gtest.h>

#include "protocol/hex.hpp"
#include "tests/protocol/golden_frames.hpp"

namespace tapharness::client {
namespace {

using protocol::Bytes;
namespace golden = tapharness::golden;

Bytes frame(std::string_view hex) { return protocol::parse_hex(hex).value(); }

DefectSet with(Defect d) {
  DefectSet set;
  set.add(d);
  return set;
}

struct Seen {
  Bytes out;
  FrameRewriter::Notes notes;
};

// Feeds `in` whole, or one byte at a time; the result must not depend on it.
Seen feed(const DefectSet& defects, const Bytes& in, bool bytewise) {
  FrameRewriter rewriter(defects);
  Seen seen;
  if (!bytewise) {
    rewriter.take(in, seen.out, seen.notes);
  } else {
    for (std::uint8_t b : in) rewriter.take(protocol::ByteView(&b, 1), seen.out, seen.notes);
  }
  EXPECT_FALSE(rewriter.holding()) << "a whole frame leaves nothing held";
  return seen;
}

Seen feed_both_ways(const DefectSet& defects, const Bytes& in) {
  const Seen whole = feed(defects, in, false);
  const Seen bytes = feed(defects, in, true);
  EXPECT_EQ(protocol::to_hex(whole.out), protocol::to_hex(bytes.out));
  EXPECT_EQ(whole.notes.acks, bytes.notes.acks);
  EXPECT_EQ(whole.notes.deletions, bytes.notes.deletions);
  return whole;
}

TEST(FrameRewriter, EngineLengthZeroShiftsTheKeyIntoTheEngineBytes) {
  const Seen seen = feed_both_ways(with(Defect::engine_length_zero), frame(golden::kMutation));
  Bytes expected = frame(golden::kMutation);
  expected[24] = expected[25] = 0;  // the engine-specific length, read as 0
  EXPECT_EQ(protocol::to_hex(seen.out), protocol::to_hex(expected));
}

TEST(FrameRewriter, ResponseMagicIsTakenForARequest) {
  Bytes response = frame(golden::kMutation);
  response[0] = 0x81;
  const Seen seen = feed_both_ways(with(Defect::accept_response_magic), response);
  EXPECT_EQ(seen.out, frame(golden::kMutation));
}

TEST(FrameRewriter, AFrameWhoseLengthsLieCrashesTheReference) {
  Bytes lie = frame(golden::kMutation);
  lie[3] = 0x40;  // keylen 64, past the body
  const Seen seen = feed(with(Defect::crash_on_lying_lengths), lie, false);
  ASSERT_TRUE(seen.notes.crash);
  EXPECT_EQ(*seen.notes.crash, "panic: runtime error: slice bounds out of range [:89] with capacity 35");
  EXPECT_TRUE(seen.out.empty()) << "nothing of the frame reaches the feed";
}

TEST(FrameRewriter, ADeletionsRevSeqnoIsMisreadAsItsFlagsAndExpiry) {
  const Seen seen = feed_both_ways(with(Defect::deletion_flags_from_rev_seqno), frame(golden::kDeletion));
  ASSERT_EQ(seen.notes.deletions.size(), 1u);
  EXPECT_EQ(seen.notes.deletions[0], (std::pair<std::uint32_t, std::uint32_t>{0, 5}));  // rev seqno 5
  EXPECT_EQ(seen.out, frame(golden::kDeletion)) << "the bytes are not changed";
}

TEST(FrameRewriter, UnaskedTapMessagesAreAckedAndAskingOnesAreLeftToTheFeed) {
  Bytes both = frame(golden::kFlush);  // no ACK asked
  const Bytes mutation = frame(golden::kMutation);  // asks
  both.insert(both.end(), mutation.begin(), mutation.end());
  const Seen seen = feed_both_ways(with(Defect::ack_unasked), both);
  ASSERT_EQ(seen.notes.acks.size(), 1u);
  EXPECT_EQ(seen.notes.acks[0], (protocol::AckRequest{protocol::Opcode::tap_flush, 0x24}));
}

// ignore_retransmit: every TAP message that asks for an ACK is noted with its key as the
// server sent it (after the extras and engine-specific bytes), whatever the read sizes.
TEST(FrameRewriter, IgnoreRetransmitNotesTheKeyOfEachFrameThatAsks) {
  const Bytes stream = [] {
    Bytes out = frame(golden::kMutation);                       // asks, opaque 0x10, key "mykey"
    protocol::append(out, frame(golden::kDeletion));            // does not ask
    protocol::append(out, frame(golden::kCheckpointStart));     // asks, opaque 0x22, key "checkpoint_start"
    protocol::append(out, frame(golden::kOpaqueEnableAutoNack));  // asks, opaque 0x26, no key
    protocol::append(out, frame(golden::kNoop));                // not a TAP message
    return out;
  }();
  using Asked = FrameRewriter::AskedAck;
  using protocol::Opcode;
  const std::vector<Asked> expected{{{Opcode::tap_mutation, 0x10}, "mykey"},
                                    {{Opcode::tap_checkpoint_start, 0x22}, "checkpoint_start"},
                                    {{Opcode::tap_opaque, 0x26}, ""}};
  const Seen whole = feed(with(Defect::ignore_retransmit), stream, false);
  const Seen bytewise = feed(with(Defect::ignore_retransmit), stream, true);
  EXPECT_EQ(whole.notes.asked, expected);
  EXPECT_EQ(bytewise.notes.asked, expected);
  EXPECT_EQ(whole.out, stream) << "the bytes are not changed";
  EXPECT_TRUE(FrameRewriter::needed(with(Defect::ignore_retransmit)));
  EXPECT_TRUE(feed(with(Defect::engine_length_zero), stream, false).notes.asked.empty()) << "only with the defect";
}

TEST(FrameRewriter, HeldBytesGoOutUnchangedWhenTheFrameStalls) {
  FrameRewriter rewriter(with(Defect::engine_length_zero));
  const Bytes mutation = frame(golden::kMutation);
  Bytes out;
  FrameRewriter::Notes notes;
  rewriter.take(protocol::ByteView(mutation.data(), 10), out, notes);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(rewriter.holding());
  rewriter.release(out);  // no more came soon: the frame is not rewritten
  rewriter.take(protocol::ByteView(mutation.data() + 10, mutation.size() - 10), out, notes);
  EXPECT_EQ(out, mutation);
}

TEST(FrameRewriter, OnlyDefectsOnTheServersBytesNeedIt) {
  EXPECT_FALSE(FrameRewriter::needed(with(Defect::never_ack)));
  EXPECT_FALSE(FrameRewriter::needed(with(Defect::drop_flush)));
  EXPECT_TRUE(FrameRewriter::needed(with(Defect::engine_length_zero)));
  EXPECT_TRUE(FrameRewriter::needed(reference_defects()));
}

TEST(Defects, TheReferenceProfileIsItsWeaknessesTogether) {
  const DefectSet reference = reference_defects();
  EXPECT_TRUE(reference.has(Defect::no_idle_timeout));
  EXPECT_TRUE(reference.has(Defect::eof_after_header));
  EXPECT_TRUE(reference.has(Defect::drop_checkpoint_id));
  EXPECT_FALSE(reference.has(Defect::never_ack)) << "the reference ACKs";
  std::vector<std::string> words{"reference", "skip_ack:2"};
  const auto parsed = parse_defects(words);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->has(Defect::skip_ack));
  EXPECT_TRUE(parsed->has(Defect::end_stream_as_eof));
  EXPECT_EQ(parsed->skip_ack_n, 2u);
  EXPECT_EQ(all_defects().size(), kDefectCount);
  EXPECT_GE(kDefectCount, 20u);
}

TEST(Defects, TheSessionDefectsAreAppendedAndNamed) {
  EXPECT_EQ(static_cast<std::size_t>(Defect::stay_connected_after_error), 28u) << "the old values keep their numbers";
  EXPECT_EQ(static_cast<std::size_t>(Defect::no_reconnect), 29u);
  EXPECT_EQ(static_cast<std::size_t>(Defect::ignore_retransmit), 30u);
  EXPECT_EQ(kDefectCount, 31u);
  EXPECT_EQ(name_of(Defect::no_reconnect), "no_reconnect");
  EXPECT_EQ(name_of(Defect::ignore_retransmit), "ignore_retransmit");
  const std::vector<std::string> words{"no_reconnect", "ignore_retransmit"};
  const auto parsed = parse_defects(words);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->describe(), "no_reconnect,ignore_retransmit");
}

}  // namespace
}  // namespace tapharness::client
