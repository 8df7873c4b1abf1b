#include "protocol/frame_decoder.hpp"

namespace tapharness::protocol {

std::optional<DecodeError> check_header(const Header& h, const Limits& limits,
                                        std::uint64_t offset) {
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
    return DecodeError{DecodeErrorCode::body_too_long, offset + header_offset::bodylen, "bodylen",
                       h.bodylen, limits.max_body};
  }
  const std::uint32_t fixed = std::uint32_t{h.extlen} + h.keylen;
  if (fixed > h.bodylen) {
    return DecodeError{DecodeErrorCode::lengths_exceed_body, offset + header_offset::bodylen,
                       "bodylen", h.bodylen, fixed};
  }
  return std::nullopt;
}

namespace {

// split_body's work, inlined into decode(): it runs once per frame.
[[gnu::always_inline]] inline std::optional<DecodeError> split_into(const Header& h, ByteView body,
                                                                   std::uint64_t offset, Frame& frame) {
  frame.header = h;
  frame.offset = offset;
  std::size_t at = 0;
  frame.extras = body.subspan(at, h.extlen);
  at += h.extlen;
  frame.engine_specific = {};
  if (has_engine_specific(h)) {
    const std::uint16_t nengine = load_be16(frame.extras.data());
    const std::size_t room = body.size() - at - h.keylen;  // check_header: ext + key <= body
    if (nengine > room) {
      return DecodeError{DecodeErrorCode::engine_length_exceeds_body, offset + kHeaderSize,
                         "engine_specific_length", nengine, room};
    }
    frame.engine_specific = body.subspan(at, nengine);
    at += nengine;
  }
  frame.key = body.subspan(at, h.keylen);
  at += h.keylen;
  frame.value = body.subspan(at);
  return std::nullopt;
}

}  // namespace

std::optional<DecodeError> split_body(const Header& h, ByteView body, std::uint64_t offset, Frame& frame) {
  return split_into(h, body, offset, frame);
}

DecodeResult FrameDecoder::decode(ByteView input) {
  // Every path returns `result`, so it is built where the caller receives it: copying a
  // just-written frame would stall longer than decoding it takes.
  DecodeResult result{std::in_place_type<Decoded>};
  if (error_) {
    result = *error_;
    return result;
  }
  if (input.size() < kHeaderSize) {
    result = NeedMore{kHeaderSize - input.size()};
    return result;
  }
  const Header h = read_header(input.data());
  if (auto error = check_header(h, limits_, offset_)) {
    result = *(error_ = error);
    return result;
  }
  const std::size_t size = kHeaderSize + std::size_t{h.bodylen};
  if (input.size() < size) {
    result = NeedMore{size - input.size()};
    return result;
  }
  Decoded& decoded = std::get<Decoded>(result);
  if (auto error = split_into(h, input.subspan(kHeaderSize, h.bodylen), offset_, decoded.frame)) {
    result = *(error_ = error);
    return result;
  }
  decoded.consumed = size;
  offset_ += size;
  return result;
}

}  // namespace tapharness::protocol
