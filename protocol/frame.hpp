// One memcached binary frame: a header and views of its body parts, and the encoder that
// writes one (protocol.md sections 1 and 4.1).
//
// Body layout: extras, then (TAP messages only) engine-specific bytes, then key, then value.
// The engine-specific bytes are counted in bodylen but not in extlen; their length is the
// first u16 of a TAP message's extras. A decoded Frame's views point into the buffer the
// decoder was given and live as long as it does.
//
//   Bytes out;
//   encode_frame(out, FrameFields{.opcode = Opcode::noop});   // appends 24 bytes
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "protocol/bytes.hpp"
#include "protocol/header.hpp"

namespace tapharness::protocol {

struct Frame {
  Header header;
  std::uint64_t offset = 0;   // absolute stream offset of the header's first byte
  ByteView extras;            // header.extlen bytes
  ByteView engine_specific;   // TAP messages: the engine-specific bytes; otherwise empty
  ByteView key;               // header.keylen bytes
  ByteView value;             // the rest of the body

  std::size_t size() const { return kHeaderSize + header.bodylen; }
};

// True when the frame's body carries engine-specific bytes: a TAP message (request magic,
// opcode 0x41..0x47) with room in its extras for the engine-specific length.
constexpr bool has_engine_specific(const Header& h) {
  return h.magic == Magic::request && is_tap_message(h.opcode) && h.extlen >= 2;
}

// What a caller chooses when encoding; the lengths are computed from the parts.
struct FrameFields {
  Magic magic = Magic::request;
  Opcode opcode = Opcode::noop;
  std::uint8_t datatype = 0;
  std::uint16_t vbucket_or_status = 0;
  std::uint32_t opaque = 0;
  std::uint64_t cas = 0;
  ByteView extras;
  ByteView engine_specific;  // written between extras and key; TAP messages only
  ByteView key;
  ByteView value;
};

// Appends the frame to `out` and returns how many bytes it appended. Returns 0 and leaves
// `out` untouched when a part does not fit its header field (extras > 255 bytes, key >
// 65535 bytes, body > 4 GiB - 1).
// (Inline: volume scenarios encode a frame each time, and the fields are then built in
// registers rather than copied through memory into a call.)
inline std::size_t encode_frame(Bytes& out, const FrameFields& f) {
  const std::uint64_t bodylen = std::uint64_t{f.extras.size()} + f.engine_specific.size() +
                                f.key.size() + f.value.size();
  if (f.extras.size() > std::numeric_limits<std::uint8_t>::max() ||
      f.key.size() > std::numeric_limits<std::uint16_t>::max() ||
      bodylen > std::numeric_limits<std::uint32_t>::max()) {
    return 0;
  }
  Header h;
  h.magic = f.magic;
  h.opcode = f.opcode;
  h.keylen = static_cast<std::uint16_t>(f.key.size());
  h.extlen = static_cast<std::uint8_t>(f.extras.size());
  h.datatype = f.datatype;
  h.vbucket_or_status = f.vbucket_or_status;
  h.bodylen = static_cast<std::uint32_t>(bodylen);
  h.opaque = f.opaque;
  h.cas = f.cas;

  // One resize, then plain copies: encoders run once per frame in volume scenarios.
  const std::size_t start = out.size();
  out.resize(start + kHeaderSize + bodylen);
  std::uint8_t* p = out.data() + start;
  write_header(p, h);
  p += kHeaderSize;
  // Part by part (not a loop over a list of spans, which is copied through memory first).
  auto put = [&p](ByteView part) {
    if (!part.empty()) std::memcpy(p, part.data(), part.size());
    p += part.size();
  };
  put(f.extras);
  put(f.engine_specific);
  put(f.key);
  put(f.value);
  return out.size() - start;
}

// The header and each body part as hex: "{header} extras=... engine=... key=... value=...".
FormatOut describe_to(FormatOut out, const Frame& frame);

}  // namespace tapharness::protocol
