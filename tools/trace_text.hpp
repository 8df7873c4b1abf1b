// Reads back the transcripts tap_mockserver --trace writes (mockserver/trace_writer.cc): each
// record's time, scenario line, direction and bytes, for tap_decode to decode the streams.
//
//   if (looks_like_trace(text)) {
//     auto entries = parse_trace(text);        // InputError: "line 12 (byte 345): ..."
//     for (const TraceEntry& e : *entries) ...
//   }
//
// A long frame's transcript shows only its first and last hex rows: such an entry has
// whole == false and the frame cannot be decoded from the trace (its size is known, so the
// frames after it can).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/bytes.hpp"
#include "protocol/result.hpp"

namespace tapharness::tools {

struct TraceEntry {
  enum class Kind {
    from_server,  // "-> server": what the server wrote (after faults, when they altered it)
    from_client,  // "<- client": a whole frame the server read
    note,         // "--": a note, a close
  };
  Kind kind = Kind::note;
  std::int64_t at_us = 0;     // since the session started
  int line = 0;               // the scenario's line
  std::size_t text_line = 0;  // where in the transcript (1-based)
  protocol::Bytes bytes;      // as shown (head and tail rows only when !whole)
  std::uint64_t size = 0;     // the frame's size in bytes
  bool whole = true;
  std::string note;
};

// Whether `text` starts as a transcript does: "[   0.000123s] line 12   ...".
bool looks_like_trace(std::string_view text);

Result<std::vector<TraceEntry>, InputError> parse_trace(std::string_view text);

}  // namespace tapharness::tools
