// TAP flag words, opaque sub-codes and vbucket states, with their spec names
// (protocol.md sections 3, 4.1, 4.3 and 4.5).
//
//   fmt::format("{}", TapOpaqueCode::close_backfill)      // "CLOSE_BACKFILL"
//   fmt::format("{}", tap_flags_text(0x0003))              // "ACK|NO_VALUE"
//   tap_connect_flag_from_name("support_ack")              // TapConnectFlag::support_ack
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "protocol/opcode.hpp"

namespace tapharness::protocol {

// Bits of TAP_CONNECT's u32 extras; the body carries their arguments in increasing bit order.
enum class TapConnectFlag : std::uint32_t {
  backfill = 0x001,            // body: u64 oldest timestamp wanted
  dump = 0x002,                // send what exists, then disconnect
  list_vbuckets = 0x004,       // body: u16 count, count x u16 vbucket
  takeover_vbuckets = 0x008,
  support_ack = 0x010,
  request_keys_only = 0x020,
  checkpoint = 0x040,          // body: u16 count, count x {u16 vbucket, u64 checkpoint id}
  registered_client = 0x080,   // old servers: an optional u8 "closed checkpoints only"
  fix_flag_byteorder = 0x100,
};

// Bits of the u16 TAP flags in every TAP message's extras.
enum class TapFlag : std::uint16_t {
  ack = 0x01,                 // the client must answer this message
  no_value = 0x02,            // keys-only: the value was left out
  network_byte_order = 0x04,  // the item flags are in network order
};

// TAP_OPAQUE sub-codes, carried as the 4 engine-specific bytes.
enum class TapOpaqueCode : std::uint32_t {
  enable_auto_nack = 0,
  initial_vbucket_stream = 1,   // backfill of the frame's vbucket begins
  enable_checkpoint_sync = 2,
  open_checkpoint = 3,
  complete_vb_filter_change = 4,
  stop_online_update = 5,
  revert_online_update = 6,
  close_tap_stream = 7,         // the producer has finished: the stream ends
  close_backfill = 8,           // backfill of the frame's vbucket is complete
};

// TAP_VBUCKET_SET states, carried as the 4 engine-specific bytes.
enum class VBucketState : std::uint32_t {
  active = 1,
  replica = 2,
  pending = 3,
  dead = 4,
};

std::span<const NamedValue<TapConnectFlag>> all_tap_connect_flags();
std::span<const NamedValue<TapFlag>> all_tap_flags();
std::span<const NamedValue<TapOpaqueCode>> all_tap_opaque_codes();
std::span<const NamedValue<VBucketState>> all_vbucket_states();

// Spec names, upper case ("SUPPORT_ACK", "NO_VALUE", "CLOSE_BACKFILL", "ACTIVE"); empty
// for values without one.
std::string_view name_of(TapConnectFlag flag);
std::string_view name_of(TapFlag flag);
std::string_view name_of(TapOpaqueCode code);
std::string_view name_of(VBucketState state);

// Case-insensitive name lookups.
std::optional<TapConnectFlag> tap_connect_flag_from_name(std::string_view name);
std::optional<TapFlag> tap_flag_from_name(std::string_view name);
std::optional<TapOpaqueCode> tap_opaque_code_from_name(std::string_view name);
std::optional<VBucketState> vbucket_state_from_name(std::string_view name);

// "BACKFILL|SUPPORT_ACK", unnamed bits as hex ("ACK|0x8000"), "0" for no bits.
std::string tap_connect_flags_text(std::uint32_t flags);
std::string tap_flags_text(std::uint16_t flags);

constexpr bool has_flag(std::uint32_t flags, TapConnectFlag flag) {
  return (flags & static_cast<std::uint32_t>(flag)) != 0;
}
constexpr bool has_flag(std::uint16_t flags, TapFlag flag) {
  return (flags & static_cast<std::uint16_t>(flag)) != 0;
}

}  // namespace tapharness::protocol
