#include "protocol/header.hpp"

namespace tapharness::protocol {

FormatOut describe_to(FormatOut out, const Header& h) {
  return fmt::format_to(out,
                        "{{magic={} opcode={} keylen={} extlen={} datatype=0x{:02x} {}={} bodylen={} "
                        "opaque=0x{:08x} cas={}}}",
                        h.magic, h.opcode, h.keylen, h.extlen, h.datatype,
                        h.is_response() ? "status" : "vbucket",
                        h.is_response() ? fmt::format("{}", h.status()) : fmt::format("{}", h.vbucket()),
                        h.bodylen, h.opaque, h.cas);
}

}  // namespace tapharness::protocol
