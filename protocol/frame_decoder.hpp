// Incremental frame decoding from a byte stream (the contract of Beast's basic_parser and
// picohttpparser): give it the stream's unconsumed bytes, get one of three outcomes.
//
//   FrameDecoder decoder({.max_body = 1 << 20});
//   auto result = decoder.decode(buffered);
//   if (auto* d = std::get_if<Decoded>(&result)) {
//     handle(d->frame);                 // views into `buffered`
//     drop_front(buffered, d->consumed);
//   } else if (auto* more = std::get_if<NeedMore>(&result)) {
//     read_at_least(more->bytes);       // nothing was consumed
//   } else {
//     report(std::get<DecodeError>(result));   // sticky until reset()
//   }
//
// Limits are checked before the body is buffered: from the header alone, then, for a TAP
// message, from its first two extras bytes (the engine-specific length). A header claiming a
// 4 GiB body fails at once and nobody buffers for it.
#pragma once

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <variant>

#include "protocol/bytes.hpp"
#include "protocol/decode_error.hpp"
#include "protocol/frame.hpp"

namespace tapharness::protocol {

// What a decoder accepts. The defaults are a TAP client's: the reference's value limit, and
// keys and extras far above what a producer sends; the body is bounded by them.
struct Limits {
  // The whole body, whatever it holds. Unbounded by default (the limits below bound it); a
  // server that accepts only small frames from its clients sets it (the mock server: ACKs).
  std::uint32_t max_body = std::numeric_limits<std::uint32_t>::max();
  // The value: body minus extras, engine-specific bytes and key. The reference client's
  // MaxBodyLen (gomemcached mc_req.go), which it applies to the value after reading the
  // body: a 20 MiB item plus headroom.
  std::uint32_t max_value = 22'020'096;
  // Item keys are at most 250 bytes in memcached; a TAP_CONNECT name may be longer.
  std::uint16_t max_key = 4096;
  // TAP messages use 8 or 16; TAP_CONNECT uses 4.
  std::uint8_t max_extras = 64;
};

// The most engine-specific bytes a TAP message can announce (a u16).
inline constexpr std::uint32_t kMaxEngineSpecific = std::numeric_limits<std::uint16_t>::max();

// A whole frame was decoded from the front of the input.
struct Decoded {
  Frame frame;
  std::size_t consumed = 0;  // == frame.size()
};

// The input holds no whole frame yet; nothing was consumed. Not a failure.
struct NeedMore {
  std::size_t bytes = 0;  // at least this many more bytes are needed (always > 0)
};

using DecodeResult = std::variant<Decoded, NeedMore, DecodeError>;

inline FormatOut describe_to(FormatOut out, const NeedMore& n) {
  return fmt::format_to(out, "need {} more bytes", n.bytes);
}
inline FormatOut describe_to(FormatOut out, const Decoded& d) {
  return fmt::format_to(out, "decoded {} bytes: {}", d.consumed, d.frame);
}
inline FormatOut describe_to(FormatOut out, const DecodeResult& r) {
  return std::visit([&](const auto& v) { return fmt::format_to(out, "{}", v); }, r);
}

class FrameDecoder {
 public:
  explicit FrameDecoder(Limits limits = {}) : limits_(limits) {}

  // Decodes one frame from the front of `input`, which must start at offset() in the
  // stream. On Decoded the stream offset advances by `consumed` and the caller drops those
  // bytes before the next call. On NeedMore nothing changes. On DecodeError the decoder
  // refuses every later call with the same error until reset().
  [[gnu::always_inline]] DecodeResult decode(ByteView input);

  // The absolute stream offset of the next byte decode() expects.
  std::uint64_t offset() const { return offset_; }

  const std::optional<DecodeError>& error() const { return error_; }
  const Limits& limits() const { return limits_; }
  // The limits for the frames from offset() on (a server may take large frames only first).
  void set_limits(Limits limits) { limits_ = limits; }

  // Forgets any error and restarts at stream offset `offset`.
  void reset(std::uint64_t offset = 0) {
    offset_ = offset;
    error_.reset();
  }

 private:
  // The error paths, out of line: inlined into its caller's loop, decode() should bring
  // only the path a well-formed frame takes. refuse() records the error (it is sticky).
  [[gnu::cold, gnu::noinline]] DecodeResult refuse(const DecodeError& error) {
    error_ = error;
    return error;
  }
  [[gnu::cold, gnu::noinline]] DecodeResult refused() const { return *error_; }

  Limits limits_;
  std::uint64_t offset_ = 0;
  std::optional<DecodeError> error_;
};

// The shortest value `h` can carry: its body less extras, key and (for a TAP message) the
// most engine-specific bytes it could announce. Needs extlen + keylen <= bodylen.
constexpr std::uint32_t shortest_value(const Header& h) {
  const std::uint32_t room = h.bodylen - h.extlen - h.keylen;
  const std::uint32_t engine = has_engine_specific(h) ? kMaxEngineSpecific : 0;
  return room > engine ? room - engine : 0;
}

// Checks a header against the limits and its own lengths: the checks decode() makes
// before it needs any body byte. `offset` is the header's absolute stream offset.
// (Inline: decode() runs it per frame, and the all-clear path then costs a few compares.)
inline std::optional<DecodeError> check_header(const Header& h, const Limits& limits, std::uint64_t offset) {
  if (h.magic != Magic::request && h.magic != Magic::response) {
    return DecodeError{DecodeErrorCode::bad_magic, offset + header_offset::magic, "magic",
                       static_cast<std::uint8_t>(h.magic), 0};
  }
  if (h.extlen > limits.max_extras) {
    return DecodeError{DecodeErrorCode::extras_too_long, offset + header_offset::extlen, "extlen",
                       h.extlen, limits.max_extras};
  }
  if (h.keylen > limits.max_key) {
    return DecodeError{DecodeErrorCode::key_too_long, offset + header_offset::keylen, "keylen",
                       h.keylen, limits.max_key};
  }
  if (h.bodylen > limits.max_body) {
    return DecodeError{DecodeErrorCode::body_too_long, offset + header_offset::bodylen, "bodylen", h.bodylen,
                       limits.max_body};
  }
  const std::uint32_t fixed = std::uint32_t{h.extlen} + h.keylen;
  if (fixed > h.bodylen) {
    return DecodeError{DecodeErrorCode::lengths_exceed_body, offset + header_offset::bodylen,
                       "bodylen", h.bodylen, fixed};
  }
  // Refused from the header only when even the most engine-specific bytes leave too long a
  // value; otherwise the value is checked exactly once its engine length is known.
  if (shortest_value(h) > limits.max_value) {
    return DecodeError{DecodeErrorCode::value_too_long, offset + header_offset::bodylen, "bodylen", h.bodylen,
                       limits.max_value};
  }
  return std::nullopt;
}

// decode() is always inlined: it runs once per frame, and inlined into the caller's loop its
// result is never stored and read back, nor its registers saved (about a tenth of a pushed
// event's instructions).
namespace detail {

// A TAP message's engine-specific length (the first two extras bytes, `extras` pointing at
// them) checked against its body, and its value against the limit: the moment the value's
// length is known, before the body is buffered.
inline std::optional<DecodeError> check_engine_length(const Header& h, const std::uint8_t* extras, const Limits& limits,
                                                      std::uint64_t offset) {
  const std::uint16_t nengine = load_be16(extras);
  const std::uint32_t room = h.bodylen - h.extlen - h.keylen;  // check_header: ext + key <= body
  if (nengine > room) {
    return DecodeError{DecodeErrorCode::engine_length_exceeds_body, offset + kHeaderSize, "engine_specific_length",
                       nengine, room};
  }
  if (const std::uint32_t value = room - nengine; value > limits.max_value) {
    return DecodeError{DecodeErrorCode::value_too_long, offset + kHeaderSize + h.extlen + nengine + h.keylen, "value",
                       value, limits.max_value};
  }
  return std::nullopt;
}

// The frame whose header is `h` and whose body is exactly `body` (header.bodylen bytes, its
// engine-specific length checked), split into its parts.
[[gnu::always_inline]] inline Frame split_body(const Header& h, ByteView body, std::uint64_t offset) {
  const std::size_t nengine = has_engine_specific(h) ? load_be16(body.data()) : 0;  // decode(): it fits
  const std::size_t key_at = std::size_t{h.extlen} + nengine;
  return Frame{.header = h,
               .offset = offset,
               .extras = body.first(h.extlen),
               .engine_specific = body.subspan(h.extlen, nengine),
               .key = body.subspan(key_at, h.keylen),
               .value = body.subspan(key_at + h.keylen)};
}

}  // namespace detail

[[gnu::always_inline]] inline DecodeResult FrameDecoder::decode(ByteView input) {
  // Each path returns its alternative as a prvalue, so the result is built once where the
  // caller receives it. (A named result made a Decoded first: value-initialising one cleared
  // its 112 bytes per frame, a `rep stos` that cost more than the decoding.)
  if (error_) [[unlikely]] return refused();
  if (input.size() < kHeaderSize) return NeedMore{kHeaderSize - input.size()};
  const Header h = read_header(input.data());
  if (auto error = check_header(h, limits_, offset_)) [[unlikely]] return refuse(*error);
  if (has_engine_specific(h) && input.size() >= kHeaderSize + 2) {
    if (auto error = detail::check_engine_length(h, input.data() + kHeaderSize, limits_, offset_)) [[unlikely]] {
      return refuse(*error);
    }
  }
  const std::size_t size = kHeaderSize + std::size_t{h.bodylen};
  if (input.size() < size) return NeedMore{size - input.size()};
  const std::uint64_t offset = offset_;
  offset_ += size;
  return Decoded{detail::split_body(h, input.subspan(kHeaderSize, h.bodylen), offset), size};
}

}  // namespace tapharness::protocol
