// Turns a scenario's FrameSpec into the exact bytes to send: ep-engine's shape by default
// (shared/protocol.md section 4.2), the fields the step names, and then its lies written
// over the encoded header.
//
//   ScenarioRandom random(scenario.seed);
//   RenderedFrame f = render_frame(spec, /*index=*/0, random, /*next_opaque=*/7);
//   f.bytes;         // what goes on the wire (before faults)
//   f.wants_ack;     // the frame asks for an ACK with f.opcode and f.opaque
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>
#include <string_view>
#include <random>
#include <string>

#include "scenario/scenario.hpp"
#include "protocol/bytes.hpp"
#include "protocol/tap_message.hpp"

namespace tapharness::scenario {

// The scenario's deterministic generator: the same seed gives the same bytes on every
// platform (mt19937_64's and the offsets' LCG sequences are fixed by the standard; the
// mapping to bytes is ours).
class ScenarioRandom {
 public:
  explicit ScenarioRandom(std::uint64_t seed) : engine_(seed) {}
  std::uint64_t next() { return engine_(); }
  // `length` letters and digits.
  std::string text(std::size_t length);
  // The same letters written to `out[0, length)`.
  void fill_text(char* out, std::size_t length);

  // Values up to kMaxWindow bytes are windows, at a drawn offset, of a pool of kPool drawn
  // letters (drawn on first use), so a volume repeat's random values cost a copy each. The
  // offsets are the top 16 bits of a 64-bit LCG seeded from mt19937_64 when the pool is
  // drawn: one multiply per value, where an mt19937_64 draw (regenerating its 312 words of
  // state every 312 draws) cost more than copying the value. Longer values are drawn letter
  // by letter.
  static constexpr std::size_t kPool = 64 * 1024;
  static constexpr std::size_t kMaxWindow = 4 * 1024;

 private:
  void draw_letters(char* out, std::size_t length);
  std::size_t next_window();

  std::mt19937_64 engine_;
  std::string pool_;  // kPool + kMaxWindow letters once a short value was asked for
  // Knuth's MMIX constants (modulus 2^64); its high bits are the well-mixed ones.
  std::linear_congruential_engine<std::uint64_t, 6364136223846793005ULL, 1442695040888963407ULL, 0> offsets_;
};

// A BytesValue rendered for repeat index `index`.
std::string render_bytes(const BytesValue& value, std::uint64_t index, ScenarioRandom& random);
// The same into `out`, reusing its buffer.
void render_bytes(const BytesValue& value, std::uint64_t index, ScenarioRandom& random, std::string& out);

// What a rendered frame is, besides its bytes.
struct FrameInfo {
  protocol::Opcode opcode = protocol::Opcode::noop;  // as encoded, before lies
  std::uint32_t opaque = 0;
  bool wants_ack = false;
  bool uses_sequence = false;  // took `next_opaque`: the caller advances its counter
  bool ep_engine_shaped = false;  // FrameRenderer::ep_engine_shaped(spec): well formed as ep-engine makes it
};

struct RenderedFrame : FrameInfo {
  protocol::Bytes bytes;
};

// Renders frames one after another, reusing its buffers (a volume scenario renders
// millions). `next_opaque` is the producer sequence number an unset opaque takes (TAP
// messages only; NOOP and connect_error default to 0, as ep-engine sends them).
class FrameRenderer {
 public:
  explicit FrameRenderer(ScenarioRandom& random) : random_(random) {}

  // Appends the frame to `out`. The info stays valid until the next render (a reference,
  // not a small struct returned through memory: this runs once per frame).
  const FrameInfo& render(const FrameSpec& spec, std::uint64_t index, std::uint32_t next_opaque,
                          protocol::Bytes& out);

  // A volume repeat's frames index, index+1, ... appended back to back while `out` is under
  // `limit` bytes, at most `count` of them, each from the template the frame before left
  // (its end appended to `ends`): frames that ask for no ACK and are at most `max_frame`
  // bytes, so the caller need only count them. Returns how many; 0 when the next frame has
  // no template yet or is not such a frame (render() it). Frames that take the producer
  // sequence take next_opaque, next_opaque+1, ...; `uses_sequence` says whether they did.
  // `Buffer`: protocol::Bytes, or a buffer that grows without zeroing (the run writes all it grows by).
  template <class Buffer>
  std::uint64_t render_run(const FrameSpec& spec, std::uint64_t index, std::uint64_t count, std::uint32_t next_opaque,
                           Buffer& out, std::size_t limit, std::size_t max_frame, std::vector<std::size_t>& ends,
                           bool& uses_sequence) {
    const Run run = plan_run(spec, index, count, out.size(), limit, max_frame);
    if (run.frames == 0) return 0;
    const std::size_t start = out.size();
    out.resize(start + run.frames * run.frame_size);
    uses_sequence = stamp_run(run, index, next_opaque, out.data(), start, ends);
    return run.frames;
  }

  // Whether `spec` renders as ep-engine shapes the frame: a mutation or deletion with its
  // own engine-specific bytes, no lie and no random key (what a template can hold).
  static bool ep_engine_shaped(const FrameSpec& spec);

 private:
  // `value` rendered into `scratch`, or from `constants_` when it cannot change.
  std::string_view bytes(const BytesValue& value, std::uint64_t index, std::string& scratch);

  // A repeated send compiled once: the frame as rendered for one index, and where the fields
  // that follow the index lie in it, patched for every index with as many digits (the key's
  // length, and so every offset after it, depends on that count). Only ep-engine-shaped
  // mutations and deletions without lies qualify; anything else renders in full.
  struct Template {
    const FrameSpec* spec = nullptr;
    std::size_t digits = 0;
    protocol::Bytes bytes;
    FrameInfo info;
    struct Number {
      std::uint32_t at;
      std::uint8_t width;         // bytes, big-endian
      const NumberValue* value;  // `{n}` or arithmetic on it
    };
    std::vector<Number> numbers;          // index-valued fields
    std::vector<std::uint32_t> key_digits;  // where each {n} of the key starts
    std::uint32_t random_at = 0, random_length = 0;  // a random() value, drawn again per frame
    const NumberValue* opaque_index = nullptr;  // opaque={n} (or arithmetic): what it renders
    // The index rendered last and its decimal digits: the next index's are one increment away.
    std::uint64_t last_index = 0;
    std::array<char, 20> text{};
  };
  const FrameInfo* render_from_template(const FrameSpec& spec, std::uint64_t index, std::uint32_t next_opaque,
                                        protocol::Bytes& out);
  // The template for `spec` at `index` (the one used last when index follows its index), or
  // nullptr; then the frame from it.
  Template* find_template(const FrameSpec& spec, std::uint64_t index);
  // A run render_run() can write: the template, how many frames, each this many bytes.
  struct Run {
    Template* t = nullptr;
    std::uint64_t frames = 0;
    std::size_t frame_size = 0;
  };
  // The run for `spec` from `index`, into a buffer holding `held` bytes; frames = 0 if none.
  Run plan_run(const FrameSpec& spec, std::uint64_t index, std::uint64_t count, std::size_t held, std::size_t limit,
               std::size_t max_frame);
  // The run's frames written at `buffer + start`, each one's end offset appended to `ends`;
  // whether they took the producer sequence.
  bool stamp_run(const Run& run, std::uint64_t index, std::uint32_t next_opaque, std::uint8_t* buffer,
                 std::size_t start, std::vector<std::size_t>& ends);
  // The frame for `index` written to `frame` (t.bytes.size() bytes of room).
  void stamp(Template& t, std::uint64_t index, std::uint32_t next_opaque, std::uint8_t* frame);
  void compile(const FrameSpec& spec, std::uint64_t index, const protocol::Bytes& frame, Template& t);

  ScenarioRandom& random_;
  FrameInfo info_;
  // Values without {n} or random(): rendered once per renderer, by address.
  // Found by address: a recorded scenario (tap_record) has a constant per send, 100,000 and
  // more, and a search through them per frame made serving one quadratic. Nodes: views stay valid.
  std::unordered_map<const BytesValue*, std::string> constants_;
  protocol::ep_engine::Scratch scratch_bytes_;
  std::string key_;
  std::string value_;
  std::string engine_;
  std::string scratch_;
  std::array<Template, 4> templates_;  // the sends a volume repeat alternates between
  std::size_t next_template_ = 0;
  Template* last_ = nullptr;  // the template used last: a volume repeat uses it again
};

RenderedFrame render_frame(const FrameSpec& spec, std::uint64_t index, ScenarioRandom& random,
                           std::uint32_t next_opaque);

}  // namespace tapharness::scenario
