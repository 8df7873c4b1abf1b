#include "scenario/render.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>

#include "protocol/frame.hpp"
#include "protocol/tap_message.hpp"

namespace tapharness::scenario {
namespace {

using protocol::Bytes;
using protocol::Opcode;

constexpr std::string_view kAlphabet =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

using F = SendField;

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

// The TAP message for a spec: ep-engine's shape, then the fields the step names. The view
// points into `key`, `value`, `engine` and `scratch`.
template <class RenderBytes>
protocol::TapMessage tap_message(const FrameSpec& s, std::uint64_t index, RenderBytes&& render,
                                     std::uint32_t opaque, std::string& key, std::string& value, std::string& engine,
                                     protocol::ep_engine::Scratch& scratch) {
  namespace ep = protocol::ep_engine;
  const auto vb = s.number_or<std::uint16_t>(F::vbucket, index, 0);
  const auto tap_flags = s.number_or<std::uint16_t>(F::tap_flags, index, 0);
  const BytesValue* key_spec = s.find(SendBytes::key);
  const BytesValue* value_spec = s.find(SendBytes::value);
  const std::string_view key_bytes = key_spec ? render(*key_spec, key) : std::string_view();
  const std::string_view value_bytes = value_spec ? render(*value_spec, value) : std::string_view();
  const ep::Item item{.vbucket = vb,
                      .key = key_bytes,
                      .value = value_bytes,
                      .flags = s.number_or<std::uint32_t>(F::flags, index, 0),
                      .expiry = s.number_or<std::uint32_t>(F::expiry, index, 0),
                      .cas = s.number_or<std::uint64_t>(F::cas, index, 0),
                      .opaque = opaque,
                      .tap_flags = tap_flags,
                      .rev_seqno = s.number_or<std::uint64_t>(F::rev_seqno, index, 1),
                      .nru = s.number_or<std::uint8_t>(F::nru, index, 0)};
  const auto checkpoint = s.number_or<std::uint64_t>(F::checkpoint, index, 0);
  // Each case returns its view directly, so it is built in place (a view assigned after the
  // fact is copied through memory, stalling on the stores that just made it).
  auto shape = [&]() -> protocol::TapMessage {
    switch (s.kind) {
      case FrameKind::mutation: return ep::mutation(item, scratch);
      case FrameKind::deletion: return ep::deletion(item, scratch);
      case FrameKind::flush: return ep::flush(opaque, tap_flags, scratch);
      case FrameKind::opaque:
        return ep::opaque(vb, s.number_or<protocol::TapOpaqueCode>(F::code, index, protocol::TapOpaqueCode{0}), opaque, tap_flags, scratch);
      case FrameKind::vbucket_set:
        return ep::vbucket_set(vb, s.number_or<protocol::VBucketState>(F::state, index, protocol::VBucketState{1}), opaque, tap_flags,
                               scratch);
      case FrameKind::checkpoint_start: return ep::checkpoint_start(vb, checkpoint, opaque, tap_flags, scratch);
      case FrameKind::checkpoint_end: return ep::checkpoint_end(vb, checkpoint, opaque, tap_flags, scratch);
      default: return {};
    }
  };
  protocol::TapMessage v = shape();
  v.vbucket = vb;
  v.cas = item.cas;
  v.datatype = s.number_or<std::uint8_t>(F::datatype, index, 0);
  v.ttl = s.number_or<std::uint8_t>(F::ttl, index, protocol::kProducerTtl);
  if (const BytesValue* e = s.find(SendBytes::engine)) v.engine_specific = protocol::as_bytes(render(*e, engine));
  return v;
}

// Lies are written over the frame that starts at `at` in `bytes`.
void apply_lies(const FrameSpec& s, Bytes& bytes, std::size_t start) {
  namespace at = protocol::header_offset;
  const std::size_t size = bytes.size() - start;
  if (size < protocol::kHeaderSize) return;  // a raw fragment has no header to lie in
  std::uint8_t* frame = bytes.data() + start;
  auto lie = [&](SendField field) { return s.find(field); };
  if (const auto* v = lie(F::magic)) frame[at::magic] = static_cast<std::uint8_t>(v->value);
  if (const auto* v = lie(F::opcode)) frame[at::opcode] = static_cast<std::uint8_t>(v->value);
  if (const auto* v = lie(F::keylen)) protocol::store_be16(frame + at::keylen, static_cast<std::uint16_t>(v->value));
  if (const auto* v = lie(F::extlen)) frame[at::extlen] = static_cast<std::uint8_t>(v->value);
  if (const auto* v = lie(F::bodylen)) protocol::store_be32(frame + at::bodylen, static_cast<std::uint32_t>(v->value));
  if (const auto* v = lie(F::engine_length); v && size >= protocol::kHeaderSize + 2) {
    protocol::store_be16(frame + protocol::kHeaderSize, static_cast<std::uint16_t>(v->value));
  }
}

}  // namespace

std::string ScenarioRandom::text(std::size_t length) {
  std::string out(length, '\0');
  fill_text(out.data(), length);
  return out;
}

void ScenarioRandom::fill_text(char* out, std::size_t length) {
  if (length > kMaxWindow) {
    draw_letters(out, length);
    return;
  }
  if (pool_.empty()) {
    pool_.resize(kPool + kMaxWindow);
    draw_letters(pool_.data(), pool_.size());
    offsets_.seed(next());
  }
  std::memcpy(out, pool_.data() + next_window(), length);
}

std::size_t ScenarioRandom::next_window() {
  static_assert(kPool == 1 << 16, "a window's offset is the top 16 bits of a draw");
  return static_cast<std::size_t>(offsets_() >> 48);
}

void ScenarioRandom::draw_letters(char* out, std::size_t length) {
  // Eight letters per draw: each is the integer part of the draw's fraction times 62, and the
  // rest of the fraction feeds the next (about 16 of 64 bits remain for the eighth, so its
  // bias stays under 0.1%). One generator call per eight bytes, not one per byte.
  constexpr std::size_t kPerDraw = 8;
  char* const end = out + length;
  while (out != end) {
    std::uint64_t fraction = next();
    const std::size_t n = std::min<std::size_t>(kPerDraw, static_cast<std::size_t>(end - out));
    for (std::size_t i = 0; i < n; ++i) {
      const unsigned __int128 scaled = static_cast<unsigned __int128>(fraction) * kAlphabet.size();
      *out++ = kAlphabet[static_cast<std::size_t>(scaled >> 64)];
      fraction = static_cast<std::uint64_t>(scaled);
    }
  }
}

void render_bytes(const BytesValue& value, std::uint64_t index, ScenarioRandom& random, std::string& out) {
  out.clear();
  switch (value.kind) {
    case BytesValue::Kind::text: {
      if (value.pieces.empty()) return;
      if (!value.placeholders.empty()) {  // arithmetic: each placeholder its own number
        for (std::size_t i = 0; i < value.pieces.size(); ++i) {
          if (i > 0) {
            char number[24];
            const auto [end, ec] = std::to_chars(std::begin(number), std::end(number), value.placeholders[i - 1].eval(index));
            out.append(number, end);
          }
          out += value.pieces[i];
        }
        return;
      }
      char digits[24];
      const auto [end, ec] = std::to_chars(std::begin(digits), std::end(digits), index);
      const std::size_t ndigits = static_cast<std::size_t>(end - digits);
      // Sized once and filled by copies: volume scenarios render a numbered key per frame.
      std::size_t size = ndigits * (value.pieces.size() - 1);
      for (const auto& piece : value.pieces) size += piece.size();
      out.resize(size);
      char* at = out.data();
      for (std::size_t i = 0; i < value.pieces.size(); ++i) {
        if (i > 0) at = std::copy_n(digits, ndigits, at);
        at = std::copy(value.pieces[i].begin(), value.pieces[i].end(), at);
      }
      return;
    }
    case BytesValue::Kind::hex: out.assign(value.hex.begin(), value.hex.end()); return;
    case BytesValue::Kind::random:
      out.resize(value.length);
      random.fill_text(out.data(), value.length);
      return;
    case BytesValue::Kind::fill: out.assign(value.length, static_cast<char>(value.fill_byte)); return;
  }
}

std::string render_bytes(const BytesValue& value, std::uint64_t index, ScenarioRandom& random) {
  std::string out;
  render_bytes(value, index, random, out);
  return out;
}

namespace {

std::size_t digit_count(std::uint64_t n) {
  std::size_t d = 1;
  while (n >= 10) {
    n /= 10;
    ++d;
  }
  return d;
}

// Adds one to the `digits` decimal digits in `text`; false when that would need one more.
bool increment_decimal(std::array<char, 20>& text, std::size_t digits) {
  for (std::size_t i = digits; i-- > 0;) {
    if (text[i] != '9') {
      ++text[i];
      return true;
    }
    text[i] = '0';
  }
  return false;  // all nines: the digits are now wrong, and the caller renders them afresh
}

// The largest number with `digits` decimal digits (20 digits: every number above 10^19).
std::uint64_t last_with_digits(std::size_t digits) {
  if (digits >= 20) return std::numeric_limits<std::uint64_t>::max();
  std::uint64_t power = 1;
  for (std::size_t d = 0; d < digits; ++d) power *= 10;
  return power - 1;
}

// `value` in the `width` bytes (1, 2, 4 or 8) of a header or extras field, big-endian.
void store_be(std::uint8_t* at, std::uint64_t value, std::uint8_t width) {
  switch (width) {
    case 1: *at = static_cast<std::uint8_t>(value); return;
    case 2: protocol::store_be16(at, static_cast<std::uint16_t>(value)); return;
    case 4: protocol::store_be32(at, static_cast<std::uint32_t>(value)); return;
    default: protocol::store_be64(at, value); return;
  }
}

}  // namespace

bool FrameRenderer::ep_engine_shaped(const FrameSpec& spec) {
  if (spec.kind != FrameKind::mutation && spec.kind != FrameKind::deletion) return false;
  if (spec.find(SendBytes::engine)) return false;
  for (F lie : {F::magic, F::opcode, F::keylen, F::extlen, F::bodylen, F::engine_length}) {
    if (spec.find(lie)) return false;
  }
  const BytesValue* key = spec.find(SendBytes::key);
  if (key && key->kind == BytesValue::Kind::random) return false;
  if (key && !key->placeholders.empty()) return false;  // arithmetic digits vary by placeholder
  const BytesValue* value = spec.find(SendBytes::value);
  if (value && value->has_index()) return false;
  // Index-valued numbers only where the template knows their place.
  for (F field : {F::ttl, F::code, F::state, F::checkpoint, F::status, F::tap_flags}) {
    const NumberValue* v = spec.find(field);
    if (v && v->is_index) return false;
  }
  return true;
}

void FrameRenderer::compile(const FrameSpec& spec, std::uint64_t index, const Bytes& frame, Template& t) {
  t = Template{};
  t.spec = &spec;
  t.digits = digit_count(index);
  t.last_index = index;
  std::to_chars(t.text.data(), t.text.data() + t.text.size(), index);
  t.bytes = frame;
  t.info = info_;
  const NumberValue* opaque = spec.find(F::opaque);
  if (opaque && opaque->is_index) t.opaque_index = opaque;
  namespace at = protocol::header_offset;
  const bool mutation = spec.kind == FrameKind::mutation;
  const std::uint32_t extlen = frame[at::extlen];
  const std::uint32_t engine_at = static_cast<std::uint32_t>(protocol::kHeaderSize) + extlen;
  const std::uint32_t engine = protocol::load_be16(frame.data() + protocol::kHeaderSize);
  auto number = [&](F field, std::uint32_t offset, std::uint8_t width) {
    const NumberValue* v = spec.find(field);
    if (v && v->is_index) t.numbers.push_back({offset, width, v});
  };
  number(F::vbucket, at::vbucket, 2);
  number(F::opaque, at::opaque, 4);
  number(F::cas, at::cas, 8);
  number(F::datatype, at::datatype, 1);
  number(F::rev_seqno, engine_at, 8);
  if (mutation) {
    number(F::flags, protocol::kHeaderSize + protocol::tap_extras_offset::item_flags, 4);
    number(F::expiry, protocol::kHeaderSize + protocol::tap_extras_offset::expiry, 4);
    number(F::nru, engine_at + 8, 1);
  }
  const std::uint32_t key_at = engine_at + engine;
  if (const BytesValue* key = spec.find(SendBytes::key); key && key->has_index()) {
    std::uint32_t offset = key_at;
    for (std::size_t i = 0; i + 1 < key->pieces.size(); ++i) {
      offset += static_cast<std::uint32_t>(key->pieces[i].size());
      t.key_digits.push_back(offset);
      offset += static_cast<std::uint32_t>(t.digits);
    }
  }
  if (const BytesValue* value = spec.find(SendBytes::value); value && value->kind == BytesValue::Kind::random) {
    t.random_length = static_cast<std::uint32_t>(value->length);
    t.random_at = static_cast<std::uint32_t>(frame.size()) - t.random_length;
  }
}

FrameRenderer::Template* FrameRenderer::find_template(const FrameSpec& spec, std::uint64_t index) {
  // A volume repeat's next frame: the same template, its digits one increment on (unless
  // the increment adds a digit, which another template holds).
  Template* t = nullptr;
  if (last_ && last_->spec == &spec && index == last_->last_index + 1) {
    if (increment_decimal(last_->text, last_->digits)) t = last_;
    last_ = nullptr;  // until it is found again, its digits are rendered afresh
  }
  if (!t) {
    const std::size_t digits = digit_count(index);
    for (Template& candidate : templates_) {
      if (candidate.spec == &spec && candidate.digits == digits) t = &candidate;
    }
    if (!t) return nullptr;
    std::to_chars(t->text.data(), t->text.data() + t->text.size(), index);
  }
  t->last_index = index;
  last_ = t;
  return t;
}

void FrameRenderer::stamp(Template& t, std::uint64_t index, std::uint32_t next_opaque, std::uint8_t* frame) {
  // A random value ends the frame and is written over whole: the template's copy of it is not copied.
  std::memcpy(frame, t.bytes.data(), t.bytes.size() - t.random_length);
  for (const auto& n : t.numbers) store_be(frame + n.at, n.value->render(index), n.width);
  for (std::uint32_t at : t.key_digits) std::memcpy(frame + at, t.text.data(), t.digits);
  if (t.info.uses_sequence) protocol::store_be32(frame + protocol::header_offset::opaque, next_opaque);
  if (t.random_length > 0) {
    // Drawn as a full render draws it, so the same seed gives the same bytes either way.
    random_.fill_text(reinterpret_cast<char*>(frame + t.random_at), t.random_length);
  }
}

const FrameInfo* FrameRenderer::render_from_template(const FrameSpec& spec, std::uint64_t index,
                                                     std::uint32_t next_opaque, Bytes& out) {
  Template* t = find_template(spec, index);
  if (!t) return nullptr;
  const std::size_t start = out.size();
  out.resize(start + t->bytes.size());
  stamp(*t, index, next_opaque, out.data() + start);
  info_ = t->info;
  if (info_.uses_sequence) {
    info_.opaque = next_opaque;
  } else if (t->opaque_index) {
    info_.opaque = static_cast<std::uint32_t>(t->opaque_index->render(index));
  }
  return &info_;
}

FrameRenderer::Run FrameRenderer::plan_run(const FrameSpec& spec, std::uint64_t index, std::uint64_t count,
                                           std::size_t held, std::size_t limit, std::size_t max_frame) {
  if (count == 0 || held >= limit) return {};
  Template* t = find_template(spec, index);
  if (!t || t->info.wants_ack || t->bytes.size() > max_frame) {
    if (t) last_ = nullptr;  // not rendered: its digits are not this index's
    return {};
  }
  // One template for the whole run, the buffer grown once: as many frames as reach `limit`,
  // and no further than the last index with as many digits (the next is another template's).
  const std::size_t size = t->bytes.size();
  const std::uint64_t fit = (limit - held + size - 1) / size;
  const std::uint64_t same_digits = last_with_digits(t->digits) - index + 1;
  return {t, std::min({count, fit, same_digits}), size};
}

bool FrameRenderer::stamp_run(const Run& run, std::uint64_t index, std::uint32_t next_opaque, std::uint8_t* buffer,
                              std::size_t start, std::vector<std::size_t>& ends) {
  Template& t = *run.t;
  const bool sequence = t.info.uses_sequence;
  ends.reserve(ends.size() + run.frames);
  std::size_t at = start;
  for (std::uint64_t done = 0;; ++done) {
    stamp(t, index + done, next_opaque + (sequence ? static_cast<std::uint32_t>(done) : 0), buffer + at);
    at += run.frame_size;
    ends.push_back(at);
    if (done + 1 == run.frames) break;
    increment_decimal(t.text, t.digits);  // never carries out: the run ends at the last index with these digits
  }
  t.last_index = index + run.frames - 1;
  return sequence;
}

const FrameInfo& FrameRenderer::render(const FrameSpec& spec, std::uint64_t index, std::uint32_t next_opaque,
                                      Bytes& out) {
  if (const FrameInfo* info = render_from_template(spec, index, next_opaque, out)) return *info;
  const bool compilable = ep_engine_shaped(spec);
  const std::size_t start = out.size();
  FrameInfo& info = info_;
  info = FrameInfo{};
  info.opcode = opcode_of(spec.kind);
  switch (spec.kind) {
    case FrameKind::raw:
      if (const BytesValue* raw = spec.find(SendBytes::raw)) render_bytes(*raw, index, random_, scratch_);
      out.insert(out.end(), scratch_.begin(), scratch_.end());
      break;
    case FrameKind::noop:
      info.opaque = spec.number_or<std::uint32_t>(F::opaque, index, 0);
      protocol::encode_frame(out, {.opcode = Opcode::noop,
                                   .vbucket_or_status = spec.number_or<std::uint16_t>(F::vbucket, index, 0),
                                   .opaque = info.opaque,
                                   .cas = spec.number_or<std::uint64_t>(F::cas, index, 0)});
      break;
    case FrameKind::connect_error: {
      scratch_.clear();
      if (const BytesValue* body = spec.find(SendBytes::body)) render_bytes(*body, index, random_, scratch_);
      info.opaque = spec.number_or<std::uint32_t>(F::opaque, index, 0);
      const auto status = spec.number_or<protocol::Status>(F::status, index, protocol::Status::not_supported);
      protocol::encode_frame(out, {.magic = protocol::Magic::response,
                                   .opcode = Opcode::tap_connect,
                                   .vbucket_or_status = static_cast<std::uint16_t>(status),
                                   .opaque = info.opaque,
                                   .value = protocol::as_bytes(scratch_)});
      break;
    }
    default:
      info.uses_sequence = spec.find(F::opaque) == nullptr;
      info.opaque = spec.number_or<std::uint32_t>(F::opaque, index, next_opaque);
      protocol::encode_tap_message(
          out, tap_message(
                   spec, index, [&](const BytesValue& v, std::string& text) { return bytes(v, index, text); },
                   info.opaque, key_, value_, engine_, scratch_bytes_));
      info.wants_ack = spec.wants_ack();
      break;
  }
  apply_lies(spec, out, start);
  info.ep_engine_shaped = compilable;
  if (compilable) {
    compile(spec, index, Bytes(out.begin() + static_cast<std::ptrdiff_t>(start), out.end()),
            templates_[next_template_++ % templates_.size()]);
  }
  return info;
}

std::string_view FrameRenderer::bytes(const BytesValue& value, std::uint64_t index, std::string& scratch) {
  if (value.has_index() || value.kind == BytesValue::Kind::random) {
    render_bytes(value, index, random_, scratch);
    return scratch;
  }
  if (const auto found = constants_.find(&value); found != constants_.end()) return found->second;
  return constants_.emplace(&value, render_bytes(value, index, random_)).first->second;
}

RenderedFrame render_frame(const FrameSpec& spec, std::uint64_t index, ScenarioRandom& random,
                           std::uint32_t next_opaque) {
  RenderedFrame out;
  static_cast<FrameInfo&>(out) = FrameRenderer(random).render(spec, index, next_opaque, out.bytes);
  return out;
}

}  // namespace tapharness::scenario
