// How one frame's bytes go on the wire under a step's FaultPlan: corrupt bytes, cut the
// frame short, and cut it into separately written chunks (scenarios/README.md, "Faults").
//
//   auto planned = plan_writes(frame_bytes, send.fault, step.location);
//   for (const auto& chunk : planned->chunks) {
//     wait(chunk.delay_before);
//     write(bytes[chunk.begin, chunk.end));     // one write per chunk
//   }
#pragma once

#include <string>
#include <vector>

#include "protocol/result.hpp"
#include "scenario/diagnostic.hpp"
#include "scenario/scenario.hpp"
#include "protocol/bytes.hpp"

namespace tapharness::scenario {

struct WriteChunk {
  std::size_t begin = 0;
  std::size_t end = 0;
  Duration delay_before{0};
  friend bool operator==(const WriteChunk&, const WriteChunk&) = default;
};

struct PlannedWrites {
  protocol::Bytes bytes;           // the frame after corruption and truncation
  std::vector<WriteChunk> chunks;  // cover bytes in order; none when nothing is written
};

// Fails, at `where` (the send's line), when an offset lies outside the frame, which the
// parser cannot check for frames whose length depends on the repeat index.
Result<PlannedWrites, Diagnostic> plan_writes(protocol::Bytes frame, const FaultPlan& fault,
                                              const SourceLocation& where);

}  // namespace tapharness::scenario
