#include "scenario/faults.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace tapharness::scenario {

Result<PlannedWrites, Diagnostic> plan_writes(protocol::Bytes frame, const FaultPlan& fault,
                                              const SourceLocation& where) {
  auto fail = [&](std::string message) { return Diagnostic{where, std::move(message), {}}; };
  const std::size_t size = frame.size();
  for (const auto& c : fault.corrupt) {
    if (c.offset >= size) {
      return fail(fmt::format("corrupt offset {} is beyond the {}-byte frame", c.offset, size));
    }
    frame[c.offset] = c.byte;
  }
  if (fault.truncate) {
    if (*fault.truncate > size) {
      return fail(fmt::format("truncate={} is beyond the {}-byte frame", *fault.truncate, size));
    }
    frame.resize(*fault.truncate);
  }
  PlannedWrites out{std::move(frame), {}};
  const std::size_t end = out.bytes.size();
  if (const std::size_t step = fault.paced_size(); step > 0) {
    for (std::size_t i = 0; i < end; i += step) {
      out.chunks.push_back({i, std::min(end, i + step), i == 0 ? Duration{0} : fault.gap});
    }
    return out;
  }
  std::size_t begin = 0;
  for (std::size_t cut : fault.split) {
    if (cut >= end) {
      return fail(fmt::format("split offset {} is not inside the {}-byte frame", cut, end));
    }
    out.chunks.push_back({begin, cut, Duration{0}});
    begin = cut;
  }
  if (begin < end) out.chunks.push_back({begin, end, Duration{0}});
  return out;
}

}  // namespace tapharness::scenario
