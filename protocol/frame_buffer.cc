#include "protocol/frame_buffer.hpp"

#include <algorithm>
#include <cstring>

namespace tapharness::protocol {

std::span<std::uint8_t> FrameBuffer::prepare(std::size_t at_least) {
  const std::size_t wanted = std::max(at_least, read_size_);
  if (storage_.size() - end_ < wanted) {
    // Compact first: the unconsumed tail moves to the front.
    const std::size_t held = end_ - begin_;
    if (begin_ > 0) {
      std::memmove(storage_.data(), storage_.data() + begin_, held);
      begin_ = 0;
      end_ = held;
    }
    if (storage_.size() - end_ < wanted) storage_.resize(end_ + wanted);
  }
  return std::span<std::uint8_t>(storage_.data() + end_, storage_.size() - end_);
}

}  // namespace tapharness::protocol
