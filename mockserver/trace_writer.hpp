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

class TraceWriter {
 public:
  // Opens (truncates) `path`; ok() says whether that worked.
  explicit TraceWriter(const std::string& path);
  bool ok() const { return file_ != nullptr; }

  // A sink for EngineOptions::trace; the writer must outlive the session.
  TraceSink sink();

  void write(const TraceRecord& record);

 private:
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> file_;
};

// The transcript text of one record (what TraceWriter writes).
std::string format_trace_record(const TraceRecord& record);

}  // namespace tapharness::mockserver
