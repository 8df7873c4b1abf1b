// Transcripts read back (tools/trace_text.hpp): what TraceWriter writes comes back as the
// records' times, lines, directions and bytes (the bytes written after faults when they
// differ); a long frame is marked as shown only in part; text that lies is an error naming
// its line and byte.
#include "tools/trace_text.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "mockserver/trace_writer.hpp"

namespace tapharness::tools {
namespace {

using mockserver::TraceRecord;
using protocol::Bytes;

Bytes pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 13);
  return b;
}

std::string text_of(const std::vector<TraceRecord>& records) {
  std::string out;
  for (const auto& r : records) out += mockserver::format_trace_record(r);
  return out;
}

TEST(TraceText, RecordsComeBackWithTheirBytes) {
  const Bytes frame = pattern(40), cut = pattern(30), client = pattern(24),
              long_frame = pattern(1000);
  const scenario::SourceLocation at("x.scenario", 7, 1);
  const std::string text = text_of({
      {.kind = TraceRecord::Kind::received,
       .at = std::chrono::microseconds(12),
       .frame = client,
       .location = at},
      {.kind = TraceRecord::Kind::sent,
       .at = std::chrono::microseconds(1'000'034),
       .frame = frame,
       .chunks = {{0, 10, {}}, {10, 30, {}}},
       .written = cut,
       .location = at},
      {.kind = TraceRecord::Kind::note,
       .at = std::chrono::microseconds(40),
       .note = "a note",
       .location = at},
      {.kind = TraceRecord::Kind::sent,
       .at = std::chrono::microseconds(50),
       .frame = long_frame,
       .chunks = {{0, 1000, {}}},
       .written = long_frame,
       .location = at},
  });
  ASSERT_TRUE(looks_like_trace(text)) << text;
  auto entries = parse_trace(text);
  ASSERT_TRUE(entries) << entries.error().message();
  ASSERT_EQ(entries->size(), 4u);
  const auto& e = *entries;
  EXPECT_EQ(e[0].kind, TraceEntry::Kind::from_client);
  EXPECT_EQ(e[0].at_us, 12);
  EXPECT_EQ(e[0].line, 7);
  EXPECT_EQ(e[0].bytes, client);
  EXPECT_EQ(e[1].kind, TraceEntry::Kind::from_server);
  EXPECT_EQ(e[1].at_us, 1'000'034);
  EXPECT_EQ(e[1].bytes, cut) << "the bytes written after faults, not the planned frame";
  EXPECT_EQ(e[1].size, 30u);
  EXPECT_EQ(e[2].kind, TraceEntry::Kind::note);
  EXPECT_EQ(e[2].note, "a note");
  EXPECT_FALSE(e[3].whole);
  EXPECT_EQ(e[3].size, 1000u);
  EXPECT_TRUE(e[1].whole && e[0].whole);
}

TEST(TraceText, TextThatLiesIsAnErrorAtItsLine) {
  const std::string ack = "         0 814400000000000000000000000000010000000000000000\n";
  auto count = parse_trace("[   0.000001s] line 3    <- client, 25 bytes\n" + ack);
  ASSERT_FALSE(count);
  EXPECT_EQ(count.error().message(), "line 1: the record says 25 bytes, its hex rows hold 24");
  const std::string row = "         0 " + std::string(64, 'a') + "\n";
  const std::string head = "[   0.000001s] line 3    -> server, 64 bytes planned\n";
  auto jump = parse_trace(head + row + "        64 " + std::string(64, 'a') + "\n");
  ASSERT_FALSE(jump);
  EXPECT_EQ(jump.error().message(),
            fmt::format("line 3 (byte {}): a hex row at offset 64 where 32 comes next",
                        head.size() + row.size()));
  auto digits = parse_trace(head + "         0 8g\n");
  ASSERT_FALSE(digits);
  EXPECT_NE(digits.error().message().find(fmt::format(
                "line 2 (byte {}): a hex row that does not parse: hex_not_a_digit", head.size())),
            std::string::npos)
      << digits.error().message();
  auto kind = parse_trace("[   0.000001s] line 3    ?? what\n");
  ASSERT_FALSE(kind);
  EXPECT_EQ(kind.error().where, "line 1 (byte 0)");
  EXPECT_FALSE(looks_like_trace("80 0a 00 00\n"));
  auto hex = parse_trace("80 0a\n");
  ASSERT_FALSE(hex);
  EXPECT_EQ(hex.error().message(),
            "line 1 (byte 0): not a transcript: it starts with no '[   0.000000s] line N' record");
}

}  // namespace
}  // namespace tapharness::tools
