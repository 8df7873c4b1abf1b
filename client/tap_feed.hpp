// The TAP feed client: connects (or takes a connected stream), sends TAP_CONNECT, and
// delivers the server's stream as events, answering ACK requests (the seed's StartTapFeed,
// without its leaks, races and unbounded reads; shared/protocol.md section 6).
//
// Asynchronous use, on the caller's io_context, with a callback or an awaitable:
//
//   asio::io_context io;
//   TapFeed feed = connect_feed(io.get_executor(), "127.0.0.1", "11210", options);
//   feed.async_next([&](FeedItem item) { ... });                  // callback
//   FeedItem item = co_await feed.async_next(asio::use_awaitable);  // coroutine
//   feed.async_next_batch(256, [&](std::vector<FeedItem> items) { ... });  // many at once
//
// Guarantees:
// - Events arrive in the server's order; the end (FeedEnd) comes once, after every event.
// - A message carrying TAP_FLAG_ACK is acknowledged (same opcode and opaque) once its event
//   has been handed to the consumer, in order, one write in flight; messages that ask for an
//   ACK but produce no event are acknowledged in their turn, with SUCCESS.
// - An event's ACK carries the status FeedOptions::ack_status gave it when the frame was
//   decoded (SUCCESS without one), in every way of consuming (async_next, async_next_batch,
//   async_consume, BlockingFeed): ETMPFAIL or EBUSY make it a NACK. ack_status is asked
//   once per event that asks for an ACK, as it is decoded (before it is handed over), in
//   stream order, on the feed's strand.
// - In push style (async_consume) an on_event that returns protocol::Status gives the status
//   of the event's ACK; when ack_status also answered, its answer stands unless it was
//   SUCCESS. An on_event returning void leaves the status to ack_status.
// - With FeedOptions::auth the feed authenticates (SASL PLAIN: LIST_MECHS, then AUTH) before
//   TAP_CONNECT, within connect_timeout; a refusal ends it with auth_failed, and nothing of
//   the TAP stream is sent.
// - A slow consumer, or a server that asks for ACKs and does not read them, pauses reading:
//   memory is bounded by FeedOptions' queue bounds (queued events' bytes and ACKs not yet
//   written count against max_queued_bytes) plus one frame.
// - close() may be called from any thread at any time, repeatedly; after it returns no event
//   is handed to a consumer (it waits for a handler being handed events to return), and
//   nothing more is written. Destroying the feed closes it.
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "client/detail/feed_core.hpp"
#include "client/feed_end.hpp"
#include "client/feed_options.hpp"
#include "third_party/asio.hpp"

namespace tapharness::client {

template <class Stream>
class BasicTapFeed {
 public:
  // Takes a connected stream; nothing is sent until start().
  BasicTapFeed(Stream stream, FeedOptions options)
      : core_(std::make_shared<detail::FeedCore<Stream>>(std::move(stream), std::move(options))) {}

  BasicTapFeed(BasicTapFeed&&) noexcept = default;
  BasicTapFeed& operator=(BasicTapFeed&& other) noexcept {
    if (this != &other) {
      if (core_) core_->close();
      core_ = std::move(other.core_);
    }
    return *this;
  }
  ~BasicTapFeed() {
    if (core_) core_->close();
  }

  // Sends TAP_CONNECT and starts reading.
  void start() { core_->start(); }

  // TCP only: resolves and connects `host`:`port` within the connect timeout, then starts.
  void start_connect(std::string host, std::string port) {
    core_->start_connect(std::move(host), std::move(port));
  }

  // Completes with the next event or, once, the end (and the same end on later calls).
  // Signature: void(FeedItem).
  template <class CompletionToken>
  auto async_next(CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(FeedItem)>(
        [core = core_](auto handler) { core->next(std::move(handler)); }, token);
  }

  // Pulls in batches: completes with up to `max` items, the events already queued (at
  // least one) followed by the end if it came right after them, or the end alone. One
  // handler per batch, so a pulling consumer keeps up with the stream; the batch's ACKs go
  // out when it is handed over. Signature: void(std::vector<FeedItem>).
  template <class CompletionToken>
  auto async_next_batch(std::size_t max, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::vector<FeedItem>)>(
        [core = core_](auto handler, std::size_t max) { core->next_batch(max, std::move(handler)); }, token,
        max);
  }

  // Push-style, the fastest way to consume: `on_event(const protocol::TapEventView&)` runs
  // on the feed's strand for each event as soon as it is decoded (key and value are views
  // valid for the call; to_owned() keeps them), and its ACK goes out when it returns, with
  // the protocol::Status it returns if it returns one (see the guarantees); `on_end(FeedEnd)`
  // comes once, last. A slow on_event pauses reading. Use either this or async_next on a
  // feed, not both.
  template <class OnEvent, class OnEnd>
  void async_consume(OnEvent on_event, OnEnd on_end) {
    using Returned = std::invoke_result_t<OnEvent&, const protocol::TapEventView&>;
    static_assert(std::is_void_v<Returned> || std::is_same_v<Returned, protocol::Status>,
                  "on_event returns void, or the protocol::Status of the event's ACK");
    if constexpr (std::is_void_v<Returned>) {
      core_->consume(
          [on_event = std::move(on_event)](const protocol::TapEventView& event) mutable {
            on_event(event);
            return protocol::Status::success;
          },
          std::move(on_end));
    } else {
      core_->consume(std::move(on_event), std::move(on_end));
    }
  }

  // Stops the feed: see the guarantees above.
  void close() { core_->close(); }

  const FeedOptions& options() const { return core_->options(); }

  // The machinery, for BlockingFeed's hand-over (client/blocking_feed.hpp).
  detail::FeedCore<Stream>& core() { return *core_; }

 private:
  std::shared_ptr<detail::FeedCore<Stream>> core_;
};

using TapFeed = BasicTapFeed<asio::ip::tcp::socket>;

// A feed to `host`:`port` over TCP, connecting at once. A failure to connect is the feed's
// end (connect_timeout or io_error), delivered like any other.
inline TapFeed connect_feed(asio::any_io_executor executor, std::string host, std::string port,
                            FeedOptions options) {
  TapFeed feed(asio::ip::tcp::socket(executor), std::move(options));
  feed.start_connect(std::move(host), std::move(port));
  return feed;
}

}  // namespace tapharness::client
