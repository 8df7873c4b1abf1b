#include "protocol/tap_message.hpp"


#include "protocol/hex.hpp"

namespace tapharness::protocol {
namespace {

}  // namespace

std::optional<std::uint32_t> TapMessage::engine_code() const {
  if (engine_specific.size() < 4) return std::nullopt;
  return load_be32(engine_specific.data());
}


namespace ep_engine {
namespace {

Bytes copy(ByteView v) { return Bytes(v.begin(), v.end()); }

}  // namespace

TapMessageFields to_fields(const TapMessageView& v) {
  return {v.opcode, v.vbucket, v.opaque, v.cas, v.datatype, v.tap_flags, v.ttl, v.item,
          copy(v.engine_specific), copy(v.key), copy(v.value)};
}

TapMessageFields mutation(const Item& item) {
  Scratch scratch;
  return to_fields(mutation(item, scratch));
}

TapMessageFields deletion(const Item& item) {
  Scratch scratch;
  return to_fields(deletion(item, scratch));
}

TapMessageFields flush(std::uint32_t opaque, std::uint16_t tap_flags) {
  Scratch scratch;
  return to_fields(flush(opaque, tap_flags, scratch));
}

TapMessageFields opaque(std::uint16_t vbucket, TapOpaqueCode code, std::uint32_t opaque, std::uint16_t tap_flags) {
  Scratch scratch;
  return to_fields(ep_engine::opaque(vbucket, code, opaque, tap_flags, scratch));
}

TapMessageFields vbucket_set(std::uint16_t vbucket, VBucketState state, std::uint32_t opaque,
                             std::uint16_t tap_flags) {
  Scratch scratch;
  return to_fields(vbucket_set(vbucket, state, opaque, tap_flags, scratch));
}

TapMessageFields checkpoint_start(std::uint16_t vbucket, std::uint64_t id, std::uint32_t opaque,
                                  std::uint16_t tap_flags) {
  Scratch scratch;
  return to_fields(checkpoint_start(vbucket, id, opaque, tap_flags, scratch));
}

TapMessageFields checkpoint_end(std::uint16_t vbucket, std::uint64_t id, std::uint32_t opaque,
                                std::uint16_t tap_flags) {
  Scratch scratch;
  return to_fields(checkpoint_end(vbucket, id, opaque, tap_flags, scratch));
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

}  // namespace tapharness::protocol

auto fmt::formatter<tapharness::protocol::TapMessage>::format(
    const tapharness::protocol::TapMessage& m, fmt::format_context& ctx) const
    -> decltype(ctx.out()) {
  using namespace tapharness::protocol;
  auto out = fmt::format_to(ctx.out(), "{} vb={} opaque=0x{:08x} cas={} tap_flags={} ttl={}",
                            m.header.opcode, m.header.vbucket(), m.header.opaque, m.header.cas,
                            tap_flags_text(m.tap_flags), m.ttl);
  if (m.item) out = fmt::format_to(out, " flags={} expiry={}", m.item->flags, m.item->expiry);
  return fmt::format_to(out, " engine={} key={} value={}", to_hex(m.engine_specific), to_hex(m.key),
                        to_hex(m.value));
}

auto fmt::formatter<tapharness::protocol::TapMessageFields>::format(
    const tapharness::protocol::TapMessageFields& m, fmt::format_context& ctx) const
    -> decltype(ctx.out()) {
  using namespace tapharness::protocol;
  auto out = fmt::format_to(ctx.out(), "{} vb={} opaque=0x{:08x} cas={} tap_flags={} ttl={}",
                            m.opcode, m.vbucket, m.opaque, m.cas, tap_flags_text(m.tap_flags), m.ttl);
  if (m.item) out = fmt::format_to(out, " flags={} expiry={}", m.item->flags, m.item->expiry);
  return fmt::format_to(out, " engine={} key={} value={}", to_hex(m.engine_specific), to_hex(m.key),
                        to_hex(m.value));
}
