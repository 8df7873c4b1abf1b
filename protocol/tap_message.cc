#include "protocol/tap_message.hpp"

#include "protocol/hex.hpp"

namespace tapharness::protocol {

std::optional<std::uint32_t> TapMessage::engine_code() const {
  if (engine_specific.size() < 4) return std::nullopt;
  return load_be32(engine_specific.data());
}


Bytes encode(const TapMessage& message) {
  Bytes out;
  encode_tap_message(out, message);
  return out;
}

namespace ep_engine {

Bytes mutation(const Item& item) {
  Scratch scratch;
  return encode(mutation(item, scratch));
}

Bytes deletion(const Item& item) {
  Scratch scratch;
  return encode(deletion(item, scratch));
}

Bytes flush(std::uint32_t opaque, std::uint16_t tap_flags) {
  Scratch scratch;
  return encode(flush(opaque, tap_flags, scratch));
}

Bytes opaque(std::uint16_t vbucket, TapOpaqueCode code, std::uint32_t opaque, std::uint16_t tap_flags) {
  Scratch scratch;
  return encode(ep_engine::opaque(vbucket, code, opaque, tap_flags, scratch));
}

Bytes vbucket_set(std::uint16_t vbucket, VBucketState state, std::uint32_t opaque, std::uint16_t tap_flags) {
  Scratch scratch;
  return encode(vbucket_set(vbucket, state, opaque, tap_flags, scratch));
}

Bytes checkpoint_start(std::uint16_t vbucket, std::uint64_t id, std::uint32_t opaque, std::uint16_t tap_flags) {
  Scratch scratch;
  return encode(checkpoint_start(vbucket, id, opaque, tap_flags, scratch));
}

Bytes checkpoint_end(std::uint16_t vbucket, std::uint64_t id, std::uint32_t opaque, std::uint16_t tap_flags) {
  Scratch scratch;
  return encode(checkpoint_end(vbucket, id, opaque, tap_flags, scratch));
}

}  // namespace ep_engine

std::array<std::uint8_t, kHeaderSize> tap_ack(Opcode opcode, std::uint32_t opaque, Status status) {
  Header h;
  h.magic = Magic::response;
  h.opcode = opcode;
  h.vbucket_or_status = static_cast<std::uint16_t>(status);
  h.opaque = opaque;
  std::array<std::uint8_t, kHeaderSize> out;
  write_header(out.data(), h);
  return out;
}

FormatOut describe_to(FormatOut out, const TapMessage& m) {
  out = fmt::format_to(out, "{} vb={} opaque=0x{:08x} cas={} tap_flags={} ttl={}", m.opcode, m.vbucket, m.opaque,
                       m.cas, tap_flags_text(m.tap_flags), m.ttl);
  if (m.item) out = fmt::format_to(out, " flags={} expiry={}", m.item->flags, m.item->expiry);
  return fmt::format_to(out, " engine={} key={} value={}", to_hex(m.engine_specific), to_hex_abbreviated(m.key),
                        to_hex_abbreviated(m.value));
}

}  // namespace tapharness::protocol
