// The typed error every decoder in the codec reports: what was wrong, where in the stream,
// in which field, and the offending value. The codes form a std::error_category, so a decode
// error travels through error_code-based interfaces (client/feed_error.hpp carries it into
// Asio's boost::system::error_code).
//
//   DecodeError e = ...;
//   e.code == DecodeErrorCode::body_too_long;
//   fmt::format("{}", e);
//   // "body_too_long at stream offset 8, field bodylen = 4294967295: exceeds the limit 22020096"
//   std::error_code ec = e.code;            // category "tapharness.decode"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "protocol/format.hpp"

namespace tapharness::protocol {

// Values start at 1: an error_code of 0 means "no error".
enum class DecodeErrorCode : std::uint8_t {
  // Frame layer (FrameDecoder), all detected from the 24-byte header alone.
  bad_magic = 1,             // magic is neither 0x80 (request) nor 0x81 (response)
  extras_too_long,       // extlen exceeds Limits::max_extras
  key_too_long,          // keylen exceeds Limits::max_key
  body_too_long,         // bodylen exceeds Limits::max_body
  lengths_exceed_body,   // extlen + keylen > bodylen
  // Frame layer, from the first extras bytes of a TAP message.
  engine_length_exceeds_body,  // extlen + engine-specific length + keylen > bodylen
  value_too_long,              // the value exceeds Limits::max_value (field bodylen: from the header)
  // TAP layer (decode_tap_connect, decode_tap_message, map_feed_frame).
  tap_extras_too_short,        // a TAP message without the 8-byte TAP extras prefix
  tap_extras_length,           // extras that are not the shape of the message's kind (16 or 8)
  connect_extras_length,       // TAP_CONNECT extras are not exactly the 4 flag bytes
  connect_body_too_short,      // a flag announces a body field the body does not hold
  connect_body_trailing,       // body bytes that no connect flag accounts for
  checkpoint_id_length,        // CHECKPOINT_START/END value is not an 8-byte id
  vbucket_state_length,        // TAP_VBUCKET_SET engine-specific bytes are not a 4-byte state
  unexpected_response,         // a response (magic 0x81) where only requests belong
  connect_reply_mid_stream,    // a TAP_CONNECT reply after the first frame: a refusal precedes the stream
  unexpected_connect,          // a TAP_CONNECT request (magic 0x80) from the server
  // Hex text (parse_hex): the offset is the character's index in the text.
  hex_not_a_digit,             // a character that is neither a hex digit nor a separator
  hex_odd_digits,              // a byte with one digit: before a separator, or at the end
  // SASL (check_sasl_response in sasl.hpp), appended so the codes above keep their numbers.
  unexpected_sasl_reply,       // a frame other than the response to the client's SASL request
};

std::string_view name_of(DecodeErrorCode code);

// The category of DecodeErrorCode values: name "tapharness.decode", messages "bad magic" etc.
const std::error_category& decode_category();
inline std::error_code make_error_code(DecodeErrorCode code) {
  return {static_cast<int>(code), decode_category()};
}

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

inline FormatOut describe_to(FormatOut out, const DecodeError& e) { return fmt::format_to(out, "{}", e.message()); }

}  // namespace tapharness::protocol

template <>
struct std::is_error_code_enum<tapharness::protocol::DecodeErrorCode> : std::true_type {};
