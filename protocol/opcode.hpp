// Magic bytes, opcodes and status codes of the memcached binary protocol, with their names
// (facts: shared/protocol.md sections 1 and 2).
//
// The enums hold any 8- or 16-bit value; values outside the named set are legal on the
// wire and print as hex. Names are the spec's, upper case:
//
//   fmt::format("{}", Opcode::tap_mutation)     // "TAP_MUTATION"
//   fmt::format("{}", Opcode{0x99})             // "0x99"
//   opcode_from_name("TAP_OPAQUE")              // Opcode::tap_opaque
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "protocol/format.hpp"
#include "protocol/named_value.hpp"

namespace tapharness::protocol {

enum class Magic : std::uint8_t {
  request = 0x80,   // client -> server, and every TAP message the server streams
  response = 0x81,  // server -> client replies, and the client's TAP ACKs
};

enum class Opcode : std::uint8_t {
  get = 0x00,
  set = 0x01,
  add = 0x02,
  replace = 0x03,
  del = 0x04,
  increment = 0x05,
  decrement = 0x06,
  quit = 0x07,
  flush = 0x08,
  getq = 0x09,
  noop = 0x0a,  // TAP producers send it on an idle stream; needs no reply
  version = 0x0b,
  getk = 0x0c,
  getkq = 0x0d,
  append = 0x0e,
  prepend = 0x0f,
  stat = 0x10,
  setq = 0x11,
  addq = 0x12,
  replaceq = 0x13,
  deleteq = 0x14,
  incrementq = 0x15,
  decrementq = 0x16,
  quitq = 0x17,
  flushq = 0x18,
  appendq = 0x19,
  prependq = 0x1a,
  touch = 0x1c,
  gat = 0x1d,
  gatq = 0x1e,
  hello = 0x1f,
  sasl_list_mechs = 0x20,
  sasl_auth = 0x21,
  sasl_step = 0x22,
  set_vbucket = 0x3d,
  tap_connect = 0x40,  // client -> server; the server answers only to refuse
  tap_mutation = 0x41,
  tap_delete = 0x42,
  tap_flush = 0x43,
  tap_opaque = 0x44,
  tap_vbucket_set = 0x45,
  tap_checkpoint_start = 0x46,
  tap_checkpoint_end = 0x47,
  get_all_vb_seqnos = 0x48,
  deregister_tap_client = 0x9e,
};

enum class Status : std::uint16_t {
  success = 0x0000,
  key_enoent = 0x0001,
  key_eexists = 0x0002,
  e2big = 0x0003,
  einval = 0x0004,
  not_stored = 0x0005,
  delta_badval = 0x0006,
  not_my_vbucket = 0x0007,
  no_bucket = 0x0008,
  locked = 0x0009,
  auth_stale = 0x001f,
  auth_error = 0x0020,
  auth_continue = 0x0021,
  erange = 0x0022,
  rollback = 0x0023,
  eaccess = 0x0024,
  unknown_command = 0x0081,
  enomem = 0x0082,
  not_supported = 0x0083,
  einternal = 0x0084,
  ebusy = 0x0085,    // a TAP NACK: the producer resends this message later
  etmpfail = 0x0086, // a TAP NACK: the producer resends this message later
};

std::span<const NamedValue<Opcode>> all_opcodes();
std::span<const NamedValue<Status>> all_statuses();

// The spec name, or an empty view for a value without one.
std::string_view name_of(Magic magic);
std::string_view name_of(Opcode opcode);
std::string_view name_of(Status status);

// Looks a spec name up, ignoring case ("tap_mutation" finds TAP_MUTATION).
std::optional<Opcode> opcode_from_name(std::string_view name);
std::optional<Status> status_from_name(std::string_view name);

// True for the server -> client TAP messages 0x41..0x47, whose body carries
// engine-specific bytes between the extras and the key (protocol.md section 4.1).
constexpr bool is_tap_message(Opcode opcode) {
  return opcode >= Opcode::tap_mutation && opcode <= Opcode::tap_checkpoint_end;
}

}  // namespace tapharness::protocol

// Header fields: an unnamed magic or opcode prints as 0xNN, a status as 0xNNNN.
template <>
inline constexpr bool tapharness::kUnnamedInHex<tapharness::protocol::Magic> = true;
template <>
inline constexpr bool tapharness::kUnnamedInHex<tapharness::protocol::Opcode> = true;
template <>
inline constexpr bool tapharness::kUnnamedInHex<tapharness::protocol::Status> = true;
