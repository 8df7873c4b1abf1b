// SASL PLAIN over the memcached binary protocol, both sides (protocol.md section 2.1: opcodes
// 0x20 SASL_LIST_MECHS and 0x21 SASL_AUTH; gomemcached's Auth(user, pass) lists the
// mechanisms, then, if PLAIN is among them, authenticates with it).
//
//   Bytes out;
//   encode_sasl_list_mechs(out);                      // 24 bytes: request, opcode 0x20
//   encode_sasl_auth_plain(out, "user", "secret");    // key "PLAIN", value "\0user\0secret"
//   // the server's side:
//   if (auto plain = parse_sasl_plain(frame.value)) check(plain->user, plain->password);
//   encode_sasl_response(out, Opcode::sasl_auth, frame.header.opaque, Status::success, "Authenticated");
//   // the client reading the replies:
//   if (auto error = check_sasl_response(frame, Opcode::sasl_list_mechs)) fail(*error);
//   sasl_mechs_include(as_chars(frame.value), kSaslPlain);
//
// Encoders append to the caller's buffer and return the bytes appended (0, buffer untouched,
// when a part is too long for its length field). Parsers take views and copy what they keep.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/bytes.hpp"
#include "protocol/decode_error.hpp"
#include "protocol/frame.hpp"
#include "protocol/opcode.hpp"

namespace tapharness::protocol {

// The one mechanism the client speaks (RFC 4616).
inline constexpr std::string_view kSaslPlain = "PLAIN";

// A SASL_LIST_MECHS request: opcode 0x20, no extras, key or value.
std::size_t encode_sasl_list_mechs(Bytes& out, std::uint32_t opaque = 0);

// A SASL_AUTH request for PLAIN: opcode 0x21, key "PLAIN", value "\0user\0password" (an empty
// authorization identity, as gomemcached sends it). No check of the user or password: a
// NUL inside either goes out as it is and the server judges it.
std::size_t encode_sasl_auth_plain(Bytes& out, std::string_view user, std::string_view password,
                                   std::uint32_t opaque = 0);

// The server's reply to a SASL request: magic 0x81, the request's opcode and opaque, the
// status, `body` as the value (the mechanism list, or a text such as "Authenticated").
std::size_t encode_sasl_response(Bytes& out, Opcode opcode, std::uint32_t opaque, Status status,
                                 std::string_view body);

// What a PLAIN message says: authzid NUL authcid NUL passwd (RFC 4616).
struct SaslPlain {
  std::string user;      // authcid
  std::string password;  // passwd
  friend bool operator==(const SaslPlain&, const SaslPlain&) = default;
};

// Reads a SASL_AUTH PLAIN value. The authorization identity may be empty or not (it is not
// kept); the user must not be empty; the password may be (the server decides). Nullopt
// unless the value holds exactly two NULs and a user.
std::optional<SaslPlain> parse_sasl_plain(ByteView body);

// Whether the reply to a SASL request is one: response magic and the request's opcode.
// Otherwise DecodeErrorCode::unexpected_sasl_reply at the offending field (magic or
// opcode), its limit the opcode waited for.
std::optional<DecodeError> check_sasl_response(const Frame& frame, Opcode request);

// Whether a SASL_LIST_MECHS reply's value names `mechanism`: the list is separated by
// spaces (memcached and ep-engine send "CRAM-MD5 PLAIN"); names are compared whole and
// case-sensitively, as SASL names are upper case. (gomemcached looks for the substring
// "PLAIN", so it would also take "PLAINTEXT"; a whole name is what the list means.)
bool sasl_mechs_include(std::string_view mechanisms, std::string_view mechanism);

}  // namespace tapharness::protocol
