// The 24-byte header every memcached binary frame starts with (protocol.md section 1).
//
//   Header h = read_header(bytes.data());   // any 24 bytes; no validation here
//   h.opcode == Opcode::tap_mutation;
//   write_header(out.data(), h);             // exact inverse of read_header
#pragma once

#include <cstddef>
#include <cstdint>

#include "protocol/bytes.hpp"
#include "protocol/format.hpp"
#include "protocol/opcode.hpp"

namespace tapharness::protocol {

inline constexpr std::size_t kHeaderSize = 24;

// Byte offsets of the header fields, for error reports and deliberate patches.
namespace header_offset {
inline constexpr std::size_t magic = 0;
inline constexpr std::size_t opcode = 1;
inline constexpr std::size_t keylen = 2;
inline constexpr std::size_t extlen = 4;
inline constexpr std::size_t datatype = 5;
inline constexpr std::size_t vbucket = 6;  // the status in a response
inline constexpr std::size_t bodylen = 8;
inline constexpr std::size_t opaque = 12;
inline constexpr std::size_t cas = 16;
}  // namespace header_offset

struct Header {
  Magic magic = Magic::request;
  Opcode opcode = Opcode::noop;
  std::uint16_t keylen = 0;
  std::uint8_t extlen = 0;
  std::uint8_t datatype = 0;
  // Bytes 6-7: the vbucket in a request, the status in a response.
  std::uint16_t vbucket_or_status = 0;
  std::uint32_t bodylen = 0;
  std::uint32_t opaque = 0;
  std::uint64_t cas = 0;

  std::uint16_t vbucket() const { return vbucket_or_status; }
  Status status() const { return static_cast<Status>(vbucket_or_status); }
  bool is_response() const { return magic == Magic::response; }

  friend bool operator==(const Header&, const Header&) = default;
};

// Reads the fields from exactly kHeaderSize bytes at `p`. (Inline: decoding calls it per
// frame, and a struct returned across a call is copied through memory.)
inline Header read_header(const std::uint8_t* p) {
  Header h;
  h.magic = static_cast<Magic>(p[header_offset::magic]);
  h.opcode = static_cast<Opcode>(p[header_offset::opcode]);
  h.keylen = load_be16(p + header_offset::keylen);
  h.extlen = p[header_offset::extlen];
  h.datatype = p[header_offset::datatype];
  h.vbucket_or_status = load_be16(p + header_offset::vbucket);
  h.bodylen = load_be32(p + header_offset::bodylen);
  h.opaque = load_be32(p + header_offset::opaque);
  h.cas = load_be64(p + header_offset::cas);
  return h;
}

// Writes the fields to exactly kHeaderSize bytes at `p`.
inline void write_header(std::uint8_t* p, const Header& h) {
  p[header_offset::magic] = static_cast<std::uint8_t>(h.magic);
  p[header_offset::opcode] = static_cast<std::uint8_t>(h.opcode);
  store_be16(p + header_offset::keylen, h.keylen);
  p[header_offset::extlen] = h.extlen;
  p[header_offset::datatype] = h.datatype;
  store_be16(p + header_offset::vbucket, h.vbucket_or_status);
  store_be32(p + header_offset::bodylen, h.bodylen);
  store_be32(p + header_offset::opaque, h.opaque);
  store_be64(p + header_offset::cas, h.cas);
}

// "{magic=REQUEST opcode=TAP_MUTATION keylen=5 extlen=16 ... cas=4386}"
FormatOut describe_to(FormatOut out, const Header& h);

}  // namespace tapharness::protocol
