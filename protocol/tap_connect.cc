#include "protocol/tap_connect.hpp"

#include <fmt/ranges.h>

namespace tapharness::protocol {
namespace {

constexpr std::size_t kConnectExtrasSize = 4;
constexpr std::size_t kCheckpointEntrySize = 2 + 8;

std::uint32_t bit(TapConnectFlag flag) { return static_cast<std::uint32_t>(flag); }

}  // namespace

std::uint32_t connect_flags(const TapArguments& args) {
  std::uint32_t flags = 0;
  if (args.backfill != 0) flags |= bit(TapConnectFlag::backfill);
  if (args.dump) flags |= bit(TapConnectFlag::dump);
  if (!args.vbuckets.empty()) flags |= bit(TapConnectFlag::list_vbuckets);
  if (args.takeover) flags |= bit(TapConnectFlag::takeover_vbuckets);
  if (args.support_ack) flags |= bit(TapConnectFlag::support_ack);
  if (args.keys_only) flags |= bit(TapConnectFlag::request_keys_only);
  if (args.checkpoint) flags |= bit(TapConnectFlag::checkpoint);
  if (args.registered_client) flags |= bit(TapConnectFlag::registered_client);
  return flags;
}

std::size_t encode_tap_connect(Bytes& out, const TapArguments& args) {
  if (args.vbuckets.size() > std::numeric_limits<std::uint16_t>::max()) return 0;
  std::uint8_t extras[kConnectExtrasSize];
  store_be32(extras, connect_flags(args));
  Bytes body;
  body.reserve(8 + 2 + 2 * args.vbuckets.size());
  if (args.backfill != 0) append_be64(body, args.backfill);
  if (!args.vbuckets.empty()) {
    append_be16(body, static_cast<std::uint16_t>(args.vbuckets.size()));
    for (std::uint16_t vb : args.vbuckets) append_be16(body, vb);
  }
  return encode_frame(out, FrameFields{.magic = Magic::request,
                                       .opcode = Opcode::tap_connect,
                                       .extras = extras,
                                       .key = as_bytes(args.client_name),
                                       .value = body});
}

Result<TapConnectRequest, DecodeError> decode_tap_connect(const Frame& frame) {
  const Header& h = frame.header;
  if (h.magic != Magic::request) {
    return DecodeError{DecodeErrorCode::unexpected_response, frame.offset + header_offset::magic,
                       "magic", static_cast<std::uint8_t>(h.magic), 0};
  }
  if (frame.extras.size() != kConnectExtrasSize) {
    return DecodeError{DecodeErrorCode::connect_extras_length, frame.offset + header_offset::extlen,
                       "extlen", frame.extras.size(), kConnectExtrasSize};
  }
  TapConnectRequest request;
  request.flags = load_be32(frame.extras.data());
  request.name = std::string(as_chars(frame.key));

  ByteView body = frame.value;
  const std::uint64_t body_offset = frame.offset + kHeaderSize + h.extlen + h.keylen;
  std::size_t at = 0;
  auto remaining = [&] { return body.size() - at; };
  auto too_short = [&](std::string_view field, std::size_t needed) {
    return DecodeError{DecodeErrorCode::connect_body_too_short, body_offset + at, field,
                       remaining(), needed - remaining()};
  };

  if (request.has(TapConnectFlag::backfill)) {
    if (remaining() < 8) return too_short("backfill", 8);
    request.backfill = load_be64(body.data() + at);
    at += 8;
  }
  if (request.has(TapConnectFlag::list_vbuckets)) {
    if (remaining() < 2) return too_short("vbucket_count", 2);
    const std::uint16_t count = load_be16(body.data() + at);
    at += 2;
    if (remaining() < 2 * std::size_t{count}) return too_short("vbucket_list", 2 * std::size_t{count});
    std::vector<std::uint16_t> vbuckets(count);
    for (auto& vb : vbuckets) {
      vb = load_be16(body.data() + at);
      at += 2;
    }
    request.vbuckets = std::move(vbuckets);
  }
  if (request.has(TapConnectFlag::checkpoint) && remaining() >= 2) {
    const std::uint16_t count = load_be16(body.data() + at);
    at += 2;
    const std::size_t needed = kCheckpointEntrySize * count;
    if (remaining() < needed) return too_short("checkpoint_map", needed);
    request.checkpoints.resize(count);
    for (auto& entry : request.checkpoints) {
      entry.vbucket = load_be16(body.data() + at);
      entry.checkpoint_id = load_be64(body.data() + at + 2);
      at += kCheckpointEntrySize;
    }
  }
  if (request.has(TapConnectFlag::registered_client) && remaining() == 1) {
    request.closed_checkpoints_only = body[at];
    at += 1;
  }
  if (remaining() != 0) {
    return DecodeError{DecodeErrorCode::connect_body_trailing, body_offset + at, "body",
                       remaining(), 0};
  }
  return request;
}

FormatOut describe_to(FormatOut out, const TapArguments& a) {
  out = fmt::format_to(out, "{{name=\"{}\" flags={}", a.client_name, tap_connect_flags_text(connect_flags(a)));
  if (a.backfill == kNoBackfill) {
    out = fmt::format_to(out, " backfill=none");
  } else {
    out = fmt::format_to(out, " backfill={}", a.backfill);
  }
  if (!a.vbuckets.empty()) out = fmt::format_to(out, " vbuckets={}", a.vbuckets);
  return fmt::format_to(out, "}}");
}

FormatOut describe_to(FormatOut out, const TapConnectRequest& r) {
  out = fmt::format_to(out, "{{name=\"{}\" flags={}", r.name, tap_connect_flags_text(r.flags));
  if (r.backfill == kNoBackfill) {
    out = fmt::format_to(out, " backfill=none");
  } else if (r.backfill) {
    out = fmt::format_to(out, " backfill={}", *r.backfill);
  }
  if (r.vbuckets) out = fmt::format_to(out, " vbuckets={}", *r.vbuckets);
  if (!r.checkpoints.empty()) out = fmt::format_to(out, " checkpoints={}", r.checkpoints);
  if (r.closed_checkpoints_only) {
    out = fmt::format_to(out, " closed_checkpoints_only={}", *r.closed_checkpoints_only);
  }
  return fmt::format_to(out, "}}");
}

}  // namespace tapharness::protocol
