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
    case EndReason::auth_failed: return "auth_failed";
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
        // The body as it came: the JSON line escapes it (once), and it may be any bytes.
        return body.empty() ? fmt::format("the server refused TAP_CONNECT with status {}", status)
                            : fmt::format("the server refused TAP_CONNECT with status {}: {}", status, body);
      case EndReason::truncated:
        return fmt::format("the stream ended inside a frame at offset {} ({} bytes of it arrived)",
                           offset, partial_bytes);
      case EndReason::protocol_error:
        return decode_error ? decode_error->message() : "protocol error";
      case EndReason::io_error:
        // Before the first frame an offset says nothing (a failed connect has none).
        return offset == 0 ? fmt::format("{}: {}", context, io_error.message())
                           : fmt::format("{}: {} (at offset {})", context, io_error.message(), offset);
      case EndReason::connect_timeout:
        // A context names the SASL step the server did not answer in time.
        return context.empty() ? fmt::format("no connection within {}ms", timeout.count())
                               : fmt::format("no reply to {} within {}ms", context, timeout.count());
      case EndReason::idle_timeout:
        if (offset == 0 && partial_bytes == 0) {
          return fmt::format(
              "nothing arrived within {}ms of TAP_CONNECT: the server may not speak TAP (a memcached "
              "without TAP, such as Debian's memcached 1.6, answers nothing to it)",
              timeout.count());
        }
        return partial_bytes == 0
                   ? fmt::format("no bytes for {}ms (at offset {})", timeout.count(), offset)
                   : fmt::format("no bytes for {}ms (at offset {}, {} bytes into a frame)", timeout.count(), offset,
                                 partial_bytes);
      case EndReason::closed:
        return "the feed was closed by its consumer";
      case EndReason::auth_failed: {
        // The server's text as it came, as for a refused connect.
        const std::string text = body.empty() ? std::string() : fmt::format(": {}", body);
        if (status == protocol::Status::success) {
          return fmt::format("the server lists no PLAIN among its SASL mechanisms{}", text);
        }
        return context == "SASL_AUTH"
                   ? fmt::format("the server refused SASL_AUTH PLAIN with status {}{}", status, text)
                   : fmt::format("the server answered {} with status {}{}", context, status, text);
      }
    }
    return {};
  };
  return fmt::format("{}: {}", name_of(reason), explain());
}

}  // namespace tapharness::client
