// How one frame's bytes go on the wire under a step's FaultPlan: corrupt bytes, cut the
// frame short, and cut it into separately written chunks (scenarios/README.md, "Faults").
//
//   auto planned = plan_writes(frame_bytes, send.fault);
//   for (const auto& chunk : std::get<PlannedWrites>(planned).chunks) {
//     wait(chunk.delay_before);
//     write(bytes[chunk.begin, chunk.end));     // one write per chunk
//   }
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "mockserver/scenario.hpp"
#include "protocol/bytes.hpp"

namespace tapharness::mockserver {

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

// Fails (with the reason) when an offset lies outside the frame, which the parser cannot
// check for frames whose length depends on the repeat index.
std::variant<PlannedWrites, std::string> plan_writes(protocol::Bytes frame, const FaultPlan& fault);

}  // namespace tapharness::mockserver
