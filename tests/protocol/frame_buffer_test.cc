// FrameBuffer: one allocation of the read size, reused; the part of a frame left over from
// one read moved to the front, not a reason to grow; growth only for a frame larger than a
// read, and then to exactly that frame. capacity() is what is allocated.
#include "protocol/frame_buffer.hpp"

#include <cstring>
#include <string_view>

#include <gtest/gtest.h>

namespace tapharness::protocol {
namespace {

constexpr std::size_t kReadSize = 4096;

// Writes `text` into the next read's space, as a socket read would.
void receive(FrameBuffer& buffer, std::string_view text, std::size_t at_least = 0) {
  const auto space = buffer.prepare(at_least);
  ASSERT_GE(space.size(), text.size());
  std::memcpy(space.data(), text.data(), text.size());
  buffer.commit(text.size());
}

std::string_view text_of(const FrameBuffer& buffer) {
  return {reinterpret_cast<const char*>(buffer.data().data()), buffer.size()};
}

TEST(FrameBuffer, TheFirstReadGetsTheReadSizeInOneAllocation) {
  FrameBuffer buffer(kReadSize);
  EXPECT_EQ(buffer.capacity(), 0u);  // nothing until the first read
  EXPECT_EQ(buffer.prepare().size(), kReadSize);
  EXPECT_EQ(buffer.capacity(), kReadSize);
}

TEST(FrameBuffer, AFrameStraddlingTwoReadsMovesToTheFrontWithoutGrowing) {
  FrameBuffer buffer(kReadSize);
  const std::string whole(kReadSize - 10, 'a');
  receive(buffer, whole + "0123456789");  // the read fills the buffer; a frame's head ends it
  buffer.consume(whole.size());           // the whole frames are decoded
  const auto space = buffer.prepare(100);  // the rest of the straddling frame
  EXPECT_EQ(text_of(buffer), "0123456789");
  EXPECT_EQ(buffer.data().data(), space.data() - 10);  // at the front, the read right after it
  EXPECT_GE(space.size(), 100u);
  EXPECT_EQ(buffer.size() + space.size(), kReadSize);  // a full read's worth in all
  EXPECT_EQ(buffer.capacity(), kReadSize);
}

TEST(FrameBuffer, ManyReadsEndingMidFrameNeverGrowIt) {
  FrameBuffer buffer(kReadSize);
  for (std::size_t round = 0; round < 1000; ++round) {
    const std::size_t tail = 1 + round % 500;  // the straddling frame's head
    const auto space = buffer.prepare(tail + 1);
    const std::size_t n = space.size();
    std::memset(space.data(), 'x', n);
    buffer.commit(n);
    buffer.consume(buffer.size() - tail);
    ASSERT_EQ(buffer.capacity(), kReadSize) << "round " << round;
  }
}

TEST(FrameBuffer, ReadsThatBringLittleAppendWithoutMovingAnything) {
  FrameBuffer buffer(kReadSize);
  receive(buffer, "head-of-a-frame");
  const auto space = buffer.prepare(10);
  EXPECT_EQ(space.data(), buffer.data().data() + buffer.size());
  receive(buffer, "-rest");
  EXPECT_EQ(text_of(buffer), "head-of-a-frame-rest");
}

TEST(FrameBuffer, AFrameLargerThanAReadGrowsItToExactlyThatFrame) {
  FrameBuffer buffer(kReadSize);
  const std::string head(100, 'h');
  receive(buffer, head);
  const std::size_t frame = 3 * kReadSize + 7;
  const auto space = buffer.prepare(frame - head.size());
  EXPECT_EQ(space.size(), frame - head.size());
  EXPECT_EQ(buffer.capacity(), frame);  // not doubled: what is allocated is what is needed
  EXPECT_EQ(text_of(buffer), head);
}

TEST(FrameBuffer, ConsumingEverythingRewindsToTheFront) {
  FrameBuffer buffer(kReadSize);
  receive(buffer, "one whole frame");
  buffer.consume(buffer.size());
  EXPECT_TRUE(buffer.empty());
  const auto space = buffer.prepare();
  EXPECT_EQ(space.size(), kReadSize);
  EXPECT_EQ(buffer.data().data(), space.data());
}

}  // namespace
}  // namespace tapharness::protocol
