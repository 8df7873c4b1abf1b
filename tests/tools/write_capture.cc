// Writes a pcapng of one connection from writes given on the command line, for the tshark and
// tap_decode tests to have captures the mock server never makes (several frames in one
// segment, a frame across segments of a small MSS, hand-made lies).
//
//   write_capture OUT [--mss N] [--port P] c:HEX s:HEX s:HEX fin:s
//   (c: the client writes HEX; s: the server; fin:s / rst:c: that side closes)
#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "capture/pcapng_writer.hpp"
#include "protocol/hex.hpp"

int main(int argc, char** argv) {
  using namespace tapharness;
  if (argc < 2) {
    fmt::print(
        stderr,
        "usage: write_capture OUT [--mss N] [--port P] c:HEX|s:HEX|fin:c|fin:s|rst:c|rst:s...\n");
    return 2;
  }
  std::FILE* out = std::fopen(argv[1], "wb");
  if (!out) {
    fmt::print(stderr, "write_capture: cannot write {}\n", argv[1]);
    return 2;
  }
  capture::PcapngWriter::Options options{.start_us = 1'700'000'000'000'000};
  std::uint16_t port = 11210;
  int i = 2;
  for (; i + 1 < argc && std::string_view(argv[i]).starts_with("--"); i += 2) {
    if (std::string_view(argv[i]) == "--mss") options.max_segment = std::stoul(argv[i + 1]);
    if (std::string_view(argv[i]) == "--port")
      port = static_cast<std::uint16_t>(std::stoul(argv[i + 1]));
  }
  capture::PcapngWriter writer(
      [&](protocol::ByteView b) { std::fwrite(b.data(), 1, b.size(), out); }, options);
  auto c = writer.open(capture::TcpEndpoint::v4(127, 0, 0, 1, 50123),
                       capture::TcpEndpoint::v4(127, 0, 0, 1, port), 0, "write_capture");
  std::int64_t at = 0;
  for (; i < argc; ++i) {
    const std::string_view arg = argv[i];
    at += 100;
    const auto side = arg.ends_with(":c") || arg.starts_with("c:") ? capture::Side::client
                                                                   : capture::Side::server;
    if (arg.starts_with("fin:") || arg.starts_with("rst:")) {
      writer.close(c, side, arg.starts_with("fin") ? capture::Close::fin : capture::Close::rst, at,
                   {});
      continue;
    }
    auto bytes = protocol::parse_hex(arg.substr(2));
    if (!bytes || arg.size() < 2 || arg[1] != ':') {
      fmt::print(stderr, "write_capture: '{}' is not c:HEX or s:HEX\n", arg);
      return 2;
    }
    writer.write(c, side, at, *bytes, fmt::format("write {}", i));
  }
  std::fclose(out);
  return 0;
}
