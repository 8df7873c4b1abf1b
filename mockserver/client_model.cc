#include "mockserver/client_model.hpp"

#include <fmt/format.h>

namespace tapharness::mockserver {

std::vector<protocol::AckRequest> ClientModel::written(protocol::ByteView bytes, bool cut) {
  std::vector<protocol::AckRequest> acks;
  if (stopped_) return acks;
  if (partial_.empty()) {
    // The common case: whole frames, decoded where they are.
    const std::size_t used = decode(bytes, acks);
    if (!stopped_) partial_.assign(bytes.begin() + static_cast<std::ptrdiff_t>(used), bytes.end());
  } else {
    partial_.insert(partial_.end(), bytes.begin(), bytes.end());
    const std::size_t used = decode(partial_, acks);
    if (!stopped_) partial_.erase(partial_.begin(), partial_.begin() + static_cast<std::ptrdiff_t>(used));
  }
  if (cut && !stopped_) stop("a fault cut a frame short, so nothing after it lines up");
  return acks;
}

std::vector<protocol::AckRequest> ClientModel::written_generated(protocol::ByteView head, protocol::ByteView probe,
                                                                 std::size_t value_bytes) {
  std::vector<protocol::AckRequest> acks;
  if (stopped_) return acks;
  // The header alone says whether the client takes the frame: its limits come first.
  protocol::FrameDecoder header(limits_);
  header.reset(decoder_.offset());
  const auto checked = header.decode(head);
  if (const auto* error = std::get_if<protocol::DecodeError>(&checked)) {
    stop(fmt::format("a correct client refuses the stream: {}", *error));
    return acks;
  }
  const std::uint64_t start = decoder_.offset();
  decode(probe, acks);
  if (!stopped_) decoder_.reset(start + head.size() + value_bytes);
  return acks;
}

std::size_t ClientModel::decode(protocol::ByteView input, std::vector<protocol::AckRequest>& acks) {
  std::size_t used = 0;
  while (!stopped_) {
    auto result = decoder_.decode(input.subspan(used));
    if (auto* d = std::get_if<protocol::Decoded>(&result)) {
      used += d->consumed;
      const auto step = protocol::map_feed_frame_view(d->frame, protocol::position_of(d->frame));
      if (const auto* deliver = std::get_if<protocol::DeliverView>(&step)) {
        if (deliver->ack) acks.push_back(*deliver->ack);
      } else if (const auto* ignore = std::get_if<protocol::Ignore>(&step)) {
        if (ignore->ack) acks.push_back(*ignore->ack);
      } else if (std::holds_alternative<protocol::EndOfStream>(step)) {
        stop("the stream ended (CLOSE_TAP_STREAM)");
      } else if (std::holds_alternative<protocol::ConnectRejectedView>(step)) {
        stop("the server refused the connect");
      } else {
        stop(fmt::format("a correct client refuses the stream: {}", std::get<protocol::DecodeError>(step)));
      }
    } else if (std::holds_alternative<protocol::NeedMore>(result)) {
      break;
    } else {
      stop(fmt::format("a correct client refuses the stream: {}", std::get<protocol::DecodeError>(result)));
    }
  }
  return used;
}

void ClientModel::stop(std::string why) {
  stopped_ = true;
  why_ = std::move(why);
  partial_.clear();
}

}  // namespace tapharness::mockserver
