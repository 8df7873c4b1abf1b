#include "protocol/hex.hpp"

#include <fmt/format.h>

namespace tapharness::protocol {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_separator(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':'; }

}  // namespace

Result<Bytes, DecodeError> parse_hex(std::string_view text) {
  auto fail = [](DecodeErrorCode code, std::size_t position, char c) {
    return DecodeError{code, position, "hex", static_cast<unsigned char>(c), 0};
  };
  Bytes out;
  out.reserve(text.size() / 2);
  int high = -1;
  std::size_t high_position = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_separator(c)) {
      if (high >= 0) return fail(DecodeErrorCode::hex_odd_digits, i, c);
      continue;
    }
    const int digit = hex_digit(c);
    if (digit < 0) return fail(DecodeErrorCode::hex_not_a_digit, i, c);
    if (high < 0) {
      high = digit;
      high_position = i;
    } else {
      out.push_back(static_cast<std::uint8_t>(high << 4 | digit));
      high = -1;
    }
  }
  if (high >= 0) return fail(DecodeErrorCode::hex_odd_digits, high_position, text[high_position]);
  return out;
}

std::string to_hex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

std::string to_hex_abbreviated(ByteView bytes, std::size_t max) {
  if (bytes.size() <= max) return to_hex(bytes);
  return fmt::format("{}...(+{} bytes, {} in all)", to_hex(bytes.first(max)), bytes.size() - max, bytes.size());
}

}  // namespace tapharness::protocol
