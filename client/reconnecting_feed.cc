#include "client/reconnecting_feed.hpp"

#include <algorithm>

namespace tapharness::client {

bool reconnects_after(EndReason reason) {
  switch (reason) {
    case EndReason::truncated:
    case EndReason::protocol_error:
    case EndReason::io_error:
    case EndReason::connect_timeout:
    case EndReason::idle_timeout: return true;
    case EndReason::eof:
    case EndReason::end_stream:
    case EndReason::connect_rejected:
    case EndReason::auth_failed:
    case EndReason::closed: return false;
  }
  return false;
}

std::optional<Duration> ReconnectSchedule::after_end(EndReason reason, bool delivered_events) {
  if (!reconnects_after(reason)) return std::nullopt;
  if (delivered_events) in_a_row_ = 0;
  if (in_a_row_ >= policy_.attempts) return std::nullopt;
  ++in_a_row_;
  return backoff(in_a_row_);
}

Duration ReconnectSchedule::backoff(std::uint32_t n) const {
  const Duration cap = std::clamp(policy_.max_backoff, Duration{0}, FeedOptions::kMaxTimeout);
  Duration wait = std::clamp(policy_.backoff, Duration{0}, cap);
  // At most as many doublings as it takes to reach the cap (a day in ms: 27), whatever n is.
  for (std::uint32_t i = 1; i < n && wait > Duration{0} && wait < cap; ++i) {
    wait = wait > cap / 2 ? cap : wait * 2;
  }
  return wait;
}

ReconnectingFeed::ReconnectingFeed(asio::any_io_executor executor, std::string host, std::string port,
                                   FeedOptions options, ReconnectHandlers handlers)
    : strand_(asio::make_strand(executor)),
      host_(std::move(host)),
      port_(std::move(port)),
      options_(std::move(options)),
      handlers_(std::move(handlers)),
      schedule_(options_.reconnect),
      backoff_timer_(strand_) {}

std::shared_ptr<ReconnectingFeed> ReconnectingFeed::start(asio::any_io_executor executor, std::string host,
                                                          std::string port, FeedOptions options,
                                                          ReconnectHandlers handlers) {
  std::shared_ptr<ReconnectingFeed> feed(
      new ReconnectingFeed(std::move(executor), std::move(host), std::move(port), std::move(options),
                           std::move(handlers)));
  asio::post(feed->strand_, [weak = std::weak_ptr(feed)] {
    if (auto self = weak.lock()) self->connect();
  });
  return feed;
}

ReconnectingFeed::~ReconnectingFeed() {
  // No handler runs after this: the current feed's close() waits for one in progress, its
  // end and the backoff timer's find the object gone.
  if (feed_) feed_->close();
}

void ReconnectingFeed::close() {
  std::shared_ptr<TapFeed> feed;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    feed = feed_;
  }
  // Outside the lock: close() waits for an on_event in progress, which may call close() too.
  if (feed) feed->close();
  asio::post(strand_, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->backoff_timer_.cancel();  // its handler reports the end
  });
}

void ReconnectingFeed::connect() {
  if (finished_) return;
  bool closed = false;
  {
    std::lock_guard lock(mutex_);
    closed = closed_;
  }
  // Closed before this connection began (during the backoff): the end, with no connection.
  if (closed) return finish(FeedEnd{.reason = EndReason::closed});
  const std::uint32_t n = ++connections_;
  events_ = 0;
  if (handlers_.on_connection) handlers_.on_connection(n);
  // The feed's executor is the strand, so its handlers and ours never run at once.
  auto feed = std::make_shared<TapFeed>(connect_feed(strand_, host_, port_, options_));
  {
    std::lock_guard lock(mutex_);
    closed = closed_;
    feed_ = feed;
  }
  if (closed) feed->close();  // close() came meanwhile (perhaps from on_connection): it ends `closed`
  const std::weak_ptr<ReconnectingFeed> weak = weak_from_this();
  feed->async_consume(
      [weak](const protocol::TapEventView& event) {
        auto self = weak.lock();
        if (!self) return protocol::Status::success;
        ++self->events_;
        return self->handlers_.on_event ? self->handlers_.on_event(event) : protocol::Status::success;
      },
      [weak](const FeedEnd& end) {
        if (auto self = weak.lock()) self->on_feed_end(end);
      });
}

void ReconnectingFeed::on_feed_end(const FeedEnd& end) {
  if (finished_) return;
  bool closed = false;
  {
    std::lock_guard lock(mutex_);
    closed = closed_;
  }
  const std::optional<Duration> wait = closed ? std::nullopt : schedule_.after_end(end.reason, events_ > 0);
  if (!wait) return finish(end);
  if (handlers_.on_end) handlers_.on_end(end, false);
  backoff_timer_.expires_after(*wait);
  // Cancelled by close(): then connect() finds it closed and reports the end.
  backoff_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code&) {
    if (auto self = weak.lock()) self->connect();
  });
}

void ReconnectingFeed::finish(const FeedEnd& end) {
  finished_ = true;
  if (handlers_.on_end) handlers_.on_end(end, true);
}

}  // namespace tapharness::client
