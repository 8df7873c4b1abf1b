// What one connection of a run sent and received, kept for the HTML report
// (runner/report_html.hpp): the mock server's trace records (mockserver/trace.hpp), bounded so
// that a ten-million-frame run costs what a short one does. Of each scenario line's records
// (per kind: sent, received, note, closed) the first and the last `per_line` are kept, and
// how many lay between; all records together hold at most `limit` bytes, and what did not fit
// is counted. Frames are kept up to `frame_bytes` bytes; a longer one is described (decoded,
// abbreviated) as it arrives, the only time its whole bytes exist.
//
//   auto log = std::make_shared<SessionLog>(connection);
//   server_options.observe = [log](const ObservedConnection&) { return log->sink(); };
//   ... run ...
//   for (const SessionLog::Entry& e : log->entries()) e.record ? draw(*e.record) : gap(e.gap);
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "mockserver/server.hpp"
#include "mockserver/trace.hpp"
#include "protocol/bytes.hpp"

namespace tapharness::runner {

struct SessionLimits {
  std::size_t per_line = 3;          // the first and the last this many records of a line
  std::size_t limit = 256 * 1024;    // bytes kept for one connection, everything counted
  std::size_t frame_bytes = 1024;    // a frame's bytes kept whole up to this
  std::size_t chunks = 16;           // write chunks kept per frame (a bytewise frame has one per byte)
};

// One record as kept: the trace record's fields, owned, with its bytes cut to the limits.
struct LoggedRecord {
  using Kind = mockserver::TraceRecord::Kind;
  Kind kind = Kind::note;
  std::uint64_t sequence = 0;  // its place among the connection's records, from 0
  std::chrono::microseconds at{0};
  scenario::SourceLocation location;
  protocol::Bytes frame;        // the first frame_bytes of the frame
  std::size_t frame_size = 0;   // the whole frame's size
  protocol::Bytes written;      // sent: the first frame_bytes of what was written after faults
  std::size_t written_size = 0;
  // sent: offsets (up to 16) where the written bytes differ from the frame within their
  // common length, and how many differ in all (corruption).
  std::vector<std::size_t> corrupt_at;
  std::size_t corrupt_count = 0;
  std::vector<scenario::WriteChunk> chunks;  // the first `chunks` of them
  std::size_t chunk_count = 0;
  std::string description;  // the decoded frame, for a frame not kept whole
  std::string note;
  mockserver::Ending ending = mockserver::Ending::none;

  bool frame_whole() const { return frame.size() == frame_size; }
  std::size_t cost() const;  // bytes it holds, for the limit
};

// Records of one line that were left out between its first and its last ones.
struct LeftOut {
  LoggedRecord::Kind kind = LoggedRecord::Kind::note;
  scenario::SourceLocation location;
  std::uint64_t count = 0;
  std::uint64_t bytes = 0;  // frame bytes among them
  std::size_t kept_before = 0, kept_after = 0;
};

class SessionLog {
 public:
  explicit SessionLog(mockserver::ObservedConnection connection, SessionLimits limits = {});

  // A sink for ServerOptions::observe; it holds the log, so the log outlives the session.
  static mockserver::TraceSink sink_of(std::shared_ptr<SessionLog> log);

  void add(const mockserver::TraceRecord& record);

  // The kept records in the order they happened, with a gap where a line's records were
  // left out (just before its last ones).
  struct Entry {
    const LoggedRecord* record = nullptr;
    const LeftOut* gap = nullptr;
  };
  std::vector<Entry> entries() const;

  const mockserver::ObservedConnection& connection() const { return connection_; }
  const SessionLimits& limits() const { return limits_; }
  std::uint64_t records_seen() const { return sequence_; }
  // Records the byte limit left out (beyond those each line's summary left out).
  std::uint64_t records_over_limit() const { return over_limit_; }
  std::size_t bytes_kept() const { return kept_; }

 private:
  struct Line {
    std::vector<LoggedRecord> first;
    std::deque<LoggedRecord> last;
    LeftOut left_out;
  };
  LoggedRecord keep(const mockserver::TraceRecord& record) const;
  bool fits(std::size_t cost) const { return kept_ + cost <= limits_.limit; }

  mockserver::ObservedConnection connection_;
  SessionLimits limits_;
  // By (file, line, kind); the file's text is shared by every location of one file.
  std::map<std::tuple<const std::string*, int, int>, Line> lines_;
  std::uint64_t sequence_ = 0;
  std::uint64_t over_limit_ = 0;
  std::size_t kept_ = 0;
};

}  // namespace tapharness::runner
