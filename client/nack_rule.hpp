// NACKs on purpose: which keys a client answers "I cannot take this item now" (ETMPFAIL, or
// another status), and how many times each, as FeedOptions::ack_status (tap_tail --nack).
//
//   auto word = parse_nack_word("k1:2");   // {"k1", 2}: the first two ACK requests of k1
//   if (!word) usage_error(word.error().message());
//   NackRule rule{{*word}, protocol::Status::etmpfail};
//   options.ack_status = make_ack_status(rule);
//
// ep-engine sends a NACKed item again later (protocol.md section 5.4), so a rule of N NACKs
// for a key lets its (N+1)th delivery through with SUCCESS.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/opcode.hpp"
#include "protocol/result.hpp"
#include "protocol/tap_event.hpp"

namespace tapharness::client {

struct NackRule {
  // Each key and how many of its ACK requests are answered with `status` (a key listed
  // twice: the counts add up).
  std::vector<std::pair<std::string, std::uint32_t>> keys;
  protocol::Status status = protocol::Status::etmpfail;
};

// "KEY[:N]": N defaults to 1 and must be at least 1. The text after the last ':' is N, so a
// key that holds a colon is written with its count ("user:7:1"). Fails naming what is
// wrong: an empty key, or an N that is not a whole number from 1 to 4294967295.
Result<std::pair<std::string, std::uint32_t>, InputError> parse_nack_word(std::string_view word);

// The ack_status of `rule`: the first N ACK requests of an event whose key equals KEY are
// answered with rule.status, later ones (and every other event) with SUCCESS. The function
// object owns its counters; its copies share them (a FeedOptions copied to each connection
// of a reconnecting consumer counts across the connections), and a mutex guards them, so
// copies may run on different threads. A new call makes new counters.
std::function<protocol::Status(const protocol::TapEventView&)> make_ack_status(NackRule rule);

}  // namespace tapharness::client
