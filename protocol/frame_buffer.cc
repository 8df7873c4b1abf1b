#include "protocol/frame_buffer.hpp"

#include <algorithm>
#include <cstring>

namespace tapharness::protocol {

std::span<std::uint8_t> FrameBuffer::prepare(std::size_t at_least) {
  const std::size_t held = end_ - begin_;
  const std::size_t free = storage_.size() - end_;
  // Compact when the free tail is short of what the frame needs, or of a read's worth
  // together with what is held.
  if (begin_ > 0 && (free < at_least || held + free < read_size_)) {
    std::memmove(storage_.data(), storage_.data() + begin_, held);
    begin_ = 0;
    end_ = held;
  }
  if (const std::size_t needed = std::max(read_size_, end_ + at_least); storage_.size() < needed) {
    // Exactly what is needed: vector's growth would double it (a 1 MiB read size held 2 MiB
    // once a frame straddled two reads).
    storage_.reserve(needed);
    storage_.resize(needed);
  }
  return std::span<std::uint8_t>(storage_.data() + end_, storage_.size() - end_);
}

}  // namespace tapharness::protocol
