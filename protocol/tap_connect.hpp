// TAP_CONNECT (0x40), both sides: the client's arguments and their encoding exactly as the
// seed (gomemcached StartTapFeed) writes them, and the server's decoding of what arrives
// (protocol.md sections 3 and 6.1; golden frames in shared/seed-connect-vectors.txt).
//
//   TapArguments args;                       // backfill = kNoBackfill, like the seed's default
//   args.client_name = "peer1";
//   encode_tap_connect(out, args);           // 80 40 00 05 04 ... 00 00 00 01 "peer1" ff x8
//
//   auto request = decode_tap_connect(frame);   // on the server
//   request->name == "peer1";   // or request.error(): a DecodeError
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "protocol/bytes.hpp"
#include "protocol/decode_error.hpp"
#include "protocol/frame.hpp"
#include "protocol/result.hpp"
#include "protocol/tap_constants.hpp"

namespace tapharness::protocol {

// The seed's TapNoBackfill: a backfill age in the future, so only new changes are sent.
inline constexpr std::uint64_t kNoBackfill = std::numeric_limits<std::uint64_t>::max();

// The seed's TapArguments, field for field.
struct TapArguments {
  // Oldest item wanted, in seconds since the epoch. 0 leaves out the BACKFILL flag, which
  // lets the server send everything; kNoBackfill asks for no past items at all.
  std::uint64_t backfill = kNoBackfill;
  bool dump = false;                     // send what exists, then disconnect
  std::vector<std::uint16_t> vbuckets;   // empty: all vbuckets
  bool takeover = false;
  bool support_ack = false;
  bool keys_only = false;
  bool checkpoint = false;               // the seed sends the flag without a checkpoint map
  std::string client_name;               // the key; a name lets a client resume
  bool registered_client = false;

  friend bool operator==(const TapArguments&, const TapArguments&) = default;
};

// The u32 connect flags for `args`, set exactly as the seed sets them.
std::uint32_t connect_flags(const TapArguments& args);

// Appends the TAP_CONNECT request for `args` (magic 0x80, opcode 0x40, vbucket, opaque and
// CAS 0, extras = flags, key = client name, body = backfill then the vbucket list).
// Returns the bytes appended, or 0 when a part is too long for the header (name over
// 65535 bytes, more than 65535 vbuckets).
std::size_t encode_tap_connect(Bytes& out, const TapArguments& args);

// One entry of the CHECKPOINT map: resume `vbucket` after `checkpoint_id`.
struct CheckpointPosition {
  std::uint16_t vbucket = 0;
  std::uint64_t checkpoint_id = 0;
  friend bool operator==(const CheckpointPosition&, const CheckpointPosition&) = default;
};

// What a server reads from a TAP_CONNECT request.
struct TapConnectRequest {
  std::uint32_t flags = 0;
  std::string name;
  std::optional<std::uint64_t> backfill;                // present iff BACKFILL
  std::optional<std::vector<std::uint16_t>> vbuckets;   // present iff LIST_VBUCKETS
  // CHECKPOINT's map; ep-engine reads a body too short for the count as an empty map, and
  // the seed sends none.
  std::vector<CheckpointPosition> checkpoints;
  // REGISTERED_CLIENT's optional byte, sent only to servers before 2013.
  std::optional<std::uint8_t> closed_checkpoints_only;

  bool has(TapConnectFlag flag) const { return has_flag(flags, flag); }
  friend bool operator==(const TapConnectRequest&, const TapConnectRequest&) = default;
};

// Decodes a TAP_CONNECT frame (opcode 0x40). Fails when the magic is not a request's, the
// extras are not 4 bytes, or the body contradicts the flags: a field a flag announces is
// missing or short, or bytes remain that no flag accounts for. Error offsets point at the
// offending body field in the stream.
Result<TapConnectRequest, DecodeError> decode_tap_connect(const Frame& frame);

// {name="r1" flags=BACKFILL|SUPPORT_ACK backfill=5 vbuckets=[0, 1]}
FormatOut describe_to(FormatOut out, const TapArguments& args);
FormatOut describe_to(FormatOut out, const TapConnectRequest& request);
inline FormatOut describe_to(FormatOut out, const CheckpointPosition& c) {
  return fmt::format_to(out, "vb{}@{}", c.vbucket, c.checkpoint_id);
}

}  // namespace tapharness::protocol
