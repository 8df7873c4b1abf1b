// Reads a packet capture (classic pcap or pcapng) into its TCP conversations: each one's two
// endpoints and its bytes in both directions, reassembled by sequence number, in the order
// they were captured. Pure: the caller reads the file; bytes in, values out, no I/O.
//
//   Result<Capture, CaptureError> capture = read_capture(file_bytes);
//   if (!capture) fail(capture.error().message());   // "byte 1234: truncated block ..."
//   for (const Conversation& c : capture->conversations)
//     for (const Segment& s : c.segments) feed(s.direction, s.payload);
//
// What it reads:
// - classic pcap in both byte orders, microsecond and nanosecond magic;
// - pcapng: each section's byte order from its SHB, interfaces (IDB) with their if_tsresol,
//   Enhanced, Simple and obsolete Packet Blocks, and each packet's opt_comment; other blocks
//   are skipped by their length;
// - link types Ethernet (1, with 802.1Q tags), NULL/loopback (0) and LOOP (108), RAW (101,
//   and 12/14 as some systems number it), IPv4 (228), IPv6 (229), Linux cooked SLL (113) and
//   SLL2 (276);
// - IPv4 and IPv6 (no extension headers but none needed for TCP), TCP with options.
// Packets that are not TCP (ARP, UDP, fragments, other link types) are counted and skipped.
//
// Reassembly, per conversation and direction: the first sequence number seen (the SYN's, or
// the first segment's in a capture that starts mid-stream) is offset 0; bytes already had
// (retransmissions, overlaps) are dropped, bytes ahead of a hole wait until the hole fills,
// and what still waits at the end of the capture (or beyond ReadLimits::max_held) is let out
// with Segment::gap_before saying how many bytes were never captured.
//
// Errors are sticky and typed: the first thing that is not a capture ends the read with the
// byte offset in the file and what was wrong there. A packet that is cut short (snaplen) or
// whose IP/TCP headers lie is not an error of the file: it is counted in Capture::damaged
// and its bytes are not used.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/bytes.hpp"
#include "protocol/format.hpp"
#include "protocol/result.hpp"

namespace tapharness::capture {

// Where and why a file is not a capture this reader can read.
struct CaptureError {
  std::uint64_t offset = 0;  // byte offset in the file of the offending block or field
  std::string what;          // "truncated block: its length says 4096 bytes, 12 are left"

  // "byte 1234: what".
  std::string message() const;
  friend bool operator==(const CaptureError&, const CaptureError&) = default;
};

enum class Format {
  pcap_us,  // classic pcap, microsecond timestamps (magic a1b2c3d4, either byte order)
  pcap_ns,  // classic pcap, nanosecond timestamps (magic a1b23c4d)
  pcapng,   // pcapng (a Section Header Block, 0a0d0d0a)
};

// The format the first bytes of a file announce, or none: how tools tell a capture from
// hex or a trace without a flag. Needs at most 4 bytes.
std::optional<Format> detect_format(protocol::ByteView head);

struct Endpoint {
  std::string address;  // "127.0.0.1", "::1"
  std::uint16_t port = 0;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

enum class Direction {
  to_server,  // client -> server: TAP_CONNECT, SASL, ACKs
  to_client,  // server -> client: TAP messages, replies
};

// Bytes of one direction as one packet brought them (after reassembly), or that direction's
// FIN or RST (then payload may be empty).
struct Segment {
  Direction direction = Direction::to_server;
  std::int64_t at_us = 0;        // capture timestamp, microseconds since the Unix epoch
  std::uint64_t offset = 0;      // where payload starts in its direction's byte stream
  std::uint64_t gap_before = 0;  // bytes of the stream before payload that were never captured
  protocol::Bytes payload;       // new bytes only: retransmitted and overlapping bytes dropped
  bool fin = false;
  bool rst = false;
  std::string comment;       // the packet's pcapng opt_comment(s), joined by "; "
  std::uint64_t packet = 0;  // 1-based number of the packet in the file (as Wireshark counts)
};

// How the reader decided which side is the client.
enum class ClientBy {
  syn,            // it sent the SYN (without ACK)
  first_frame,    // no SYN: its first bytes are a client's frame (a request TAP_CONNECT or
                  // SASL, or any response, since a TAP client sends only ACKs) or the other
                  // side's are a TAP message request (0x41..0x47)
  ephemeral_port  // neither: the side with the higher port (the server has the well-known one)
};

struct Conversation {
  Endpoint client, server;
  ClientBy client_by = ClientBy::syn;
  std::vector<Segment> segments;                           // both directions, in capture order
  std::uint64_t bytes_to_server = 0, bytes_to_client = 0;  // payload kept, per direction
};

// Bounds against any input: a capture cannot make the reader hold more than these.
struct ReadLimits {
  std::size_t max_conversations = 4096;              // more: CaptureError at that packet
  std::uint64_t max_payload = 512ull * 1024 * 1024;  // bytes kept, all conversations together
  std::size_t max_held = 4 * 1024 * 1024;            // out-of-order bytes waiting, per direction
  std::size_t max_packet = 256 * 1024;               // a packet longer than this is damaged
};

struct Capture {
  Format format = Format::pcapng;
  std::vector<Conversation> conversations;  // in the order their first packet came
  std::uint64_t packets = 0;                // packets read
  std::uint64_t skipped = 0;                // not TCP over IPv4/IPv6 on a link type read here
  std::uint64_t damaged = 0;  // cut short (snaplen) or with lying IP/TCP lengths; not used
};

// Reads a whole capture file's bytes. The result holds copies of the payload it keeps (at
// most ReadLimits::max_payload); `file` may be freed afterwards.
Result<Capture, CaptureError> read_capture(protocol::ByteView file, const ReadLimits& limits = {});

std::string_view name_of(Format format);
std::string_view name_of(Direction direction);  // "to_server", "to_client"
std::string_view name_of(ClientBy how);

inline FormatOut describe_to(FormatOut out, const CaptureError& e) {
  return fmt::format_to(out, "{}", e.message());
}

}  // namespace tapharness::capture
