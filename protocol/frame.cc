#include "protocol/frame.hpp"

#include "protocol/hex.hpp"

auto fmt::formatter<tapharness::protocol::Frame>::format(const tapharness::protocol::Frame& f,
                                                         fmt::format_context& ctx) const
    -> decltype(ctx.out()) {
  using tapharness::protocol::to_hex;
  auto out = fmt::format_to(ctx.out(), "{} extras={} ", f.header, to_hex(f.extras));
  if (!f.engine_specific.empty()) out = fmt::format_to(out, "engine={} ", to_hex(f.engine_specific));
  return fmt::format_to(out, "key={} value={}", to_hex(f.key), to_hex(f.value));
}
