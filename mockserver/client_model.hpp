// What a correct client makes of the bytes the server wrote, decided by the codec the
// client itself uses (protocol/tap_event.hpp): which frames it must ACK, and when it stops
// reading. The engine requires exactly those ACKs, so a scenario never demands an ACK a
// correct client would not send (for a frame cut by a fault, after a refusal, after
// CLOSE_TAP_STREAM) and never forgives one it would.
//
//   ClientModel model;
//   for (const AckRequest& ack : model.written(bytes_written, /*cut=*/false)) owe(ack);
//   if (!model.reading()) trace(model.why_not_reading());
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "protocol/bytes.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/tap_event.hpp"

namespace tapharness::mockserver {

class ClientModel {
 public:
  // `limits`: the client's (its defaults are a correct client's).
  explicit ClientModel(protocol::Limits limits = {}) : limits_(limits), decoder_(limits) {}

  // The next bytes the server wrote, in order. `cut`: a fault cut them short of their frame,
  // so what follows no longer lines up and a correct client owes nothing after them. The ACKs
  // a correct client sends for the frames these bytes completed, in order.
  std::vector<protocol::AckRequest> written(protocol::ByteView bytes, bool cut);

  // A whole well-formed frame of `size` bytes that asks for no ACK (the engine rendered it
  // so): nothing to decide, only its bytes to count; a volume repeat's frames take this path.
  // False when a part-written frame comes before it: then written() must decode it.
  bool counted_plain(std::size_t size) {
    if (stopped_) return true;
    if (!partial_.empty()) return false;
    decoder_.reset(decoder_.offset() + size);
    return true;
  }

  // A frame whose value is generated as it is written (a large fill or random value): `head`
  // is the frame up to its value with the header's lengths for the whole frame, `probe` the
  // same frame with an empty value. The header decides the limits as the client's decoder
  // does; the probe decides the ACK, as the whole frame would; the value is only counted.
  std::vector<protocol::AckRequest> written_generated(protocol::ByteView head, protocol::ByteView probe,
                                                      std::size_t value_bytes);
  // No frame is part-written: the next bytes start one.
  bool at_frame_boundary() const { return partial_.empty(); }

  // Whether a correct client still reads frames (not after a refusal, an error or the end).
  bool reading() const { return !stopped_; }
  const std::string& why_not_reading() const { return why_; }

 private:
  void stop(std::string why);
  // Decodes every whole frame at the front of `input`; the bytes consumed.
  std::size_t decode(protocol::ByteView input, std::vector<protocol::AckRequest>& acks);

  protocol::Limits limits_;
  protocol::FrameDecoder decoder_;
  protocol::Bytes partial_;  // the bytes of a frame not whole yet
  bool stopped_ = false;
  std::string why_;
};

}  // namespace tapharness::mockserver
