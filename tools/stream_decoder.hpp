// One direction of a TAP connection decoded frame by frame as its bytes arrive, for
// tap_decode: each whole frame printed with when it came, which way it went and where it
// starts in its direction's stream, described field by field (protocol/describe.hpp).
//
//   StreamDecoder to_client("server->client");
//   to_client.feed("[   0.000120s]", segment_bytes, out);   // appends a line per frame
//   to_client.finish(out);                                  // a frame left unfinished?
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/bytes.hpp"
#include "protocol/frame_decoder.hpp"

namespace tapharness::tools {

class StreamDecoder {
 public:
  explicit StreamDecoder(std::string label) : label_(std::move(label)) {}

  // Decodes what `bytes` completes. After a decode error (printed with its stream offset)
  // the direction decodes nothing more; feed() then returns false.
  bool feed(std::string_view when, protocol::ByteView bytes, std::string& out);

  // `length` bytes of the stream are missing here (not captured, or a frame a trace shows
  // only in part). When they are exactly the rest of the frame being gathered, or a whole
  // frame of that length (`whole_frame`), decoding goes on at the next frame; otherwise the
  // frame boundaries are lost and this direction stops, saying so.
  void skip(std::string_view when, std::uint64_t length, std::string_view why, std::string& out,
            bool whole_frame = false);

  // At the end of the stream: a frame that is not whole is an error (false).
  bool finish(std::string& out);

  bool failed() const { return failed_; }
  std::uint64_t frames() const { return frames_; }

 private:
  std::string label_;
  protocol::FrameDecoder decoder_;
  protocol::Bytes pending_;  // bytes of the frame not yet whole (at most one frame)
  bool failed_ = false;
  bool stopped_ = false;  // frame boundaries lost after a gap
  std::uint64_t frames_ = 0;
};

}  // namespace tapharness::tools
