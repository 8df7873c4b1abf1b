// The writer's captures read back by the reader: the same bytes both ways, in write order,
// with the comments, endpoints and endings; and the TCP the writer makes is consistent
// (checksums, sequence numbers) when read at packet level.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "capture/capture_reader.hpp"
#include "capture/pcapng_writer.hpp"

namespace tapharness::capture {
namespace {

using protocol::Bytes;
using protocol::ByteView;

Bytes bytes_of(std::string_view text) { return Bytes(text.begin(), text.end()); }

Bytes pattern(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 7);
  return b;
}

struct Written {
  Bytes file;
  PcapngWriter writer;
  explicit Written(PcapngWriter::Options options = {.start_us = 1'700'000'000'000'000})
      : writer([this](ByteView block) { file.insert(file.end(), block.begin(), block.end()); },
               options) {}
};

const TcpEndpoint kClient = TcpEndpoint::v4(127, 0, 0, 1, 40001);
const TcpEndpoint kServer = TcpEndpoint::v4(127, 0, 0, 1, 11210);

TEST(RoundTrip, BothDirectionsComeBackInOrderWithCommentsAndEndings) {
  Written w;
  const Bytes connect = bytes_of("client says hello");
  const Bytes big = pattern(5000, 3);  // four segments
  auto c = w.writer.open(kClient, kServer, 10, "connection 1");
  w.writer.write(c, Side::client, 20, connect, "line 3");
  w.writer.note(c, "fault: split");
  w.writer.write(c, Side::server, 30, big, "line 5, write 1 of 2");
  w.writer.write(c, Side::server, 40, bytes_of("tail"), "line 5, write 2 of 2");
  w.writer.close(c, Side::server, Close::fin, 50, "server closed");
  w.writer.close(c, Side::client, Close::fin, 60, "client closed");

  auto capture = read_capture(w.file);
  ASSERT_TRUE(capture) << capture.error().message();
  EXPECT_EQ(capture->format, Format::pcapng);
  EXPECT_EQ(capture->damaged, 0u);
  EXPECT_EQ(capture->skipped, 0u);
  ASSERT_EQ(capture->conversations.size(), 1u);
  const Conversation& conv = capture->conversations[0];
  EXPECT_EQ(conv.client, (Endpoint{"127.0.0.1", 40001}));
  EXPECT_EQ(conv.server, (Endpoint{"127.0.0.1", 11210}));
  EXPECT_EQ(conv.client_by, ClientBy::syn);
  Bytes to_server, to_client;
  std::vector<std::string> comments;
  int fins = 0;
  for (const Segment& s : conv.segments) {
    EXPECT_EQ(s.gap_before, 0u);
    auto& stream = s.direction == Direction::to_server ? to_server : to_client;
    EXPECT_EQ(s.offset, stream.size());
    stream.insert(stream.end(), s.payload.begin(), s.payload.end());
    if (!s.comment.empty()) comments.push_back(s.comment);
    fins += s.fin;
  }
  Bytes expected = big;
  expected.insert(expected.end(), {'t', 'a', 'i', 'l'});
  EXPECT_EQ(to_server, connect);
  EXPECT_EQ(to_client, expected);
  EXPECT_EQ(fins, 2);
  EXPECT_EQ(comments, (std::vector<std::string>{
                          "line 3", "fault: split; line 5, write 1 of 2; 5000 bytes in 4 segments",
                          "line 5, write 2 of 2", "server closed", "client closed"}));
  // Timestamps: the start plus each record's time.
  EXPECT_EQ(conv.segments.front().at_us, 1'700'000'000'000'020);
  EXPECT_EQ(conv.segments.back().at_us, 1'700'000'000'000'060);
}

TEST(RoundTrip, SeveralConnectionsAndAReset) {
  Written w;
  auto a = w.writer.open(kClient, kServer, 0, {});
  auto b = w.writer.open(TcpEndpoint::v4(127, 0, 0, 1, 40002), kServer, 1, {});
  w.writer.write(b, Side::server, 2, bytes_of("to b"), {});
  w.writer.write(a, Side::server, 3, bytes_of("to a"), {});
  w.writer.close(a, Side::server, Close::rst, 4, "reset");
  w.writer.write(a, Side::server, 5, bytes_of("after the reset: not written"), {});
  auto capture = read_capture(w.file);
  ASSERT_TRUE(capture) << capture.error().message();
  ASSERT_EQ(capture->conversations.size(), 2u);
  const Conversation& first = capture->conversations[0];
  EXPECT_EQ(first.client.port, 40001);
  ASSERT_EQ(first.segments.size(), 2u);
  EXPECT_EQ(first.segments[0].payload, bytes_of("to a"));
  EXPECT_TRUE(first.segments[1].rst);
  EXPECT_EQ(first.segments[1].comment, "reset");
  EXPECT_EQ(capture->conversations[1].client.port, 40002);
  EXPECT_EQ(capture->conversations[1].bytes_to_client, 4u);
}

TEST(RoundTrip, Ipv6) {
  Written w;
  TcpEndpoint client{{}, true, 50000}, server{{}, true, 11210};
  client.address[15] = 1;
  server.address[15] = 1;
  auto c = w.writer.open(client, server, 0, {});
  w.writer.write(c, Side::client, 1, bytes_of("v6"), {});
  auto capture = read_capture(w.file);
  ASSERT_TRUE(capture) << capture.error().message();
  ASSERT_EQ(capture->conversations.size(), 1u);
  EXPECT_EQ(capture->conversations[0].client, (Endpoint{"::1", 50000}));
  EXPECT_EQ(capture->conversations[0].bytes_to_server, 2u);
}

// The packets themselves: IPv4 and TCP checksums verify, each side's sequence numbers run
// on without holes, and no ACK acknowledges bytes not yet sent.
TEST(RoundTrip, TcpIsConsistent) {
  Written w({.start_us = 0, .max_segment = 100});
  auto c = w.writer.open(kClient, kServer, 0, {});
  w.writer.write(c, Side::client, 1, pattern(250, 1), {});
  w.writer.write(c, Side::server, 2, pattern(1001, 2), {});
  w.writer.close(c, Side::client, Close::fin, 3, {});
  // Walk the EPBs by hand (little-endian pcapng, RAW IPv4).
  const Bytes& f = w.file;
  auto le32 = [&](std::size_t at) {
    return std::uint32_t{f[at]} | (std::uint32_t{f[at + 1]} << 8) |
           (std::uint32_t{f[at + 2]} << 16) | (std::uint32_t{f[at + 3]} << 24);
  };
  auto checksum_ok = [](const std::uint8_t* p, std::size_t n, std::uint32_t sum) {
    for (std::size_t i = 0; i + 1 < n; i += 2) sum += protocol::load_be16(p + i);
    if (n % 2) sum += std::uint32_t{p[n - 1]} << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
  };
  std::map<std::uint16_t, std::uint32_t> next;  // by source port
  std::size_t packets = 0;
  for (std::size_t at = 0; at < f.size(); at += le32(at + 4)) {
    if (le32(at) != 6) continue;
    const std::uint8_t* ip = f.data() + at + 28;
    const std::size_t length = le32(at + 20);
    ASSERT_TRUE(checksum_ok(ip, 20, 0)) << "IPv4 checksum of packet " << packets;
    const std::uint8_t* tcp = ip + 20;
    const std::size_t tcp_length = length - 20;
    std::uint32_t pseudo = protocol::load_be16(ip + 12) + protocol::load_be16(ip + 14) +
                           protocol::load_be16(ip + 16) + protocol::load_be16(ip + 18) + 6 +
                           static_cast<std::uint32_t>(tcp_length);
    ASSERT_TRUE(checksum_ok(tcp, tcp_length, pseudo)) << "TCP checksum of packet " << packets;
    const std::uint16_t src = protocol::load_be16(tcp), dst = protocol::load_be16(tcp + 2);
    const std::uint32_t seq = protocol::load_be32(tcp + 4), ack = protocol::load_be32(tcp + 8);
    const std::uint8_t flags = tcp[13];
    const std::size_t payload = tcp_length - (tcp[12] >> 4) * 4;
    if (next.count(src) && !(flags & 0x02)) {
      EXPECT_EQ(seq, next[src]) << "packet " << packets;
    }
    if ((flags & 0x10) && next.count(dst)) {
      EXPECT_EQ(ack, next[dst]) << "ACK of packet " << packets;
    }
    next[src] = seq + static_cast<std::uint32_t>(payload) + ((flags & 0x03) ? 1 : 0);
    ++packets;
    EXPECT_LE(payload, 100u);
  }
  // SYN, SYN-ACK, ACK; 3 client segments + 2 ACKs; 11 server segments + 6 ACKs; FIN + ACK.
  EXPECT_EQ(packets, 3u + 5u + 17u + 2u);
  EXPECT_EQ(w.writer.packets_written(), packets);
}

TEST(RoundTrip, SkippedBytesAreAHoleTheReaderReports) {
  Written w;
  auto c = w.writer.open(kClient, kServer, 0, {});
  w.writer.write(c, Side::server, 1, bytes_of("head"), {});
  w.writer.skip(c, Side::server, 1000, "1000 bytes generated as written, not captured");
  w.writer.write(c, Side::server, 2, bytes_of("next"), "line 9");
  auto capture = read_capture(w.file);
  ASSERT_TRUE(capture) << capture.error().message();
  const auto& segments = capture->conversations.at(0).segments;
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_EQ(segments[1].gap_before, 1000u);
  EXPECT_EQ(segments[1].offset, 1004u);
  EXPECT_EQ(segments[1].comment, "1000 bytes generated as written, not captured; line 9");
}

TEST(RoundTrip, TheLimitStopsTheCaptureAndSaysSo) {
  Written w({.start_us = 0, .limit = 8 * 1024});
  auto c = w.writer.open(kClient, kServer, 0, {});
  for (int i = 0; i < 20; ++i) w.writer.write(c, Side::server, i, pattern(1000, 1), {});
  EXPECT_TRUE(w.writer.stopped());
  EXPECT_GT(w.writer.left_out(), 0u);
  EXPECT_LE(w.file.size(), 8u * 1024);
  auto capture = read_capture(w.file);
  ASSERT_TRUE(capture) << capture.error().message();
  // The marker is a bare ACK, so it is no segment; it is the file's last packet.
  const std::string text(w.file.begin(), w.file.end());
  EXPECT_NE(text.find("the capture stops here, at its limit of 8192 bytes"), std::string::npos);
}

}  // namespace
}  // namespace tapharness::capture
