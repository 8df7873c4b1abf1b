#include "capture/pcapng_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace tapharness::capture {
namespace {

using protocol::Bytes;
using protocol::ByteView;

constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;
constexpr std::uint32_t kLinkTypeRaw = 101;
constexpr std::size_t kMaxComment =
    4096;  // a note longer than this is cut (Wireshark shows one line)
// Room kept under the limit for the packet that says the capture stops.
constexpr std::uint64_t kMarkerRoom = 1024;

// pcapng in little-endian: its byte-order magic says so, and readers of either order follow.
void put16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put32(Bytes& b, std::uint32_t v) {
  put16(b, static_cast<std::uint16_t>(v));
  put16(b, static_cast<std::uint16_t>(v >> 16));
}
void pad4(Bytes& b) {
  while (b.size() % 4 != 0) b.push_back(0);
}
void option(Bytes& b, std::uint16_t code, std::string_view value) {
  put16(b, code);
  put16(b, static_cast<std::uint16_t>(value.size()));
  b.insert(b.end(), value.begin(), value.end());
  pad4(b);
}

// The Internet checksum's running sum over `bytes` (16-bit big-endian words, odd byte padded).
std::uint32_t sum16(ByteView bytes, std::uint32_t sum = 0) {
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) sum += protocol::load_be16(bytes.data() + i);
  if (i < bytes.size()) sum += std::uint32_t{bytes[i]} << 8;
  return sum;
}
std::uint16_t fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// Cut at a UTF-8 character boundary, so the comment stays valid text.
std::string bounded(std::string text) {
  if (text.size() <= kMaxComment) return text;
  std::size_t cut = kMaxComment - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
  text.resize(cut);
  return text + "...";
}

std::string joined(std::string a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "; " + b;
}

}  // namespace

PcapngWriter::PcapngWriter(Sink sink, Options options) : sink_(std::move(sink)), options_(options) {
  if (options_.max_segment == 0) options_.max_segment = kMaxSegmentPayload;
  // Section Header: byte-order magic, version 1.0, section length unknown (-1).
  body_.clear();
  put32(body_, 0x1a2b3c4d);
  put16(body_, 1);
  put16(body_, 0);
  put32(body_, 0xffffffff);
  put32(body_, 0xffffffff);
  option(body_, 4, "tapharness");  // shb_userappl
  put32(body_, 0);                 // opt_endofopt
  block(0x0a0d0d0a, body_);
  // Interface Description: RAW, no snap length, microsecond timestamps (the default).
  body_.clear();
  put16(body_, static_cast<std::uint16_t>(kLinkTypeRaw));
  put16(body_, 0);
  put32(body_, 0);
  option(body_, 2, "tapharness");  // if_name
  put32(body_, 0);
  block(1, body_);
}

void PcapngWriter::block(std::uint32_t type, ByteView body) {
  buffer_.clear();
  put32(buffer_, type);
  put32(buffer_, static_cast<std::uint32_t>(12 + body.size()));
  buffer_.insert(buffer_.end(), body.begin(), body.end());
  put32(buffer_, static_cast<std::uint32_t>(12 + body.size()));
  written_ += buffer_.size();
  sink_(buffer_);
}

PcapngWriter::State* PcapngWriter::find(Connection c) {
  auto at = open_.find(c);
  return at == open_.end() ? nullptr : &at->second;
}

PcapngWriter::Connection PcapngWriter::open(const TcpEndpoint& client, const TcpEndpoint& server,
                                            std::int64_t at_us, std::string comment) {
  const Connection id = next_id_++;
  State& s = open_[id];
  s.ends[0] = client;
  s.ends[1] = server;
  // Initial sequence numbers apart from each other and from other connections'.
  s.half[0].next_seq = 0x10000000u + static_cast<std::uint32_t>(id) * 0x01000193u;
  s.half[1].next_seq = 0x80000000u + static_cast<std::uint32_t>(id) * 0x0100019bu;
  s.half[0].ip_id = static_cast<std::uint16_t>(id * 1000);
  s.half[1].ip_id = static_cast<std::uint16_t>(id * 1000 + 500);
  packet(s, 0, kSyn, at_us, {}, std::move(comment), true);
  ++s.half[0].next_seq;
  packet(s, 1, kSyn | kAck, at_us, {}, {}, true);
  ++s.half[1].next_seq;
  packet(s, 0, kAck, at_us, {}, {});
  return id;
}

void PcapngWriter::write(Connection c, Side from, std::int64_t at_us, ByteView bytes,
                         std::string comment) {
  State* s = find(c);
  const int f = from == Side::client ? 0 : 1;
  if (!s || s->half[f].closed || bytes.empty()) return;
  comment = joined(std::move(s->notes), comment);
  s->notes.clear();
  const std::size_t segments = (bytes.size() + options_.max_segment - 1) / options_.max_segment;
  if (segments > 1)
    comment =
        joined(std::move(comment), fmt::format("{} bytes in {} segments", bytes.size(), segments));
  for (std::size_t i = 0; i < segments; ++i) {
    const ByteView piece =
        bytes.subspan(i * options_.max_segment,
                      std::min(options_.max_segment, bytes.size() - i * options_.max_segment));
    const bool last = i + 1 == segments;
    packet(*s, f, last ? kAck | kPsh : kAck, at_us, piece,
           i == 0 ? std::move(comment) : std::string());
    s->half[f].next_seq += static_cast<std::uint32_t>(piece.size());
    if (last || i % 2 == 1) ack(*s, 1 - f, at_us);  // delayed ACK: every second segment
  }
}

void PcapngWriter::skip(Connection c, Side from, std::uint64_t length, std::string why) {
  State* s = find(c);
  const int f = from == Side::client ? 0 : 1;
  if (!s || s->half[f].closed) return;
  s->half[f].next_seq += static_cast<std::uint32_t>(length);
  s->notes = joined(std::move(s->notes), why);
}

void PcapngWriter::note(Connection c, std::string text) {
  if (State* s = find(c)) s->notes = joined(std::move(s->notes), text);
}

void PcapngWriter::close(Connection c, Side from, Close how, std::int64_t at_us,
                         std::string comment) {
  State* s = find(c);
  const int f = from == Side::client ? 0 : 1;
  if (!s || (s->half[f].closed && how == Close::fin)) return;
  comment = joined(std::move(s->notes), comment);
  s->notes.clear();
  if (how == Close::rst) {
    packet(*s, f, kRst | kAck, at_us, {}, std::move(comment));
    open_.erase(c);
    return;
  }
  packet(*s, f, kFin | kAck, at_us, {}, std::move(comment));
  ++s->half[f].next_seq;
  s->half[f].closed = true;
  ack(*s, 1 - f, at_us);
  if (s->half[1 - f].closed) open_.erase(c);
}

void PcapngWriter::ack(State& s, int from, std::int64_t at_us) {
  packet(s, from, kAck, at_us, {}, {});
}

void PcapngWriter::packet(State& s, int from, std::uint8_t flags, std::int64_t at_us,
                          ByteView payload, std::string comment, bool mss) {
  if (stopped_) {
    ++left_out_;
    return;
  }
  const std::size_t ip_length = (s.ends[from].v6 ? 40 : 20) + (mss ? 24 : 20) + payload.size();
  comment = bounded(std::move(comment));
  // Past the limit, in place of this packet, one without payload says the capture stops.
  if (written_ + 32 + ip_length + comment.size() + 16 + kMarkerRoom > options_.limit) {
    stopped_ = true;
    ++left_out_;
    build(s, from, kAck, at_us, {},
          fmt::format("the capture stops here, at its limit of {} bytes: what follows, on every "
                      "connection, is "
                      "left out",
                      options_.limit),
          false);
    return;
  }
  build(s, from, flags, at_us, payload, std::move(comment), mss);
}

void PcapngWriter::build(State& s, int from, std::uint8_t flags, std::int64_t at_us,
                         ByteView payload, const std::string& comment, bool mss) {
  const TcpEndpoint& src = s.ends[from];
  const TcpEndpoint& dst = s.ends[1 - from];
  Half& half = s.half[from];
  const std::size_t tcp_header = mss ? 24 : 20;
  const std::size_t tcp_length = tcp_header + payload.size();
  const std::size_t ip_header = src.v6 ? 40 : 20;
  const std::size_t ip_length = ip_header + tcp_length;

  Bytes& b = body_;
  b.clear();
  const std::uint64_t ts = static_cast<std::uint64_t>(options_.start_us + at_us);
  put32(b, 0);  // interface 0
  put32(b, static_cast<std::uint32_t>(ts >> 32));
  put32(b, static_cast<std::uint32_t>(ts));
  put32(b, static_cast<std::uint32_t>(ip_length));
  put32(b, static_cast<std::uint32_t>(ip_length));
  const std::size_t ip = b.size();
  b.resize(ip + ip_length, 0);
  std::uint8_t* p = b.data() + ip;
  if (src.v6) {
    p[0] = 0x60;
    protocol::store_be16(p + 4, static_cast<std::uint16_t>(tcp_length));
    p[6] = 6;  // TCP
    p[7] = 64;
    std::copy_n(src.address.begin(), 16, p + 8);
    std::copy_n(dst.address.begin(), 16, p + 24);
  } else {
    p[0] = 0x45;
    protocol::store_be16(p + 2, static_cast<std::uint16_t>(ip_length));
    protocol::store_be16(p + 4, half.ip_id++);
    protocol::store_be16(p + 6, 0x4000);  // don't fragment
    p[8] = 64;
    p[9] = 6;
    std::copy_n(src.address.begin(), 4, p + 12);
    std::copy_n(dst.address.begin(), 4, p + 16);
    protocol::store_be16(p + 10, fold(sum16(ByteView(p, 20))));
  }
  std::uint8_t* t = p + ip_header;
  protocol::store_be16(t, src.port);
  protocol::store_be16(t + 2, dst.port);
  protocol::store_be32(t + 4, half.next_seq);
  // Every segment but the first SYN acknowledges all the other side has sent.
  const bool acks = flags & kAck;
  protocol::store_be32(t + 8, acks ? s.half[1 - from].next_seq : 0);
  t[12] = static_cast<std::uint8_t>((tcp_header / 4) << 4);
  t[13] = flags;
  protocol::store_be16(t + 14, 65535);  // window; nothing in flight comes near it
  if (mss) {
    t[20] = 2;
    t[21] = 4;
    protocol::store_be16(t + 22, static_cast<std::uint16_t>(options_.max_segment));
  }
  std::copy(payload.begin(), payload.end(), t + tcp_header);
  // The pseudo-header, then the segment.
  std::uint32_t sum = 0;
  const std::size_t address = src.v6 ? 16 : 4;
  sum = sum16(ByteView(src.address.data(), address), sum);
  sum = sum16(ByteView(dst.address.data(), address), sum);
  sum += 6 + static_cast<std::uint32_t>(tcp_length);
  if (src.v6) sum += static_cast<std::uint32_t>(tcp_length >> 16);
  sum = sum16(ByteView(t, tcp_length), sum);
  protocol::store_be16(t + 16, fold(sum));
  pad4(b);
  if (!comment.empty()) option(b, 1, comment);
  if (!comment.empty()) put32(b, 0);
  block(6, b);
  ++packets_;
}

}  // namespace tapharness::capture
