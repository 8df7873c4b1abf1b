#include "protocol/frame.hpp"

#include "protocol/hex.hpp"

namespace tapharness::protocol {

FormatOut describe_to(FormatOut out, const Frame& f) {
  out = fmt::format_to(out, "{} extras={} ", f.header, to_hex(f.extras));
  if (!f.engine_specific.empty()) out = fmt::format_to(out, "engine={} ", to_hex(f.engine_specific));
  return fmt::format_to(out, "key={} value={}", to_hex_abbreviated(f.key), to_hex_abbreviated(f.value));
}

}  // namespace tapharness::protocol
