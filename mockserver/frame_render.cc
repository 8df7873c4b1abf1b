#include "mockserver/frame_render.hpp"

#include "protocol/frame.hpp"
#include "protocol/tap_message.hpp"

namespace tapharness::mockserver {
namespace {

using protocol::Bytes;
using protocol::Opcode;

constexpr std::string_view kAlphabet =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

Bytes to_bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

template <class T>
T number_or(const std::optional<NumberValue>& v, std::uint64_t index, T fallback) {
  return v ? static_cast<T>(v->render(index)) : fallback;
}

Opcode opcode_of(FrameKind kind) {
  switch (kind) {
    case FrameKind::mutation: return Opcode::tap_mutation;
    case FrameKind::deletion: return Opcode::tap_delete;
    case FrameKind::flush: return Opcode::tap_flush;
    case FrameKind::opaque: return Opcode::tap_opaque;
    case FrameKind::vbucket_set: return Opcode::tap_vbucket_set;
    case FrameKind::checkpoint_start: return Opcode::tap_checkpoint_start;
    case FrameKind::checkpoint_end: return Opcode::tap_checkpoint_end;
    case FrameKind::connect_error: return Opcode::tap_connect;
    case FrameKind::noop:
    case FrameKind::raw: return Opcode::noop;
  }
  return Opcode::noop;
}

// The TAP message for a spec: ep-engine's shape, then the fields the step names.
protocol::TapMessageFields tap_fields(const FrameSpec& s, std::uint64_t index,
                                      ScenarioRandom& random, std::uint32_t opaque) {
  namespace ep = protocol::ep_engine;
  const auto vb = number_or<std::uint16_t>(s.vbucket, index, 0);
  const auto tap_flags = s.tap_flags.value_or(0);
  const std::string key = s.key ? render_bytes(*s.key, index, random) : std::string();
  const std::string value = s.value ? render_bytes(*s.value, index, random) : std::string();
  const ep::Item item{.vbucket = vb,
                      .key = key,
                      .value = value,
                      .flags = number_or<std::uint32_t>(s.flags, index, 0),
                      .expiry = number_or<std::uint32_t>(s.expiry, index, 0),
                      .cas = number_or<std::uint64_t>(s.cas, index, 0),
                      .opaque = opaque,
                      .tap_flags = tap_flags,
                      .rev_seqno = number_or<std::uint64_t>(s.rev_seqno, index, 1),
                      .nru = number_or<std::uint8_t>(s.nru, index, 0)};
  const auto checkpoint = number_or<std::uint64_t>(s.checkpoint, index, 0);
  protocol::TapMessageFields f;
  switch (s.kind) {
    case FrameKind::mutation: f = ep::mutation(item); break;
    case FrameKind::deletion: f = ep::deletion(item); break;
    case FrameKind::flush: f = ep::flush(opaque, tap_flags); break;
    case FrameKind::opaque:
      f = ep::opaque(vb, static_cast<protocol::TapOpaqueCode>(s.code.value_or(0)), opaque, tap_flags);
      break;
    case FrameKind::vbucket_set:
      f = ep::vbucket_set(vb, static_cast<protocol::VBucketState>(s.state.value_or(1)), opaque,
                          tap_flags);
      break;
    case FrameKind::checkpoint_start: f = ep::checkpoint_start(vb, checkpoint, opaque, tap_flags); break;
    case FrameKind::checkpoint_end: f = ep::checkpoint_end(vb, checkpoint, opaque, tap_flags); break;
    default: break;
  }
  f.vbucket = vb;
  f.cas = item.cas;
  f.datatype = number_or<std::uint8_t>(s.datatype, index, 0);
  f.ttl = number_or<std::uint8_t>(s.ttl, index, protocol::kProducerTtl);
  if (s.engine) f.engine_specific = to_bytes(render_bytes(*s.engine, index, random));
  return f;
}

void apply_lies(const FrameSpec& s, Bytes& bytes) {
  namespace at = protocol::header_offset;
  if (bytes.size() < protocol::kHeaderSize) return;  // a raw fragment has no header to lie in
  if (s.magic) bytes[at::magic] = *s.magic;
  if (s.opcode) bytes[at::opcode] = *s.opcode;
  if (s.keylen) protocol::store_be16(bytes.data() + at::keylen, *s.keylen);
  if (s.extlen) bytes[at::extlen] = *s.extlen;
  if (s.bodylen) protocol::store_be32(bytes.data() + at::bodylen, *s.bodylen);
  if (s.engine_length && bytes.size() >= protocol::kHeaderSize + 2) {
    protocol::store_be16(bytes.data() + protocol::kHeaderSize, *s.engine_length);
  }
}

}  // namespace

std::string ScenarioRandom::text(std::size_t length) {
  std::string out(length, '\0');
  for (char& c : out) c = kAlphabet[next() % kAlphabet.size()];
  return out;
}

std::string render_bytes(const BytesValue& value, std::uint64_t index, ScenarioRandom& random) {
  switch (value.kind) {
    case BytesValue::Kind::text: {
      std::string out = value.pieces.empty() ? std::string() : value.pieces[0];
      for (std::size_t i = 1; i < value.pieces.size(); ++i) {
        out += std::to_string(index);
        out += value.pieces[i];
      }
      return out;
    }
    case BytesValue::Kind::hex: return std::string(value.hex.begin(), value.hex.end());
    case BytesValue::Kind::random: return random.text(value.length);
    case BytesValue::Kind::fill: return std::string(value.length, static_cast<char>(value.fill_byte));
  }
  return {};
}

RenderedFrame render_frame(const FrameSpec& spec, std::uint64_t index, ScenarioRandom& random,
                           std::uint32_t next_opaque) {
  RenderedFrame out;
  out.opcode = opcode_of(spec.kind);
  switch (spec.kind) {
    case FrameKind::raw:
      out.bytes = to_bytes(render_bytes(spec.raw, index, random));
      break;
    case FrameKind::noop:
      out.opaque = number_or<std::uint32_t>(spec.opaque, index, 0);
      protocol::encode_frame(out.bytes,
                             {.opcode = Opcode::noop,
                              .vbucket_or_status = number_or<std::uint16_t>(spec.vbucket, index, 0),
                              .opaque = out.opaque,
                              .cas = number_or<std::uint64_t>(spec.cas, index, 0)});
      break;
    case FrameKind::connect_error: {
      const std::string body = spec.body ? render_bytes(*spec.body, index, random) : std::string();
      out.opaque = number_or<std::uint32_t>(spec.opaque, index, 0);
      const auto status = spec.status.value_or(protocol::Status::not_supported);
      protocol::encode_frame(out.bytes, {.magic = protocol::Magic::response,
                                         .opcode = Opcode::tap_connect,
                                         .vbucket_or_status = static_cast<std::uint16_t>(status),
                                         .opaque = out.opaque,
                                         .value = protocol::as_bytes(body)});
      break;
    }
    default:
      out.uses_sequence = !spec.opaque;
      out.opaque = spec.opaque ? static_cast<std::uint32_t>(spec.opaque->render(index)) : next_opaque;
      protocol::encode_tap_message(out.bytes, tap_fields(spec, index, random, out.opaque));
      out.wants_ack = spec.wants_ack();
      break;
  }
  apply_lies(spec, out.bytes);
  return out;
}

}  // namespace tapharness::mockserver
