// The reader on captures made by hand: classic pcap in both byte orders and resolutions,
// link types, TCP reassembly (out of order, retransmitted, overlapping, mid-stream), and
// hostile files (wrong magic, truncated or lying blocks), which give a typed error naming
// the byte offset and never crash or allocate beyond the limits.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "capture/capture_reader.hpp"
#include "capture/pcapng_writer.hpp"

namespace tapharness::capture {
namespace {

using protocol::Bytes;
using protocol::ByteView;

Bytes bytes_of(std::string_view text) { return Bytes(text.begin(), text.end()); }

void put32(Bytes& b, std::uint32_t v, bool big) {
  for (int i = 0; i < 4; ++i)
    b.push_back(static_cast<std::uint8_t>(v >> (big ? 24 - 8 * i : 8 * i)));
}
void put16(Bytes& b, std::uint16_t v, bool big) {
  for (int i = 0; i < 2; ++i)
    b.push_back(static_cast<std::uint8_t>(v >> (big ? 8 - 8 * i : 8 * i)));
}

// A bare IPv4+TCP packet (checksums left 0: the reader does not check them).
Bytes tcp_packet(std::uint16_t from, std::uint16_t to, std::uint32_t seq, std::uint8_t flags,
                 std::string_view data) {
  Bytes p(40 + data.size(), 0);
  std::copy(data.begin(), data.end(), p.begin() + 40);
  p[0] = 0x45;
  protocol::store_be16(p.data() + 2, static_cast<std::uint16_t>(40 + data.size()));
  p[8] = 64;
  p[9] = 6;
  p[12] = 10, p[15] = 1;                   // 10.0.0.1
  p[16] = 10, p[19] = 2;                   // 10.0.0.2
  if (from > to) std::swap(p[15], p[19]);  // the higher port is always on 10.0.0.2
  protocol::store_be16(p.data() + 20, from);
  protocol::store_be16(p.data() + 22, to);
  protocol::store_be32(p.data() + 24, seq);
  p[32] = 0x50;
  p[33] = flags;
  return p;
}
constexpr std::uint8_t kSyn = 0x02, kAck = 0x10, kFin = 0x01, kRst = 0x04;

// A classic pcap of `packets` with link type `linktype`.
Bytes pcap(const std::vector<Bytes>& packets, bool big = false, bool nanos = false,
           std::uint32_t linktype = 101) {
  Bytes f;
  put32(f, nanos ? 0xa1b23c4d : 0xa1b2c3d4, big);
  put16(f, 2, big);
  put16(f, 4, big);
  put32(f, 0, big);
  put32(f, 0, big);
  put32(f, 65535, big);
  put32(f, linktype, big);
  std::uint32_t t = 0;
  for (const Bytes& p : packets) {
    put32(f, 100, big);
    put32(f, nanos ? 1000 * ++t : ++t, big);
    put32(f, static_cast<std::uint32_t>(p.size()), big);
    put32(f, static_cast<std::uint32_t>(p.size()), big);
    f.insert(f.end(), p.begin(), p.end());
  }
  return f;
}

std::string stream(const Conversation& c, Direction d) {
  std::string out;
  for (const Segment& s : c.segments) {
    if (s.direction != d) continue;
    if (s.payload.empty() && !s.fin && !s.rst) out += "[empty]";  // a segment must bring something
    if (s.gap_before) out += "[gap " + std::to_string(s.gap_before) + "]";
    out.append(s.payload.begin(), s.payload.end());
    if (s.fin) out += "[FIN]";
    if (s.rst) out += "[RST]";
  }
  return out;
}

TEST(Reader, ClassicPcapEitherByteOrderAndResolution) {
  const std::vector<Bytes> packets = {
      tcp_packet(40000, 11210, 99, kSyn, ""), tcp_packet(11210, 40000, 499, kSyn | kAck, ""),
      tcp_packet(40000, 11210, 100, kAck, "hello"), tcp_packet(11210, 40000, 500, kAck, "world")};
  for (bool big : {false, true}) {
    for (bool nanos : {false, true}) {
      auto capture = read_capture(pcap(packets, big, nanos));
      ASSERT_TRUE(capture) << capture.error().message();
      EXPECT_EQ(capture->format, nanos ? Format::pcap_ns : Format::pcap_us);
      ASSERT_EQ(capture->conversations.size(), 1u);
      const Conversation& c = capture->conversations[0];
      EXPECT_EQ(c.client, (Endpoint{"10.0.0.2", 40000}));
      EXPECT_EQ(stream(c, Direction::to_server), "hello");
      EXPECT_EQ(stream(c, Direction::to_client), "world");
      EXPECT_EQ(c.segments[0].at_us, 100'000'003);
    }
  }
}

TEST(Reader, LinkTypes) {
  const Bytes ip = tcp_packet(40000, 11210, 1, kAck, "x");
  Bytes ethernet(12, 0);
  ethernet.insert(ethernet.end(), {0x81, 0x00, 0x00, 0x05, 0x08, 0x00});  // a VLAN tag, then IPv4
  ethernet.insert(ethernet.end(), ip.begin(), ip.end());
  Bytes null_le = {2, 0, 0, 0};
  null_le.insert(null_le.end(), ip.begin(), ip.end());
  Bytes sll(14, 0);
  sll.insert(sll.end(), {0x08, 0x00});
  sll.insert(sll.end(), ip.begin(), ip.end());
  Bytes sll2 = {0x08, 0x00};
  sll2.resize(20, 0);
  sll2.insert(sll2.end(), ip.begin(), ip.end());
  for (auto [link, packet] : std::vector<std::pair<std::uint32_t, Bytes>>{
           {1, ethernet}, {0, null_le}, {113, sll}, {276, sll2}, {101, ip}, {228, ip}}) {
    auto capture = read_capture(pcap({packet}, false, false, link));
    ASSERT_TRUE(capture) << capture.error().message();
    ASSERT_EQ(capture->conversations.size(), 1u) << "link type " << link;
    EXPECT_EQ(capture->conversations[0].bytes_to_server, 1u) << "link type " << link;
  }
  auto other = read_capture(pcap({ip}, false, false, 147));  // a user link type: not read
  ASSERT_TRUE(other);
  EXPECT_EQ(other->skipped, 1u);
}

TEST(Reader, ReassemblesOutOfOrderRetransmittedAndOverlappingSegments) {
  auto capture = read_capture(pcap({
      tcp_packet(40000, 11210, 99, kSyn, ""),
      tcp_packet(40000, 11210, 106, kAck, "world"),      // ahead of a hole: waits
      tcp_packet(40000, 11210, 100, kAck, "hello "),     // fills it
      tcp_packet(40000, 11210, 100, kAck, "hello "),     // retransmitted
      tcp_packet(40000, 11210, 109, kAck, "ld and on"),  // overlaps the end
      tcp_packet(40000, 11210, 118, kAck | kFin, ""),
      tcp_packet(40000, 11210, 118, kAck | kFin, ""),  // the FIN again
      tcp_packet(40000, 11210, 119, kAck, "after the FIN"),
  }));
  ASSERT_TRUE(capture) << capture.error().message();
  const Conversation& c = capture->conversations.at(0);
  EXPECT_EQ(stream(c, Direction::to_server), "hello world and on[FIN]");
  // The held segment keeps its own packet number.
  EXPECT_EQ(c.segments.at(1).packet, 2u);
}

TEST(Reader, MidStreamCaptureTellsTheClientByItsFirstFrame) {
  const std::string ack("\x81\x41\x00\x00", 4);  // a response: an ACK
  const std::string tap("\x80\x41\x00\x00", 4);  // a TAP_MUTATION request
  for (bool server_first : {false, true}) {
    std::vector<Bytes> packets = {tcp_packet(11210, 40000, 7000, kAck, tap),
                                  tcp_packet(40000, 11210, 9, kAck, ack)};
    if (!server_first) std::swap(packets[0], packets[1]);
    auto capture = read_capture(pcap(packets));
    ASSERT_TRUE(capture) << capture.error().message();
    const Conversation& c = capture->conversations.at(0);
    EXPECT_EQ(c.client_by, ClientBy::first_frame);
    EXPECT_EQ(c.client.port, 40000);
    EXPECT_EQ(stream(c, Direction::to_server), ack);
  }
  auto unknown = read_capture(pcap({tcp_packet(11210, 40000, 1, kAck, "??")}));
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->conversations.at(0).client_by, ClientBy::ephemeral_port);
  EXPECT_EQ(unknown->conversations.at(0).client.port, 40000);
  EXPECT_EQ(stream(unknown->conversations.at(0), Direction::to_client), "??");
}

TEST(Reader, HolesThatNeverFillAreGaps) {
  ReadLimits limits;
  limits.max_held = 8;
  auto capture = read_capture(
      pcap({tcp_packet(40000, 11210, 0, kSyn, ""), tcp_packet(40000, 11210, 1, kAck, "ab"),
            tcp_packet(40000, 11210, 10, kAck, "0123456789"),  // beyond max_held
            tcp_packet(40000, 11210, 30, kAck, "end"), tcp_packet(40000, 11210, 33, kRst, "")}),
      limits);
  ASSERT_TRUE(capture) << capture.error().message();
  EXPECT_EQ(stream(capture->conversations.at(0), Direction::to_server),
            "ab[gap 7]0123456789[gap 10]end[RST]");
}

TEST(Reader, ANewSynAfterTheEndIsANewConversation) {
  auto capture = read_capture(
      pcap({tcp_packet(40000, 11210, 0, kSyn, ""), tcp_packet(40000, 11210, 1, kAck, "one"),
            tcp_packet(40000, 11210, 4, kRst, ""), tcp_packet(40000, 11210, 900, kSyn, ""),
            tcp_packet(40000, 11210, 901, kAck, "two")}));
  ASSERT_TRUE(capture) << capture.error().message();
  ASSERT_EQ(capture->conversations.size(), 2u);
  EXPECT_EQ(stream(capture->conversations[1], Direction::to_server), "two");
}

TEST(Reader, DamagedPacketsAreCountedNotUsed) {
  Bytes lying = tcp_packet(40000, 11210, 1, kAck, "abc");
  protocol::store_be16(lying.data() + 2, 400);  // IPv4 total length beyond the packet
  Bytes short_tcp = tcp_packet(40000, 11210, 1, kAck, "");
  short_tcp[32] = 0xf0;  // a 60-byte TCP header in 20
  auto capture = read_capture(pcap({lying, short_tcp, Bytes{0x45}}));
  ASSERT_TRUE(capture);
  EXPECT_EQ(capture->damaged, 3u);
  EXPECT_TRUE(capture->conversations.empty());
}

// ---- hostile files ----------------------------------------------------------------------

Bytes small_pcapng() {
  Bytes file;
  PcapngWriter w([&](ByteView b) { file.insert(file.end(), b.begin(), b.end()); }, {});
  auto c =
      w.open(TcpEndpoint::v4(127, 0, 0, 1, 40000), TcpEndpoint::v4(127, 0, 0, 1, 11210), 0, "hi");
  w.write(c, Side::server, 1, bytes_of("some bytes"), "line 1");
  w.close(c, Side::server, Close::fin, 2, {});
  return file;
}

TEST(Hostile, WrongMagicAndTooShort) {
  auto wrong = read_capture(bytes_of("\x12\x34\x56\x78 and more"));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().message(), "byte 0: not a capture: unknown magic 0x12345678");
  auto hex = read_capture(bytes_of("80 41 00 00"));
  ASSERT_FALSE(hex);
  EXPECT_EQ(hex.error().offset, 0u);
  auto tiny = read_capture(bytes_of("\xa1\xb2"));
  ASSERT_FALSE(tiny);
  EXPECT_EQ(tiny.error().message(), "byte 0: not a capture: 2 bytes, too short for a magic number");
  EXPECT_FALSE(detect_format(bytes_of("80 41")));
  EXPECT_EQ(detect_format(small_pcapng()), Format::pcapng);
}

// Every prefix of a capture reads, or fails at a block boundary saying it is truncated.
TEST(Hostile, EveryTruncationIsATypedError) {
  const Bytes file = small_pcapng();
  std::size_t errors = 0;
  for (std::size_t n = 0; n < file.size(); ++n) {
    auto capture = read_capture(ByteView(file.data(), n));
    if (capture) continue;
    ++errors;
    EXPECT_LE(capture.error().offset, n);
    EXPECT_FALSE(capture.error().what.empty());
  }
  EXPECT_GT(errors, file.size() / 2);
  Bytes cut(file.begin(), file.end() - 3);
  auto truncated = read_capture(cut);
  ASSERT_FALSE(truncated);
  EXPECT_NE(truncated.error().what.find("truncated block"), std::string::npos)
      << truncated.error().message();
}

TEST(Hostile, LyingBlockLengths) {
  const Bytes file = small_pcapng();
  // The first EPB follows SHB and IDB: find it by walking lengths.
  auto le32 = [&](const Bytes& f, std::size_t at) {
    return std::uint32_t{f[at]} | (std::uint32_t{f[at + 1]} << 8) |
           (std::uint32_t{f[at + 2]} << 16) | (std::uint32_t{f[at + 3]} << 24);
  };
  std::size_t epb = 0;
  while (le32(file, epb) != 6) epb += le32(file, epb + 4);
  auto with = [&](std::size_t at, std::uint32_t v) {
    Bytes f = file;
    for (int i = 0; i < 4; ++i) f[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
    return f;
  };
  auto huge = read_capture(with(epb + 4, 0xfffffff0));
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().offset, epb);
  EXPECT_NE(huge.error().what.find("truncated block: its length says 4294967280 bytes"),
            std::string::npos);
  auto odd = read_capture(with(epb + 4, 13));
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().message(),
            fmt::format("byte {}: block length 13 is not a multiple of 4 of at least 12", epb + 4));
  const std::uint32_t length = le32(file, epb + 4);
  auto mismatch = read_capture(with(epb + length - 4, length + 4));
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().offset, epb + length - 4);
  auto captured = read_capture(with(epb + 20, 0x7fffffff));  // captured length beyond the block
  ASSERT_FALSE(captured);
  EXPECT_EQ(captured.error().offset, epb + 20);
  EXPECT_NE(captured.error().what.find("packet claims 2147483647 captured bytes"),
            std::string::npos);
  // Four bytes more than the block holds (not only absurd lengths).
  const std::uint32_t room = length - 12 - 20;
  auto over = read_capture(with(epb + 20, room + 4));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().message(),
            fmt::format("byte {}: packet claims {} captured bytes, its block holds {}", epb + 20,
                        room + 4, room));
  auto interface = read_capture(with(epb + 8, 3));
  ASSERT_FALSE(interface);
  EXPECT_EQ(interface.error().what, "packet on interface 3, but the section describes 1");
  auto magic = read_capture(with(8, 0x11223344));
  ASSERT_FALSE(magic);
  EXPECT_EQ(magic.error().message(),
            "byte 8: section header with an unknown byte-order magic 0x44332211");
}

TEST(Hostile, ClassicPcapRecordBeyondTheFile) {
  Bytes f = pcap({tcp_packet(1, 2, 0, kAck, "abc")});
  f[24 + 8] = 0xff, f[24 + 9] = 0xff, f[24 + 10] = 0xff;  // incl_len 0x00ffffff
  auto capture = read_capture(f);
  ASSERT_FALSE(capture);
  EXPECT_EQ(capture.error().message(),
            "byte 24: truncated record: its length says 16777215 bytes, 43 are left");
}

// Each byte of a capture flipped in turn: a capture or a typed error, never a crash (the
// fuzz target does this at random; this is the deterministic floor).
TEST(Hostile, EveryByteFlipped) {
  const Bytes file = small_pcapng();
  for (std::size_t i = 0; i < file.size(); ++i) {
    for (std::uint8_t x : {std::uint8_t{0xff}, std::uint8_t{0x80}, std::uint8_t{0x01}}) {
      Bytes f = file;
      f[i] ^= x;
      auto capture = read_capture(f);
      if (!capture) {
        EXPECT_LE(capture.error().offset, f.size());
      }
    }
  }
}

TEST(Hostile, LimitsOnConversationsAndPayload) {
  std::vector<Bytes> many;
  for (std::uint16_t port = 1; port <= 5; ++port)
    many.push_back(tcp_packet(port, 11210, 0, kAck, "x"));
  ReadLimits limits;
  limits.max_conversations = 4;
  auto capture = read_capture(pcap(many), limits);
  ASSERT_FALSE(capture);
  EXPECT_EQ(capture.error().message(),  // the fifth packet's record
            fmt::format("byte {}: more than 4 TCP conversations (ReadLimits::max_conversations)",
                        24 + 4 * (16 + 41)));
  limits = {};
  limits.max_payload = 3;
  auto payload = read_capture(pcap(many), limits);
  ASSERT_FALSE(payload);
  EXPECT_NE(payload.error().what.find("more than 3 bytes of TCP payload"), std::string::npos);
}

}  // namespace
}  // namespace tapharness::capture
