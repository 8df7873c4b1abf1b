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

std::optional<DecodeError> split_body(const Header& h, ByteView body, std::uint64_t offset, Frame& frame) {
  return detail::split_into(h, body, offset, frame);
}

}  // namespace tapharness::protocol
