// The typed error every decoder in the codec reports: what was wrong, where in the stream,
// in which field, and the offending value.
//
//   DecodeError e = ...;
//   e.code == DecodeErrorCode::body_too_long;
//   fmt::format("{}", e);
//   // "body_too_long at stream offset 8, field bodylen = 4294967295: exceeds the limit 22020096"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace tapharness::protocol {

enum class DecodeErrorCode : std::uint8_t {
  // Frame layer (FrameDecoder), all detected from the 24-byte header alone.
  bad_magic,             // magic is neither 0x80 (request) nor 0x81 (response)
  extras_too_long,       // extlen exceeds Limits::max_extras
  key_too_long,          // keylen exceeds Limits::max_key
  body_too_long,         // bodylen exceeds Limits::max_body
  lengths_exceed_body,   // extlen + keylen > bodylen
  // Frame layer, from the first extras bytes of a TAP message.
  engine_length_exceeds_body,  // extlen + engine-specific length + keylen > bodylen
  // TAP layer (decode_tap_connect, decode_tap_message, map_feed_frame).
  tap_extras_too_short,        // a TAP message without the 8-byte TAP extras prefix
  connect_extras_length,       // TAP_CONNECT extras are not exactly the 4 flag bytes
  connect_body_too_short,      // a flag announces a body field the body does not hold
  connect_body_trailing,       // body bytes that no connect flag accounts for
  checkpoint_id_length,        // CHECKPOINT_START/END value is not an 8-byte id
  vbucket_state_length,        // TAP_VBUCKET_SET engine-specific bytes are not a 4-byte state
  unexpected_response,         // a response (magic 0x81) where only requests belong
};

std::string_view name_of(DecodeErrorCode code);

struct DecodeError {
  DecodeErrorCode code = DecodeErrorCode::bad_magic;
  std::uint64_t offset = 0;    // absolute stream offset of the offending field
  std::string_view field;      // the spec name of that field ("bodylen", "magic", ...)
  std::uint64_t value = 0;     // what the field held
  std::uint64_t limit = 0;     // the bound it broke, where one applies (0 otherwise)

  // A one-line, human-readable explanation (the fmt formatter prints it too).
  std::string message() const;

  friend bool operator==(const DecodeError&, const DecodeError&) = default;
};

}  // namespace tapharness::protocol

template <>
struct fmt::formatter<tapharness::protocol::DecodeErrorCode> : fmt::formatter<std::string_view> {
  auto format(tapharness::protocol::DecodeErrorCode c, fmt::format_context& ctx) const
      -> decltype(ctx.out()) {
    return fmt::formatter<std::string_view>::format(tapharness::protocol::name_of(c), ctx);
  }
};

template <>
struct fmt::formatter<tapharness::protocol::DecodeError> : fmt::formatter<std::string_view> {
  auto format(const tapharness::protocol::DecodeError& e, fmt::format_context& ctx) const
      -> decltype(ctx.out()) {
    return fmt::format_to(ctx.out(), "{}", e.message());
  }
};
