// --trace: a readable transcript of one connection, each frame decoded field by field
// (protocol/describe.hpp) followed by its hex, and how it was cut on the wire.
//
//   TraceWriter trace("/tmp/traces/backfill.1.trace");
//   options.trace = trace.sink();
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "mockserver/trace.hpp"

namespace tapharness::mockserver {

// A transcript is cut at this size: a long run's trace stays a file a person opens (a
// 16 MiB scenario traced whole is some 185 MB). The cut is said at its end.
inline constexpr std::size_t kDefaultTraceLimit = 16 * 1024 * 1024;

class TraceWriter {
 public:
  // Opens (truncates) `path`; ok() says whether that worked. Past `limit` bytes it writes
  // nothing more but counts what it left out, and says so when it is destroyed.
  explicit TraceWriter(const std::string& path, std::size_t limit = kDefaultTraceLimit);
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;
  bool ok() const { return file_ != nullptr; }

  // A sink for EngineOptions::trace; the writer must outlive the session.
  TraceSink sink();

  void write(const TraceRecord& record);

 private:
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> file_;
  std::size_t limit_;
  std::size_t written_ = 0;
  std::size_t left_out_ = 0;  // records past the limit
};

// The transcript text of one record (what TraceWriter writes).
std::string format_trace_record(const TraceRecord& record);

}  // namespace tapharness::mockserver
