// The wire defects on the server's bytes, before the feed reads them: frames rewritten the
// way a wrong client would misread them, and what such a client would do about a frame
// (answer it, crash, close). No I/O: bytes in, bytes out and notes (wire_proxy.hpp moves them).
//
//   FrameRewriter rewriter(defects);
//   FrameRewriter::Notes notes;
//   rewriter.take(bytes_from_server, bytes_for_the_feed, notes);
//   if (rewriter.holding()) arm_a_short_timer();   // then rewriter.release(bytes_for_the_feed)
//
// Bytes pass through as they come. Only the first bytes of a frame that a rewrite may touch
// (its header and engine-specific length, 26 bytes) are held until they are all in, and a
// caller releases them unchanged when more do not come soon, so a trickling or cut frame
// reaches the feed as it would without the defect.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/defects/defect.hpp"
#include "protocol/bytes.hpp"
#include "protocol/tap_event.hpp"

namespace tapharness::client {

class FrameRewriter {
 public:
  explicit FrameRewriter(const DefectSet& defects);

  // ignore_retransmit: a TAP message that asked for an ACK, and its key as the server sent it.
  struct AskedAck {
    protocol::AckRequest ack;
    std::string key;
    friend bool operator==(const AskedAck&, const AskedAck&) = default;
  };

  struct Notes {
    std::vector<protocol::AckRequest> acks;  // ACKs the defective client sends of its own accord
    std::vector<AskedAck> asked;             // ignore_retransmit: the frames that asked, in order
    std::vector<std::pair<std::uint32_t, std::uint32_t>> deletions;  // a deletion's (flags, expiry), misread
    std::optional<std::string> crash;  // it crashes, with this message
    bool close = false;                // it closes the connection
  };

  // The next bytes from the server; what the feed is to see is appended to `out`.
  void take(protocol::ByteView in, protocol::Bytes& out, Notes& notes);
  // Whether bytes are held, waiting for the rest of a frame's first 26.
  bool holding() const { return !held_.empty(); }
  // Gives up waiting: the held bytes go out unchanged, and the frame is not rewritten.
  void release(protocol::Bytes& out);

  // Whether any defect works on the server's bytes at all (otherwise they need no look).
  static bool needed(const DefectSet& defects);

 private:
  void begin_frame();
  void rewrite_front(Notes& notes);  // once the first bytes of the frame are in
  void end_frame(Notes& notes);      // once the whole frame has passed
  void keep_key(std::uint64_t at, protocol::ByteView chunk);  // ignore_retransmit: the key's bytes in `chunk`

  DefectSet defects_;
  bool rewrites_;            // whether any defect rewrites frames (and so holds bytes)
  std::uint64_t frame_size_ = 0;  // 0: the header is not in yet
  std::uint64_t position_ = 0;    // bytes of the frame seen
  protocol::Bytes front_;    // the frame's first bytes, up to kLook, for looking at
  protocol::Bytes held_;     // bytes not given out yet
  bool released_ = false;    // this frame goes through as it is
  bool keys_;                // ignore_retransmit: keys of the frames that ask for an ACK are kept
  std::string key_;          // the frame's key so far (at most 65535 bytes)
};

}  // namespace tapharness::client
