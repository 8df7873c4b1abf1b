#include "protocol/tap_constants.hpp"

#include <algorithm>
#include <array>

namespace tapharness::protocol {
namespace {

constexpr std::array kConnectFlags{
    NamedValue<TapConnectFlag>{TapConnectFlag::backfill, "BACKFILL"},
    NamedValue<TapConnectFlag>{TapConnectFlag::dump, "DUMP"},
    NamedValue<TapConnectFlag>{TapConnectFlag::list_vbuckets, "LIST_VBUCKETS"},
    NamedValue<TapConnectFlag>{TapConnectFlag::takeover_vbuckets, "TAKEOVER_VBUCKETS"},
    NamedValue<TapConnectFlag>{TapConnectFlag::support_ack, "SUPPORT_ACK"},
    NamedValue<TapConnectFlag>{TapConnectFlag::request_keys_only, "REQUEST_KEYS_ONLY"},
    NamedValue<TapConnectFlag>{TapConnectFlag::checkpoint, "CHECKPOINT"},
    NamedValue<TapConnectFlag>{TapConnectFlag::registered_client, "REGISTERED_CLIENT"},
    NamedValue<TapConnectFlag>{TapConnectFlag::fix_flag_byteorder, "FIX_FLAG_BYTEORDER"},
};

constexpr std::array kTapFlags{
    NamedValue<TapFlag>{TapFlag::ack, "ACK"},
    NamedValue<TapFlag>{TapFlag::no_value, "NO_VALUE"},
    NamedValue<TapFlag>{TapFlag::network_byte_order, "NETWORK_BYTE_ORDER"},
};

constexpr std::array kOpaqueCodes{
    NamedValue<TapOpaqueCode>{TapOpaqueCode::enable_auto_nack, "ENABLE_AUTO_NACK"},
    NamedValue<TapOpaqueCode>{TapOpaqueCode::initial_vbucket_stream, "INITIAL_VBUCKET_STREAM"},
    NamedValue<TapOpaqueCode>{TapOpaqueCode::enable_checkpoint_sync, "ENABLE_CHECKPOINT_SYNC"},
    NamedValue<TapOpaqueCode>{TapOpaqueCode::open_checkpoint, "OPEN_CHECKPOINT"},
    NamedValue<TapOpaqueCode>{TapOpaqueCode::complete_vb_filter_change, "COMPLETE_VB_FILTER_CHANGE"},
    NamedValue<TapOpaqueCode>{TapOpaqueCode::stop_online_update, "STOP_ONLINEUPDATE"},
    NamedValue<TapOpaqueCode>{TapOpaqueCode::revert_online_update, "REVERT_ONLINEUPDATE"},
    NamedValue<TapOpaqueCode>{TapOpaqueCode::close_tap_stream, "CLOSE_TAP_STREAM"},
    NamedValue<TapOpaqueCode>{TapOpaqueCode::close_backfill, "CLOSE_BACKFILL"},
};

constexpr std::array kVBucketStates{
    NamedValue<VBucketState>{VBucketState::active, "ACTIVE"},
    NamedValue<VBucketState>{VBucketState::replica, "REPLICA"},
    NamedValue<VBucketState>{VBucketState::pending, "PENDING"},
    NamedValue<VBucketState>{VBucketState::dead, "DEAD"},
};

template <class E, std::size_t N>
std::string bits_text(const std::array<NamedValue<E>, N>& table, std::uint32_t bits) {
  if (bits == 0) return "0";
  std::string out;
  auto add = [&](std::string_view part) {
    if (!out.empty()) out += '|';
    out += part;
  };
  for (const auto& entry : table) {
    const auto bit = static_cast<std::uint32_t>(entry.value);
    if (bits & bit) {
      add(entry.name);
      bits &= ~bit;
    }
  }
  for (std::uint32_t bit = 1; bits != 0; bit <<= 1) {
    if (bits & bit) {
      add(fmt::format("0x{:x}", bit));
      bits &= ~bit;
    }
  }
  return out;
}

}  // namespace

std::span<const NamedValue<TapConnectFlag>> all_tap_connect_flags() { return kConnectFlags; }
std::span<const NamedValue<TapFlag>> all_tap_flags() { return kTapFlags; }
std::span<const NamedValue<TapOpaqueCode>> all_tap_opaque_codes() { return kOpaqueCodes; }
std::span<const NamedValue<VBucketState>> all_vbucket_states() { return kVBucketStates; }

std::string_view name_of(TapConnectFlag flag) { return find_name(all_tap_connect_flags(), flag); }
std::string_view name_of(TapFlag flag) { return find_name(all_tap_flags(), flag); }
std::string_view name_of(TapOpaqueCode code) { return find_name(all_tap_opaque_codes(), code); }
std::string_view name_of(VBucketState state) { return find_name(all_vbucket_states(), state); }

std::optional<TapConnectFlag> tap_connect_flag_from_name(std::string_view name) {
  return find_value(all_tap_connect_flags(), name);
}
std::optional<TapFlag> tap_flag_from_name(std::string_view name) { return find_value(all_tap_flags(), name); }
std::optional<TapOpaqueCode> tap_opaque_code_from_name(std::string_view name) {
  return find_value(all_tap_opaque_codes(), name);
}
std::optional<VBucketState> vbucket_state_from_name(std::string_view name) {
  return find_value(all_vbucket_states(), name);
}

std::string tap_connect_flags_text(std::uint32_t flags) { return bits_text(kConnectFlags, flags); }
std::string tap_flags_text(std::uint16_t flags) { return bits_text(kTapFlags, flags); }

}  // namespace tapharness::protocol
