// tap_decode: decodes a hex dump of a TAP byte stream (a capture, a scenario's frames, a
// fuzzer input) and prints each frame field by field with what a TAP feed does with it.
//
//   echo "80 0a 0000 00 00 0000 00000000 00000000 0000000000000000" | tap_decode
//   tap_decode capture.hex other.hex
//
// '#' starts a comment that runs to the end of the line.
//
// Exit status: 0 the stream decoded to whole frames, 1 a decode error or a truncated
// frame, 2 bad usage or unreadable input.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/conventions.hpp"
#include "protocol/describe.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/hex.hpp"

namespace tapharness {
namespace {

using namespace protocol;

// Blanks out '#' comments to the end of their line, keeping positions for error reports.
std::string strip_comments(std::string text) {
  bool in_comment = false;
  for (char& c : text) {
    if (c == '\n') {
      in_comment = false;
    } else if (c == '#' || in_comment) {
      in_comment = true;
      c = ' ';
    }
  }
  return text;
}

int decode(const std::string& source, const std::string& text) {
  auto bytes = parse_hex(strip_comments(text));
  if (!bytes) {
    fmt::print(stderr, "tap_decode: {}: {}\n", source, bytes.error());
    return 2;
  }
  FrameDecoder decoder;
  ByteView rest = *bytes;
  while (!rest.empty()) {
    auto result = decoder.decode(rest);
    if (auto* d = std::get_if<Decoded>(&result)) {
      fmt::print("@{} {}", d->frame.offset, describe_frame(d->frame));
      rest = rest.subspan(d->consumed);
    } else if (auto* more = std::get_if<NeedMore>(&result)) {
      fmt::print("{}: stream ends inside a frame at offset {}: {} more bytes needed\n", source,
                 decoder.offset(), more->bytes);
      return 1;
    } else {
      fmt::print("{}: {}\n", source, std::get<DecodeError>(result));
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace tapharness

int main(int argc, char** argv) {
  using tapharness::cli::user_path;
  const std::vector<std::string> args(argv + 1, argv + argc);
  for (const auto& arg : args) {
    if (arg == "--help" || arg == "-h") {
      fmt::print("usage: tap_decode [FILE...]\n"
                 "Decodes hex dumps of TAP byte streams frame by frame; '-' (or no FILE) reads standard input.\n"
                 "Exit status: 0 every stream decoded, 1 a stream does not decode, 2 a file cannot be read.\n");
      return 0;
    }
    if (arg == "--version") {
      fmt::print("{}\n", tapharness::cli::version_text("tap_decode"));
      return 0;
    }
    if (arg.size() > 1 && arg[0] == '-') {
      fmt::print(stderr, "tap_decode: unknown option '{}'\nusage: tap_decode [FILE...]\n", arg);
      return 2;
    }
  }
  int status = 0;
  for (const std::string& arg : args.empty() ? std::vector<std::string>{"-"} : args) {
    if (arg == "-") {
      std::string text(std::istreambuf_iterator<char>(std::cin), {});
      status = std::max(status, tapharness::decode("<stdin>", text));
      continue;
    }
    std::ifstream in(user_path(arg));  // under `bazel run`, the user's directory
    if (!in) {
      fmt::print(stderr, "tap_decode: cannot read {}\n", arg);
      return 2;
    }
    std::string text(std::istreambuf_iterator<char>(in), {});
    status = std::max(status, tapharness::decode(arg, text));
  }
  return status;
}
