#include "protocol/header.hpp"

auto fmt::formatter<tapharness::protocol::Header>::format(const tapharness::protocol::Header& h,
                                                          fmt::format_context& ctx) const
    -> decltype(ctx.out()) {
  return fmt::format_to(ctx.out(),
                        "{{magic={} opcode={} keylen={} extlen={} datatype=0x{:02x} {}={} bodylen={} "
                        "opaque=0x{:08x} cas={}}}",
                        h.magic, h.opcode, h.keylen, h.extlen, h.datatype,
                        h.is_response() ? "status" : "vbucket",
                        h.is_response() ? fmt::format("{}", h.status()) : fmt::format("{}", h.vbucket()),
                        h.bodylen, h.opaque, h.cas);
}
