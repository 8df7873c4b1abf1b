// Fuzz target: TAP_CONNECT decoding, the server's view of a client's request.
//
// Input: one frame. When it holds a whole header, its bodylen is rewritten to cover exactly
// the rest of the input, so every input is a frame and the fuzzer spends its effort on the
// connect body (the frame layer's lengths are frame_decoder's job). The frame goes through
// the FrameDecoder with the mock server's client limits, then decode_tap_connect, then the
// server's matcher, as the engine's `expect connect` does.
//
// Checked, for a request that decodes:
// - each field comes from where the flags say: name = key, flags = extras, backfill and the
//   vbucket list present exactly when their flags are, a checkpoint map or the closed-
//   checkpoints byte only under their flags;
// - writing the fields back in flag order gives exactly the body that was read (nothing
//   skipped, nothing invented);
// - when the request is one the seed's encoder can make, encode_tap_connect gives back the
//   input frame byte for byte;
// - the any-matcher accepts it, and a matcher built from its own fields accepts it too;
// and for one that does not: the error is a TAP_CONNECT error, inside the frame, with a field.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "fuzz/fuzz_check.hpp"
#include "mockserver/engine.hpp"
#include "mockserver/expectations.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/hex.hpp"
#include "protocol/tap_connect.hpp"

namespace tapharness::fuzz {
namespace {

using protocol::Bytes;
using protocol::DecodeError;
using protocol::DecodeErrorCode;
using protocol::Frame;
using protocol::TapConnectFlag;
using protocol::TapConnectRequest;

// The body as the request's fields say it was written; `empty_map` writes a zero count for
// an empty checkpoint map (the decoder cannot tell "no count" from "count 0" apart in the
// request, so both are tried).
Bytes encode_body(const TapConnectRequest& r, bool empty_map) {
  Bytes body;
  if (r.backfill) protocol::append_be64(body, *r.backfill);
  if (r.vbuckets) {
    protocol::append_be16(body, static_cast<std::uint16_t>(r.vbuckets->size()));
    for (std::uint16_t vb : *r.vbuckets) protocol::append_be16(body, vb);
  }
  if (!r.checkpoints.empty() || empty_map) {
    protocol::append_be16(body, static_cast<std::uint16_t>(r.checkpoints.size()));
    for (const auto& c : r.checkpoints) {
      protocol::append_be16(body, c.vbucket);
      protocol::append_be64(body, c.checkpoint_id);
    }
  }
  if (r.closed_checkpoints_only) body.push_back(*r.closed_checkpoints_only);
  return body;
}

bool same_bytes(protocol::ByteView a, protocol::ByteView b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

// The seed's arguments that encode to `r`, when there are such: only the flags the seed
// sets, a backfill other than 0 (0 is written as "no BACKFILL flag"), a non-empty vbucket
// list, and none of the fields the seed never writes.
std::optional<protocol::TapArguments> seed_arguments(const TapConnectRequest& r) {
  protocol::TapArguments args;
  args.backfill = r.backfill.value_or(0);
  args.dump = r.has(TapConnectFlag::dump);
  args.vbuckets = r.vbuckets.value_or(std::vector<std::uint16_t>{});
  args.takeover = r.has(TapConnectFlag::takeover_vbuckets);
  args.support_ack = r.has(TapConnectFlag::support_ack);
  args.keys_only = r.has(TapConnectFlag::request_keys_only);
  args.checkpoint = r.has(TapConnectFlag::checkpoint);
  args.client_name = r.name;
  args.registered_client = r.has(TapConnectFlag::registered_client);
  if (protocol::connect_flags(args) != r.flags || !r.checkpoints.empty() || r.closed_checkpoints_only) {
    return std::nullopt;
  }
  return args;
}

// A matcher that names every field of `r` exactly.
scenario::ExpectConnect exact_matcher(const TapConnectRequest& r) {
  using scenario::FieldMatcher;
  scenario::ExpectConnect m;
  m.name = {FieldMatcher<std::string>::Kind::exact, r.name};
  m.flags_exact = r.flags;
  m.flags_present = r.flags;
  m.flags_absent = ~r.flags;
  m.backfill = r.backfill ? FieldMatcher<std::uint64_t>{FieldMatcher<std::uint64_t>::Kind::exact, *r.backfill}
                          : FieldMatcher<std::uint64_t>{FieldMatcher<std::uint64_t>::Kind::absent, 0};
  using VBuckets = FieldMatcher<std::vector<std::uint16_t>>;
  m.vbuckets = r.vbuckets ? VBuckets{VBuckets::Kind::exact, *r.vbuckets} : VBuckets{VBuckets::Kind::absent, {}};
  return m;
}

void check_request(const Frame& frame, protocol::ByteView input, const TapConnectRequest& r) {
  FUZZ_CHECK(frame.header.magic == protocol::Magic::request, "a response decoded as a request: {}", r);
  FUZZ_CHECK(frame.extras.size() == 4 && r.flags == protocol::load_be32(frame.extras.data()),
             "flags {:#x} are not the extras {}", r.flags, protocol::to_hex(frame.extras));
  FUZZ_CHECK(same_bytes(protocol::as_bytes(r.name), frame.key), "name \"{}\" is not the key {}", r.name,
             protocol::to_hex(frame.key));
  FUZZ_CHECK(r.backfill.has_value() == r.has(TapConnectFlag::backfill), "backfill vs BACKFILL: {}", r);
  FUZZ_CHECK(r.vbuckets.has_value() == r.has(TapConnectFlag::list_vbuckets), "vbuckets vs LIST_VBUCKETS: {}", r);
  FUZZ_CHECK(r.checkpoints.empty() || r.has(TapConnectFlag::checkpoint), "a checkpoint map without CHECKPOINT: {}",
             r);
  FUZZ_CHECK(!r.closed_checkpoints_only || r.has(TapConnectFlag::registered_client),
             "closed_checkpoints_only without REGISTERED_CLIENT: {}", r);

  const bool plain_body = same_bytes(encode_body(r, false), frame.value);
  const bool body_matches =
      plain_body ||
      (r.has(TapConnectFlag::checkpoint) && r.checkpoints.empty() && same_bytes(encode_body(r, true), frame.value));
  FUZZ_CHECK(body_matches, "the fields {} do not write back to the body {}", r, protocol::to_hex(frame.value));

  // An empty checkpoint map written with its zero count is not what the seed sends.
  if (const auto args = seed_arguments(r); args && plain_body) {
    const auto& h = frame.header;
    if (h.opcode == protocol::Opcode::tap_connect && h.datatype == 0 && h.vbucket_or_status == 0 && h.opaque == 0 &&
        h.cas == 0) {
      Bytes encoded;
      protocol::encode_tap_connect(encoded, *args);
      FUZZ_CHECK(same_bytes(encoded, input.first(frame.size())), "{} encodes to {}, not to the input {}", *args,
                 protocol::to_hex(encoded), protocol::to_hex(input.first(frame.size())));
    }
  }

  const auto any = mockserver::match_connect(scenario::ExpectConnect{}, r);
  FUZZ_CHECK(any.empty(), "the any-matcher refused {}: {}", r, any);
  const auto exact = exact_matcher(r);
  const auto mismatch = mockserver::match_connect(exact, r);
  FUZZ_CHECK(mismatch.empty(), "the matcher `{}` refused its own request {}: {}", mockserver::describe(exact), r,
             mismatch);
}

void check_error(const Frame& frame, const DecodeError& e) {
  const bool connect_error = e.code == DecodeErrorCode::unexpected_response ||
                             e.code == DecodeErrorCode::connect_extras_length ||
                             e.code == DecodeErrorCode::connect_body_too_short ||
                             e.code == DecodeErrorCode::connect_body_trailing;
  FUZZ_CHECK(connect_error, "not a TAP_CONNECT error: {}", e);
  FUZZ_CHECK(e.offset >= frame.offset && e.offset <= frame.offset + frame.size(),
             "error offset {} outside the {}-byte frame: {}", e.offset, frame.size(), e);
  FUZZ_CHECK(!e.field.empty() && !e.message().empty(), "error without a field or message: {}", e);
}

}  // namespace
}  // namespace tapharness::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tapharness;
  protocol::Bytes input(data, data + size);
  if (input.size() >= protocol::kHeaderSize) {
    protocol::store_be32(input.data() + protocol::header_offset::bodylen,
                         static_cast<std::uint32_t>(input.size() - protocol::kHeaderSize));
  }
  protocol::FrameDecoder decoder(mockserver::EngineOptions{}.client_limits);
  const auto result = decoder.decode(input);
  const auto* decoded = std::get_if<protocol::Decoded>(&result);
  if (!decoded) return 0;  // not a frame within the limits: the server refuses it before this layer
  const auto request = protocol::decode_tap_connect(decoded->frame);
  if (request) {
    fuzz::check_request(decoded->frame, input, *request);
  } else {
    fuzz::check_error(decoded->frame, request.error());
  }
  (void)fmt::format("{}", decoded->frame);
  return 0;
}
