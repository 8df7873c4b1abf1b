// Hexadecimal text <-> bytes, for golden vectors, scenario files and traces.
//
//   auto bytes = parse_hex("80 40 00 05");   // whitespace between bytes is ignored
//   std::string text = to_hex(*bytes);       // "80400005"
//   parse_hex("8g").error().offset == 1;     // hex_not_a_digit at text offset 1
#pragma once

#include <string>
#include <string_view>

#include "protocol/bytes.hpp"
#include "protocol/decode_error.hpp"
#include "protocol/result.hpp"

namespace tapharness::protocol {

// Parses pairs of hex digits; spaces, tabs, newlines and ':' separate nothing and are
// skipped. Fails on any other character (hex_not_a_digit) or a byte with one digit
// (hex_odd_digits); the error's offset is the character's index in `text`, its field "hex".
Result<Bytes, DecodeError> parse_hex(std::string_view text);

// Lower-case hex, two digits per byte, no separators.
std::string to_hex(ByteView bytes);

// The same for descriptions a person reads: bytes beyond `max` are left out and counted,
// "6162...(+99998 bytes, 100000 in all)".
std::string to_hex_abbreviated(ByteView bytes, std::size_t max = 48);

}  // namespace tapharness::protocol
