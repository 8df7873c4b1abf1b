// The `send` line for one frame a server sent, exact: parsed and rendered again
// (scenario/render.hpp), it gives the frame's bytes, byte for byte. Each field is written
// when it differs from what the language would render without it (vb, key, value, cas and
// the opaque always, for readers); a frame the language cannot say field by field (extras
// of another size, reserved bytes set, a request that is no TAP message) is written as
// `send raw` with its exact bytes.
//
//   SendLine line = send_line(piece.frame, piece.bytes, words);
//   line.text;   // "send opaque vb=0 code=CLOSE_BACKFILL opaque=15 ack"
#pragma once

#include <string>

#include "protocol/bytes.hpp"
#include "protocol/frame.hpp"
#include "record/value_words.hpp"

namespace tapharness::record {

struct SendLine {
  std::string text;  // without faults: the caller adds split= when asked
  bool raw = false;  // written as `send raw`: the mock server sends the bytes as they are
};

// `bytes` is the whole frame `frame` was decoded from. Long values and keys go to side
// files through `words` (its error() says when one could not).
SendLine send_line(const protocol::Frame& frame, protocol::ByteView bytes, ValueWords& words);

// ` split=3,24` for those offsets, ` bytewise` when every byte was its own chunk, or "" for
// none, or for so many that the line would pass kMaxSplitWord characters.
inline constexpr std::size_t kMaxSplitWord = 16 * 1024;
std::string split_word(const std::vector<std::size_t>& splits, std::size_t frame_size);

}  // namespace tapharness::record
