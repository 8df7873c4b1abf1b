// The JSON-lines event format: one object per event, then one for the end. tap_tail
// prints it; tap_scenario reads it back from external clients (README: "tap_tail output").
//
//   {"op":"mutation","vb":0,"key":"k1","value_b64":"aGk=","flags":18,"expiry":300,"cas":7,"datatype":0}
//   {"op":"checkpoint_start","vb":0,"checkpoint":42}
//   {"end":"error","error":"truncated: the stream ended inside a frame at offset 24 ..."}
//
// A client that reconnects (tap_tail --reconnect N) prints {"connection":N} before each
// connection's events, from 1, and each connection's end line:
//
//   {"connection":1}
//   {"op":"mutation",...}
//   {"end":"error","error":"io_error: read: Connection reset by peer (at offset 59)"}
//   {"connection":2}
//   {"end":"eof"}
//
// Keys are JSON strings in which every byte outside printable ASCII is written \u00XX, so
// binary keys survive the round trip byte for byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <fmt/format.h>

#include "client/feed_end.hpp"
#include "protocol/result.hpp"
#include "protocol/tap_event.hpp"

namespace tapharness::client {

// How a client said its feed ended: all an external client can tell.
struct ReportedEnd {
  // closed: the consumer closed the feed (Ctrl-C in tap_tail), which is no error.
  enum class How { eof, end_stream, error, closed };
  How how = How::eof;
  std::string error;  // error: the message
  friend bool operator==(const ReportedEnd&, const ReportedEnd&) = default;
};

ReportedEnd report_of(const FeedEnd& end);

// A reconnecting client's marker: what follows, up to the next marker, is connection
// `number` (1-based), its events and then its end.
struct ReportedConnection {
  std::uint32_t number = 0;
  friend bool operator==(const ReportedConnection&, const ReportedConnection&) = default;
};

using ReportedItem = std::variant<protocol::TapEvent, ReportedEnd, ReportedConnection>;

std::string event_json(const protocol::TapEvent& event);
// The same line appended to `out`, without allocating beyond what `out` grows by.
void append_event_json(std::string& out, const protocol::TapEventView& event);
// The same line written at `at`, which has event_json_bound(event) bytes of room; returns
// its end. For writers with a buffer of their own (tap_tail: no zero-filling per event).
std::size_t event_json_bound(const protocol::TapEventView& event);
char* write_event_json(char* at, const protocol::TapEventView& event);
std::string end_json(const ReportedEnd& end);
inline FormatOut describe_to(FormatOut out, const ReportedEnd& end) { return fmt::format_to(out, "{}", end_json(end)); }
// Exactly {"connection":N}.
std::string connection_json(const ReportedConnection& connection);
inline FormatOut describe_to(FormatOut out, const ReportedConnection& connection) {
  return fmt::format_to(out, "{}", connection_json(connection));
}

// Parses one line (an event, an end or a connection marker); a failure names the offending
// key (or is about the line as a whole).
Result<ReportedItem, InputError> parse_json_line(std::string_view line);

std::string base64_encode(std::string_view bytes);
// Fails on a length that is not a multiple of 4, a character outside the base64 alphabet,
// or padding before the end, naming the character's position.
Result<std::string, InputError> base64_decode(std::string_view text);

}  // namespace tapharness::client
