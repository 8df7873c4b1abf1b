// SASL PLAIN over the binary protocol (placeholder until the client side lands).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "protocol/bytes.hpp"
#include "protocol/frame.hpp"
#include "protocol/opcode.hpp"

namespace tapharness::protocol {

struct SaslPlain {
  std::string user;
  std::string password;
};

inline void encode_sasl_response(Bytes& out, Opcode opcode, std::uint32_t opaque, Status status, std::string_view body) {
  encode_frame(out, FrameFields{.magic = Magic::response, .opcode = opcode,
                                .vbucket_or_status = static_cast<std::uint16_t>(status), .opaque = opaque,
                                .value = ByteView(reinterpret_cast<const std::uint8_t*>(body.data()), body.size())});
}

inline std::optional<SaslPlain> parse_sasl_plain(ByteView body) {
  const std::string_view text(reinterpret_cast<const char*>(body.data()), body.size());
  const auto first = text.find('\0');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = text.find('\0', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  return SaslPlain{std::string(text.substr(first + 1, second - first - 1)), std::string(text.substr(second + 1))};
}

}  // namespace tapharness::protocol
