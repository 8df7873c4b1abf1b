#include "record/stream_frames.hpp"

#include <variant>

namespace tapharness::record {

void StreamFrames::append(protocol::ByteView bytes) {
  if (bytes.empty()) return;
  // Drop what earlier frames took before growing: the buffer holds one frame's worth.
  if (start_ > 0) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
  }
  // A chunk that starts inside a pending frame splits it there.
  if (!buffer_.empty() && keep_boundaries_ > 0 && boundaries_.size() < keep_boundaries_) {
    boundaries_.push_back(received_);
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  received_ += bytes.size();
}

std::optional<StreamFrames::Piece> StreamFrames::next() {
  const std::uint64_t at = decoder_.offset();
  auto result = decoder_.decode(pending());
  auto* decoded = std::get_if<protocol::Decoded>(&result);
  if (!decoded) return std::nullopt;
  Piece piece{decoded->frame, pending().first(decoded->consumed), {}};
  const std::uint64_t end = at + decoded->consumed;
  while (!boundaries_.empty() && boundaries_.front() < end) {
    if (piece.frame.size() <= keep_boundaries_) piece.splits.push_back(boundaries_.front() - at);
    boundaries_.pop_front();
  }
  // A chunk that began exactly where this frame ends splits nothing.
  if (!boundaries_.empty() && boundaries_.front() == end) boundaries_.pop_front();
  start_ += decoded->consumed;
  return piece;
}

}  // namespace tapharness::record
