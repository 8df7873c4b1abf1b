// Fuzz target: frame decoding from arbitrary bytes in arbitrary chunkings.
//
// Input: [limits][read size][k][k chunk sizes][stream...]
// - limits: bit 0 picks tight limits (max body 256, key 32, extras 24) instead of roomy ones
//   (64 KiB, 4096, 64), so both the limit checks and long frames are reached;
// - read size: the FrameBuffer's read size (0 means 64 KiB);
// - k (mod 16) chunk sizes, used in turn to cut the stream into reads (0 means 1 byte); with
//   none the stream arrives whole.
//
// The stream is decoded three ways: from one contiguous buffer, through a FrameBuffer in the
// input's chunks, and through a FrameBuffer one byte at a time (Lesson 6). Checked:
// - all three give the same frames at the same offsets and end the same way (the same
//   NeedMore, or the same DecodeError);
// - every frame's parts are views that tile its bytes exactly, within the input, with the
//   lengths its header gives, and re-encoding the frame gives back the same bytes;
// - NeedMore never asks for more than a frame within the limits can hold, and the
//   FrameBuffer never holds more than one such frame or one read, whichever is larger;
// - an error points into the bytes seen, names its field, and is sticky.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "fuzz/fuzz_check.hpp"
#include "fuzz/fuzz_input.hpp"
#include "protocol/frame.hpp"
#include "protocol/frame_buffer.hpp"
#include "protocol/frame_decoder.hpp"

namespace tapharness::fuzz {
namespace {

using protocol::ByteView;
using protocol::DecodeError;
using protocol::Decoded;
using protocol::FrameDecoder;
using protocol::kHeaderSize;
using protocol::Limits;
using protocol::NeedMore;

constexpr Limits kTightLimits{.max_body = 256, .max_key = 32, .max_extras = 24};
constexpr Limits kRoomyLimits{.max_body = 64 * 1024, .max_key = 4096, .max_extras = 64};

// What a decoding pass saw: each frame's offset and size, and how it stopped.
struct Outcome {
  std::vector<std::pair<std::uint64_t, std::size_t>> frames;
  std::variant<NeedMore, DecodeError> end;
};

bool same_end(const Outcome& a, const Outcome& b) {
  if (a.end.index() != b.end.index()) return false;
  if (const auto* more = std::get_if<NeedMore>(&a.end)) return more->bytes == std::get<NeedMore>(b.end).bytes;
  return std::get<DecodeError>(a.end) == std::get<DecodeError>(b.end);
}

std::string describe_end(const Outcome& o) {
  return std::visit([](const auto& end) { return fmt::format("{}", end); }, o.end);
}

// `input` starts at the frame's first byte.
void check_frame(const Decoded& decoded, ByteView input, const Limits& limits) {
  const protocol::Frame& f = decoded.frame;
  const protocol::Header& h = f.header;
  FUZZ_CHECK(decoded.consumed == f.size() && f.size() == kHeaderSize + h.bodylen && f.size() <= input.size(),
             "consumed {} of {} input bytes for a frame of {}", decoded.consumed, input.size(), f.size());
  FUZZ_CHECK(h.extlen <= limits.max_extras && h.keylen <= limits.max_key && h.bodylen <= limits.max_body,
             "a frame beyond the limits was decoded: {}", h);
  FUZZ_CHECK(f.extras.size() == h.extlen && f.key.size() == h.keylen, "part sizes differ from the header: {}", f);
  // The parts tile the body in order: extras, engine-specific, key, value.
  const std::uint8_t* at = input.data() + kHeaderSize;
  for (ByteView part : {f.extras, f.engine_specific, f.key, f.value}) {
    FUZZ_CHECK(part.empty() || part.data() == at, "a part does not start where the previous ended: {}", f);
    at += part.size();
  }
  FUZZ_CHECK(at == input.data() + f.size(), "the parts do not end at the frame's end: {}", f);
  if (protocol::has_engine_specific(h)) {
    FUZZ_CHECK(f.engine_specific.size() == protocol::load_be16(f.extras.data()),
               "engine-specific bytes differ from their length field: {}", f);
  } else {
    FUZZ_CHECK(f.engine_specific.empty(), "engine-specific bytes outside a TAP message: {}", f);
  }

  protocol::Bytes encoded;
  protocol::encode_frame(encoded, {.magic = h.magic,
                                   .opcode = h.opcode,
                                   .datatype = h.datatype,
                                   .vbucket_or_status = h.vbucket_or_status,
                                   .opaque = h.opaque,
                                   .cas = h.cas,
                                   .extras = f.extras,
                                   .engine_specific = f.engine_specific,
                                   .key = f.key,
                                   .value = f.value});
  const ByteView original = input.first(f.size());
  FUZZ_CHECK(std::equal(encoded.begin(), encoded.end(), original.begin(), original.end()),
             "re-encoding {} gave different bytes", f);
}

// `buffered` bytes were given to the decoder and it asked for more.
void check_need_more(const NeedMore& more, std::size_t buffered, const Limits& limits) {
  FUZZ_CHECK(more.bytes > 0, "NeedMore asks for 0 bytes");
  if (buffered < kHeaderSize) {
    FUZZ_CHECK(more.bytes == kHeaderSize - buffered, "with {} bytes buffered NeedMore asks for {}", buffered,
               more.bytes);
  }
  FUZZ_CHECK(buffered + more.bytes <= kHeaderSize + limits.max_body,
             "NeedMore asks to buffer {} + {} bytes, beyond the {}-byte body limit", buffered, more.bytes,
             limits.max_body);
}

// `buffered` bytes starting at the decoder's offset were given to it and it failed.
void check_error(FrameDecoder& decoder, const DecodeError& error, std::size_t buffered) {
  FUZZ_CHECK(error.offset >= decoder.offset() && error.offset < decoder.offset() + buffered,
             "error at offset {} outside the {} bytes buffered at {}: {}", error.offset, buffered, decoder.offset(),
             error);
  FUZZ_CHECK(!error.field.empty() && !error.message().empty(), "error without a field or message: {}", error);
  const auto again = decoder.decode({});
  FUZZ_CHECK(std::holds_alternative<DecodeError>(again) && std::get<DecodeError>(again) == error,
             "the error is not sticky: {} then {}", error, again);
}

Outcome decode_whole(ByteView stream, const Limits& limits) {
  FrameDecoder decoder(limits);
  Outcome out;
  for (std::size_t at = 0;;) {
    const ByteView rest = stream.subspan(at);
    const auto result = decoder.decode(rest);
    if (const auto* decoded = std::get_if<Decoded>(&result)) {
      check_frame(*decoded, rest, limits);
      out.frames.emplace_back(decoded->frame.offset, decoded->consumed);
      at += decoded->consumed;
      FUZZ_CHECK(decoder.offset() == at, "offset {} after consuming {} bytes", decoder.offset(), at);
    } else if (const auto* more = std::get_if<NeedMore>(&result)) {
      check_need_more(*more, rest.size(), limits);
      out.end = *more;
      return out;
    } else {
      check_error(decoder, std::get<DecodeError>(result), rest.size());
      out.end = std::get<DecodeError>(result);
      return out;
    }
  }
}

// Reads sizes from the input's list in turn.
class ChunkSizes {
 public:
  explicit ChunkSizes(ByteView sizes) : sizes_(sizes) {}
  std::size_t next() {
    if (sizes_.empty()) return static_cast<std::size_t>(-1);
    const std::uint8_t s = sizes_[next_++ % sizes_.size()];
    return s == 0 ? 1 : s;
  }

 private:
  ByteView sizes_;
  std::size_t next_ = 0;
};

// As a reader does it: prepare() with the decoder's hint, copy in one chunk, decode all
// whole frames, repeat.
Outcome decode_chunked(ByteView stream, const Limits& limits, std::size_t read_size, ChunkSizes sizes) {
  FrameDecoder decoder(limits);
  protocol::FrameBuffer buffer(read_size);
  Outcome out;
  std::size_t fed = 0;
  for (;;) {
    NeedMore more;
    for (;;) {
      const auto result = decoder.decode(buffer.data());
      if (const auto* decoded = std::get_if<Decoded>(&result)) {
        check_frame(*decoded, buffer.data(), limits);
        out.frames.emplace_back(decoded->frame.offset, decoded->consumed);
        buffer.consume(decoded->consumed);
      } else if (const auto* m = std::get_if<NeedMore>(&result)) {
        check_need_more(*m, buffer.size(), limits);
        more = *m;
        break;
      } else {
        check_error(decoder, std::get<DecodeError>(result), buffer.size());
        out.end = std::get<DecodeError>(result);
        return out;
      }
    }
    if (fed == stream.size()) {
      out.end = more;
      return out;
    }
    const auto space = buffer.prepare(more.bytes);
    FUZZ_CHECK(space.size() >= more.bytes && buffer.size() + space.size() >= read_size,
               "prepare({}) gave {} bytes after {} unconsumed, with read size {}", more.bytes, space.size(),
               buffer.size(), read_size);
    const std::size_t n = std::min({sizes.next(), space.size(), stream.size() - fed});
    std::memcpy(space.data(), stream.data() + fed, n);
    buffer.commit(n);
    fed += n;
    const std::size_t most = std::max<std::size_t>(kHeaderSize + std::size_t{limits.max_body}, read_size);
    FUZZ_CHECK(buffer.capacity() <= most,
               "the buffer holds {} bytes; one frame within the limits or one read needs at most {}",
               buffer.capacity(), most);
  }
}

void check_same(const Outcome& expected, const Outcome& actual, std::string_view how) {
  FUZZ_CHECK(expected.frames == actual.frames, "{}: {} frames, whole: {} frames", how, actual.frames.size(),
             expected.frames.size());
  FUZZ_CHECK(same_end(expected, actual), "{} ended with '{}', whole with '{}'", how, describe_end(actual),
             describe_end(expected));
}

}  // namespace
}  // namespace tapharness::fuzz

TAPHARNESS_FUZZ_TARGET(in) {
  using namespace tapharness::fuzz;
  const auto limits = (in.byte() & 1) != 0 ? kTightLimits : kRoomyLimits;
  const std::uint8_t read_size = in.byte();
  const ChunkSizes sizes(in.take(in.byte() % 16));
  const tapharness::protocol::ByteView stream = in.rest();

  const Outcome whole = decode_whole(stream, limits);
  check_same(whole, decode_chunked(stream, limits, read_size == 0 ? 64 * 1024 : read_size, sizes), "chunked");
  static constexpr std::uint8_t kOneByte[] = {1};
  check_same(whole, decode_chunked(stream, limits, 1, ChunkSizes(kOneByte)), "bytewise");
  return 0;
}
