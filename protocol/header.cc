#include "protocol/header.hpp"

#include "protocol/bytes.hpp"

namespace tapharness::protocol {

Header read_header(const std::uint8_t* p) {
  Header h;
  h.magic = static_cast<Magic>(p[header_offset::magic]);
  h.opcode = static_cast<Opcode>(p[header_offset::opcode]);
  h.keylen = load_be16(p + header_offset::keylen);
  h.extlen = p[header_offset::extlen];
  h.datatype = p[header_offset::datatype];
  h.vbucket_or_status = load_be16(p + header_offset::vbucket);
  h.bodylen = load_be32(p + header_offset::bodylen);
  h.opaque = load_be32(p + header_offset::opaque);
  h.cas = load_be64(p + header_offset::cas);
  return h;
}

void write_header(std::uint8_t* p, const Header& h) {
  p[header_offset::magic] = static_cast<std::uint8_t>(h.magic);
  p[header_offset::opcode] = static_cast<std::uint8_t>(h.opcode);
  store_be16(p + header_offset::keylen, h.keylen);
  p[header_offset::extlen] = h.extlen;
  p[header_offset::datatype] = h.datatype;
  store_be16(p + header_offset::vbucket, h.vbucket_or_status);
  store_be32(p + header_offset::bodylen, h.bodylen);
  store_be32(p + header_offset::opaque, h.opaque);
  store_be64(p + header_offset::cas, h.cas);
}

}  // namespace tapharness::protocol

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
