#include "protocol/tap_event.hpp"

#include <array>

#include "protocol/tap_message.hpp"

namespace tapharness::protocol {
namespace {

constexpr std::array kEventKinds{
    NamedValue<TapEventKind>{TapEventKind::begin_backfill, "begin_backfill"},
    NamedValue<TapEventKind>{TapEventKind::end_backfill, "end_backfill"},
    NamedValue<TapEventKind>{TapEventKind::mutation, "mutation"},
    NamedValue<TapEventKind>{TapEventKind::deletion, "deletion"},
    NamedValue<TapEventKind>{TapEventKind::checkpoint_start, "checkpoint_start"},
    NamedValue<TapEventKind>{TapEventKind::checkpoint_end, "checkpoint_end"},
    NamedValue<TapEventKind>{TapEventKind::vbucket_set, "vbucket_set"},
    NamedValue<TapEventKind>{TapEventKind::flush, "flush"},
};

constexpr std::size_t kCheckpointIdSize = 8;
constexpr std::size_t kEngineCodeSize = 4;  // an opaque sub-code, a vbucket state

// The extras ep-engine sends with each TAP message (protocol.md section 4.2): the item
// layout for mutations and checkpoints, the bare TAP prefix for the others.
constexpr std::size_t extras_of(Opcode opcode) {
  switch (opcode) {
    case Opcode::tap_mutation:
    case Opcode::tap_checkpoint_start:
    case Opcode::tap_checkpoint_end: return kTapItemExtrasSize;
    default: return kTapExtrasSize;
  }
}

// Reads the fields straight from the frame, not through a TapMessage.
FeedStepView map_tap_message(const Frame& frame) {
  if (auto error = check_tap_message(frame)) return *error;
  const Header& h = frame.header;
  if (const std::size_t shape = extras_of(h.opcode); frame.extras.size() != shape) {
    // Anything else cannot be read: an item's flags and expiry would come from other bytes.
    return DecodeError{DecodeErrorCode::tap_extras_length, frame.offset + header_offset::extlen, "extlen",
                       frame.extras.size(), shape};
  }
  const std::uint8_t* extras = frame.extras.data();
  const std::optional<AckRequest> ack = detail::ack_requested(h, extras);
  const auto deliver = [&](TapEventKind kind) {
    return DeliverView{TapEventView{.kind = kind, .vbucket = h.vbucket()}, ack};
  };
  switch (h.opcode) {
    case Opcode::tap_mutation:
      return detail::mutation_view(frame);
    case Opcode::tap_delete:
      return DeliverView{TapEventView{.kind = TapEventKind::deletion,
                                      .vbucket = h.vbucket(),
                                      .key = as_chars(frame.key),
                                      .value = as_chars(frame.value),
                                      .cas = h.cas,
                                      .datatype = h.datatype},
                         ack};
    case Opcode::tap_checkpoint_start:
    case Opcode::tap_checkpoint_end: {
      if (frame.value.size() != kCheckpointIdSize) {
        return DecodeError{DecodeErrorCode::checkpoint_id_length, frame.offset + frame.size() - frame.value.size(),
                           "value", frame.value.size(), kCheckpointIdSize};
      }
      DeliverView step = deliver(h.opcode == Opcode::tap_checkpoint_start ? TapEventKind::checkpoint_start
                                                                           : TapEventKind::checkpoint_end);
      step.event.checkpoint_id = load_be64(frame.value.data());
      return step;
    }
    case Opcode::tap_vbucket_set: {
      if (frame.engine_specific.size() != kEngineCodeSize) {
        return DecodeError{DecodeErrorCode::vbucket_state_length, frame.offset + kHeaderSize,
                           "engine_specific_length", frame.engine_specific.size(), kEngineCodeSize};
      }
      DeliverView step = deliver(TapEventKind::vbucket_set);
      step.event.state = static_cast<VBucketState>(load_be32(frame.engine_specific.data()));
      return step;
    }
    case Opcode::tap_flush:
      return deliver(TapEventKind::flush);
    case Opcode::tap_opaque:
      // ep-engine's consumer reads the sub-code only from exactly 4 engine-specific bytes;
      // any other length is an opaque message it ignores (acknowledged when asked).
      if (frame.engine_specific.size() == kEngineCodeSize) {
        switch (static_cast<TapOpaqueCode>(load_be32(frame.engine_specific.data()))) {
          case TapOpaqueCode::initial_vbucket_stream: return deliver(TapEventKind::begin_backfill);
          case TapOpaqueCode::close_backfill: return deliver(TapEventKind::end_backfill);
          case TapOpaqueCode::close_tap_stream: return EndOfStream{};
          default: break;
        }
      }
      [[fallthrough]];
    default:
      return Ignore{ack};
  }
}

}  // namespace

std::string_view name_of(TapEventKind kind) { return find_name(all_tap_event_kinds(), kind); }

std::optional<TapEventKind> tap_event_kind_from_name(std::string_view name) {
  return find_value(all_tap_event_kinds(), name);
}

std::span<const NamedValue<TapEventKind>> all_tap_event_kinds() { return kEventKinds; }

namespace detail {

FeedStepView map_feed_frame_general(const Frame& frame, StreamPosition position) {
  const Header& h = frame.header;
  auto at_magic = [&](DecodeErrorCode code) {
    return DecodeError{code, frame.offset + header_offset::magic, "magic", static_cast<std::uint8_t>(h.magic), 0};
  };
  if (h.opcode == Opcode::tap_connect) {
    if (h.magic == Magic::request) return at_magic(DecodeErrorCode::unexpected_connect);
    if (position != StreamPosition::first) return at_magic(DecodeErrorCode::connect_reply_mid_stream);
    return ConnectRejectedView{h.status(), as_chars(frame.value)};
  }
  if (h.magic != Magic::request) return at_magic(DecodeErrorCode::unexpected_response);
  if (is_tap_message(h.opcode)) return map_tap_message(frame);
  return Ignore{};  // NOOP or another request: only TAP messages carry TAP flags
}

}  // namespace detail

FeedStep map_feed_frame(const Frame& frame, StreamPosition position) {
  return std::visit(
      [](auto&& step) -> FeedStep {
        using Step = std::decay_t<decltype(step)>;
        if constexpr (std::is_same_v<Step, DeliverView>) {
          return Deliver{step.event.to_owned(), step.ack};
        } else if constexpr (std::is_same_v<Step, ConnectRejectedView>) {
          return ConnectRejected{step.status, std::string(step.body)};
        } else {
          return std::move(step);
        }
      },
      map_feed_frame_view(frame, position));
}


std::string escape_bytes(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (b == '"' || b == '\\') {
      out += '\\';
      out += c;
    } else if (b >= 0x20 && b < 0x7f) {
      out += c;
    } else {
      out += fmt::format("\\u{:04x}", b);
    }
  }
  return out;
}

std::string escape_bytes_abbreviated(std::string_view bytes, std::size_t max) {
  if (bytes.size() <= max) return escape_bytes(bytes);
  return fmt::format("{}...(+{} bytes, {} in all)", escape_bytes(bytes.substr(0, max)), bytes.size() - max,
                     bytes.size());
}

FormatOut describe_to(FormatOut out, const TapEvent& e) {
  out = fmt::format_to(out, "{} vb={}", e.kind, e.vbucket);
  switch (e.kind) {
    case TapEventKind::mutation:
      out = fmt::format_to(out, " key=\"{}\" value=\"{}\" flags={} expiry={} cas={}", escape_bytes_abbreviated(e.key),
                           escape_bytes_abbreviated(e.value), e.flags, e.expiry, e.cas);
      return e.datatype != 0 ? fmt::format_to(out, " datatype={}", e.datatype) : out;
    case TapEventKind::deletion:
      out = fmt::format_to(out, " key=\"{}\"", escape_bytes_abbreviated(e.key));
      if (!e.value.empty()) out = fmt::format_to(out, " value=\"{}\"", escape_bytes_abbreviated(e.value));
      out = fmt::format_to(out, " cas={}", e.cas);
      return e.datatype != 0 ? fmt::format_to(out, " datatype={}", e.datatype) : out;
    case TapEventKind::checkpoint_start:
    case TapEventKind::checkpoint_end:
      return fmt::format_to(out, " checkpoint={}", e.checkpoint_id);
    case TapEventKind::vbucket_set:
      return fmt::format_to(out, " state={}", e.state);
    default:
      return out;
  }
}

FormatOut describe_to(FormatOut out, const FeedStep& s) {
  struct Visitor {
    FormatOut out;
    auto operator()(const Deliver& d) {
      return d.ack ? fmt::format_to(out, "deliver {} then {}", d.event, *d.ack)
                   : fmt::format_to(out, "deliver {}", d.event);
    }
    auto operator()(const Ignore& i) {
      return i.ack ? fmt::format_to(out, "ignore then {}", *i.ack) : fmt::format_to(out, "ignore");
    }
    auto operator()(const EndOfStream&) { return fmt::format_to(out, "end of stream"); }
    auto operator()(const ConnectRejected& r) {
      return fmt::format_to(out, "connect rejected: status {} \"{}\"", r.status, escape_bytes(r.body));
    }
    auto operator()(const DecodeError& e) { return fmt::format_to(out, "error: {}", e); }
  };
  return std::visit(Visitor{out}, s);
}

}  // namespace tapharness::protocol
