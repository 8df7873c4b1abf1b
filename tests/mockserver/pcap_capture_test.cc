// --pcap's adapter (mockserver/pcap_capture.hpp): trace records become packets. Each planned
// chunk is its own write with its boundary in a comment, the bytes are those written after
// faults, a value generated as written is a hole said in a comment, each Ending is the FIN
// or RST it names, and the limit says what it left out. Read back with capture/'s reader.
#include "mockserver/pcap_capture.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "capture/capture_reader.hpp"
#include "tests/support/temp_files.hpp"

namespace tapharness::mockserver {
namespace {

using protocol::Bytes;
using std::chrono::microseconds;

Bytes pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + 1);
  return b;
}

ObservedConnection connection(std::uint16_t client_port) {
  return {.scenario = "unit",
          .connection = 1,
          .client = {asio::ip::make_address("127.0.0.1"), client_port},
          .server = {asio::ip::make_address("127.0.0.1"), 11210}};
}

capture::Capture read_back(const std::string& path) {
  const std::string file = tapharness::testing::read_text_file(path);
  auto read = capture::read_capture(
      protocol::ByteView(reinterpret_cast<const std::uint8_t*>(file.data()), file.size()));
  EXPECT_TRUE(read) << read.error().message();
  return read ? std::move(*read) : capture::Capture{};
}

TEST(PcapCapture, RecordsBecomeWritesCommentsHolesAndEndings) {
  const std::string path = (tapharness::testing::temp_dir() / "records.pcapng").string();
  const Bytes planned = pattern(40), client = pattern(24), head = pattern(24);
  Bytes written = pattern(30);  // cut, and a byte corrupted
  written[12] ^= 0xff;
  const scenario::SourceLocation line9("x.scenario", 9, 1), line12("x.scenario", 12, 1);
  {
    auto pcap = PcapCapture::open(path);
    ASSERT_TRUE(pcap) << pcap.error().message();
    TraceSink sink = (*pcap)->observer()(connection(40001));
    sink({.kind = TraceRecord::Kind::received,
          .at = microseconds(10),
          .frame = client,
          .location = line9});
    sink({.kind = TraceRecord::Kind::sent,
          .at = microseconds(20),
          .frame = planned,
          .chunks = {{0, 10, {}}, {10, 30, std::chrono::milliseconds(2)}},
          .written = written,
          .location = line12});
    sink({.kind = TraceRecord::Kind::sent,
          .at = microseconds(30),
          .frame = head,
          .chunks = {{0, 24, {}}},
          .written = head,
          .location = line12});
    sink({.kind = TraceRecord::Kind::note,
          .at = microseconds(30),
          .note = "then its 5000-byte value, generated as it is written",
          .location = line12,
          .generated_bytes = 5000});
    sink({.kind = TraceRecord::Kind::sent,
          .at = microseconds(40),
          .frame = head,
          .chunks = {{0, 24, {}}},
          .written = head,
          .location = line12});
    sink({.kind = TraceRecord::Kind::closed,
          .at = microseconds(50),
          .note = "the client's FIN",
          .location = line12,
          .ending = Ending::client_closed});
    sink({.kind = TraceRecord::Kind::closed,
          .at = microseconds(60),
          .note = "server reset the connection (RST)",
          .location = line12,
          .ending = Ending::server_rst});
    EXPECT_EQ((*pcap)->left_out(), "");
  }
  const capture::Capture read = read_back(path);
  ASSERT_EQ(read.conversations.size(), 1u);
  const capture::Conversation& c = read.conversations[0];
  EXPECT_EQ(c.client, (capture::Endpoint{"127.0.0.1", 40001}));
  EXPECT_EQ(c.server, (capture::Endpoint{"127.0.0.1", 11210}));
  std::vector<std::string> seen;
  for (const capture::Segment& s : c.segments) {
    seen.push_back(fmt::format("{} {} {}{}{}{} {}", s.direction, s.offset, s.payload.size(),
                               s.gap_before ? fmt::format(" gap {}", s.gap_before) : "",
                               s.fin ? " FIN" : "", s.rst ? " RST" : "", s.comment));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "to_server 0 24 line 9: a frame from the client",
                      "to_client 0 10 a fault cut the frame to 30 of its 40 bytes; line 12: write "
                      "1 of 2 of the frame, "
                      "bytes [0,10)",
                      "to_client 10 20 line 12: write 2 of 2 of the frame, bytes [10,30) after 2ms",
                      "to_client 30 24 line 12",
                      // The reader holds bytes after a hole until it is sure the hole stays (here
                      // the server's RST), so the client's FIN comes back first.
                      "to_server 24 0 FIN line 12: the client's FIN",
                      "to_client 5054 24 gap 5000 line 12: 5000 value bytes generated as written "
                      "are not captured; line 12",
                      "to_client 5078 0 RST line 12: server reset the connection (RST)",
                  }));
  Bytes sent = c.segments[1].payload;
  sent.insert(sent.end(), c.segments[2].payload.begin(), c.segments[2].payload.end());
  EXPECT_EQ(sent, written) << "the bytes written after faults, not the planned frame";
  // The delayed chunk is 2 ms after the record.
  EXPECT_EQ(c.segments[2].at_us - c.segments[1].at_us, 2000);
}

// Under `writes coalesced` the frames wait in one write: the capture shows that write, split
// only where a segment's payload ends, not a segment per frame.
TEST(PcapCapture, CoalescedFramesShowAsTheOneWriteTheyWentOutIn) {
  const std::string path = (tapharness::testing::temp_dir() / "coalesced.pcapng").string();
  const Bytes frame = pattern(600);
  Bytes all;
  {
    auto pcap = PcapCapture::open(path);
    ASSERT_TRUE(pcap) << pcap.error().message();
    TraceSink sink = (*pcap)->observer()(connection(40003));
    const scenario::SourceLocation line3("x.scenario", 3, 1);
    for (int i = 0; i < 3; ++i) {
      sink({.kind = TraceRecord::Kind::sent,
            .at = microseconds(10 + i),
            .frame = frame,
            .chunks = {{0, frame.size(), {}}},
            .written = frame,
            .location = line3,
            .coalesced = true});
      all.insert(all.end(), frame.begin(), frame.end());
    }
    sink({.at = microseconds(20),
          .written = all,
          .note = "3 frames went out in one write of 1800 bytes (writes coalesced)",
          .location = line3,
          .coalesced_write = true});
  }
  const capture::Capture read = read_back(path);
  ASSERT_EQ(read.conversations.size(), 1u);
  std::vector<std::string> seen;
  Bytes sent;
  for (const capture::Segment& s : read.conversations[0].segments) {
    seen.push_back(fmt::format("{} {} {}", s.offset, s.payload.size(), s.comment));
    sent.insert(sent.end(), s.payload.begin(), s.payload.end());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "0 1460 line 3: 3 frames went out in one write of 1800 bytes (writes coalesced); 1800 bytes in 2 "
                      "segments",
                      "1460 340 ",
                  }));
  EXPECT_EQ(sent, all);
}

TEST(PcapCapture, TheLimitSaysWhatItLeftOut) {
  const std::string path = (tapharness::testing::temp_dir() / "limited.pcapng").string();
  auto pcap = PcapCapture::open(path, 8 * 1024);
  ASSERT_TRUE(pcap);
  TraceSink sink = (*pcap)->observer()(connection(40002));
  const Bytes frame = pattern(1000);
  for (int i = 0; i < 20; ++i) {
    sink({.kind = TraceRecord::Kind::sent,
          .at = microseconds(i),
          .frame = frame,
          .chunks = {{0, 1000, {}}},
          .written = frame});
  }
  const std::string said = (*pcap)->left_out();
  EXPECT_NE(said.find(path + ": the capture stopped at its limit of "), std::string::npos) << said;
  EXPECT_NE(said.find("packets were left out"), std::string::npos) << said;
}

TEST(PcapCapture, APathThatCannotBeWrittenIsNamed) {
  auto pcap = PcapCapture::open("/no-such-dir/x.pcapng");
  ASSERT_FALSE(pcap);
  EXPECT_EQ(pcap.error().message(),
            "/no-such-dir/x.pcapng: cannot be written: No such file or directory");
}

}  // namespace
}  // namespace tapharness::mockserver
