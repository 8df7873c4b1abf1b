#include "mockserver/pcap_capture.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace tapharness::mockserver {
namespace {

using capture::Side;

std::int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

capture::TcpEndpoint endpoint_of(const asio::ip::tcp::endpoint& e) {
  capture::TcpEndpoint out;
  out.port = e.port();
  if (e.address().is_v6() && !e.address().to_v6().is_v4_mapped()) {
    out.v6 = true;
    const auto bytes = e.address().to_v6().to_bytes();
    std::copy(bytes.begin(), bytes.end(), out.address.begin());
  } else {
    const auto v4 = e.address().is_v6()
                        ? asio::ip::make_address_v4(asio::ip::v4_mapped, e.address().to_v6())
                        : e.address().to_v4();
    const auto bytes = v4.to_bytes();
    std::copy(bytes.begin(), bytes.end(), out.address.begin());
  }
  return out;
}

}  // namespace

Result<std::shared_ptr<PcapCapture>, InputError> PcapCapture::open(const std::string& path,
                                                                   std::uint64_t limit) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) return InputError{path, fmt::format("cannot be written: {}", std::strerror(errno))};
  return std::make_shared<PcapCapture>(file, path, limit);
}

PcapCapture::PcapCapture(std::FILE* file, std::string path, std::uint64_t limit)
    : file_(file),
      path_(std::move(path)),
      start_us_(wall_us()),
      writer_(
          [this](protocol::ByteView block) {
            std::fwrite(block.data(), 1, block.size(), file_.get());
          },
          {.start_us = start_us_, .limit = limit}) {}

PcapCapture::~PcapCapture() = default;

std::string PcapCapture::left_out() const {
  std::lock_guard lock(mutex_);
  if (writer_.left_out() == 0) return {};
  return fmt::format("{}: the capture stopped at its limit of {} bytes; {} packets were left out",
                     path_, writer_.bytes_written(), writer_.left_out());
}

std::function<TraceSink(const ObservedConnection&)> PcapCapture::observer() {
  return [self = shared_from_this()](const ObservedConnection& seen) -> TraceSink {
    std::lock_guard lock(self->mutex_);
    // The records' times count from the session's start, which is about now.
    const std::int64_t offset = wall_us() - self->start_us_;
    const auto c =
        self->writer_.open(endpoint_of(seen.client), endpoint_of(seen.server), offset,
                           fmt::format("{}, connection {}", seen.scenario, seen.connection));
    std::fflush(self->file_.get());
    return [self, c, offset](const TraceRecord& r) {
      std::lock_guard lock(self->mutex_);
      self->record(c, offset, r);
    };
  };
}

void PcapCapture::record(capture::PcapngWriter::Connection c, std::int64_t offset_us,
                         const TraceRecord& r) {
  const std::int64_t at = offset_us + r.at.count();
  const int line = r.location.line;
  switch (r.kind) {
    case TraceRecord::Kind::received:
      writer_.write(c, Side::client, at, r.frame,
                    fmt::format("line {}: a frame from the client", line));
      return;
    case TraceRecord::Kind::sent: {
      if (r.coalesced) return;  // it goes out with the others in the write the note below says
      if (r.written.size() < r.frame.size()) {
        writer_.note(c, fmt::format("a fault cut the frame to {} of its {} bytes", r.written.size(),
                                    r.frame.size()));
      } else if (!std::equal(r.frame.begin(), r.frame.end(), r.written.begin(), r.written.end())) {
        writer_.note(c, "a fault altered the frame's bytes");
      }
      if (r.chunks.empty())
        writer_.note(c, fmt::format("line {}: the fault wrote nothing of the frame", line));
      std::int64_t when = at;
      for (std::size_t k = 0; k < r.chunks.size(); ++k) {
        const scenario::WriteChunk& chunk = r.chunks[k];
        // The engine sleeps before a delayed write; the record comes before the first.
        when += std::chrono::duration_cast<std::chrono::microseconds>(chunk.delay_before).count();
        if (chunk.end > r.written.size() || chunk.begin > chunk.end) continue;
        std::string comment =
            r.chunks.size() == 1
                ? fmt::format("line {}", line)
                : fmt::format("line {}: write {} of {} of the frame, bytes [{},{})", line, k + 1,
                              r.chunks.size(), chunk.begin, chunk.end);
        if (chunk.delay_before.count() > 0)
          comment += fmt::format(" after {}ms", chunk.delay_before.count());
        writer_.write(c, Side::server, when,
                      r.written.subspan(chunk.begin, chunk.end - chunk.begin), std::move(comment));
      }
      return;
    }
    case TraceRecord::Kind::note:
      if (r.coalesced_write) {
        writer_.write(c, Side::server, at, r.written, fmt::format("line {}: {}", line, r.note));
      } else if (r.generated_bytes > 0) {
        writer_.skip(c, Side::server, r.generated_bytes,
                     fmt::format("line {}: {} value bytes generated as written are not captured",
                                 line, r.generated_bytes));
      } else {
        writer_.note(c, fmt::format("line {}: {}", line, r.note));
      }
      return;
    case TraceRecord::Kind::closed: {
      const std::string comment = fmt::format("line {}: {}", line, r.note);
      switch (r.ending) {
        case Ending::server_fin:
        case Ending::server_half_close:
          writer_.close(c, Side::server, capture::Close::fin, at, comment);
          break;
        case Ending::server_rst:
          writer_.close(c, Side::server, capture::Close::rst, at, comment);
          break;
        case Ending::client_closed:
          writer_.close(c, Side::client, capture::Close::fin, at, comment);
          break;
        case Ending::client_failed:
          writer_.close(c, Side::client, capture::Close::rst, at, comment);
          break;
        case Ending::none: writer_.note(c, comment); break;
      }
      std::fflush(file_.get());
      return;
    }
  }
}

}  // namespace tapharness::mockserver
