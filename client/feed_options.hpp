// How a TAP feed connects, what it asks the server for, and its bounds.
//
//   FeedOptions options;
//   options.args.client_name = "replica-1";
//   options.args.support_ack = true;
//   options.idle_timeout = std::chrono::seconds(30);
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include "protocol/frame_decoder.hpp"
#include "protocol/tap_connect.hpp"

namespace tapharness::client {

using Duration = std::chrono::milliseconds;

struct FeedOptions {
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
};

}  // namespace tapharness::client
