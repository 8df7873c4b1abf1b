#include "protocol/decode_error.hpp"

#include "protocol/opcode.hpp"

namespace tapharness::protocol {

std::string_view name_of(DecodeErrorCode code) {
  switch (code) {
    case DecodeErrorCode::bad_magic: return "bad_magic";
    case DecodeErrorCode::extras_too_long: return "extras_too_long";
    case DecodeErrorCode::key_too_long: return "key_too_long";
    case DecodeErrorCode::body_too_long: return "body_too_long";
    case DecodeErrorCode::lengths_exceed_body: return "lengths_exceed_body";
    case DecodeErrorCode::engine_length_exceeds_body: return "engine_length_exceeds_body";
    case DecodeErrorCode::value_too_long: return "value_too_long";
    case DecodeErrorCode::tap_extras_length: return "tap_extras_length";
    case DecodeErrorCode::connect_reply_mid_stream: return "connect_reply_mid_stream";
    case DecodeErrorCode::unexpected_connect: return "unexpected_connect";
    case DecodeErrorCode::tap_extras_too_short: return "tap_extras_too_short";
    case DecodeErrorCode::connect_extras_length: return "connect_extras_length";
    case DecodeErrorCode::connect_body_too_short: return "connect_body_too_short";
    case DecodeErrorCode::connect_body_trailing: return "connect_body_trailing";
    case DecodeErrorCode::checkpoint_id_length: return "checkpoint_id_length";
    case DecodeErrorCode::vbucket_state_length: return "vbucket_state_length";
    case DecodeErrorCode::unexpected_response: return "unexpected_response";
    case DecodeErrorCode::hex_not_a_digit: return "hex_not_a_digit";
    case DecodeErrorCode::hex_odd_digits: return "hex_odd_digits";
    case DecodeErrorCode::unexpected_sasl_reply: return "unexpected_sasl_reply";
  }
  return "unknown_decode_error";
}

namespace {

std::string explain(const DecodeError& e) {
  switch (e.code) {
    case DecodeErrorCode::bad_magic:
      return "expected 0x80 (request) or 0x81 (response)";
    case DecodeErrorCode::extras_too_long:
    case DecodeErrorCode::key_too_long:
    case DecodeErrorCode::body_too_long:
      return fmt::format("exceeds the limit {}", e.limit);
    case DecodeErrorCode::lengths_exceed_body:
      return fmt::format("smaller than extlen + keylen = {}", e.limit);
    case DecodeErrorCode::engine_length_exceeds_body:
      return fmt::format("leaves only {} body bytes after the extras and the key", e.limit);
    case DecodeErrorCode::value_too_long:
      return e.field == "bodylen" ? fmt::format("the value it leaves is over the limit {}", e.limit)
                                  : fmt::format("exceeds the limit {}", e.limit);
    case DecodeErrorCode::tap_extras_length:
      return fmt::format("this TAP message carries {} extras bytes", e.limit);
    case DecodeErrorCode::connect_reply_mid_stream:
      return "a TAP_CONNECT reply can only refuse the connect, before the stream starts";
    case DecodeErrorCode::unexpected_connect:
      return "a TAP_CONNECT request comes from a client, never from the server";
    case DecodeErrorCode::tap_extras_too_short:
      return fmt::format("a TAP message needs at least {} extras bytes", e.limit);
    case DecodeErrorCode::connect_extras_length:
      return fmt::format("TAP_CONNECT extras must be the {} flag bytes", e.limit);
    case DecodeErrorCode::connect_body_too_short:
      return fmt::format("the connect flags need {} more body bytes than were sent", e.limit);
    case DecodeErrorCode::connect_body_trailing:
      return "no connect flag accounts for these body bytes";
    case DecodeErrorCode::checkpoint_id_length:
      return fmt::format("the checkpoint id must be a {}-byte value", e.limit);
    case DecodeErrorCode::vbucket_state_length:
      return fmt::format("the vbucket state must be {} engine-specific bytes", e.limit);
    case DecodeErrorCode::unexpected_response:
      return "a response (magic 0x81) where the stream carries only requests";
    case DecodeErrorCode::hex_not_a_digit:
      return "not a hex digit";
    case DecodeErrorCode::hex_odd_digits:
      return "a byte needs two hex digits";
    case DecodeErrorCode::unexpected_sasl_reply:
      return fmt::format("the client waits for the response (magic 0x81) to its {}", static_cast<Opcode>(e.limit));
  }
  return {};
}

class DecodeCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tapharness.decode"; }
  std::string message(int value) const override {
    if (value < 1 || value > static_cast<int>(DecodeErrorCode::unexpected_sasl_reply)) return "unknown decode error";
    return std::string(name_of(static_cast<DecodeErrorCode>(value)));
  }
};

}  // namespace

const std::error_category& decode_category() {
  static const DecodeCategory category;
  return category;
}

std::string DecodeError::message() const {
  const bool byte_shown_as_hex = field == "magic" || code == DecodeErrorCode::hex_not_a_digit;
  return fmt::format("{} at {} offset {}, field {} = {}: {}", name_of(code),
                     field == "hex" ? "text" : "stream", offset, field,
                     byte_shown_as_hex ? fmt::format("0x{:02x}", value) : fmt::format("{}", value), explain(*this));
}

}  // namespace tapharness::protocol
