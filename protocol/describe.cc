#include "protocol/describe.hpp"

#include <fmt/format.h>

#include "protocol/tap_connect.hpp"
#include "protocol/tap_event.hpp"
#include "protocol/tap_message.hpp"

namespace tapharness::protocol {

std::string describe_frame(const Frame& frame) {
  std::string out = fmt::format("{}\n", frame.header);
  const bool request = !frame.header.is_response();
  if (frame.header.opcode == Opcode::tap_connect && request) {
    auto connect = decode_tap_connect(frame);
    if (connect) return out + fmt::format("  TAP_CONNECT {}\n", *connect);
    return out + fmt::format("  TAP_CONNECT error: {}\n", connect.error());
  }
  if (is_tap_message(frame.header.opcode) && request) {
    if (auto message = decode_tap_message(frame)) out += fmt::format("  {}\n", *message);
  } else if (!frame.extras.empty() || !frame.key.empty() || !frame.value.empty()) {
    out += fmt::format("  {}\n", frame);
  }
  // What a feed does applies to what a server sends, not to a client's ACKs.
  if (!request && frame.header.opcode != Opcode::tap_connect) return out;
  return out + fmt::format("  feed: {}\n", map_feed_frame(frame, position_of(frame)));
}

}  // namespace tapharness::protocol
