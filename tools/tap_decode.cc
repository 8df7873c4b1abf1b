// tap_decode: decodes TAP byte streams frame by frame and prints each frame field by field
// with what a TAP feed does with it. It reads:
// - hex dumps (a scenario's frames, a fuzzer input; '#' starts a comment to the end of line);
// - transcripts tap_mockserver --trace writes (both directions, in record order);
// - pcap and pcapng captures (tap_mockserver --pcap, tcpdump, Wireshark): each TCP
//   conversation's two directions, reassembled, the client's (TAP_CONNECT, SASL, ACKs) and
//   the server's (TAP messages, replies).
// The kind is told by the first bytes (a capture's magic, a transcript's first record),
// or --format says it.
//
//   echo "80 0a 0000 00 00 0000 00000000 00000000 0000000000000000" | tap_decode
//   tap_decode run.pcapng
//   tap_decode /tmp/traces/backfill.1.trace
//
// Exit status: 0 every stream decoded to whole frames, 1 a decode error, a truncated frame
// or an input that is not what it claims to be, 2 bad usage or unreadable input.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "capture/capture_reader.hpp"
#include "cli/conventions.hpp"
#include "protocol/describe.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/hex.hpp"
#include "tools/stream_decoder.hpp"
#include "tools/trace_text.hpp"

namespace tapharness {
namespace {

using namespace protocol;

constexpr std::string_view kUsage =
    "usage: tap_decode [--format auto|hex|trace|capture] [--comments] [FILE...]";

enum class Input { automatic, hex, trace, capture };

struct Options {
  Input format = Input::automatic;
  bool comments = false;  // a capture's packet comments (write boundaries, fault notes)
};

// "[   0.000123s]", as the transcripts write times.
std::string stamp(std::int64_t us) {
  if (us < 0) us = 0;
  return fmt::format("[{:>4}.{:06}s]", us / 1'000'000, us % 1'000'000);
}

void flush(std::string& out) {
  std::fwrite(out.data(), 1, out.size(), stdout);
  out.clear();
}

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

int decode_hex(const std::string& source, const std::string& text) {
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

int decode_trace(const std::string& source, const std::string& text) {
  auto entries = tools::parse_trace(text);
  if (!entries) {
    fmt::print(stderr, "tap_decode: {}: {}\n", source, entries.error().message());
    return 1;
  }
  tools::StreamDecoder to_server("client->server"), to_client("server->client");
  std::string out;
  for (const tools::TraceEntry& e : *entries) {
    const std::string when = stamp(e.at_us);
    if (e.kind == tools::TraceEntry::Kind::note) {
      out += fmt::format("{} -- {}\n", when, e.note);
      // The head of a frame whose value the server generated as it wrote it: the value's
      // bytes are not in the transcript.
      constexpr std::string_view kPrefix = "then its ",
                                 kSuffix = "-byte value, generated as it is written";
      if (e.note.starts_with(kPrefix) && e.note.ends_with(kSuffix)) {
        const std::string n =
            e.note.substr(kPrefix.size(), e.note.size() - kPrefix.size() - kSuffix.size());
        to_client.skip(when, std::strtoull(n.c_str(), nullptr, 10),
                       "a value generated as written is not in the trace", out);
      }
    } else {
      tools::StreamDecoder& d =
          e.kind == tools::TraceEntry::Kind::from_server ? to_client : to_server;
      if (e.whole) {
        d.feed(when, e.bytes, out);
      } else {
        d.skip(when, e.size,
               fmt::format("line {} of the trace shows only its head and tail rows; it cannot be "
                           "decoded whole there",
                           e.text_line),
               out, true);
      }
    }
    if (out.size() > 64 * 1024) flush(out);
  }
  const bool ok = to_server.finish(out) & to_client.finish(out);
  flush(out);
  return ok && !to_server.failed() && !to_client.failed() ? 0 : 1;
}

int decode_capture(const std::string& source, const std::string& text, const Options& options) {
  const ByteView bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
  auto read = capture::read_capture(bytes);
  if (!read) {
    fmt::print(stderr, "tap_decode: {}: {}\n", source, read.error().message());
    return 1;
  }
  std::int64_t start = INT64_MAX;
  for (const auto& c : read->conversations) {
    if (!c.segments.empty()) start = std::min(start, c.segments.front().at_us);
  }
  fmt::print("{}: {}, {} packets, {} TCP conversations{}{}\n", source,
             capture::name_of(read->format), read->packets, read->conversations.size(),
             read->skipped ? fmt::format(", {} packets not TCP", read->skipped) : "",
             read->damaged ? fmt::format(", {} damaged packets not used", read->damaged) : "");
  int status = 0;
  std::string out;
  std::size_t n = 0;
  for (const capture::Conversation& c : read->conversations) {
    out += fmt::format(
        "conversation {}: client {}:{}, server {}:{} ({}); {} bytes to the server, {} to the "
        "client\n",
        ++n, c.client.address, c.client.port, c.server.address, c.server.port,
        c.client_by == capture::ClientBy::syn           ? "the client sent the SYN"
        : c.client_by == capture::ClientBy::first_frame ? "no SYN: told by the first frames"
                                                        : "no SYN: the client has the higher port",
        c.bytes_to_server, c.bytes_to_client);
    tools::StreamDecoder to_server("client->server"), to_client("server->client");
    for (const capture::Segment& s : c.segments) {
      const std::string when = stamp(s.at_us - start);
      tools::StreamDecoder& d =
          s.direction == capture::Direction::to_server ? to_server : to_client;
      const std::string_view label =
          s.direction == capture::Direction::to_server ? "client->server" : "server->client";
      if (options.comments && !s.comment.empty())
        out += fmt::format("{} {} # {}\n", when, label, s.comment);
      if (s.gap_before > 0)
        d.skip(when, s.gap_before, fmt::format("not captured, before packet {}", s.packet), out);
      if (!s.payload.empty()) d.feed(when, s.payload, out);
      if (s.fin) out += fmt::format("{} {} FIN\n", when, label);
      if (s.rst) out += fmt::format("{} {} RST\n", when, label);
      if (out.size() > 64 * 1024) flush(out);
    }
    const bool ok = to_server.finish(out) & to_client.finish(out);
    if (!ok || to_server.failed() || to_client.failed()) status = 1;
    flush(out);
  }
  return status;
}

int decode(const std::string& source, const std::string& text, const Options& options) {
  const ByteView head(reinterpret_cast<const std::uint8_t*>(text.data()),
                      std::min<std::size_t>(text.size(), 4));
  Input kind = options.format;
  if (kind == Input::automatic) {
    kind = capture::detect_format(head)    ? Input::capture
           : tools::looks_like_trace(text) ? Input::trace
                                           : Input::hex;
  }
  switch (kind) {
    case Input::capture: return decode_capture(source, text, options);
    case Input::trace: return decode_trace(source, text);
    default: return decode_hex(source, text);
  }
}

}  // namespace
}  // namespace tapharness

int main(int argc, char** argv) {
  using tapharness::cli::user_path;
  const std::vector<std::string> args(argv + 1, argv + argc);
  tapharness::Options options;
  std::vector<std::string> files;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      fmt::print(
          "{}\n"
          "Decodes TAP byte streams frame by frame: hex dumps, tap_mockserver --trace transcripts, "
          "and pcap or\n"
          "pcapng captures (each TCP conversation, both directions). '-' (or no FILE) reads "
          "standard input.\n"
          "  --format KIND  hex, trace or capture instead of telling by the first bytes\n"
          "  --comments     print a capture's packet comments (write boundaries, fault notes)\n"
          "Exit status: 0 every stream decoded, 1 a stream does not decode, 2 a file cannot be "
          "read.\n",
          tapharness::kUsage);
      return 0;
    }
    if (arg == "--version") {
      fmt::print("{}\n", tapharness::cli::version_text("tap_decode"));
      return 0;
    }
    if (arg == "--comments") {
      options.comments = true;
    } else if (arg == "--format" || arg.starts_with("--format=")) {
      std::string value =
          arg == "--format" ? (i + 1 < args.size() ? args[++i] : "") : arg.substr(9);
      if (value == "auto")
        options.format = tapharness::Input::automatic;
      else if (value == "hex")
        options.format = tapharness::Input::hex;
      else if (value == "trace")
        options.format = tapharness::Input::trace;
      else if (value == "capture" || value == "pcap" || value == "pcapng")
        options.format = tapharness::Input::capture;
      else {
        fmt::print(stderr, "tap_decode: --format '{}' is not auto, hex, trace or capture\n{}\n",
                   value, tapharness::kUsage);
        return 2;
      }
    } else if (arg.size() > 1 && arg[0] == '-') {
      fmt::print(stderr, "tap_decode: unknown option '{}'\n{}\n", arg, tapharness::kUsage);
      return 2;
    } else {
      files.push_back(arg);
    }
  }
  int status = 0;
  for (const std::string& arg : files.empty() ? std::vector<std::string>{"-"} : files) {
    if (arg == "-") {
      std::string text(std::istreambuf_iterator<char>(std::cin), {});
      status = std::max(status, tapharness::decode("<stdin>", text, options));
      continue;
    }
    std::ifstream in(user_path(arg), std::ios::binary);  // under `bazel run`, the user's directory
    if (!in) {
      fmt::print(stderr, "tap_decode: cannot read {}\n", arg);
      return 2;
    }
    std::string text(std::istreambuf_iterator<char>(in), {});
    status = std::max(status, tapharness::decode(arg, text, options));
  }
  return status;
}
