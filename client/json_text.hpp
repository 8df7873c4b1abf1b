// The two pieces of a JSON line that cost the most per byte: a value as base64 and a key as
// the contents of a JSON string, written into room the caller reserved, on the widest path
// the CPU has (chosen once, at start-up).
//
//   char* end = json_text::put_base64(at, value);   // (value.size() + 2) / 3 * 4 letters
//   end = json_text::put_escaped(end, key);          // at most 6 bytes per key byte
//
// Every path writes the same bytes; tests run each path the machine has against the plain
// encoders (paths_here()).
#pragma once

#include <string_view>
#include <vector>

namespace tapharness::client::json_text {

// RFC 4648's letters, in the order of their 6-bit values.
inline constexpr std::string_view kBase64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

enum class Path {
  portable,  // eight bytes at a time in 64-bit words
  ssse3,     // base64 twelve bytes a step (pshufb), escaping sixteen (SSE2)
  avx512,    // base64 forty-eight bytes a step (AVX-512 VBMI), escaping sixty-four (AVX-512 BW)
};

// The widest path this CPU (and its operating system) supports.
Path best_path();
// Every path this CPU can run, narrowest first.
std::vector<Path> paths_here();
std::string_view name_of(Path path);

// `bytes` as base64 with padding: (size + 2) / 3 * 4 letters at `at`; returns their end.
char* put_base64(char* at, std::string_view bytes);
char* put_base64(char* at, std::string_view bytes, Path path);

// `bytes` as a JSON string's contents: printable ASCII as it is, quote and backslash
// backslashed, every other byte \u00XX (at most 6 bytes each); returns the end.
char* put_escaped(char* at, std::string_view bytes);
char* put_escaped(char* at, std::string_view bytes, Path path);

}  // namespace tapharness::client::json_text
