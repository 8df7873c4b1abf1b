#include "capture/capture_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <utility>

namespace tapharness::capture {
namespace {

using protocol::ByteView;

constexpr std::uint32_t kPcapMagicUs = 0xa1b2c3d4;
constexpr std::uint32_t kPcapMagicNs = 0xa1b23c4d;
constexpr std::uint32_t kShbType = 0x0a0d0d0a;
constexpr std::uint32_t kByteOrderMagic = 0x1a2b3c4d;

// Fields of a capture are in the byte order its header (pcap) or section (pcapng) says.
struct Endian {
  bool big = false;
  std::uint16_t u16(const std::uint8_t* p) const {
    return big ? protocol::load_be16(p) : static_cast<std::uint16_t>(p[0] | (p[1] << 8));
  }
  std::uint32_t u32(const std::uint8_t* p) const {
    return big ? protocol::load_be32(p)
               : std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
                     (std::uint32_t{p[3]} << 24);
  }
};

std::uint32_t load_le32(const std::uint8_t* p) { return Endian{false}.u32(p); }

std::string format_address(ByteView a) {
  if (a.size() == 4) return fmt::format("{}.{}.{}.{}", a[0], a[1], a[2], a[3]);
  // IPv6: hex groups with the longest run of zero groups (two or more) as "::".
  std::array<std::uint16_t, 8> g{};
  for (std::size_t i = 0; i < 8; ++i) g[i] = protocol::load_be16(a.data() + 2 * i);
  std::size_t best = 8, best_len = 0;
  for (std::size_t i = 0; i < 8;) {
    std::size_t j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len && j - i >= 2) best = i, best_len = j - i;
    i = j == i ? i + 1 : j;
  }
  std::string out;
  for (std::size_t i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    out += fmt::format("{:x}", g[i]);
  }
  return out;
}

// One TCP packet's fields, as the link, IP and TCP layers gave them.
struct TcpPacket {
  Endpoint from, to;
  std::uint32_t seq = 0;
  bool syn = false, ack = false, fin = false, rst = false;
  ByteView payload;
};

enum class Parsed { tcp, skipped, damaged };

// IP (v4 or v6) to TCP. Lengths that lie, or a packet cut short, make it damaged.
Parsed parse_ip(ByteView ip, std::size_t max_packet, TcpPacket& out) {
  if (ip.empty()) return Parsed::damaged;
  const int version = ip[0] >> 4;
  ByteView tcp;
  if (version == 4) {
    if (ip.size() < 20) return Parsed::damaged;
    const std::size_t ihl = (ip[0] & 0x0f) * 4u;
    const std::size_t total = protocol::load_be16(ip.data() + 2);
    if (ihl < 20 || total < ihl || total > ip.size()) return Parsed::damaged;
    const std::uint16_t fragment = protocol::load_be16(ip.data() + 6);
    if ((fragment & 0x3fff) != 0) return Parsed::skipped;  // a fragment (MF or an offset)
    if (ip[9] != 6) return Parsed::skipped;
    out.from.address = format_address(ip.subspan(12, 4));
    out.to.address = format_address(ip.subspan(16, 4));
    tcp = ip.subspan(ihl, total - ihl);
  } else if (version == 6) {
    if (ip.size() < 40) return Parsed::damaged;
    const std::size_t length = protocol::load_be16(ip.data() + 4);
    if (ip[6] != 6) return Parsed::skipped;   // extension headers (or not TCP): not read here
    if (length == 0) return Parsed::skipped;  // a jumbogram
    if (40 + length > ip.size()) return Parsed::damaged;
    out.from.address = format_address(ip.subspan(8, 16));
    out.to.address = format_address(ip.subspan(24, 16));
    tcp = ip.subspan(40, length);
  } else {
    return Parsed::skipped;
  }
  if (tcp.size() < 20) return Parsed::damaged;
  const std::size_t offset = (tcp[12] >> 4) * 4u;
  if (offset < 20 || offset > tcp.size()) return Parsed::damaged;
  if (tcp.size() - offset > max_packet) return Parsed::damaged;
  out.from.port = protocol::load_be16(tcp.data());
  out.to.port = protocol::load_be16(tcp.data() + 2);
  out.seq = protocol::load_be32(tcp.data() + 4);
  const std::uint8_t flags = tcp[13];
  out.fin = flags & 0x01;
  out.syn = flags & 0x02;
  out.rst = flags & 0x04;
  out.ack = flags & 0x10;
  out.payload = tcp.subspan(offset);
  return Parsed::tcp;
}

// The link layer down to IP. Link types not read here are skipped.
Parsed parse_link(std::uint32_t linktype, ByteView data, std::size_t max_packet, TcpPacket& out) {
  auto ether = [&](std::uint16_t type, ByteView rest) {
    if (type != 0x0800 && type != 0x86dd) return Parsed::skipped;
    return parse_ip(rest, max_packet, out);
  };
  switch (linktype) {
    case 1: {  // Ethernet, with up to two VLAN tags
      if (data.size() < 14) return Parsed::damaged;
      std::size_t at = 12;
      std::uint16_t type = protocol::load_be16(data.data() + at);
      for (int tags = 0; (type == 0x8100 || type == 0x88a8) && tags < 2; ++tags) {
        at += 4;
        if (data.size() < at + 2) return Parsed::damaged;
        type = protocol::load_be16(data.data() + at);
      }
      return ether(type, data.subspan(at + 2));
    }
    case 0:      // NULL: the family in the capturing host's byte order
    case 108: {  // LOOP: in network order
      if (data.size() < 4) return Parsed::damaged;
      const std::uint32_t be = protocol::load_be32(data.data()), le = load_le32(data.data());
      const std::uint32_t family = linktype == 108 ? be : (be < 256 ? be : le);
      if (family == 2 || family == 24 || family == 28 || family == 30)
        return parse_ip(data.subspan(4), max_packet, out);
      return Parsed::skipped;
    }
    case 101:
    case 12:
    case 14:
    case 228:
    case 229: return parse_ip(data, max_packet, out);
    case 113:  // Linux cooked (SLL): the protocol at 14
      if (data.size() < 16) return Parsed::damaged;
      return ether(protocol::load_be16(data.data() + 14), data.subspan(16));
    case 276:  // SLL2: the protocol at 0
      if (data.size() < 20) return Parsed::damaged;
      return ether(protocol::load_be16(data.data()), data.subspan(20));
    default: return Parsed::skipped;
  }
}

// One direction of a conversation: where its stream starts in sequence space, how far it
// has been delivered, and what waits beyond a hole.
struct Flow {
  bool started = false;
  std::uint32_t base = 0;  // sequence number of stream offset 0
  std::uint64_t next = 0;  // the next offset to deliver
  bool fin_done = false;
  struct Held {
    protocol::Bytes bytes;
    bool fin = false;
    std::int64_t at_us = 0;
    std::string comment;
    std::uint64_t packet = 0;
  };
  std::map<std::uint64_t, Held> held;
  std::size_t held_bytes = 0;
  std::uint64_t first_payload_packet = 0;
  std::uint8_t first[2] = {0, 0};  // its first two bytes, to tell the client without a SYN
  std::size_t first_size = 0;

  // The stream offset of `seq`, taken as the one nearest to what is expected next (so a
  // stream longer than 4 GiB wraps right).
  std::uint64_t offset_of(std::uint32_t seq) const {
    const auto expected = static_cast<std::uint32_t>(base + next);
    const auto delta = static_cast<std::int32_t>(seq - expected);
    if (delta < 0 && static_cast<std::uint64_t>(-static_cast<std::int64_t>(delta)) > next) return 0;
    return next + delta;
  }
};

// A conversation as seen: side A sent its first packet; which side is the client is
// settled at the end.
struct Conv {
  Endpoint a, b;
  Flow flow[2];                    // [0]: A -> B, [1]: B -> A
  std::optional<int> client_side;  // 0: A, 1: B, from a SYN
  bool ended = false;              // a RST, or FINs both ways
  struct Seg {
    int from = 0;
    Segment segment;
  };
  std::vector<Seg> segments;
};

// What a TAP client's first bytes look like: a request it sends (TAP_CONNECT, SASL), or
// a response (an ACK, or a reply to the server's NOOP).
bool looks_like_client(const Flow& f) {
  if (f.first_size == 0) return false;
  if (f.first[0] == 0x81) return true;
  return f.first_size == 2 && f.first[0] == 0x80 &&
         (f.first[1] == 0x40 || (f.first[1] >= 0x20 && f.first[1] <= 0x22));
}
bool looks_like_server(const Flow& f) {
  return f.first_size == 2 && f.first[0] == 0x80 && f.first[1] >= 0x41 && f.first[1] <= 0x47;
}

class Reader {
 public:
  Reader(ByteView file, const ReadLimits& limits) : file_(file), limits_(limits) {}

  Result<Capture, CaptureError> read() {
    if (file_.size() < 4)
      return fail(
          0, fmt::format("not a capture: {} bytes, too short for a magic number", file_.size()));
    const auto format = detect_format(file_);
    if (!format) {
      return fail(0, fmt::format("not a capture: unknown magic 0x{:08x}",
                                 protocol::load_be32(file_.data())));
    }
    capture_.format = *format;
    if (auto error = *format == Format::pcapng ? read_pcapng() : read_pcap())
      return std::move(*error);
    for (Conv& c : convs_) finish(c);
    return std::move(capture_);
  }

 private:
  static CaptureError fail(std::uint64_t at, std::string what) {
    return CaptureError{at, std::move(what)};
  }

  // ---- classic pcap -----------------------------------------------------------------------

  std::optional<CaptureError> read_pcap() {
    if (file_.size() < 24)
      return fail(0,
                  fmt::format("truncated pcap header: 24 bytes needed, {} present", file_.size()));
    const std::uint32_t be = protocol::load_be32(file_.data());
    Endian e{be == kPcapMagicUs || be == kPcapMagicNs};
    const bool nanos = capture_.format == Format::pcap_ns;
    const std::uint32_t linktype = e.u32(file_.data() + 20) & 0x0fffffff;
    std::size_t at = 24;
    while (at < file_.size()) {
      if (file_.size() - at < 16) {
        return fail(at, fmt::format("truncated record header: 16 bytes needed, {} present",
                                    file_.size() - at));
      }
      const std::uint32_t sec = e.u32(file_.data() + at), frac = e.u32(file_.data() + at + 4);
      const std::uint32_t incl = e.u32(file_.data() + at + 8), orig = e.u32(file_.data() + at + 12);
      if (incl > file_.size() - at - 16) {
        return fail(at, fmt::format("truncated record: its length says {} bytes, {} are left", incl,
                                    file_.size() - at - 16));
      }
      (void)orig;
      const std::int64_t us = std::int64_t{sec} * 1'000'000 + (nanos ? frac / 1000 : frac);
      if (auto error = packet(at, linktype, us, file_.subspan(at + 16, incl), {})) return error;
      at += 16 + incl;
    }
    return std::nullopt;
  }

  // ---- pcapng -----------------------------------------------------------------------------

  struct Interface {
    std::uint32_t linktype = 0;
    std::uint32_t snaplen = 0;
    std::uint8_t tsresol = 6;
  };

  // Microseconds from a timestamp in an interface's units (if_tsresol: 10^-n or 2^-n s).
  static std::int64_t to_us(std::uint64_t ts, std::uint8_t tsresol) {
    const unsigned n = tsresol & 0x7f;
    if (tsresol & 0x80) {
      if (n > 63) return 0;
      return static_cast<std::int64_t>((static_cast<unsigned __int128>(ts) * 1'000'000) >> n);
    }
    if (n > 19) return 0;
    std::uint64_t scale = 1;
    for (unsigned i = 0; i < (n > 6 ? n - 6 : 6 - n); ++i) scale *= 10;
    return static_cast<std::int64_t>(n >= 6 ? ts / scale : ts * scale);
  }

  // Walks options from `at` to `end`: each {code, length, value padded to 4}. Comments
  // (code 1) are gathered; if_tsresol (9) is set for an IDB.
  std::optional<CaptureError> options(Endian e, std::size_t at, std::size_t end,
                                      std::string* comment, Interface* iface) {
    while (at + 4 <= end) {
      const std::uint16_t code = e.u16(file_.data() + at), length = e.u16(file_.data() + at + 2);
      if (code == 0) return std::nullopt;
      const std::size_t padded = (length + 3u) & ~std::size_t{3};
      if (padded > end - at - 4) {
        return fail(at, fmt::format("option {} claims {} bytes, its block has {} left", code,
                                    length, end - at - 4));
      }
      const char* value = reinterpret_cast<const char*>(file_.data() + at + 4);
      if (comment && code == 1) {
        if (!comment->empty()) *comment += "; ";
        comment->append(value, length);
      }
      if (iface && code == 9 && length >= 1) iface->tsresol = static_cast<std::uint8_t>(value[0]);
      at += 4 + padded;
    }
    return std::nullopt;
  }

  std::optional<CaptureError> read_pcapng() {
    std::size_t at = 0;
    Endian e;
    bool in_section = false;
    std::vector<Interface> interfaces;
    while (at < file_.size()) {
      const std::size_t left = file_.size() - at;
      if (left < 12)
        return fail(
            at, fmt::format("truncated block: 12 bytes needed for its header, {} present", left));
      const std::uint8_t* p = file_.data() + at;
      if (protocol::load_be32(p) == kShbType) {
        if (left < 28)
          return fail(at,
                      fmt::format("truncated section header: 28 bytes needed, {} present", left));
        const std::uint32_t magic = protocol::load_be32(p + 8);
        if (magic == kByteOrderMagic) {
          e.big = true;
        } else if (load_le32(p + 8) == kByteOrderMagic) {
          e.big = false;
        } else {
          return fail(
              at + 8,
              fmt::format("section header with an unknown byte-order magic 0x{:08x}", magic));
        }
        if (e.u16(p + 12) != 1)
          return fail(at + 12, fmt::format("pcapng major version {}, not 1", e.u16(p + 12)));
        in_section = true;
        interfaces.clear();  // interface ids count from 0 in each section
      } else if (!in_section) {
        return fail(at, "a block before the first section header");
      }
      const std::uint32_t type = e.u32(p), length = e.u32(p + 4);
      if (length < 12 || length % 4 != 0) {
        return fail(at + 4,
                    fmt::format("block length {} is not a multiple of 4 of at least 12", length));
      }
      if (length > left)
        return fail(at, fmt::format("truncated block: its length says {} bytes, {} are left",
                                    length, left));
      if (e.u32(p + length - 4) != length) {
        return fail(at + length - 4,
                    fmt::format("block length {} at its end differs from {} at its start",
                                e.u32(p + length - 4), length));
      }
      const std::size_t body = at + 8, end = at + length - 4;
      if (type == 1) {  // Interface Description
        if (end - body < 8)
          return fail(at, "interface description block shorter than its 8 fixed bytes");
        Interface iface{e.u16(file_.data() + body), e.u32(file_.data() + body + 4)};
        if (auto error = options(e, body + 8, end, nullptr, &iface)) return error;
        if (interfaces.size() >= 1024) return fail(at, "more than 1024 interfaces in a section");
        interfaces.push_back(iface);
      } else if (type == 6 || type == 2) {  // Enhanced Packet, obsolete Packet
        if (end - body < 20) return fail(at, "packet block shorter than its 20 fixed bytes");
        const std::uint8_t* b = file_.data() + body;
        const std::uint32_t id = type == 6 ? e.u32(b) : e.u16(b);
        if (id >= interfaces.size()) {
          return fail(body, fmt::format("packet on interface {}, but the section describes {}", id,
                                        interfaces.size()));
        }
        const std::uint64_t ts = (std::uint64_t{e.u32(b + 4)} << 32) | e.u32(b + 8);
        const std::uint32_t captured = e.u32(b + 12);
        if (captured > end - body - 20) {
          return fail(body + 12, fmt::format("packet claims {} captured bytes, its block holds {}",
                                             captured, end - body - 20));
        }
        std::string comment;
        const std::size_t options_at = body + 20 + ((captured + 3u) & ~std::size_t{3});
        if (options_at < end) {
          if (auto error = options(e, options_at, end, &comment, nullptr)) return error;
        }
        const Interface& iface = interfaces[id];
        if (auto error = packet(at, iface.linktype, to_us(ts, iface.tsresol),
                                file_.subspan(body + 20, captured), std::move(comment))) {
          return error;
        }
      } else if (type == 3) {  // Simple Packet: interface 0, no timestamp
        if (interfaces.empty()) return fail(at, "simple packet block with no interface described");
        if (end - body < 4) return fail(at, "simple packet block shorter than its 4 fixed bytes");
        std::size_t captured = std::min<std::size_t>(e.u32(file_.data() + body), end - body - 4);
        if (interfaces[0].snaplen != 0)
          captured = std::min<std::size_t>(captured, interfaces[0].snaplen);
        if (auto error = packet(at, interfaces[0].linktype, last_us_,
                                file_.subspan(body + 4, captured), {})) {
          return error;
        }
      }
      at += length;
    }
    return std::nullopt;
  }

  // ---- TCP --------------------------------------------------------------------------------

  std::optional<CaptureError> packet(std::size_t at, std::uint32_t linktype, std::int64_t us,
                                     ByteView data, std::string comment) {
    ++capture_.packets;
    last_us_ = us;
    TcpPacket tcp;
    switch (parse_link(linktype, data, limits_.max_packet, tcp)) {
      case Parsed::skipped: ++capture_.skipped; return std::nullopt;
      case Parsed::damaged: ++capture_.damaged; return std::nullopt;
      case Parsed::tcp: break;
    }
    // The newest conversation on these endpoints; a SYN after it ended starts another.
    std::pair<std::string, std::uint16_t> one{tcp.from.address, tcp.from.port},
        other{tcp.to.address, tcp.to.port};
    if (other < one) std::swap(one, other);
    const auto key = std::pair{std::move(one), std::move(other)};
    auto found = index_.find(key);
    const bool opening = tcp.syn && !tcp.ack;
    if (found != index_.end() && opening) {
      const Conv& c = convs_[found->second];
      const int from = c.a == tcp.from ? 0 : 1;
      if (c.ended || c.flow[from].next > 0 ||
          (c.flow[from].started && c.flow[from].base != tcp.seq + 1)) {
        found = index_.end();
      }
    }
    if (found == index_.end()) {
      if (convs_.size() >= limits_.max_conversations) {
        return fail(at,
                    fmt::format("more than {} TCP conversations (ReadLimits::max_conversations)",
                                limits_.max_conversations));
      }
      convs_.push_back(Conv{.a = tcp.from, .b = tcp.to});
      found = index_.insert_or_assign(key, convs_.size() - 1).first;
    }
    Conv& c = convs_[found->second];
    const int from = c.a == tcp.from ? 0 : 1;
    Flow& flow = c.flow[from];
    const std::uint64_t number = capture_.packets;
    if (tcp.syn) {
      if (!c.client_side) c.client_side = tcp.ack ? 1 - from : from;
      if (!flow.started || flow.next == 0) {
        flow.started = true;
        flow.base = tcp.seq + 1;  // the SYN takes one sequence number
      }
      return std::nullopt;  // data on a SYN (fast open) is not read
    }
    if (tcp.rst) {
      // What waits beyond holes goes first: nothing more will fill them.
      while (!flow.held.empty()) {
        if (auto error = release_first(at, c, from)) return error;
        if (auto error = drain(at, c, from)) return error;
      }
      c.ended = true;
      c.segments.push_back({from, Segment{.at_us = us,
                                          .offset = flow.next,
                                          .rst = true,
                                          .comment = std::move(comment),
                                          .packet = number}});
      return std::nullopt;
    }
    if (tcp.payload.empty() && !tcp.fin) return std::nullopt;  // a bare ACK
    if (!flow.started) {
      flow.started = true;
      flow.base = tcp.seq;  // mid-stream: the first byte seen is offset 0
    }
    if (!tcp.payload.empty() && flow.first_size < 2) {
      for (std::size_t i = 0; i < tcp.payload.size() && flow.first_size < 2; ++i)
        flow.first[flow.first_size++] = tcp.payload[i];
    }
    const std::uint64_t offset = flow.offset_of(tcp.seq);
    return deliver(at, c, from, offset, tcp.payload, tcp.fin, us, std::move(comment), number);
  }

  std::optional<CaptureError> deliver(std::size_t at, Conv& c, int from, std::uint64_t offset,
                                      ByteView bytes, bool fin, std::int64_t us,
                                      std::string comment, std::uint64_t number) {
    Flow& flow = c.flow[from];
    if (offset > flow.next) {  // ahead of a hole: wait
      if (flow.fin_done) return std::nullopt;
      auto& held = flow.held[offset];
      if (bytes.size() > held.bytes.size()) {
        flow.held_bytes += bytes.size() - held.bytes.size();
        held.bytes.assign(bytes.begin(), bytes.end());
      }
      held.fin = held.fin || fin;
      held.at_us = us;
      held.comment = std::move(comment);
      held.packet = number;
      while (flow.held_bytes > limits_.max_held && !flow.held.empty()) {
        if (auto error = release_first(at, c, from)) return error;
        if (auto error = drain(at, c, from)) return error;
      }
      return std::nullopt;
    }
    const std::uint64_t skip = flow.next - offset;
    if (skip < bytes.size() || (fin && !flow.fin_done && skip <= bytes.size())) {
      if (auto error = emit(at, c, from, bytes.subspan(std::min<std::uint64_t>(skip, bytes.size())),
                            fin, 0, us, std::move(comment), number)) {
        return error;
      }
    }
    return drain(at, c, from);
  }

  // Delivers what waited for the hole just filled.
  std::optional<CaptureError> drain(std::size_t at, Conv& c, int from) {
    Flow& flow = c.flow[from];
    while (!flow.held.empty() && flow.held.begin()->first <= flow.next) {
      auto node = flow.held.extract(flow.held.begin());
      flow.held_bytes -= node.mapped().bytes.size();
      Flow::Held& h = node.mapped();
      const std::uint64_t s = flow.next - node.key();
      if (s < h.bytes.size() || (h.fin && !flow.fin_done)) {
        if (auto error = emit(at, c, from,
                              ByteView(h.bytes).subspan(std::min<std::uint64_t>(s, h.bytes.size())),
                              h.fin, 0, h.at_us, std::move(h.comment), h.packet)) {
          return error;
        }
      }
    }
    return std::nullopt;
  }

  // Lets out the first held piece across the hole before it (never captured).
  std::optional<CaptureError> release_first(std::size_t at, Conv& c, int from) {
    Flow& flow = c.flow[from];
    auto node = flow.held.extract(flow.held.begin());
    flow.held_bytes -= node.mapped().bytes.size();
    const std::uint64_t gap = node.key() - flow.next;
    Flow::Held& h = node.mapped();
    flow.next = node.key();
    return emit(at, c, from, h.bytes, h.fin, gap, h.at_us, std::move(h.comment), h.packet);
  }

  std::optional<CaptureError> emit(std::size_t at, Conv& c, int from, ByteView bytes, bool fin,
                                   std::uint64_t gap, std::int64_t us, std::string comment,
                                   std::uint64_t number) {
    Flow& flow = c.flow[from];
    if (flow.fin_done) return std::nullopt;  // nothing follows a FIN
    if (payload_ + bytes.size() > limits_.max_payload) {
      return fail(at, fmt::format("more than {} bytes of TCP payload (ReadLimits::max_payload)",
                                  limits_.max_payload));
    }
    payload_ += bytes.size();
    Segment s{.at_us = us,
              .offset = flow.next,
              .gap_before = gap,
              .payload = protocol::Bytes(bytes.begin(), bytes.end()),
              .fin = fin,
              .comment = std::move(comment),
              .packet = number};
    flow.next += bytes.size();
    if (fin) {
      flow.fin_done = true;
      c.ended = c.ended || c.flow[1 - from].fin_done;
    }
    c.segments.push_back({from, std::move(s)});
    return std::nullopt;
  }

  void finish(Conv& c) {
    for (int from = 0; from < 2; ++from) {
      // Past the payload limit this drops what is left: the limit holds here too.
      while (!c.flow[from].held.empty()) {
        (void)release_first(0, c, from);
        (void)drain(0, c, from);
      }
    }
    Conversation out;
    int client = 0;
    if (c.client_side) {
      client = *c.client_side;
      out.client_by = ClientBy::syn;
    } else if (looks_like_client(c.flow[0]) || looks_like_server(c.flow[1])) {
      client = 0;
      out.client_by = ClientBy::first_frame;
    } else if (looks_like_client(c.flow[1]) || looks_like_server(c.flow[0])) {
      client = 1;
      out.client_by = ClientBy::first_frame;
    } else {
      client = c.a.port > c.b.port ? 0 : 1;
      out.client_by = ClientBy::ephemeral_port;
    }
    out.client = client == 0 ? c.a : c.b;
    out.server = client == 0 ? c.b : c.a;
    out.segments.reserve(c.segments.size());
    for (Conv::Seg& s : c.segments) {
      s.segment.direction = s.from == client ? Direction::to_server : Direction::to_client;
      (s.from == client ? out.bytes_to_server : out.bytes_to_client) += s.segment.payload.size();
      out.segments.push_back(std::move(s.segment));
    }
    c.segments.clear();
    capture_.conversations.push_back(std::move(out));
  }

  ByteView file_;
  const ReadLimits& limits_;
  Capture capture_;
  std::vector<Conv> convs_;
  std::map<std::pair<std::pair<std::string, std::uint16_t>, std::pair<std::string, std::uint16_t>>,
           std::size_t>
      index_;
  std::uint64_t payload_ = 0;
  std::int64_t last_us_ = 0;
};

}  // namespace

std::string CaptureError::message() const { return fmt::format("byte {}: {}", offset, what); }

std::optional<Format> detect_format(protocol::ByteView head) {
  if (head.size() < 4) return std::nullopt;
  const std::uint32_t be = protocol::load_be32(head.data()), le = load_le32(head.data());
  if (be == kPcapMagicUs || le == kPcapMagicUs) return Format::pcap_us;
  if (be == kPcapMagicNs || le == kPcapMagicNs) return Format::pcap_ns;
  if (be == kShbType) return Format::pcapng;
  return std::nullopt;
}

Result<Capture, CaptureError> read_capture(protocol::ByteView file, const ReadLimits& limits) {
  return Reader(file, limits).read();
}

std::string_view name_of(Format format) {
  switch (format) {
    case Format::pcap_us: return "pcap";
    case Format::pcap_ns: return "pcap (nanoseconds)";
    case Format::pcapng: return "pcapng";
  }
  return {};
}

std::string_view name_of(Direction direction) {
  switch (direction) {
    case Direction::to_server: return "to_server";
    case Direction::to_client: return "to_client";
  }
  return {};
}

std::string_view name_of(ClientBy how) {
  switch (how) {
    case ClientBy::syn: return "syn";
    case ClientBy::first_frame: return "first_frame";
    case ClientBy::ephemeral_port: return "ephemeral_port";
  }
  return {};
}

}  // namespace tapharness::capture
