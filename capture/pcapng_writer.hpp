// Writes TCP connections as pcapng that Wireshark and tshark open: one section, one
// interface of link type RAW (101: each packet is an IPv4 or IPv6 header, no link layer, so
// no made-up MAC addresses), and per connection a three-way handshake, each write as its own
// segment(s), the receiver's ACKs, and the FIN or RST that ended it. Sequence and
// acknowledgement numbers are consistent both ways, IPv4 and TCP checksums are right.
// Blocks go to the caller's sink as they are made: nothing of the capture is held.
//
//   PcapngWriter pcap([&](protocol::ByteView block) { file.write(block); }, {.start_us = now_us});
//   auto c = pcap.open(client, server, 0, "scenario x, connection 1");
//   pcap.write(c, Side::server, 120, frame_bytes, "line 12");
//   pcap.close(c, Side::server, Close::fin, 300, "server closed the connection");
//
// Packets follow real TCP where it matters to analysis: a write longer than
// Options::max_segment goes as several segments, the receiver ACKs after every second
// segment and after each write (so windows never fill and nothing is ACKed unseen), and
// segments carry no options (the SYNs announce max_segment as their MSS).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "protocol/bytes.hpp"

namespace tapharness::capture {

// The most payload one segment carries: Ethernet's 1500-byte MTU less 20 bytes of IPv4 and
// 20 of TCP (without options). A longer write is split, as the kernel would.
inline constexpr std::size_t kMaxSegmentPayload = 1460;

// A capture stops growing at this size (a 100k-mutation stream is some 25 MB of capture;
// a 21 MiB item is 21 MiB of it): past it one last packet says so and nothing more is
// written; left_out() counts the packets not written.
inline constexpr std::uint64_t kDefaultCaptureLimit = 64ull * 1024 * 1024;

struct TcpEndpoint {
  std::array<std::uint8_t, 16> address{};  // the first 4 bytes for IPv4
  bool v6 = false;
  std::uint16_t port = 0;

  static TcpEndpoint v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                        std::uint16_t port) {
    return {{a, b, c, d}, false, port};
  }
};

enum class Side { client, server };  // who sends
enum class Close { fin, rst };

class PcapngWriter {
 public:
  // Gets each block whole, in order; the view is valid during the call only.
  using Sink = std::function<void(protocol::ByteView block)>;

  struct Options {
    std::int64_t start_us = 0;  // the wall clock of time 0, microseconds since the Unix epoch
    std::size_t max_segment = kMaxSegmentPayload;
    std::uint64_t limit = kDefaultCaptureLimit;
  };

  // Writes the section header and the interface at once.
  explicit PcapngWriter(Sink sink, Options options);
  PcapngWriter(const PcapngWriter&) = delete;
  PcapngWriter& operator=(const PcapngWriter&) = delete;

  using Connection = std::uint64_t;

  // A connection's handshake (SYN, SYN-ACK, ACK) at `at_us` after start; the comment goes on
  // the SYN. Both endpoints must be of one IP version.
  Connection open(const TcpEndpoint& client, const TcpEndpoint& server, std::int64_t at_us,
                  std::string comment);

  // One write by `from`: one segment per max_segment bytes, the comment (with the notes
  // pending) on the first, then the other side's ACK. Nothing after the side closed.
  void write(Connection c, Side from, std::int64_t at_us, protocol::ByteView bytes,
             std::string comment);

  // Bytes `from` sent that the capture does not have (a value generated as it was written):
  // the sequence numbers move on by `length`, so analysis shows them as not captured, and
  // the reason goes on the next packet.
  void skip(Connection c, Side from, std::uint64_t length, std::string why);

  // Text for the connection's next packet's comment (a fault, a note of the session).
  void note(Connection c, std::string text);

  // `from` ends its side: a FIN (the other side ACKs it) or a RST (the connection is gone
  // and later calls for it write nothing). Comment and pending notes go on the FIN or RST.
  void close(Connection c, Side from, Close how, std::int64_t at_us, std::string comment);

  std::uint64_t bytes_written() const { return written_; }
  std::uint64_t packets_written() const { return packets_; }
  // Packets not written because the limit was reached (0 when it was not).
  std::uint64_t left_out() const { return left_out_; }
  bool stopped() const { return stopped_; }

 private:
  struct Half {
    std::uint32_t next_seq = 0;  // the next sequence number this side sends
    std::uint16_t ip_id = 0;
    bool closed = false;
  };
  struct State {
    TcpEndpoint ends[2];  // [0] client, [1] server
    Half half[2];
    std::string notes;
    bool reset = false;
  };

  // One packet from side `from` with `flags`; payload may be empty.
  void packet(State& s, int from, std::uint8_t flags, std::int64_t at_us,
              protocol::ByteView payload, std::string comment, bool mss = false);
  // The packet itself, without the limit's check.
  void build(State& s, int from, std::uint8_t flags, std::int64_t at_us, protocol::ByteView payload,
             const std::string& comment, bool mss);
  void ack(State& s, int from, std::int64_t at_us);
  void block(std::uint32_t type, protocol::ByteView body);
  State* find(Connection c);

  Sink sink_;
  Options options_;
  std::map<Connection, State> open_;  // connections not yet reset or closed both ways
  Connection next_id_ = 1;
  std::uint64_t written_ = 0;
  std::uint64_t packets_ = 0;
  std::uint64_t left_out_ = 0;
  bool stopped_ = false;
  protocol::Bytes buffer_;  // the block being made (one packet at most)
  protocol::Bytes body_;
};

}  // namespace tapharness::capture
