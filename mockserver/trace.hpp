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

// How a connection (or one direction of it) ended, for a capture's FIN and RST segments.
enum class Ending {
  none,               // (not an ending: the client's bytes stopped decoding, and so on)
  server_fin,         // the server closed the connection
  server_rst,         // ...reset it
  server_half_close,  // ...shut down its sending side, still reading
  client_closed,      // the client's FIN arrived
  client_failed,      // the connection failed under the server (a reset by the client)
};

struct TraceRecord {
  // closed: `ending` says how; the note says it in words.
  enum class Kind { sent, received, note, closed };
  Kind kind = Kind::note;
  std::chrono::microseconds at{0};           // since the session started
  protocol::ByteView frame;                  // sent: as planned (after lies); received: the whole frame
  std::vector<scenario::WriteChunk> chunks;  // sent: how the planned bytes went out
  protocol::ByteView written;                // sent: the bytes after corruption and truncation
  std::string note;
  scenario::SourceLocation location;
  Ending ending = Ending::none;
  // sent, under `writes coalesced`: the frame waits in the pending write, and a later note
  // with `coalesced_write` (its `written`: the write's bytes) says when it went.
  bool coalesced = false;
  bool coalesced_write = false;
  // note: a value generated as it was written went out after the frame just recorded, this
  // many bytes of it in no record (a capture skips them).
  std::uint64_t generated_bytes = 0;
};

using TraceSink = std::function<void(const TraceRecord&)>;

}  // namespace tapharness::mockserver
