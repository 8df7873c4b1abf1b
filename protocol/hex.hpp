// Hexadecimal text <-> bytes, for golden vectors, scenario files and traces.
//
//   auto bytes = parse_hex("80 40 00 05");   // whitespace between bytes is ignored
//   std::string text = to_hex(*bytes);       // "80400005"
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "protocol/bytes.hpp"

namespace tapharness::protocol {

// Where and why parse_hex rejected its input.
struct HexError {
  std::size_t position = 0;  // index into the text of the offending character
  std::string reason;
};

// Parses pairs of hex digits; spaces, tabs, newlines and ':' separate nothing and are
// skipped. Fails on any other character or on an odd number of digits.
std::optional<Bytes> parse_hex(std::string_view text, HexError* error = nullptr);

// Lower-case hex, two digits per byte, no separators.
std::string to_hex(ByteView bytes);

}  // namespace tapharness::protocol
