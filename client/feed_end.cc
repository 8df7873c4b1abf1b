#include "client/feed_end.hpp"

#include "protocol/tap_event.hpp"

namespace tapharness::client {

std::string_view name_of(EndReason reason) {
  switch (reason) {
    case EndReason::eof: return "eof";
    case EndReason::end_stream: return "end_stream";
    case EndReason::connect_rejected: return "connect_rejected";
    case EndReason::truncated: return "truncated";
    case EndReason::protocol_error: return "protocol_error";
    case EndReason::io_error: return "io_error";
    case EndReason::connect_timeout: return "connect_timeout";
    case EndReason::idle_timeout: return "idle_timeout";
    case EndReason::closed: return "closed";
  }
  return "unknown";
}

std::string FeedEnd::message() const {
  auto explain = [&]() -> std::string {
    switch (reason) {
      case EndReason::eof:
        return fmt::format("the server closed the stream after {} bytes", offset);
      case EndReason::end_stream:
        return fmt::format("the server sent CLOSE_TAP_STREAM at offset {}", offset);
      case EndReason::connect_rejected:
        return fmt::format("the server refused TAP_CONNECT with status {}: {}", status,
                           protocol::escape_bytes(body));
      case EndReason::truncated:
        return fmt::format("the stream ended inside a frame at offset {} ({} bytes of it arrived)",
                           offset, partial_bytes);
      case EndReason::protocol_error:
        return decode_error ? decode_error->message() : "protocol error";
      case EndReason::io_error:
        return fmt::format("{}: {} (at offset {})", context, io_error.message(), offset);
      case EndReason::connect_timeout:
        return fmt::format("no connection within {}ms", timeout.count());
      case EndReason::idle_timeout:
        return fmt::format("no frame within {}ms (at offset {})", timeout.count(), offset);
      case EndReason::closed:
        return "the feed was closed by its consumer";
    }
    return {};
  };
  return fmt::format("{}: {}", name_of(reason), explain());
}

}  // namespace tapharness::client
