// Every path json_text can take on this machine writes what the plain encoders write: the
// AVX-512 and SSSE3 paths are only as good as their agreement with a three-bytes-at-a-time
// base64 encoder and a byte-at-a-time escaper, at every length and every byte value.
#include "client/json_text.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

namespace tapharness::client::json_text {
namespace {

std::string reference_base64(std::string_view bytes) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 3; ++k) v = v << 8 | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0);
    for (std::size_t k = 0; k < 4; ++k) out += k <= n ? kBase64Alphabet[(v >> (18 - 6 * k)) & 0x3f] : '=';
  }
  return out;
}

std::string reference_escaped(std::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (b == '"' || b == '\\') {
      out += '\\';
      out += c;
    } else if (b < 0x20 || b >= 0x7f) {
      out += fmt::format("\\u00{:02x}", b);
    } else {
      out += c;
    }
  }
  return out;
}

// The input sits at the very end of its allocation and the output is sized exactly, with a
// guard after it: a path that reads or writes one byte too many shows under ASan, or here.
template <class Put>
std::string written(std::string_view bytes, std::size_t room, Put put) {
  std::vector<char> input(bytes.begin(), bytes.end());
  std::string out(room + 1, '#');
  char* end = put(out.data(), std::string_view(input.data(), input.size()));
  EXPECT_EQ(out.back(), '#') << "wrote beyond its room";
  return out.substr(0, static_cast<std::size_t>(end - out.data()));
}

TEST(JsonText, ThisMachineRunsThePortablePathAndItsBest) {
  const auto paths = paths_here();
  ASSERT_FALSE(paths.empty());
  EXPECT_EQ(paths.front(), Path::portable);
  EXPECT_EQ(paths.back(), best_path());
  std::string names;
  for (const Path path : paths) names += std::string(name_of(path)) + " ";
  RecordProperty("paths", names);
}

TEST(JsonText, Base64OnEveryPathAtEveryLengthAndByteValue) {
  for (const Path path : paths_here()) {
    std::string bytes;
    for (int n = 0; n < 600; ++n) {
      const std::string out = written(bytes, (bytes.size() + 2) / 3 * 4,
                                      [&](char* at, std::string_view in) { return put_base64(at, in, path); });
      ASSERT_EQ(out, reference_base64(bytes)) << name_of(path) << ", length " << bytes.size();
      bytes += static_cast<char>((n * 151 + 7) % 256);  // every byte value within 256
    }
  }
}

TEST(JsonText, EscapingOnEveryPathFindsEachSpecialByteInEveryLane) {
  // Each kind of byte that must be escaped, at every position of inputs up to 140 bytes: past
  // two 64-byte blocks, eight 16-byte ones and their overlapping tails.
  for (const Path path : paths_here()) {
    for (const char special : {'"', '\\', '\x00', '\x1f', '\x7f', '\x80', '\xff'}) {
      for (std::size_t length = 1; length <= 140; ++length) {
        for (std::size_t at = 0; at < length; ++at) {
          std::string key(length, 'k');
          key[at] = special;
          const std::string expected = reference_escaped(key);
          const std::string out =
              written(key, expected.size(), [&](char* to, std::string_view in) { return put_escaped(to, in, path); });
          ASSERT_EQ(out, expected) << name_of(path) << ", length " << length << ", at " << at;
        }
      }
    }
  }
}

TEST(JsonText, EscapingOnEveryPathKeepsPrintableTextAndEscapesEveryOtherByte) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  std::string printable;
  for (char c = ' '; c <= '~'; ++c) {
    if (c != '"' && c != '\\') printable += c;
  }
  for (const Path path : paths_here()) {
    for (const std::string& text : {all, printable, printable + printable + all + printable}) {
      const std::string expected = reference_escaped(text);
      EXPECT_EQ(written(text, expected.size(), [&](char* to, std::string_view in) { return put_escaped(to, in, path); }),
                expected)
          << name_of(path);
    }
  }
}

}  // namespace
}  // namespace tapharness::client::json_text
