// Rendering a volume repeat from a compiled template gives, frame for frame, the bytes and
// ACK facts a full render gives: across digit-count boundaries of the index, with numbered
// keys and fields, the producer sequence, random values, and sends alternating.
#include "scenario/render.hpp"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string_view>

#include "protocol/hex.hpp"
#include "tests/scenario/parse_helpers.hpp"

namespace tapharness::scenario::testing {
namespace {

void expect_same_as_full_renders_at(const std::vector<std::string>& send_lines, const std::vector<std::uint64_t>& indexes) {
  std::vector<Send> sends;
  for (const auto& line : send_lines) {
    sends.push_back(std::get<Send>(only_step<Repeat>("repeat 2 " + line).body.at(0).action));
  }
  ScenarioRandom fast_random(7), full_random(7);
  FrameRenderer renderer(fast_random);
  std::uint32_t fast_opaque = 1, full_opaque = 1;
  for (const std::uint64_t i : indexes) {
    for (const Send& send : sends) {
      protocol::Bytes fast;
      const FrameInfo info = renderer.render(send.frame(), i, fast_opaque, fast);
      const RenderedFrame full = render_frame(send.frame(), i, full_random, full_opaque);
      ASSERT_EQ(protocol::to_hex(fast), protocol::to_hex(full.bytes)) << "index " << i;
      ASSERT_EQ(info.opaque, full.opaque) << "index " << i;
      ASSERT_EQ(info.wants_ack, full.wants_ack);
      ASSERT_EQ(info.uses_sequence, full.uses_sequence);
      fast_opaque += info.uses_sequence;
      full_opaque += full.uses_sequence;
    }
  }
}

void expect_same_as_full_renders(const std::vector<std::string>& send_lines, std::uint64_t count) {
  std::vector<std::uint64_t> indexes(count);
  for (std::uint64_t i = 0; i < count; ++i) indexes[i] = i;
  expect_same_as_full_renders_at(send_lines, indexes);
}

// The digits of the next index are the last ones incremented: indexes that jump, go back,
// repeat or start again after a carry added a digit must not take that shortcut.
TEST(FrameRenderer, TemplatesMatchFullRendersWhenTheIndexJumpsOrStartsAgain) {
  // 9 -> 10 adds a digit before any two-digit template exists; then 10 again.
  expect_same_as_full_renders_at({R"(send mutation key="key:{n}" cas={n})"}, {8, 9, 10, 10, 11});
  std::vector<std::uint64_t> indexes;
  for (std::uint64_t i = 0; i <= 12; ++i) indexes.push_back(i);
  for (std::uint64_t i = 8; i <= 11; ++i) indexes.push_back(i);        // again, from before the carry
  for (const std::uint64_t i : {10, 10, 99, 100, 7, 8, 1000, 999, 1000, 1001}) indexes.push_back(i);
  expect_same_as_full_renders_at({R"(send mutation key="key:{n}:{n}" value=fill(10) cas={n})"}, indexes);
}

// A run of frames rendered back to back gives the bytes, frame ends and producer sequence
// that one full render per frame gives, across digit boundaries; it stops at the limit and
// before a frame that asks for an ACK.
TEST(FrameRenderer, ARunOfFramesMatchesFullRendersFrameByFrame) {
  for (const std::string line : {R"(send mutation key="k{n}" value=random(30) cas={n})", R"(send deletion key="d{n}")"}) {
    SCOPED_TRACE(line);
    const Send send = std::get<Send>(only_step<Repeat>("repeat 2 " + line).body.at(0).action);
    ScenarioRandom fast_random(9), full_random(9);
    FrameRenderer renderer(fast_random);
    protocol::Bytes fast, full;
    std::vector<std::size_t> ends, full_ends;
    std::uint32_t opaque = 1, full_opaque = 1;
    std::uint64_t index = 0;
    while (index < 1200) {
      bool sequence = false;
      const std::uint64_t run = renderer.render_run(send.frame(), index, 1200 - index, opaque, fast, fast.size() + 3000,
                                                    1024, ends, sequence);
      if (run == 0) {  // no template yet: as the engine does, one full render
        const FrameInfo& info = renderer.render(send.frame(), index, opaque, fast);
        ends.push_back(fast.size());
        opaque += info.uses_sequence;
        ++index;
        continue;
      }
      if (sequence) opaque += static_cast<std::uint32_t>(run);
      index += run;
    }
    for (std::uint64_t i = 0; i < 1200; ++i) {
      const RenderedFrame frame = render_frame(send.frame(), i, full_random, full_opaque);
      full_opaque += frame.uses_sequence;
      full.insert(full.end(), frame.bytes.begin(), frame.bytes.end());
      full_ends.push_back(full.size());
    }
    EXPECT_EQ(protocol::to_hex(fast), protocol::to_hex(full));
    EXPECT_EQ(ends, full_ends);
    EXPECT_EQ(opaque, full_opaque);
  }
  // A send that asks for an ACK is never part of a run.
  const Send acked = std::get<Send>(only_step<Repeat>(R"(repeat 2 send mutation key="k{n}" ack)").body.at(0).action);
  ScenarioRandom random(9);
  FrameRenderer renderer(random);
  protocol::Bytes out;
  std::vector<std::size_t> ends;
  bool sequence = false;
  renderer.render(acked.frame(), 0, 1, out);
  EXPECT_EQ(renderer.render_run(acked.frame(), 1, 10, 2, out, 1 << 20, 1024, ends, sequence), 0u);
}

TEST(FrameRenderer, TemplatesMatchFullRendersForNumberedKeysAndFields) {
  expect_same_as_full_renders({R"(send mutation vb={n} key="key:{n}:{n}" value=fill(100) cas={n} flags={n} expiry={n} rev_seqno={n} nru={n} datatype={n} ack)"},
                              1100);
}

TEST(FrameRenderer, TemplatesMatchFullRendersForRandomValuesAndTheSequence) {
  expect_same_as_full_renders({R"(send mutation key="k{n}" value=random(37))", R"(send deletion key="d{n}" opaque={n})",
                               R"(send mutation key="fixed" value=x"0102" opaque=9)"},
                              120);
}

TEST(FrameRenderer, SendsThatCannotBeTemplatedRenderInFull) {
  expect_same_as_full_renders({R"(send mutation key="k{n}" value="v{n}" bodylen=0x30)", R"(send opaque code=1 vb={n})",
                               R"(send mutation key=random(8))"},
                              30);
}

// The seeded letters are part of what a scenario means: a seed names the same bytes on every
// platform and in every release, whether drawn one at a time or eight per draw.
TEST(ScenarioRandom, TheSameSeedGivesTheSameLettersFromAnAlphabetOfSixtyTwo) {
  ScenarioRandom a(42), b(42), c(43);
  const std::string drawn = a.text(1000);
  EXPECT_EQ(drawn, b.text(1000));
  EXPECT_NE(drawn, c.text(1000));
  EXPECT_EQ(drawn.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), std::string::npos);
  EXPECT_EQ(ScenarioRandom(42).text(10), drawn.substr(0, 10));  // a prefix is the prefix
}

// Short values are windows of one drawn pool at drawn offsets: still a different value each
// time, the same sequence of them for the same seed.
TEST(ScenarioRandom, ShortValuesDifferFromEachOtherAndRepeatWithTheSeed) {
  ScenarioRandom a(5), b(5);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string value = a.text(100);
    ASSERT_EQ(value, b.text(100));
    seen.insert(value);
  }
  EXPECT_GE(seen.size(), 990u);  // 1,000 offsets into 65,536: a few may coincide
  EXPECT_EQ(ScenarioRandom(5).text(ScenarioRandom::kMaxWindow + 1).size(), ScenarioRandom::kMaxWindow + 1);
}

TEST(ScenarioRandom, LettersAreSpreadEvenly) {
  ScenarioRandom random(1);
  const std::string drawn = random.text(62 * 4000);
  std::array<int, 256> seen{};
  for (unsigned char c : drawn) ++seen[c];
  for (unsigned char c : std::string_view("azAZ09")) {
    EXPECT_NEAR(seen[c], 4000, 400) << "letter " << c;  // about 6 standard deviations
  }
}

}  // namespace
}  // namespace tapharness::scenario::testing
