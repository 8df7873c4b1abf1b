// How a TAP feed ended. Every feed reports exactly one FeedEnd, after every event it
// delivered; the reasons are told apart so a consumer can decide whether to reconnect.
//
//   if (end.clean()) { ... }                 // eof or end_stream
//   fmt::print("{}\n", end);                 // "truncated: the stream ended inside ..."
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "client/feed_options.hpp"
#include "protocol/format.hpp"
#include "protocol/decode_error.hpp"
#include "protocol/opcode.hpp"
#include "protocol/tap_event.hpp"
#include "third_party/asio.hpp"

namespace tapharness::client {

// The values are also error codes (client/feed_error.hpp) of category "tapharness.feed".
enum class EndReason : std::uint8_t {
  eof,               // the server closed the connection on a frame boundary
  end_stream,        // the server sent TAP_OPAQUE CLOSE_TAP_STREAM
  connect_rejected,  // the server answered TAP_CONNECT, which it does only to refuse
  truncated,         // the connection closed inside a frame
  protocol_error,    // the bytes broke the protocol (a DecodeError with its offset)
  io_error,          // reading, writing or connecting failed
  connect_timeout,   // no connection within FeedOptions::connect_timeout
  idle_timeout,      // no bytes for FeedOptions::idle_timeout
  closed,            // close() was called
  // Appended, so the values above keep their numbers.
  auth_failed,       // FeedOptions::auth: the server refused SASL (or lists no PLAIN)
};

std::string_view name_of(EndReason reason);

struct FeedEnd {
  EndReason reason = EndReason::eof;
  std::uint64_t offset = 0;  // stream offset: bytes of whole frames received before the end

  std::optional<protocol::DecodeError> decode_error;  // protocol_error
  boost::system::error_code io_error;                 // io_error
  std::string context;                                // io_error: what failed ("read", ...);
                                                      // auth_failed, connect_timeout: the SASL step
  protocol::Status status = protocol::Status::success;  // connect_rejected, auth_failed
  std::string body;                                   // connect_rejected, auth_failed: the server's text
  std::size_t partial_bytes = 0;                      // truncated, idle_timeout: bytes of the unfinished frame
  Duration timeout{0};                                // connect_timeout, idle_timeout

  // eof and end_stream: the server finished the stream.
  bool clean() const { return reason == EndReason::eof || reason == EndReason::end_stream; }

  // The end as an error_code (client/feed_error.hpp): {} when clean, the I/O error, the
  // DecodeErrorCode of a protocol error, or the reason.
  boost::system::error_code error() const;

  // "<reason>: <explanation>", e.g. "connect_rejected: the server refused TAP_CONNECT with
  // status NOT_SUPPORTED: not supported".
  std::string message() const;
};

// What a consumer receives: the next event, or the end.
using FeedItem = std::variant<protocol::TapEvent, FeedEnd>;

inline FormatOut describe_to(FormatOut out, const FeedEnd& end) { return fmt::format_to(out, "{}", end.message()); }
inline FormatOut describe_to(FormatOut out, const FeedItem& item) {
  return std::visit([&](const auto& v) { return fmt::format_to(out, "{}", v); }, item);
}

}  // namespace tapharness::client
