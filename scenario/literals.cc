#include "scenario/literals.hpp"

#include <fmt/format.h>

namespace tapharness::scenario {

std::string string_literal(std::string_view bytes) {
  std::string out = "\"";
  for (const unsigned char c : bytes) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out + "\"";
}

std::string bytes_literal(std::string_view bytes) {
  std::size_t printable = 0;
  for (const char c : bytes) printable += (c >= 0x20 && c < 0x7f);
  if (printable + 2 >= bytes.size()) return string_literal(bytes);
  std::string hex;
  for (const unsigned char c : bytes) hex += fmt::format("{:02x}", c);
  return fmt::format("x\"{}\"", hex);
}

}  // namespace tapharness::scenario
