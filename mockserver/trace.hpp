// What the engine tells a --trace transcript: every frame both ways and every note, with
// when it happened and the scenario line it belongs to (trace_writer.hpp writes them).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "protocol/bytes.hpp"
#include "scenario/faults.hpp"
#include "scenario/scenario.hpp"

namespace tapharness::mockserver {

struct TraceRecord {
  enum class Kind { sent, received, note };
  Kind kind = Kind::note;
  std::chrono::microseconds at{0};           // since the session started
  protocol::ByteView frame;                  // sent: as planned (after lies); received: the whole frame
  std::vector<scenario::WriteChunk> chunks;  // sent: how the planned bytes went out
  protocol::ByteView written;                // sent: the bytes after corruption and truncation
  std::string note;
  scenario::SourceLocation location;
};

using TraceSink = std::function<void(const TraceRecord&)>;

}  // namespace tapharness::mockserver
