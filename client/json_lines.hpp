// The JSON-lines event format: one object per event, then one for the end. tap_tail
// prints it; tap_scenario reads it back from external clients (README: "tap_tail output").
//
//   {"op":"mutation","vb":0,"key":"k1","value_b64":"aGk=","flags":18,"expiry":300,"cas":7,"datatype":0}
//   {"op":"checkpoint_start","vb":0,"checkpoint":42}
//   {"end":"error","error":"truncated: the stream ended inside a frame at offset 24 ..."}
//
// Keys are JSON strings in which every byte outside printable ASCII is written \u00XX, so
// binary keys survive the round trip byte for byte.
#pragma once

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

using ReportedItem = std::variant<protocol::TapEvent, ReportedEnd>;

std::string event_json(const protocol::TapEvent& event);
// The same line appended to `out`, without allocating beyond what `out` grows by.
void append_event_json(std::string& out, const protocol::TapEventView& event);
// The same line written at `at`, which has event_json_bound(event) bytes of room; returns
// its end. For writers with a buffer of their own (tap_tail: no zero-filling per event).
std::size_t event_json_bound(const protocol::TapEventView& event);
char* write_event_json(char* at, const protocol::TapEventView& event);
std::string end_json(const ReportedEnd& end);
inline FormatOut describe_to(FormatOut out, const ReportedEnd& end) { return fmt::format_to(out, "{}", end_json(end)); }

// Parses one line; a failure names the offending key (or is about the line as a whole).
Result<ReportedItem, InputError> parse_json_line(std::string_view line);

std::string base64_encode(std::string_view bytes);
// Fails on a length that is not a multiple of 4, a character outside the base64 alphabet,
// or padding before the end, naming the character's position.
Result<std::string, InputError> base64_decode(std::string_view text);

}  // namespace tapharness::client
