#include "mockserver/fault_plan.hpp"

#include <fmt/format.h>

namespace tapharness::mockserver {

std::variant<PlannedWrites, std::string> plan_writes(protocol::Bytes frame, const FaultPlan& fault) {
  const std::size_t size = frame.size();
  for (const auto& c : fault.corrupt) {
    if (c.offset >= size) {
      return fmt::format("corrupt offset {} is beyond the {}-byte frame", c.offset, size);
    }
    frame[c.offset] = c.byte;
  }
  if (fault.truncate) {
    if (*fault.truncate > size) {
      return fmt::format("truncate={} is beyond the {}-byte frame", *fault.truncate, size);
    }
    frame.resize(*fault.truncate);
  }
  PlannedWrites out{std::move(frame), {}};
  const std::size_t end = out.bytes.size();
  if (fault.bytewise) {
    for (std::size_t i = 0; i < end; ++i) {
      out.chunks.push_back({i, i + 1, i == 0 ? Duration{0} : fault.gap});
    }
    return out;
  }
  std::size_t begin = 0;
  for (std::size_t cut : fault.split) {
    if (cut >= end) {
      return fmt::format("split offset {} is not inside the {}-byte frame", cut, end);
    }
    out.chunks.push_back({begin, cut, Duration{0}});
    begin = cut;
  }
  if (begin < end) out.chunks.push_back({begin, end, Duration{0}});
  return out;
}

}  // namespace tapharness::mockserver
