#include "protocol/sasl.hpp"

namespace tapharness::protocol {

std::size_t encode_sasl_list_mechs(Bytes& out, std::uint32_t opaque) {
  return encode_frame(out, FrameFields{.magic = Magic::request, .opcode = Opcode::sasl_list_mechs, .opaque = opaque});
}

std::size_t encode_sasl_auth_plain(Bytes& out, std::string_view user, std::string_view password,
                                   std::uint32_t opaque) {
  Bytes value;
  value.reserve(2 + user.size() + password.size());
  value.push_back(0);  // no authorization identity: act as the user
  append(value, as_bytes(user));
  value.push_back(0);
  append(value, as_bytes(password));
  return encode_frame(out, FrameFields{.magic = Magic::request,
                                       .opcode = Opcode::sasl_auth,
                                       .opaque = opaque,
                                       .key = as_bytes(kSaslPlain),
                                       .value = value});
}

std::size_t encode_sasl_response(Bytes& out, Opcode opcode, std::uint32_t opaque, Status status,
                                 std::string_view body) {
  return encode_frame(out, FrameFields{.magic = Magic::response,
                                       .opcode = opcode,
                                       .vbucket_or_status = static_cast<std::uint16_t>(status),
                                       .opaque = opaque,
                                       .value = as_bytes(body)});
}

std::optional<SaslPlain> parse_sasl_plain(ByteView body) {
  const std::string_view text = as_chars(body);
  const auto first = text.find('\0');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = text.find('\0', first + 1);
  if (second == std::string_view::npos || text.find('\0', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  SaslPlain plain{std::string(text.substr(first + 1, second - first - 1)), std::string(text.substr(second + 1))};
  if (plain.user.empty()) return std::nullopt;
  return plain;
}

std::optional<DecodeError> check_sasl_response(const Frame& frame, Opcode request) {
  const auto waited = static_cast<std::uint8_t>(request);
  if (frame.header.magic != Magic::response) {
    return DecodeError{DecodeErrorCode::unexpected_sasl_reply, frame.offset + header_offset::magic, "magic",
                       static_cast<std::uint8_t>(frame.header.magic), waited};
  }
  if (frame.header.opcode != request) {
    return DecodeError{DecodeErrorCode::unexpected_sasl_reply, frame.offset + header_offset::opcode, "opcode",
                       static_cast<std::uint8_t>(frame.header.opcode), waited};
  }
  return std::nullopt;
}

bool sasl_mechs_include(std::string_view mechanisms, std::string_view mechanism) {
  // Bounded by the list: each step consumes one name and the space after it.
  while (!mechanisms.empty()) {
    const auto space = mechanisms.find(' ');
    if (mechanisms.substr(0, space) == mechanism) return true;
    if (space == std::string_view::npos) break;
    mechanisms.remove_prefix(space + 1);
  }
  return false;
}

}  // namespace tapharness::protocol
