// Bytes as the scenario language writes them, in forms its parser reads back to the same
// bytes: what --update, client failure output and tap_record write into lines.
//
//   string_literal("a\"b\x01") == R"("a\"b\x01")"
//   bytes_literal("\x80\x81\x82\x83") == R"(x"80818283")"
#pragma once

#include <string>
#include <string_view>

namespace tapharness::scenario {

// A quoted string: printable ASCII as is, quote and backslash escaped, every other byte \xHH.
std::string string_literal(std::string_view bytes);

// A value: the quoted string when the bytes are printable enough (all but two), hex otherwise.
std::string bytes_literal(std::string_view bytes);

}  // namespace tapharness::scenario
