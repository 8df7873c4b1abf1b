#include "mockserver/trace_writer.hpp"

#include <fmt/format.h>

#include "protocol/describe.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/hex.hpp"

namespace tapharness::mockserver {
namespace {

// Hex in rows of 32 bytes, indented; of a long frame the first and last rows, and how much
// lies between (a 20 MiB value is no reading matter).
std::string hex_rows(protocol::ByteView bytes) {
  constexpr std::size_t kRow = 32;
  constexpr std::size_t kHeadRows = 8;
  constexpr std::size_t kTailRows = 2;
  std::string out;
  auto row = [&](std::size_t at) {
    out += fmt::format("    {:6} {}\n", at, protocol::to_hex(bytes.subspan(at, std::min(kRow, bytes.size() - at))));
  };
  const std::size_t rows = (bytes.size() + kRow - 1) / kRow;
  if (rows <= kHeadRows + kTailRows + 1) {
    for (std::size_t at = 0; at < bytes.size(); at += kRow) row(at);
    return out;
  }
  for (std::size_t r = 0; r < kHeadRows; ++r) row(r * kRow);
  const std::size_t tail = (rows - kTailRows) * kRow;
  out += fmt::format("    ... {} bytes not shown ...\n", tail - kHeadRows * kRow);
  for (std::size_t at = tail; at < bytes.size(); at += kRow) row(at);
  return out;
}

// "[  0.001234s]": microseconds since the session started.
std::string timestamp(std::chrono::microseconds at) {
  return fmt::format("[{:>4}.{:06}s]", at.count() / 1'000'000, at.count() % 1'000'000);
}

// The frame decoded, or why it does not decode (a lie or a raw fragment).
std::string decoded(protocol::ByteView bytes) {
  protocol::FrameDecoder decoder;
  auto result = decoder.decode(bytes);
  if (auto* d = std::get_if<protocol::Decoded>(&result)) {
    std::string text = protocol::describe_frame(d->frame);
    if (d->consumed < bytes.size()) text += fmt::format("  (+{} bytes after the frame)\n", bytes.size() - d->consumed);
    return "  " + text;
  }
  if (auto* more = std::get_if<protocol::NeedMore>(&result)) {
    return fmt::format("  (not a whole frame: {} more bytes would be needed)\n", more->bytes);
  }
  return fmt::format("  (does not decode: {})\n", std::get<protocol::DecodeError>(result));
}

}  // namespace

std::string format_trace_record(const TraceRecord& r) {
  const std::string at = fmt::format("{} line {:<4}", timestamp(r.at), r.location.line);
  switch (r.kind) {
    case TraceRecord::Kind::note:
    case TraceRecord::Kind::closed:
      return fmt::format("{} -- {}\n", at, r.note);
    case TraceRecord::Kind::received:
      return fmt::format("{} <- client, {} bytes\n{}{}", at, r.frame.size(), decoded(r.frame), hex_rows(r.frame));
    case TraceRecord::Kind::sent: {
      std::string out = fmt::format("{} -> server, {} bytes planned\n{}{}", at, r.frame.size(),
                                    decoded(r.frame), hex_rows(r.frame));
      const bool altered = !std::equal(r.frame.begin(), r.frame.end(), r.written.begin(), r.written.end());
      if (altered) out += fmt::format("  written after faults ({} bytes):\n{}", r.written.size(), hex_rows(r.written));
      if (r.chunks.size() != 1) {
        out += fmt::format("  in {} writes:", r.chunks.size());
        for (const auto& c : r.chunks) {
          out += fmt::format(" [{},{})", c.begin, c.end);
          if (c.delay_before.count() > 0) out += fmt::format("+{}ms", c.delay_before.count());
        }
        out += "\n";
      }
      return out;
    }
  }
  return {};
}

TraceWriter::TraceWriter(const std::string& path, std::size_t limit)
    : file_(std::fopen(path.c_str(), "w")), limit_(limit) {}

TraceWriter::~TraceWriter() {
  if (!file_ || left_out_ == 0) return;
  const std::string note = fmt::format("-- the trace stops at its limit of {} bytes; {} more records were left out\n",
                                       limit_, left_out_);
  std::fwrite(note.data(), 1, note.size(), file_.get());
}

TraceSink TraceWriter::sink() {
  return [this](const TraceRecord& record) { write(record); };
}

void TraceWriter::write(const TraceRecord& record) {
  if (!file_) return;
  if (written_ >= limit_) {
    ++left_out_;
    return;
  }
  const std::string text = format_trace_record(record);
  written_ += text.size();
  std::fwrite(text.data(), 1, text.size(), file_.get());
  std::fflush(file_.get());
}

}  // namespace tapharness::mockserver
