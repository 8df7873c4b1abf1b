// What the server checks in what a client sends: the TAP_CONNECT against `expect connect`,
// and responses against `expect ack`. Each check says what it expected and what it saw,
// field by field, so a report can show a near miss.
//
//   auto mismatch = match_connect(scenario.connect, request);   // empty: it matched
//   AckTarget target{.opaque = 5, .opcode = Opcode::tap_mutation};
//   matches(target, frame_header);
#pragma once

#include <optional>
#include <string>

#include "scenario/scenario.hpp"
#include "protocol/bytes.hpp"
#include "protocol/header.hpp"
#include "protocol/tap_connect.hpp"

namespace tapharness::mockserver {

using scenario::ExpectConnect;
using scenario::FieldMatcher;

// Every field of `request` that `expected` rules out, as "name: expected X, got Y" joined
// by "; "; empty when it matches.
std::string match_connect(const ExpectConnect& expected, const protocol::TapConnectRequest& request);

// What is wrong with the client's first frame (whole, as received) as the TAP_CONNECT
// `expected` describes: not a TAP_CONNECT, one that does not decode, or a field mismatch.
std::optional<std::string> judge_connect(const ExpectConnect& expected, protocol::ByteView frame);

// "any TAP_CONNECT", or the matchers in scenario syntax: "name=\"r1\" has=support_ack".
std::string describe(const ExpectConnect& expected);

// One ACK the server waits for: a response with this opaque (and opcode, status).
struct AckTarget {
  std::uint32_t opaque = 0;
  std::optional<protocol::Opcode> opcode;  // unset: any
  std::optional<protocol::Status> status;  // unset: any
};

bool matches(const AckTarget& target, const protocol::Header& frame);

// ETMPFAIL or EBUSY: the client cannot take the item now, and the producer may send it again.
inline bool is_nack(protocol::Status status) {
  return status == protocol::Status::etmpfail || status == protocol::Status::ebusy;
}

// "ACK (response) TAP_MUTATION opaque=0x00000005 status=SUCCESS"
std::string describe(const AckTarget& target);

// What a client frame is, in the same words: "response TAP_MUTATION opaque=0x00000005
// status=ETMPFAIL", or "request TAP_CONNECT ..." for anything that is not a response.
std::string describe_client_frame(const protocol::Header& frame);

// The field in which `frame` misses `target` most closely, for a near-miss report.
std::string near_miss(const AckTarget& target, const protocol::Header& frame);

}  // namespace tapharness::mockserver
