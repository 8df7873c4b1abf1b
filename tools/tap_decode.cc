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
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

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
  if (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    fmt::print("usage: tap_decode [FILE...]\n"
               "Decodes hex dumps of TAP byte streams (stdin without FILE) frame by frame.\n");
    return 0;
  }
  if (argc == 1) {
    std::string text(std::istreambuf_iterator<char>(std::cin), {});
    return tapharness::decode("<stdin>", text);
  }
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    // Under `bazel run` the working directory is the runfiles tree; paths are the user's.
    std::string path = argv[i];
    if (const char* dir = std::getenv("BUILD_WORKING_DIRECTORY"); dir && !path.empty() && path[0] != '/') {
      path = std::string(dir) + "/" + path;
    }
    std::ifstream in(path);
    if (!in) {
      fmt::print(stderr, "tap_decode: cannot read {}\n", argv[i]);
      return 2;
    }
    std::string text(std::istreambuf_iterator<char>(in), {});
    status = std::max(status, tapharness::decode(argv[i], text));
  }
  return status;
}
