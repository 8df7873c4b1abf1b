// What a TAP feed does with each frame the server sends: the seed's makeTapEvent and
// runFeed decisions (protocol.md section 6.3), with its bugs fixed and more events kept.
//
//   FeedStep step = map_feed_frame(frame, first ? StreamPosition::first : StreamPosition::later);
//   std::visit(overloaded{
//       [&](const Deliver& d) { consume(d.event); if (d.ack) send(tap_ack(...)); },
//       [&](const Ignore& i) { if (i.ack) send(tap_ack(...)); },
//       [&](const EndOfStream&) { finish(); },
//       [&](const ConnectRejected& r) { fail(r.status, r.body); },
//       [&](const DecodeError& e) { fail(e); }}, step);
//
// | frame                                     | step                                             |
// |-------------------------------------------|--------------------------------------------------|
// | TAP_MUTATION, extras 16                   | mutation (key, value, item flags, expiry, cas)   |
// | TAP_DELETE, extras 8                      | deletion (key, value if any, cas; no item flags) |
// | TAP_CHECKPOINT_START / _END, extras 16    | checkpoint_start / _end with the 8-byte id       |
// | TAP_OPAQUE INITIAL_VBUCKET_STREAM         | begin_backfill                                   |
// | TAP_OPAQUE CLOSE_BACKFILL                 | end_backfill                                     |
// | TAP_OPAQUE CLOSE_TAP_STREAM               | end of stream, not acknowledged                  |
// | TAP_OPAQUE other code, or engine bytes    | ignored (the sub-code is read only from exactly  |
// |   other than 4                            |   4 engine-specific bytes, as ep-engine does)    |
// | TAP_VBUCKET_SET, 4 engine-specific bytes  | vbucket_set with the state (beyond the seed)     |
// | TAP_FLUSH, extras 8                       | flush (beyond the seed)                          |
// | a TAP message with other extras           | error tap_extras_length (too_short under 8)      |
// | NOOP, any other request                   | ignored, never acknowledged                      |
// | TAP_CONNECT response as the first frame   | the server refused the connect                   |
// | TAP_CONNECT response later                | error connect_reply_mid_stream                   |
// | TAP_CONNECT request                       | error unexpected_connect                         |
// | any other response (magic 0x81)           | error unexpected_response                        |
// A delivered or ignored TAP message (0x41..0x47) carrying TAP_FLAG_ACK asks for an ACK; only
// TAP messages carry TAP flags, so no other frame ever does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "protocol/decode_error.hpp"
#include "protocol/frame.hpp"
#include "protocol/opcode.hpp"
#include "protocol/tap_constants.hpp"
#include "protocol/tap_message.hpp"

namespace tapharness::protocol {

enum class TapEventKind : std::uint8_t {
  begin_backfill,
  end_backfill,
  mutation,
  deletion,
  checkpoint_start,
  checkpoint_end,
  vbucket_set,
  flush,
};

std::string_view name_of(TapEventKind kind);  // "begin_backfill", "mutation", ...
std::optional<TapEventKind> tap_event_kind_from_name(std::string_view name);
std::span<const NamedValue<TapEventKind>> all_tap_event_kinds();

// One event of the feed. It owns its bytes, so it outlives the frame it came from.
struct TapEvent {
  TapEventKind kind = TapEventKind::mutation;
  std::uint16_t vbucket = 0;
  std::string key;                  // mutation, deletion
  std::string value;                // mutation; deletion (usually empty)
  std::uint32_t flags = 0;          // mutation: item flags
  std::uint32_t expiry = 0;         // mutation
  std::uint64_t cas = 0;            // mutation, deletion
  std::uint8_t datatype = 0;        // mutation, deletion: 0x01 JSON, 0x02 Snappy, 0x04 XATTR
  std::uint64_t checkpoint_id = 0;  // checkpoint_start, checkpoint_end
  VBucketState state{};             // vbucket_set

  friend bool operator==(const TapEvent&, const TapEvent&) = default;
};

// An event whose key and value are views into the frame it came from: what a consumer
// that handles each event at once needs, with no copy. to_owned() keeps it.
struct TapEventView {
  TapEventKind kind = TapEventKind::mutation;
  std::uint16_t vbucket = 0;
  std::string_view key;
  std::string_view value;
  std::uint32_t flags = 0;
  std::uint32_t expiry = 0;
  std::uint64_t cas = 0;
  std::uint8_t datatype = 0;
  std::uint64_t checkpoint_id = 0;
  VBucketState state{};

  TapEvent to_owned() const {
    return TapEvent{kind, vbucket, std::string(key), std::string(value), flags, expiry, cas, datatype, checkpoint_id,
                    state};
  }
};

// A view of an owned event (valid while it is).
inline TapEventView view_of(const TapEvent& e) {
  return {e.kind, e.vbucket, e.key, e.value, e.flags, e.expiry, e.cas, e.datatype, e.checkpoint_id, e.state};
}

// The ACK a message asked for: answer with tap_ack(opcode, opaque).
struct AckRequest {
  Opcode opcode = Opcode::noop;
  std::uint32_t opaque = 0;
  friend bool operator==(const AckRequest&, const AckRequest&) = default;
};

struct Deliver {
  TapEvent event;
  std::optional<AckRequest> ack;  // to send once the consumer has taken the event
  friend bool operator==(const Deliver&, const Deliver&) = default;
};

struct Ignore {
  std::optional<AckRequest> ack;  // acknowledged even though no event is produced
  friend bool operator==(const Ignore&, const Ignore&) = default;
};

// TAP_OPAQUE CLOSE_TAP_STREAM: the producer is done; the feed ends cleanly.
struct EndOfStream {
  friend bool operator==(const EndOfStream&, const EndOfStream&) = default;
};

// The server answered TAP_CONNECT, which it does only to refuse it.
struct ConnectRejected {
  Status status = Status::success;
  std::string body;  // the reply's value, usually an explanation
  friend bool operator==(const ConnectRejected&, const ConnectRejected&) = default;
};

using FeedStep = std::variant<Deliver, Ignore, EndOfStream, ConnectRejected, DecodeError>;

// Whether a frame is the first the server sent: only the first may refuse the connect.
enum class StreamPosition : std::uint8_t { first, later };

// The position of a frame whose decoder counted offsets from the connection's first byte.
constexpr StreamPosition position_of(const Frame& frame) {
  return frame.offset == 0 ? StreamPosition::first : StreamPosition::later;
}

// Decides what the feed does with one whole frame from the server.
FeedStep map_feed_frame(const Frame& frame, StreamPosition position);

// The same decision with the event's bytes left in the frame (valid while it is):
// map_feed_frame_view(frame, position), defined inline below.
struct DeliverView {
  TapEventView event;
  std::optional<AckRequest> ack;
};
struct ConnectRejectedView {
  Status status = Status::success;
  std::string_view body;
};
// Trivially copyable and destructible (no string in it): the feed maps every frame it reads.
using FeedStepView = std::variant<DeliverView, Ignore, EndOfStream, ConnectRejectedView, DecodeError>;
static_assert(std::is_trivially_destructible_v<FeedStepView>);

// Writes bytes as JSON string contents: printable ASCII as is (quote and backslash get a
// backslash), every other byte as \u00XX. Used by formatters and tap_tail's output.
std::string escape_bytes(std::string_view bytes);
// The same, of at most `max` bytes, the rest counted: "aaaa...(+99996 bytes, 100000 in all)".
std::string escape_bytes_abbreviated(std::string_view bytes, std::size_t max = 64);

// "mutation vb=0 key=\"k\" value=\"v\" flags=0 expiry=0 cas=7", "deliver ... then ack ...".
FormatOut describe_to(FormatOut out, const TapEvent& event);
FormatOut describe_to(FormatOut out, const FeedStep& step);
inline FormatOut describe_to(FormatOut out, const AckRequest& a) {
  return fmt::format_to(out, "ack {} opaque=0x{:08x}", a.opcode, a.opaque);
}

namespace detail {

// Every frame but the fast path's (tap_event.cc).
FeedStepView map_feed_frame_general(const Frame& frame, StreamPosition position);

// The ACK a TAP message asks for, from its TAP flags (`extras`: at least the 8-byte prefix).
inline std::optional<AckRequest> ack_requested(const Header& h, const std::uint8_t* extras) {
  if (!has_flag(load_be16(extras + tap_extras_offset::tap_flags), TapFlag::ack)) return std::nullopt;
  return AckRequest{h.opcode, h.opaque};
}

// A TAP_MUTATION with request magic and the 16 item extras, as the feed delivers it.
inline DeliverView mutation_view(const Frame& frame) {
  const Header& h = frame.header;
  const std::uint8_t* extras = frame.extras.data();
  return DeliverView{TapEventView{.kind = TapEventKind::mutation,
                                  .vbucket = h.vbucket(),
                                  .key = as_chars(frame.key),
                                  .value = as_chars(frame.value),
                                  .flags = load_be32(extras + tap_extras_offset::item_flags),
                                  .expiry = load_be32(extras + tap_extras_offset::expiry),
                                  .cas = h.cas,
                                  .datatype = h.datatype},
                     ack_requested(h, extras)};
}

}  // namespace detail

// map_feed_frame's decision with the event's bytes left in the frame. Inline, with the
// frame a volume stream is made of (a mutation with ep-engine's 16 extras) decided here:
// the feed maps every frame it reads, and a call per frame costs as much as the decoding.
inline FeedStepView map_feed_frame_view(const Frame& frame, StreamPosition position) {
  const Header& h = frame.header;
  if (h.opcode == Opcode::tap_mutation && h.magic == Magic::request && frame.extras.size() == kTapItemExtrasSize)
      [[likely]] {
    return detail::mutation_view(frame);
  }
  return detail::map_feed_frame_general(frame, position);
}

}  // namespace tapharness::protocol
