// The server -> client TAP messages (0x41..0x47): decoding their TAP extras, encoding them
// for a (mock) producer, ep-engine-shaped defaults, and the client's ACK
// (protocol.md sections 4 and 5).
//
// Every TAP message starts its extras with 8 bytes: engine-specific length (u16), TAP flags
// (u16), TTL (u8), 3 reserved bytes. MUTATION and CHECKPOINT_START/END add item flags (u32)
// and expiry (u32). The engine-specific bytes follow the extras, before the key.
//
//   ep_engine::Scratch scratch;
//   encode_tap_message(out, ep_engine::mutation({.vbucket = 0, .key = "k", .value = "v"}, scratch));
//   auto message = decode_tap_message(frame);        // on the client
//   if (message && message->wants_ack()) send(tap_ack(message->opcode, message->opaque));
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

#include "protocol/bytes.hpp"
#include "protocol/decode_error.hpp"
#include "protocol/frame.hpp"
#include "protocol/result.hpp"
#include "protocol/tap_constants.hpp"

namespace tapharness::protocol {

inline constexpr std::size_t kTapExtrasSize = 8;       // the common TAP prefix
inline constexpr std::size_t kTapItemExtrasSize = 16;  // + item flags, expiry

// Byte offsets of the fields within a TAP message's extras.
namespace tap_extras_offset {
inline constexpr std::size_t engine_length = 0;
inline constexpr std::size_t tap_flags = 2;
inline constexpr std::size_t ttl = 4;
inline constexpr std::size_t item_flags = 8;
inline constexpr std::size_t expiry = 12;
}  // namespace tap_extras_offset

// The producer's TTL on every message (a consumer passes TTL - 1 on).
inline constexpr std::uint8_t kProducerTtl = 0xff;

// Item flags and expiry, in the extras of MUTATION and CHECKPOINT_START/END.
struct ItemMeta {
  std::uint32_t flags = 0;   // raw big-endian u32, as the seed reads it (see section 4.4)
  std::uint32_t expiry = 0;
  friend bool operator==(const ItemMeta&, const ItemMeta&) = default;
};

// One TAP message, field by field, with its bytes viewed from elsewhere: what
// decode_tap_message() reads from a frame (views into the frame's buffer) and what
// encode_tap_message() writes (views into the producer's bytes; lengths are computed).
struct TapMessage {
  Opcode opcode = Opcode::tap_mutation;
  std::uint16_t vbucket = 0;
  std::uint32_t opaque = 0;
  std::uint64_t cas = 0;
  std::uint8_t datatype = 0;
  std::uint16_t tap_flags = 0;
  std::uint8_t ttl = kProducerTtl;
  std::optional<ItemMeta> item;  // the 16-byte extras layout: present when extlen >= 16
  ByteView engine_specific;      // its length is the extras' first u16
  ByteView key;
  ByteView value;

  bool wants_ack() const { return has_flag(tap_flags, TapFlag::ack); }
  // The first 4 engine-specific bytes as a u32 (OPAQUE sub-code, VBUCKET_SET state), if
  // there are that many.
  std::optional<std::uint32_t> engine_code() const;
};

// Why `frame` cannot be a TAP message (response magic, extras too short), if it cannot.
// (Inline: the feed runs it once per frame.)
inline std::optional<DecodeError> check_tap_message(const Frame& frame) {
  if (frame.header.magic != Magic::request) {
    return DecodeError{DecodeErrorCode::unexpected_response, frame.offset + header_offset::magic, "magic",
                       static_cast<std::uint8_t>(frame.header.magic), 0};
  }
  if (frame.extras.size() < kTapExtrasSize) {
    return DecodeError{DecodeErrorCode::tap_extras_too_short, frame.offset + header_offset::extlen, "extlen",
                       frame.extras.size(), kTapExtrasSize};
  }
  return std::nullopt;
}

// Decodes the TAP layer of a frame with a TAP message opcode (0x41..0x47) and request magic.
// Fails with tap_extras_too_short when the extras cannot hold the 8-byte TAP prefix.
inline Result<TapMessage, DecodeError> decode_tap_message(const Frame& frame) {
  if (auto error = check_tap_message(frame)) return *error;
  const Header& h = frame.header;
  TapMessage m;
  m.opcode = h.opcode;
  m.vbucket = h.vbucket();
  m.opaque = h.opaque;
  m.cas = h.cas;
  m.datatype = h.datatype;
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

// Appends the message; returns the bytes appended, or 0 when a part is too long for its
// length field. (Inline, like encode_frame, for producers that encode a message per frame.)
inline std::size_t encode_tap_message(Bytes& out, const TapMessage& f) {
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

// The encoded frame of `message`, in a buffer of its own.
Bytes encode(const TapMessage& message);

// TAP messages shaped the way ep-engine 2.x-4.x ships them (protocol.md section 4.2): the
// same extras layouts, engine-specific sizes (9/8/0/4/4/8/0) and TTL 0xff.
namespace ep_engine {

struct Item {
  std::uint16_t vbucket = 0;
  std::string_view key;
  std::string_view value;
  std::uint32_t flags = 0;
  std::uint32_t expiry = 0;
  std::uint64_t cas = 0;
  std::uint32_t opaque = 0;     // the producer's sequence number
  std::uint16_t tap_flags = 0;
  std::uint64_t rev_seqno = 1;  // engine-specific: revision sequence number
  std::uint8_t nru = 0;         // engine-specific (mutations): not-recently-used bit
};

// Room for the bytes a shaped message computes (engine-specific bytes, a checkpoint id):
// the view points into it, so it must outlive the view.
struct Scratch {
  std::array<std::uint8_t, 9> engine{};
  std::array<std::uint8_t, 8> value{};
};

// Views, for producers that render many messages without allocating. (Inline: a view
// returned across a call is copied through memory, which costs more than shaping it.)
namespace detail {
inline TapMessage shaped(Opcode opcode, std::uint16_t vbucket, std::uint32_t opaque, std::uint16_t tap_flags) {
  TapMessage v;
  v.opcode = opcode;
  v.vbucket = vbucket;
  v.opaque = opaque;
  v.tap_flags = tap_flags;
  return v;
}
inline constexpr std::string_view kCheckpointStartKey = "checkpoint_start";
inline constexpr std::string_view kCheckpointEndKey = "checkpoint_end";
}  // namespace detail

// extlen 16, nengine 9 (rev seqno u64, NRU u8).
inline TapMessage mutation(const Item& item, Scratch& scratch) {
  TapMessage v = detail::shaped(Opcode::tap_mutation, item.vbucket, item.opaque, item.tap_flags);
  v.cas = item.cas;
  v.item = ItemMeta{item.flags, item.expiry};
  store_be64(scratch.engine.data(), item.rev_seqno);
  scratch.engine[8] = item.nru;
  v.engine_specific = ByteView(scratch.engine.data(), 9);
  v.key = as_bytes(item.key);
  v.value = as_bytes(item.value);
  return v;
}

// extlen 8, nengine 8 (rev seqno u64).
inline TapMessage deletion(const Item& item, Scratch& scratch) {
  TapMessage v = detail::shaped(Opcode::tap_delete, item.vbucket, item.opaque, item.tap_flags);
  v.cas = item.cas;
  store_be64(scratch.engine.data(), item.rev_seqno);
  v.engine_specific = ByteView(scratch.engine.data(), 8);
  v.key = as_bytes(item.key);
  v.value = as_bytes(item.value);
  return v;
}

// extlen 8, no engine-specific bytes.
inline TapMessage flush(std::uint32_t opaque, std::uint16_t tap_flags, Scratch&) {
  return detail::shaped(Opcode::tap_flush, 0, opaque, tap_flags);
}

// extlen 8, nengine 4 (the sub-code).
inline TapMessage opaque(std::uint16_t vbucket, TapOpaqueCode code, std::uint32_t opaque, std::uint16_t tap_flags,
                      Scratch& scratch) {
  TapMessage v = detail::shaped(Opcode::tap_opaque, vbucket, opaque, tap_flags);
  store_be32(scratch.engine.data(), static_cast<std::uint32_t>(code));
  v.engine_specific = ByteView(scratch.engine.data(), 4);
  return v;
}

// extlen 8, nengine 4 (the state).
inline TapMessage vbucket_set(std::uint16_t vbucket, VBucketState state, std::uint32_t opaque,
                           std::uint16_t tap_flags, Scratch& scratch) {
  TapMessage v = detail::shaped(Opcode::tap_vbucket_set, vbucket, opaque, tap_flags);
  store_be32(scratch.engine.data(), static_cast<std::uint32_t>(state));
  v.engine_specific = ByteView(scratch.engine.data(), 4);
  return v;
}

// extlen 16, nengine 8 (max deleted rev seqno), key "checkpoint_start", value = u64 id.
inline TapMessage checkpoint_start(std::uint16_t vbucket, std::uint64_t id, std::uint32_t opaque,
                                std::uint16_t tap_flags, Scratch& scratch) {
  TapMessage v = detail::shaped(Opcode::tap_checkpoint_start, vbucket, opaque, tap_flags);
  v.item = ItemMeta{};
  store_be64(scratch.engine.data(), 0);
  v.engine_specific = ByteView(scratch.engine.data(), 8);
  v.key = as_bytes(detail::kCheckpointStartKey);
  store_be64(scratch.value.data(), id);
  v.value = scratch.value;
  return v;
}

// extlen 16, nengine 0, key "checkpoint_end", value = u64 id.
inline TapMessage checkpoint_end(std::uint16_t vbucket, std::uint64_t id, std::uint32_t opaque,
                              std::uint16_t tap_flags, Scratch& scratch) {
  TapMessage v = detail::shaped(Opcode::tap_checkpoint_end, vbucket, opaque, tap_flags);
  v.item = ItemMeta{};
  v.key = as_bytes(detail::kCheckpointEndKey);
  store_be64(scratch.value.data(), id);
  v.value = scratch.value;
  return v;
}

// The encoded frames, each in a buffer of its own: for tests and one-off producers.
Bytes mutation(const Item& item);
Bytes deletion(const Item& item);
Bytes flush(std::uint32_t opaque = 0, std::uint16_t tap_flags = 0);
Bytes opaque(std::uint16_t vbucket, TapOpaqueCode code, std::uint32_t opaque = 0, std::uint16_t tap_flags = 0);
Bytes vbucket_set(std::uint16_t vbucket, VBucketState state, std::uint32_t opaque = 0, std::uint16_t tap_flags = 0);
Bytes checkpoint_start(std::uint16_t vbucket, std::uint64_t id, std::uint32_t opaque = 0, std::uint16_t tap_flags = 0);
Bytes checkpoint_end(std::uint16_t vbucket, std::uint64_t id, std::uint32_t opaque = 0, std::uint16_t tap_flags = 0);

}  // namespace ep_engine

// The client's answer to a message carrying TAP_FLAG_ACK: a 24-byte response with the
// message's opcode and opaque. Status success acks; EBUSY/ETMPFAIL are NACKs.
std::array<std::uint8_t, kHeaderSize> tap_ack(Opcode opcode, std::uint32_t opaque,
                                              Status status = Status::success);

// "TAP_MUTATION vb=3 opaque=0x00000010 cas=4386 tap_flags=ACK ttl=255 flags=18 ..."
FormatOut describe_to(FormatOut out, const TapMessage& message);

}  // namespace tapharness::protocol
