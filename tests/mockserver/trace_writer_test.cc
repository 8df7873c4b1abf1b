// A --trace transcript a person can read: microsecond timestamps, long frames shown by their
// first and last rows, and a size cap that says where it cut.
#include "mockserver/trace_writer.hpp"

#include <gtest/gtest.h>

#include "protocol/tap_message.hpp"
#include "tests/support/temp_files.hpp"

namespace tapharness::mockserver {
namespace {

using tapharness::testing::read_text_file;
using tapharness::testing::temp_dir;

TEST(TraceWriter, TimestampsCountMicroseconds) {
  const TraceRecord note{.at = std::chrono::microseconds(1'234'567), .note = "hello"};
  EXPECT_EQ(format_trace_record(note), "[   1.234567s] line 0    -- hello\n");
}

TEST(TraceWriter, ALongFrameShowsItsFirstAndLastRows) {
  const std::string value(100'000, 'v');
  const protocol::Bytes frame = protocol::ep_engine::mutation({.key = "k", .value = value});
  const std::string text = format_trace_record(
      TraceRecord{.kind = TraceRecord::Kind::received, .frame = frame});
  EXPECT_LT(text.size(), 4096u);
  EXPECT_NE(text.find("bytes not shown"), std::string::npos);
  EXPECT_NE(text.find(fmt::format("{:6}", (frame.size() - 1) / 32 * 32)), std::string::npos) << "the last row";
}

TEST(TraceWriter, StopsAtItsLimitAndSaysHowMuchItLeftOut) {
  const std::string path = (temp_dir() / "capped.trace").string();
  {
    TraceWriter writer(path, 100);
    for (int i = 0; i < 10; ++i) writer.write(TraceRecord{.note = fmt::format("record {}", i)});
  }
  const std::string text = read_text_file(path);
  EXPECT_NE(text.find("record 0"), std::string::npos);
  EXPECT_EQ(text.find("record 9"), std::string::npos);
  EXPECT_NE(text.find("the trace stops at its limit of 100 bytes; 7 more records were left out"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace tapharness::mockserver
