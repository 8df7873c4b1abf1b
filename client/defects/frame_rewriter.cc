#include "client/defects/frame_rewriter.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "protocol/header.hpp"
#include "protocol/opcode.hpp"
#include "protocol/tap_constants.hpp"

namespace tapharness::client {
namespace {

using protocol::Opcode;
constexpr std::size_t kHold = protocol::kHeaderSize + 2;  // the header and the engine-specific length
constexpr std::size_t kLook = protocol::kHeaderSize + 16;  // enough for TAP flags, an opaque code, a rev seqno

std::uint16_t be16(const protocol::Bytes& b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]);
}
std::uint32_t be32(const protocol::Bytes& b, std::size_t at) {
  return std::uint32_t{b[at]} << 24 | std::uint32_t{b[at + 1]} << 16 | std::uint32_t{b[at + 2]} << 8 | b[at + 3];
}
void store16(protocol::Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}

bool is_tap(std::uint8_t opcode) { return protocol::is_tap_message(static_cast<Opcode>(opcode)); }

// The reference's reading of a TAP message's extras (protocol.md 6.4): the extras and the
// engine-specific bytes as one run, the item flags and expiry at bytes 8..16 of it, and a
// message with fewer than 8 ignored. Rewritten so the correct codec reads the same.
void take_extras_as_they_come(protocol::Bytes& f, std::uint32_t engine) {
  const auto opcode = static_cast<Opcode>(f[1]);
  const bool item = opcode == Opcode::tap_mutation || opcode == Opcode::tap_checkpoint_start ||
                    opcode == Opcode::tap_checkpoint_end;
  const std::uint32_t expected = item ? 16 : 8, extlen = f[4];
  if (extlen < 8) {
    f[1] = static_cast<std::uint8_t>(Opcode::noop);
  } else if (extlen < expected && engine >= expected - extlen) {
    f[4] = static_cast<std::uint8_t>(expected);
    store16(f, 24, static_cast<std::uint16_t>(engine - (expected - extlen)));
  } else if (extlen > expected) {
    f[4] = static_cast<std::uint8_t>(expected);
    store16(f, 24, static_cast<std::uint16_t>(engine + (extlen - expected)));
  }
}

}  // namespace

FrameRewriter::FrameRewriter(const DefectSet& defects)
    : defects_(defects),
      rewrites_(defects.has(Defect::engine_length_zero) || defects.has(Defect::accept_response_magic) ||
                defects.has(Defect::deliver_lying_lengths) || defects.has(Defect::crash_on_lying_lengths) ||
                defects.has(Defect::opaque_code_any_engine_length) || defects.has(Defect::tap_extras_unchecked) ||
                defects.has(Defect::drop_vbucket_set)),
      keys_(defects.has(Defect::ignore_retransmit)) {}

bool FrameRewriter::needed(const DefectSet& d) {
  for (Defect x : {Defect::engine_length_zero, Defect::accept_response_magic, Defect::deliver_lying_lengths,
                   Defect::crash_on_lying_lengths, Defect::opaque_code_any_engine_length,
                   Defect::close_on_unknown_opaque, Defect::deletion_flags_from_rev_seqno, Defect::ack_unasked,
                   Defect::ack_non_tap, Defect::tap_extras_unchecked, Defect::drop_vbucket_set,
                   Defect::ignore_retransmit}) {
    if (d.has(x)) return true;
  }
  return false;
}

void FrameRewriter::begin_frame() {
  frame_size_ = 0;
  position_ = 0;
  front_.clear();
  held_.clear();
  released_ = false;
  key_.clear();
}

void FrameRewriter::take(protocol::ByteView in, protocol::Bytes& out, Notes& notes) {
  while (!in.empty() && !notes.close && !notes.crash) {
    const std::uint64_t frame_left = frame_size_ ? frame_size_ - position_ : protocol::kHeaderSize - position_;
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(in.size(), frame_left));
    const protocol::ByteView chunk = in.first(n);
    in = in.subspan(n);
    if (front_.size() < kLook) {
      front_.insert(front_.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(std::min(n, kLook - front_.size())));
    }
    const bool hold = rewrites_ && !released_ && position_ < kHold;
    if (keys_) keep_key(position_, chunk);
    position_ += n;
    if (hold) {
      held_.insert(held_.end(), chunk.begin(), chunk.end());
    } else {
      out.insert(out.end(), chunk.begin(), chunk.end());
    }
    if (!frame_size_ && position_ == protocol::kHeaderSize) {
      frame_size_ = protocol::kHeaderSize + std::uint64_t{be32(front_, 8)};
    }
    if (frame_size_ && !held_.empty() && (position_ >= kHold || position_ == frame_size_)) {
      rewrite_front(notes);
      if (!notes.crash) out.insert(out.end(), held_.begin(), held_.end());
      held_.clear();
    }
    if (frame_size_ && position_ == frame_size_) {
      end_frame(notes);
      begin_frame();
    }
  }
}

// The key sits after the extras and, in a TAP message, the engine-specific bytes: its place
// is known once front_ holds the header (and the engine-specific length), which comes in this
// chunk or before it, and always before the key's first byte.
void FrameRewriter::keep_key(std::uint64_t at, protocol::ByteView chunk) {
  if (front_.size() < protocol::kHeaderSize) return;
  const std::uint32_t extlen = front_[4], keylen = be16(front_, 2);
  const bool engine = front_[0] == 0x80 && is_tap(front_[1]) && extlen >= 2;
  if (engine && front_.size() < kHold) return;
  const std::uint64_t begin = protocol::kHeaderSize + extlen + (engine ? be16(front_, 24) : 0);
  const std::uint64_t from = std::max(at, begin), to = std::min<std::uint64_t>(at + chunk.size(), begin + keylen);
  if (from < to) {
    const auto* p = chunk.data() + (from - at);
    key_.append(reinterpret_cast<const char*>(p), static_cast<std::size_t>(to - from));
  }
}

void FrameRewriter::release(protocol::Bytes& out) {
  out.insert(out.end(), held_.begin(), held_.end());
  held_.clear();
  released_ = true;
}

// `held_` holds the frame's first bytes: the whole header, and the engine-specific length
// when the frame has one.
void FrameRewriter::rewrite_front(Notes& notes) {
  protocol::Bytes& f = held_;
  if (f.size() < protocol::kHeaderSize) return;
  if (defects_.has(Defect::accept_response_magic) && f[0] == 0x81 && is_tap(f[1])) f[0] = 0x80;
  const bool tap = f[0] == 0x80 && is_tap(f[1]);
  const std::uint32_t extlen = f[4], keylen = be16(f, 2), bodylen = be32(f, 8);
  const bool has_engine = tap && extlen >= 2 && bodylen >= 2 && f.size() >= kHold;
  const std::uint32_t engine = has_engine ? be16(f, 24) : 0;
  const bool lies = extlen + keylen + engine > bodylen;
  if (lies && defects_.has(Defect::crash_on_lying_lengths)) {
    notes.crash = fmt::format("panic: runtime error: slice bounds out of range [:{}] with capacity {}",
                              extlen + keylen + engine, bodylen);
    return;
  }
  if (lies && defects_.has(Defect::deliver_lying_lengths)) {
    // Cut to fit: the key to what the body holds after the extras, then the engine bytes.
    const std::uint32_t key = std::min(keylen, bodylen > extlen ? bodylen - extlen : 0);
    store16(f, 2, static_cast<std::uint16_t>(key));
    if (has_engine) store16(f, 24, static_cast<std::uint16_t>(std::min(engine, bodylen - std::min(bodylen, extlen + key))));
  }
  if (has_engine && defects_.has(Defect::engine_length_zero)) store16(f, 24, 0);
  if (tap && defects_.has(Defect::tap_extras_unchecked)) take_extras_as_they_come(f, engine);
  if (tap && f[1] == static_cast<std::uint8_t>(Opcode::tap_vbucket_set) && defects_.has(Defect::drop_vbucket_set) &&
      (!has_engine || engine != 4)) {
    f[1] = static_cast<std::uint8_t>(Opcode::noop);  // ignored whole, never looked into
  }
  if (has_engine && f[1] == static_cast<std::uint8_t>(Opcode::tap_opaque) &&
      defects_.has(Defect::opaque_code_any_engine_length) && engine > 4) {
    store16(f, 24, 4);
  }
}

void FrameRewriter::end_frame(Notes& notes) {
  const protocol::Bytes& f = front_;
  if (f.size() < protocol::kHeaderSize) return;
  const std::uint8_t magic = f[0], opcode = f[1], extlen = f[4];
  const std::uint32_t opaque = be32(f, 12);
  if (magic != 0x80) return;
  const bool tap = is_tap(opcode);
  const bool asks = extlen >= 4 && f.size() >= protocol::kHeaderSize + 4 &&
                    (be16(f, protocol::kHeaderSize + 2) & static_cast<std::uint16_t>(protocol::TapFlag::ack));
  if (tap && !asks && defects_.has(Defect::ack_unasked)) notes.acks.push_back({static_cast<Opcode>(opcode), opaque});
  if (tap && asks && keys_) notes.asked.push_back({{static_cast<Opcode>(opcode), opaque}, key_});
  if (!tap && asks && opcode != static_cast<std::uint8_t>(Opcode::tap_connect) && defects_.has(Defect::ack_non_tap)) {
    notes.acks.push_back({static_cast<Opcode>(opcode), opaque});
  }
  const std::size_t engine_at = protocol::kHeaderSize + extlen;
  const std::uint32_t engine = tap && extlen >= 2 ? be16(f, protocol::kHeaderSize) : 0;
  if (opcode == static_cast<std::uint8_t>(Opcode::tap_delete) && defects_.has(Defect::deletion_flags_from_rev_seqno) &&
      engine >= 8 && f.size() >= engine_at + 8) {
    notes.deletions.emplace_back(be32(f, engine_at), be32(f, engine_at + 4));
  }
  if (opcode == static_cast<std::uint8_t>(Opcode::tap_opaque) && defects_.has(Defect::close_on_unknown_opaque) &&
      engine == 4 && f.size() >= engine_at + 4) {
    const std::uint32_t code = be32(f, engine_at);
    using protocol::TapOpaqueCode;
    const bool known = code == static_cast<std::uint32_t>(TapOpaqueCode::initial_vbucket_stream) ||
                       code == static_cast<std::uint32_t>(TapOpaqueCode::close_backfill) ||
                       code == static_cast<std::uint32_t>(TapOpaqueCode::close_tap_stream);
    if (!known) notes.close = true;
  }
}

}  // namespace tapharness::client
