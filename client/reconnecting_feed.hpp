// A consumer that follows host:port across connections: a TapFeed per connection, the same
// FeedOptions each time (same name and arguments, so a producer with tap_keepalive resends
// what was not acknowledged, protocol.md section 5.6), and another connection after one ends
// in an error, up to FeedOptions::reconnect.attempts in a row, with a doubling backoff.
//
//   FeedOptions options;
//   options.args.client_name = "replica-1";
//   options.reconnect = {.attempts = 5, .backoff = std::chrono::milliseconds(100)};
//   auto feed = ReconnectingFeed::start(io.get_executor(), "127.0.0.1", "11210", options,
//       {.on_connection = [](std::uint32_t n) { log("connection {}", n); },
//        .on_event = [](const protocol::TapEventView& e) { apply(e); return protocol::Status::success; },
//        .on_end = [](const FeedEnd& end, bool last) { if (last) done(); }});
//   feed->close();   // any thread
//
// Guarantees:
// - Per connection (1-based; each attempt is one, a failed connect too): on_connection(n),
//   then its events in the server's order (on_event, push style as TapFeed::async_consume,
//   its returned status the ACK's), then on_end(its end, last) once. Every ReconnectingFeed
//   reports on_end with last == true exactly once, and nothing after it.
// - It reconnects after an end in error (truncated, protocol_error, io_error,
//   connect_timeout, idle_timeout), never after connect_rejected, auth_failed, eof,
//   end_stream or closed. At most reconnect.attempts times in a row: an attempt that fails to
//   connect counts, and a connection that delivered at least one event resets the count.
// - Before each attempt it waits reconnect.backoff, doubled for each attempt in a row and
//   capped at reconnect.max_backoff (and at FeedOptions::kMaxTimeout); the wait starts
//   again from backoff after a connection that delivered events.
// - FeedOptions::ack_status is the same function object on every connection: its state
//   carries over (a NACK rule counts across connections).
// - close(): any thread, any time, repeatedly. After it returns no event is handed to
//   on_event. The running connection ends `closed` (on_end last); during a backoff the wait
//   is cancelled and on_end(closed, last) comes at once, with no on_connection before it.
// - Handlers run on one strand of the executor, never two at once. Destroying the last
//   shared_ptr closes the feed; then no handler runs any more.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "client/feed_end.hpp"
#include "client/feed_options.hpp"
#include "client/tap_feed.hpp"
#include "protocol/opcode.hpp"
#include "protocol/tap_event.hpp"
#include "third_party/asio.hpp"

namespace tapharness::client {

// Whether the reconnecting consumer tries again after a connection ended this way: after an
// error, but not after a refusal (connect_rejected, auth_failed: the same request would be
// refused again), a finished stream (eof, end_stream) or the consumer's own close().
bool reconnects_after(EndReason reason);

// The reconnect decisions, without I/O: how many attempts in a row, and the wait before each.
// The reconnecting consumer and the defective client (client/defects) share them.
class ReconnectSchedule {
 public:
  explicit ReconnectSchedule(ReconnectPolicy policy) : policy_(policy) {}

  // A connection ended: the wait before the next attempt, or nullopt when none follows.
  std::optional<Duration> after_end(EndReason reason, bool delivered_events);

  // Attempts made since the last connection that delivered events.
  std::uint32_t attempts_in_a_row() const { return in_a_row_; }

  // The wait before the `n`th attempt in a row (1-based): backoff * 2^(n-1), capped.
  Duration backoff(std::uint32_t n) const;

 private:
  ReconnectPolicy policy_;
  std::uint32_t in_a_row_ = 0;
};

struct ReconnectHandlers {
  std::function<void(std::uint32_t connection)> on_connection;  // before each connection's events, 1-based
  // Each event, as TapFeed::async_consume hands it over; the status is its ACK's (combined
  // with FeedOptions::ack_status as async_consume does). Only this Status-returning form:
  // a handler with nothing to say returns protocol::Status::success. Unset: SUCCESS.
  std::function<protocol::Status(const protocol::TapEventView&)> on_event;
  std::function<void(const FeedEnd&, bool last)> on_end;  // each connection's end; last: no reconnect follows
};

class ReconnectingFeed : public std::enable_shared_from_this<ReconnectingFeed> {
 public:
  // Starts the first connection at once (its on_connection runs on the executor, not here).
  static std::shared_ptr<ReconnectingFeed> start(asio::any_io_executor executor, std::string host,
                                                 std::string port, FeedOptions options, ReconnectHandlers handlers);

  ReconnectingFeed(const ReconnectingFeed&) = delete;
  ReconnectingFeed& operator=(const ReconnectingFeed&) = delete;
  ~ReconnectingFeed();

  // Any thread: see the guarantees above.
  void close();

  // Connections begun so far (attempts included), any thread.
  std::uint32_t connections() const { return connections_.load(); }

 private:
  using Strand = asio::strand<asio::any_io_executor>;

  ReconnectingFeed(asio::any_io_executor executor, std::string host, std::string port, FeedOptions options,
                   ReconnectHandlers handlers);
  void connect();                  // on the strand: the next connection
  void on_feed_end(const FeedEnd& end);
  void finish(const FeedEnd& end);  // the last end

  Strand strand_;
  std::string host_;
  std::string port_;
  FeedOptions options_;
  ReconnectHandlers handlers_;
  ReconnectSchedule schedule_;
  asio::steady_timer backoff_timer_;
  std::uint64_t events_ = 0;  // delivered on the current connection
  bool finished_ = false;     // the last end was reported

  std::mutex mutex_;  // guards closed_ and feed_ between close() and the strand
  bool closed_ = false;
  std::shared_ptr<TapFeed> feed_;  // the current connection's
  std::atomic<std::uint32_t> connections_{0};
};

}  // namespace tapharness::client
