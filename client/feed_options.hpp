// How a TAP feed connects, what it asks the server for, and its bounds.
//
//   FeedOptions options;
//   options.args.client_name = "replica-1";
//   options.args.support_ack = true;
//   options.idle_timeout = std::chrono::seconds(30);
//   options.auth = Credentials{"replica", "secret"};               // SASL PLAIN first
//   options.ack_status = make_ack_status(NackRule{{{"k1", 1}}});   // client/nack_rule.hpp
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "protocol/frame_decoder.hpp"
#include "protocol/opcode.hpp"
#include "protocol/tap_connect.hpp"
#include "protocol/tap_event.hpp"

namespace tapharness::client {

using Duration = std::chrono::milliseconds;

// Who the client is to a server that asks (SASL PLAIN). Also FeedOptions::Credentials.
struct Credentials {
  std::string user;
  std::string password;
};

// How the reconnecting consumer (client/reconnecting_feed.hpp) follows a server across
// connections; one TapFeed is one connection and ignores it. Also FeedOptions::ReconnectPolicy.
struct ReconnectPolicy {
  std::uint32_t attempts = 0;   // reconnects in a row after errors; 0: never
  Duration backoff{100};        // the wait before the first of them, doubling for each next
  Duration max_backoff{5000};   // and never longer than this
};

struct FeedOptions {
  using Credentials = client::Credentials;
  using ReconnectPolicy = client::ReconnectPolicy;

  // What TAP_CONNECT asks for, exactly as the seed's TapArguments.
  protocol::TapArguments args;

  // TCP only: resolving and connecting must finish within this time.
  Duration connect_timeout{5000};

  // End the feed when no bytes arrive for this long (a frame that trickles in is not idle).
  // Unset: wait forever (an idle ep-engine stream sends a NOOP only every 200 s by default).
  std::optional<Duration> idle_timeout;

  // Timeouts are taken as at most this (a day); longer would overflow the clock.
  static constexpr Duration kMaxTimeout{24 * 60 * 60 * 1000};

  // The queue between the socket and the consumer. When either bound is reached the feed
  // stops reading until the consumer takes events, so memory stays bounded.
  std::size_t max_queued_events = 4096;
  std::size_t max_queued_bytes = 8 * 1024 * 1024;  // keys and values of queued events

  // Bytes asked for per read, and so the read buffer's usual size (resident per feed).
  // 1 MiB: on loopback a stream of small values is consumed 1.1-2x faster than with 256 KiB
  // reads and more than 64 KiB, 4 KiB values alike (bench/feed_throughput measures all
  // three); a process with many feeds may want less.
  std::size_t read_size = 1024 * 1024;

  // Frame size limits, checked from each header before its body is buffered.
  protocol::Limits limits;

  // SASL PLAIN before TAP_CONNECT: LIST_MECHS, then AUTH (as gomemcached's Auth). The
  // exchange must finish within connect_timeout of the connection; a refusal, or a server
  // that lists no PLAIN, ends the feed with auth_failed. Unset: TAP_CONNECT straight away.
  std::optional<Credentials> auth;

  // Used by the reconnecting consumer (client/reconnecting_feed.hpp), not by one TapFeed.
  ReconnectPolicy reconnect;

  // The status of each ACK the feed sends, asked once per event that requests an ACK, when
  // it is decoded (SUCCESS when unset); an ACK request that makes no event is answered
  // SUCCESS without asking. ETMPFAIL or EBUSY make the ACK a NACK: "I cannot take this item
  // now" (the producer sends it again later); any other status makes ep-engine disconnect.
  // It runs on the feed's strand. Copying FeedOptions copies the function: state it holds
  // through a pointer (as make_ack_status's counters) is shared by the copies.
  std::function<protocol::Status(const protocol::TapEventView&)> ack_status;
};

}  // namespace tapharness::client
