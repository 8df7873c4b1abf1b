// The input side of a framed byte stream: a contiguous buffer that a reader fills and a
// FrameDecoder drains, growing only as far as one whole frame needs (bounded by the
// decoder's limits), and reusing its space instead of reallocating per read.
//
//   FrameBuffer buffer(64 * 1024);
//   auto space = buffer.prepare(need_more_hint);   // writable bytes for the next read
//   buffer.commit(n);                              // n bytes arrived
//   decoder.decode(buffer.data());                 // readable bytes
//   buffer.consume(decoded.consumed);
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "protocol/bytes.hpp"

namespace tapharness::protocol {

class FrameBuffer {
 public:
  explicit FrameBuffer(std::size_t read_size = 64 * 1024) : read_size_(read_size) {}

  // The bytes received and not yet consumed.
  ByteView data() const { return ByteView(storage_.data() + begin_, end_ - begin_); }
  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }

  // Writable space for the next read: at least `at_least` bytes (the decoder's NeedMore
  // hint, so one frame fits whole), and with the unconsumed bytes at least read_size in all.
  // Moves unconsumed bytes (part of one frame) to the front when the space is short; grows
  // only when a frame needs it, and then to exactly that frame.
  std::span<std::uint8_t> prepare(std::size_t at_least = 0);

  void commit(std::size_t n) { end_ += n; }
  void consume(std::size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }

  // Bytes allocated, for memory accounting: max(read_size, the largest frame buffered).
  std::size_t capacity() const { return storage_.capacity(); }

 private:
  std::size_t read_size_;
  std::vector<std::uint8_t> storage_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace tapharness::protocol
