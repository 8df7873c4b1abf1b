#include "record/send_line.hpp"

#include <fmt/format.h>

#include <variant>
#include <vector>

#include "protocol/tap_message.hpp"
#include "runner/client_check.hpp"
#include "scenario/render.hpp"
#include "scenario/scenario.hpp"

namespace tapharness::record {
namespace {

using protocol::ByteView;
using protocol::Frame;
using protocol::Opcode;
using scenario::FrameKind;
using scenario::FrameSpec;
using scenario::SendBytes;
using scenario::SendField;

// One field of the line: a number (with its words, e.g. " code=CLOSE_BACKFILL" or " ack"),
// or bytes (their word is made once the line is known to be exact: it may need a file).
struct Entry {
  std::variant<SendField, SendBytes> field;
  std::uint64_t number = 0;
  std::string_view bytes;
  std::string text;       // numbers: their words
  std::string_view name;  // bytes: the field's name
};

class Draft {
 public:
  explicit Draft(FrameKind kind) : kind_(kind) {}

  void number(SendField field, std::string_view name, std::uint64_t value) {
    entries_.push_back({field, value, {}, fmt::format(" {}={}", name, value), {}});
  }
  void named(SendField field, std::uint64_t value, std::string text) {
    entries_.push_back({field, value, {}, std::move(text), {}});
  }
  void bytes(SendBytes field, std::string_view name, ByteView value) {
    entries_.push_back({field, 0, protocol::as_chars(value), {}, name});
  }

  FrameSpec spec() const {
    FrameSpec spec;
    spec.kind = kind_;
    for (const Entry& e : entries_) {
      if (const auto* f = std::get_if<SendField>(&e.field)) {
        spec.set(*f, scenario::NumberValue{e.number});
      } else {
        scenario::BytesValue b;
        b.kind = scenario::BytesValue::Kind::hex;
        b.hex.assign(e.bytes.begin(), e.bytes.end());
        spec.set(std::get<SendBytes>(e.field), std::move(b));
      }
    }
    return spec;
  }

  std::string text(ValueWords& words) const {
    std::string out(scenario::send_statement(kind_));
    for (const Entry& e : entries_) {
      if (std::holds_alternative<SendField>(e.field)) {
        out += e.text;
      } else {
        out += fmt::format(" {}={}", e.name, words.word(e.bytes, "", e.name));
      }
    }
    return out;
  }

 private:
  FrameKind kind_;
  std::vector<Entry> entries_;
};

std::optional<FrameKind> tap_kind(Opcode opcode) {
  switch (opcode) {
    case Opcode::tap_mutation: return FrameKind::mutation;
    case Opcode::tap_delete: return FrameKind::deletion;
    case Opcode::tap_flush: return FrameKind::flush;
    case Opcode::tap_opaque: return FrameKind::opaque;
    case Opcode::tap_vbucket_set: return FrameKind::vbucket_set;
    case Opcode::tap_checkpoint_start: return FrameKind::checkpoint_start;
    case Opcode::tap_checkpoint_end: return FrameKind::checkpoint_end;
    default: return std::nullopt;
  }
}

// The TAP flags as the bare words the language has for them, or the number.
std::string tap_flags_words(std::uint16_t flags) {
  using protocol::TapFlag;
  const auto ack = static_cast<std::uint16_t>(TapFlag::ack),
             no_value = static_cast<std::uint16_t>(TapFlag::no_value);
  if ((flags & ~(ack | no_value)) != 0) return fmt::format(" tap_flags={:#x}", flags);
  std::string out;
  if (flags & ack) out += " ack";
  if (flags & no_value) out += " no_value";
  return out;
}

// The fields of a TAP message, or nullopt for one the language cannot shape.
std::optional<Draft> tap_draft(const Frame& frame, FrameKind kind) {
  auto decoded = protocol::decode_tap_message(frame);
  if (!decoded) return std::nullopt;
  const protocol::TapMessage& m = *decoded;
  const bool item = kind == FrameKind::mutation || kind == FrameKind::deletion;
  Draft d(kind);
  d.number(SendField::vbucket, "vb", m.vbucket);
  const ByteView engine = m.engine_specific;
  switch (kind) {
    case FrameKind::mutation:
      d.bytes(SendBytes::key, "key", m.key);
      d.bytes(SendBytes::value, "value", m.value);
      d.number(SendField::flags, "flags", m.item ? m.item->flags : 0);
      d.number(SendField::expiry, "expiry", m.item ? m.item->expiry : 0);
      break;
    case FrameKind::deletion:
      d.bytes(SendBytes::key, "key", m.key);
      if (!m.value.empty()) d.bytes(SendBytes::value, "value", m.value);
      break;
    case FrameKind::checkpoint_start:
    case FrameKind::checkpoint_end:
      if (m.value.size() != 8) return std::nullopt;  // the language writes the id as 8 bytes
      d.number(SendField::checkpoint, "checkpoint", protocol::load_be64(m.value.data()));
      break;
    default: break;
  }
  if (item || m.cas != 0) d.number(SendField::cas, "cas", m.cas);
  if (m.datatype != 0) d.number(SendField::datatype, "datatype", m.datatype);
  if (m.ttl != protocol::kProducerTtl) d.number(SendField::ttl, "ttl", m.ttl);
  // The engine-specific bytes in the kind's own fields when they have ep-engine's size.
  if (kind == FrameKind::mutation && engine.size() == 9) {
    const std::uint64_t rev = protocol::load_be64(engine.data());
    if (rev != 1) d.number(SendField::rev_seqno, "rev_seqno", rev);
    if (engine[8] != 0) d.number(SendField::nru, "nru", engine[8]);
  } else if (kind == FrameKind::deletion && engine.size() == 8) {
    const std::uint64_t rev = protocol::load_be64(engine.data());
    if (rev != 1) d.number(SendField::rev_seqno, "rev_seqno", rev);
  } else if (kind == FrameKind::opaque && engine.size() == 4) {
    const auto code = protocol::load_be32(engine.data());
    const auto name = protocol::name_of(static_cast<protocol::TapOpaqueCode>(code));
    d.named(SendField::code, code,
            name.empty() ? fmt::format(" code={}", code) : fmt::format(" code={}", name));
  } else if (kind == FrameKind::vbucket_set && engine.size() == 4) {
    const auto state = protocol::load_be32(engine.data());
    d.named(SendField::state, state,
            " state=" + runner::state_word(static_cast<protocol::VBucketState>(state)));
  } else if (!((kind == FrameKind::flush || kind == FrameKind::checkpoint_end) && engine.empty()) &&
             !(kind == FrameKind::checkpoint_start && engine.size() == 8 &&
               protocol::load_be64(engine.data()) == 0)) {
    d.bytes(SendBytes::engine, "engine", engine);
  }
  d.number(SendField::opaque, "opaque", m.opaque);
  if (m.tap_flags != 0) d.named(SendField::tap_flags, m.tap_flags, tap_flags_words(m.tap_flags));
  return d;
}

std::optional<Draft> draft_of(const Frame& frame) {
  const protocol::Header& h = frame.header;
  if (h.magic == protocol::Magic::request) {
    if (auto kind = tap_kind(h.opcode)) return tap_draft(frame, *kind);
    if (h.opcode == Opcode::noop) {
      Draft d(FrameKind::noop);
      if (h.vbucket() != 0) d.number(SendField::vbucket, "vb", h.vbucket());
      if (h.opaque != 0) d.number(SendField::opaque, "opaque", h.opaque);
      if (h.cas != 0) d.number(SendField::cas, "cas", h.cas);
      return d;
    }
    return std::nullopt;
  }
  if (h.opcode == Opcode::tap_connect) {
    Draft d(FrameKind::connect_error);
    const auto status = h.status();
    const auto name = protocol::name_of(status);
    d.named(SendField::status, static_cast<std::uint16_t>(status),
            name.empty() ? fmt::format(" status={}", static_cast<std::uint16_t>(status))
                         : fmt::format(" status={}", name));
    if (!frame.value.empty()) d.bytes(SendBytes::body, "body", frame.value);
    if (h.opaque != 0) d.number(SendField::opaque, "opaque", h.opaque);
    return d;
  }
  return std::nullopt;
}

// Whether the language renders `spec` to exactly `bytes`.
bool renders_as(const FrameSpec& spec, ByteView bytes) {
  scenario::ScenarioRandom no_random(0);  // recorded values are never random()
  const auto rendered = scenario::render_frame(spec, 0, no_random, 0);
  return rendered.bytes.size() == bytes.size() &&
         std::equal(bytes.begin(), bytes.end(), rendered.bytes.begin());
}

}  // namespace

SendLine send_line(const Frame& frame, ByteView bytes, ValueWords& words) {
  if (auto draft = draft_of(frame); draft && renders_as(draft->spec(), bytes)) {
    return SendLine{draft->text(words), false};
  }
  return SendLine{"send raw " + words.word(protocol::as_chars(bytes), "x\"", "frame"), true};
}

std::string split_word(const std::vector<std::size_t>& splits, std::size_t frame_size) {
  if (splits.empty()) return {};
  if (frame_size > 1 && splits.size() == frame_size - 1)
    return " bytewise";  // ascending, 1..size-1
  std::string out = " split=";
  for (std::size_t i = 0; i < splits.size(); ++i) {
    out += fmt::format("{}{}", i > 0 ? "," : "", splits[i]);
    if (out.size() > kMaxSplitWord) return {};
  }
  return out;
}

}  // namespace tapharness::record
