// Golden frames, derived by hand from shared/protocol.md (sections 1, 3, 4.2, 5.1) and
// shaped the way ep-engine ships them: engine-specific bytes between extras and key,
// TTL 0xff. Each is written field by field so a reader can check it against the spec; none
// comes from our own encoder.
#pragma once

#include <string_view>

namespace tapharness::golden {

// TAP_MUTATION vb 3, opaque 0x10, CAS 0x1122, ACK; key "mykey", value "value", item flags
// 0x12, expiry 300, engine-specific = rev seqno 1 + NRU 0 (9 bytes).
// bodylen = 16 extras + 9 engine + 5 key + 5 value = 35 (protocol.md 4.2's example).
inline constexpr std::string_view kMutation =
    "80 41 0005 10 00 0003 00000023 00000010 0000000000001122"  // header
    "0009 0001 ff 000000 00000012 0000012c"                    // extras: nengine, ACK, ttl, flags, expiry
    "0000000000000001 00"                                       // engine: rev seqno, NRU
    "6d796b6579"                                                // key "mykey"
    "76616c7565";                                               // value "value"

// TAP_DELETE vb 3, opaque 0x11, CAS 7, no ACK; key "mykey"; engine-specific = rev seqno 5.
// bodylen = 8 + 8 + 5 = 21.
inline constexpr std::string_view kDeletion =
    "80 42 0005 08 00 0003 00000015 00000011 0000000000000007"
    "0008 0000 ff 000000"
    "0000000000000005"
    "6d796b6579";

// TAP_FLUSH, opaque 0x24, no engine-specific bytes. bodylen = 8.
inline constexpr std::string_view kFlush =
    "80 43 0000 08 00 0000 00000008 00000024 0000000000000000"
    "0000 0000 ff 000000";

// TAP_OPAQUE INITIAL_VBUCKET_STREAM (1) for vb 2, opaque 0x20, ACK. bodylen = 8 + 4.
inline constexpr std::string_view kOpaqueInitialVBucketStream =
    "80 44 0000 08 00 0002 0000000c 00000020 0000000000000000"
    "0004 0001 ff 000000"
    "00000001";

// TAP_OPAQUE CLOSE_BACKFILL (8) for vb 2, opaque 0x25, ACK.
inline constexpr std::string_view kOpaqueCloseBackfill =
    "80 44 0000 08 00 0002 0000000c 00000025 0000000000000000"
    "0004 0001 ff 000000"
    "00000008";

// TAP_OPAQUE ENABLE_AUTO_NACK (0), vb 0, opaque 0x26, ACK: ignored but acknowledged.
inline constexpr std::string_view kOpaqueEnableAutoNack =
    "80 44 0000 08 00 0000 0000000c 00000026 0000000000000000"
    "0004 0001 ff 000000"
    "00000000";

// TAP_OPAQUE CLOSE_TAP_STREAM (7), opaque 0x27, ACK set: ends the stream, never acked.
inline constexpr std::string_view kOpaqueCloseTapStream =
    "80 44 0000 08 00 0000 0000000c 00000027 0000000000000000"
    "0004 0001 ff 000000"
    "00000007";

// TAP_OPAQUE with the unknown sub-code 0x63 (99), opaque 0x28, ACK: ignored, acknowledged.
inline constexpr std::string_view kOpaqueUnknown =
    "80 44 0000 08 00 0000 0000000c 00000028 0000000000000000"
    "0004 0001 ff 000000"
    "00000063";

// TAP_VBUCKET_SET vb 5 -> PENDING (3), opaque 0x21, ACK. bodylen = 8 + 4.
inline constexpr std::string_view kVBucketSetPending =
    "80 45 0000 08 00 0005 0000000c 00000021 0000000000000000"
    "0004 0001 ff 000000"
    "00000003";

// TAP_CHECKPOINT_START vb 1, checkpoint 42, opaque 0x22, ACK: mutation layout (extlen 16),
// engine-specific = max deleted rev seqno 0 (8 bytes), key "checkpoint_start", value = id.
// bodylen = 16 + 8 + 16 + 8 = 48.
inline constexpr std::string_view kCheckpointStart =
    "80 46 0010 10 00 0001 00000030 00000022 0000000000000000"
    "0008 0001 ff 000000 00000000 00000000"
    "0000000000000000"
    "636865636b706f696e745f7374617274"
    "000000000000002a";

// TAP_CHECKPOINT_END vb 1, checkpoint 42, opaque 0x23, ACK: extlen 16, no engine-specific
// bytes, key "checkpoint_end", value = id. bodylen = 16 + 14 + 8 = 38.
inline constexpr std::string_view kCheckpointEnd =
    "80 47 000e 10 00 0001 00000026 00000023 0000000000000000"
    "0000 0001 ff 000000 00000000 00000000"
    "636865636b706f696e745f656e64"
    "000000000000002a";

// NOOP from the producer: no extras, opaque 0.
inline constexpr std::string_view kNoop = "80 0a 0000 00 00 0000 00000000 00000000 0000000000000000";

// The server refusing TAP_CONNECT: response, status NOT_SUPPORTED (0x83), value
// "not supported" (13 bytes).
inline constexpr std::string_view kConnectRejected =
    "81 40 0000 00 00 0083 0000000d 00000000 0000000000000000"
    "6e6f7420737570706f72746564";

// The client's ACK of kMutation: response magic, same opcode and opaque, status SUCCESS.
inline constexpr std::string_view kMutationAck =
    "81 41 0000 00 00 0000 00000000 00000010 0000000000000000";

// TAP.md's worked TAP_CONNECT: name "node1", flags 0x35 (BACKFILL | LIST_VBUCKETS |
// SUPPORT_ACK | REQUEST_KEYS_ONLY), backfill 5, vbuckets 0..4. bodylen = 4+5+8+2+10 = 29.
inline constexpr std::string_view kConnectNode1 =
    "80 40 0005 04 00 0000 0000001d 00000000 0000000000000000"
    "00000035"
    "6e6f646531"
    "0000000000000005"
    "0005 0000 0001 0002 0003 0004";

}  // namespace tapharness::golden
