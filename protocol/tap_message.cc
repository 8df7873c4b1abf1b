#include "protocol/tap_message.hpp"

#include "protocol/hex.hpp"

namespace tapharness::protocol {
namespace {

namespace tap_extras_offset {
constexpr std::size_t engine_length = 0;
constexpr std::size_t tap_flags = 2;
constexpr std::size_t ttl = 4;
constexpr std::size_t item_flags = 8;
constexpr std::size_t expiry = 12;
}  // namespace tap_extras_offset

Bytes be64_bytes(std::uint64_t v) {
  Bytes out;
  append_be64(out, v);
  return out;
}

Bytes be32_bytes(std::uint32_t v) {
  Bytes out;
  append_be32(out, v);
  return out;
}

Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

}  // namespace

std::optional<std::uint32_t> TapMessage::engine_code() const {
  if (engine_specific.size() < 4) return std::nullopt;
  return load_be32(engine_specific.data());
}

std::variant<TapMessage, DecodeError> decode_tap_message(const Frame& frame) {
  if (frame.header.magic != Magic::request) {
    return DecodeError{DecodeErrorCode::unexpected_response, frame.offset + header_offset::magic,
                       "magic", static_cast<std::uint8_t>(frame.header.magic), 0};
  }
  if (frame.extras.size() < kTapExtrasSize) {
    return DecodeError{DecodeErrorCode::tap_extras_too_short, frame.offset + header_offset::extlen,
                       "extlen", frame.extras.size(), kTapExtrasSize};
  }
  TapMessage m;
  m.header = frame.header;
  m.offset = frame.offset;
  m.tap_flags = load_be16(frame.extras.data() + tap_extras_offset::tap_flags);
  m.ttl = frame.extras[tap_extras_offset::ttl];
  if (frame.extras.size() >= kTapItemExtrasSize) {
    m.item = ItemMeta{load_be32(frame.extras.data() + tap_extras_offset::item_flags),
                      load_be32(frame.extras.data() + tap_extras_offset::expiry)};
  }
  m.engine_specific = frame.engine_specific;
  m.key = frame.key;
  m.value = frame.value;
  return m;
}

std::size_t encode_tap_message(Bytes& out, const TapMessageFields& f) {
  if (f.engine_specific.size() > std::numeric_limits<std::uint16_t>::max()) return 0;
  std::array<std::uint8_t, kTapItemExtrasSize> extras{};
  store_be16(extras.data() + tap_extras_offset::engine_length,
             static_cast<std::uint16_t>(f.engine_specific.size()));
  store_be16(extras.data() + tap_extras_offset::tap_flags, f.tap_flags);
  extras[tap_extras_offset::ttl] = f.ttl;
  std::size_t extlen = kTapExtrasSize;
  if (f.item) {
    store_be32(extras.data() + tap_extras_offset::item_flags, f.item->flags);
    store_be32(extras.data() + tap_extras_offset::expiry, f.item->expiry);
    extlen = kTapItemExtrasSize;
  }
  return encode_frame(out, FrameFields{.magic = Magic::request,
                                       .opcode = f.opcode,
                                       .datatype = f.datatype,
                                       .vbucket_or_status = f.vbucket,
                                       .opaque = f.opaque,
                                       .cas = f.cas,
                                       .extras = ByteView(extras.data(), extlen),
                                       .engine_specific = f.engine_specific,
                                       .key = f.key,
                                       .value = f.value});
}

namespace ep_engine {

TapMessageFields mutation(const Item& item) {
  TapMessageFields f{.opcode = Opcode::tap_mutation,
                     .vbucket = item.vbucket,
                     .opaque = item.opaque,
                     .cas = item.cas,
                     .tap_flags = item.tap_flags,
                     .item = ItemMeta{item.flags, item.expiry},
                     .engine_specific = be64_bytes(item.rev_seqno),
                     .key = to_bytes(item.key),
                     .value = to_bytes(item.value)};
  f.engine_specific.push_back(item.nru);
  return f;
}

TapMessageFields deletion(const Item& item) {
  return {.opcode = Opcode::tap_delete,
          .vbucket = item.vbucket,
          .opaque = item.opaque,
          .cas = item.cas,
          .tap_flags = item.tap_flags,
          .engine_specific = be64_bytes(item.rev_seqno),
          .key = to_bytes(item.key),
          .value = to_bytes(item.value)};
}

TapMessageFields flush(std::uint32_t opaque, std::uint16_t tap_flags) {
  return {.opcode = Opcode::tap_flush, .opaque = opaque, .tap_flags = tap_flags};
}

TapMessageFields opaque(std::uint16_t vbucket, TapOpaqueCode code, std::uint32_t opaque,
                        std::uint16_t tap_flags) {
  return {.opcode = Opcode::tap_opaque,
          .vbucket = vbucket,
          .opaque = opaque,
          .tap_flags = tap_flags,
          .engine_specific = be32_bytes(static_cast<std::uint32_t>(code))};
}

TapMessageFields vbucket_set(std::uint16_t vbucket, VBucketState state, std::uint32_t opaque,
                             std::uint16_t tap_flags) {
  return {.opcode = Opcode::tap_vbucket_set,
          .vbucket = vbucket,
          .opaque = opaque,
          .tap_flags = tap_flags,
          .engine_specific = be32_bytes(static_cast<std::uint32_t>(state))};
}

TapMessageFields checkpoint_start(std::uint16_t vbucket, std::uint64_t id, std::uint32_t opaque,
                                  std::uint16_t tap_flags) {
  return {.opcode = Opcode::tap_checkpoint_start,
          .vbucket = vbucket,
          .opaque = opaque,
          .tap_flags = tap_flags,
          .item = ItemMeta{},
          .engine_specific = be64_bytes(0),
          .key = to_bytes("checkpoint_start"),
          .value = be64_bytes(id)};
}

TapMessageFields checkpoint_end(std::uint16_t vbucket, std::uint64_t id, std::uint32_t opaque,
                                std::uint16_t tap_flags) {
  return {.opcode = Opcode::tap_checkpoint_end,
          .vbucket = vbucket,
          .opaque = opaque,
          .tap_flags = tap_flags,
          .item = ItemMeta{},
          .key = to_bytes("checkpoint_end"),
          .value = be64_bytes(id)};
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
