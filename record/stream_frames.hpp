// One direction of a conversation cut into frames: the chunks as they come, the frames the
// protocol's decoder finds in them, and where each frame's bytes were split between
// chunks. It holds only what no whole frame has taken yet (at most one frame, bounded by the
// decoder's limits, plus the chunk that completed it).
//
//   StreamFrames server(limits, /*keep_boundaries=*/4096);
//   server.append(chunk.bytes);
//   while (auto piece = server.next()) use(piece->frame, piece->splits);   // views: valid until
//   append() if (server.error()) ...;   // the bytes stopped being frames at server.error()->offset
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "protocol/bytes.hpp"
#include "protocol/frame_decoder.hpp"

namespace tapharness::record {

class StreamFrames {
 public:
  // `keep_boundaries`: a frame of at most this many bytes keeps its chunk boundaries as
  // split offsets; 0 keeps none (and none are tracked).
  StreamFrames(protocol::Limits limits, std::size_t keep_boundaries)
      : decoder_(limits), keep_boundaries_(keep_boundaries) {}

  void append(protocol::ByteView bytes);

  struct Piece {
    protocol::Frame frame;            // views into this object's buffer
    protocol::ByteView bytes;         // the whole frame, header first (the same buffer)
    std::vector<std::size_t> splits;  // offsets inside the frame where a new chunk began
  };
  // The next whole frame, or nullopt: need more bytes, or an error (see error()).
  std::optional<Piece> next();

  const std::optional<protocol::DecodeError>& error() const { return decoder_.error(); }
  // The stream offset of the first byte no frame has taken.
  std::uint64_t offset() const { return decoder_.offset(); }
  // The bytes no frame has taken: a frame cut short when the stream ends.
  protocol::ByteView pending() const {
    return protocol::ByteView(buffer_.data() + start_, buffer_.size() - start_);
  }
  // Whether any byte came at all.
  bool started() const { return received_ > 0; }

 private:
  protocol::FrameDecoder decoder_;
  std::size_t keep_boundaries_;
  protocol::Bytes buffer_;
  std::size_t start_ = 0;       // buffer_[start_] is at stream offset decoder_.offset()
  std::uint64_t received_ = 0;  // stream offset of buffer_.end()
  // Stream offsets after offset() where a chunk began; at most keep_boundaries_ of them (a
  // frame with more is past the limit anyway).
  std::deque<std::uint64_t> boundaries_;
};

}  // namespace tapharness::record
