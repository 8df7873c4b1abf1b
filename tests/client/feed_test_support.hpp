// Test fixture pieces for the feed: a feed over an in-memory pipe, a fake server end that
// writes golden frames and collects what the client sent, and helpers that run the
// io_context until an item arrives.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "client/tap_feed.hpp"
#include "protocol/hex.hpp"
#include "tests/support/memory_stream.hpp"
#include "testing/printers.hpp"

namespace tapharness::client::testing {

using tapharness::testing::MemoryStream;

inline protocol::Bytes hex(std::string_view text) { return protocol::parse_hex(text).value(); }

class MemoryFeed {
 public:
  // `configure` sets up the client end (failure injection, read sizes) before the feed
  // takes it.
  explicit MemoryFeed(FeedOptions options = {},
                      const std::function<void(MemoryStream&)>& configure = {}) {
    auto [client, server] = tapharness::testing::make_memory_pipe(io_.get_executor());
    client_lifetime_ = client.lifetime();
    if (configure) configure(client);
    feed_.emplace(std::move(client), std::move(options));
    server_.emplace(std::move(server));
  }

  asio::io_context& io() { return io_; }
  BasicTapFeed<MemoryStream>& feed() { return *feed_; }
  MemoryStream& server() { return *server_; }

  void start() { feed_->start(); io_.poll(); }

  // Writes bytes from the server end (a whole stream, frames or a fragment).
  void send(const protocol::Bytes& bytes) {
    asio::async_write(*server_, asio::buffer(bytes), [](auto ec, auto) { ASSERT_FALSE(ec); });
    io_.poll();
  }
  void send_hex(std::string_view text) { send(hex(text)); }

  // Everything the client has written so far. (Bounded: a read that fails, as on a closed
  // server end, or that never completes, as on a stopped context, ends the loop.)
  protocol::Bytes received() {
    io_.poll();
    bool failed = false;
    for (int reads = 0; !failed && reads < 1000 && server_->bytes_unread() > 0; ++reads) {
      std::vector<std::uint8_t> chunk(server_->bytes_unread());
      bool done = false;
      server_->async_read_some(asio::buffer(chunk), [&](auto ec, std::size_t n) {
        done = true;
        failed = static_cast<bool>(ec);
        EXPECT_FALSE(ec) << "reading what the client sent: " << ec.message();
        received_.insert(received_.end(), chunk.begin(), chunk.begin() + n);
      });
      io_.poll();
      if (!done) {
        ADD_FAILURE() << "reading what the client sent did not complete (is the context stopped?)";
        break;
      }
    }
    return received_;
  }

  // Asks for the next item and runs the io_context until it arrives (or nothing is left
  // to run, which the test reports as a hang).
  FeedItem next() {
    std::optional<FeedItem> item;
    feed_->async_next([&](FeedItem i) { item = std::move(i); });
    run_until([&] { return item.has_value(); });
    EXPECT_TRUE(item.has_value()) << "no item arrived";
    return item.value_or(FeedEnd{.reason = EndReason::closed, .context = "test: no item"});
  }

  // The same for a batch of at most `max` items.
  std::vector<FeedItem> next_batch(std::size_t max) {
    std::optional<std::vector<FeedItem>> items;
    feed_->async_next_batch(max, [&](std::vector<FeedItem> i) { items = std::move(i); });
    run_until([&] { return items.has_value(); });
    EXPECT_TRUE(items.has_value()) << "no batch arrived";
    return items.value_or(std::vector<FeedItem>{});
  }

  // Lets the feed run for `duration`: its reads complete, its timers fire.
  void run_for(std::chrono::milliseconds duration) {
    io_.restart();
    io_.run_for(duration);
  }

  // Reads items until the end; returns the events, and the end through `end`.
  std::vector<protocol::TapEvent> drain(FeedEnd* end) {
    std::vector<protocol::TapEvent> events;
    for (;;) {
      FeedItem item = next();
      if (auto* e = std::get_if<FeedEnd>(&item)) {
        if (end) *end = *e;
        return events;
      }
      events.push_back(std::get<protocol::TapEvent>(item));
    }
  }

  std::weak_ptr<const void> client_lifetime() const { return client_lifetime_; }
  void destroy_feed() { feed_.reset(); }

 private:
  void run_until(const std::function<bool()>& done) {
    for (int i = 0; i < 1000 && !done(); ++i) {
      if (io_.poll() == 0) {
        io_.restart();
        if (io_.run_one_for(std::chrono::milliseconds(10)) == 0 && !done()) io_.restart();
      }
    }
  }

  asio::io_context io_;
  std::optional<BasicTapFeed<MemoryStream>> feed_;
  std::optional<MemoryStream> server_;
  std::weak_ptr<const void> client_lifetime_;
  protocol::Bytes received_;
};

}  // namespace tapharness::client::testing
