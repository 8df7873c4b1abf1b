// A blocking TAP feed: the asynchronous feed driven on a private io_context by the calling
// thread, in the manner of Asio's blocking_tcp_client example (not a second implementation).
//
//   BlockingFeed feed(options);
//   feed.connect("127.0.0.1", "11210");
//   while (auto item = feed.next(std::chrono::seconds(5))) {
//     if (auto* end = std::get_if<FeedEnd>(&*item)) break;
//     handle(std::get<protocol::TapEvent>(*item));
//   }
//
// next() is for one consumer thread; close() may be called from any thread, also while
// next() is waiting, and never blocks on it.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "client/tap_feed.hpp"

namespace tapharness::client {

template <class Stream>
class BasicBlockingFeed {
 public:
  explicit BasicBlockingFeed(FeedOptions options) : options_(std::move(options)) {}
  BasicBlockingFeed(const BasicBlockingFeed&) = delete;
  BasicBlockingFeed& operator=(const BasicBlockingFeed&) = delete;

  ~BasicBlockingFeed() {
    close();
    std::lock_guard lock(run_mutex_);
    feed_.reset();
    // Let the aborted operations finish so the stream is released before the context.
    io_.restart();
    io_.run_for(std::chrono::seconds(1));
  }

  // The context streams for start() must be created on.
  asio::io_context& context() { return io_; }

  // Starts the feed on an already connected stream.
  void start(Stream stream) {
    feed_.emplace(std::move(stream), options_);
    feed_->start();
  }

  // TCP: connects to host:port (within the connect timeout) and starts the feed.
  void connect(std::string host, std::string port) {
    feed_.emplace(Stream(io_), options_);
    feed_->start_connect(std::move(host), std::move(port));
  }

  // The next event or the end; std::nullopt when nothing came within `timeout` (call again
  // to keep waiting for the same item). An event it returns is acknowledged as it returns,
  // and none is returned once close() has returned.
  std::optional<FeedItem> next(Duration timeout) {
    std::lock_guard lock(run_mutex_);
    if (!feed_) return FeedEnd{.reason = EndReason::closed};
    if (!waiting_) {
      waiting_ = true;
      feed_->core().next_held([this](FeedItem item, Core::Handover handover) {
        ready_ = std::move(item);
        handover_ = std::move(handover);
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!ready_) {
      if (io_.stopped()) io_.restart();
      if (io_.run_one_until(deadline) == 0 && std::chrono::steady_clock::now() >= deadline) break;
    }
    if (!ready_) return std::nullopt;
    waiting_ = false;
    std::optional<FeedItem> item = std::move(ready_);
    ready_.reset();
    feed_->core().hand_to_caller(*item, handover_);
    if (feed_->core().closing()) {
      // A close() from another thread left its work to this thread: carry it out now.
      io_.restart();
      io_.poll();
    }
    return item;
  }

  // Any thread. When no thread is inside next(), the close is carried out here and now;
  // otherwise that thread carries it out promptly.
  void close() {
    if (!feed_) return;
    feed_->close();
    if (std::unique_lock lock(run_mutex_, std::try_to_lock); lock.owns_lock()) {
      if (io_.stopped()) io_.restart();
      io_.poll();
    }
  }

 private:
  FeedOptions options_;
  asio::io_context io_;
  std::optional<BasicTapFeed<Stream>> feed_;
  std::mutex run_mutex_;
  using Core = detail::FeedCore<Stream>;
  bool waiting_ = false;
  std::optional<FeedItem> ready_;
  typename Core::Handover handover_;  // ready_'s, until next() hands it to its caller
};

using BlockingFeed = BasicBlockingFeed<asio::ip::tcp::socket>;

}  // namespace tapharness::client
