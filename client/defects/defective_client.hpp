// The built-in client with defects (defect.hpp): the correct feed, behind a WireProxy for the
// wire defects, its options changed for the behaviour defects, and what it reports changed
// for the reporting ones. tap_tail --defect and tap_scenario --defects run it.
//
//   auto client = DefectiveClient::start(executor, "127.0.0.1", "11210", options, defects,
//                                        {.item = print, .crash = die, .done = quit});
//   client->close();   // whenever; `done` still comes
//
// It takes FeedOptions as the correct client does: auth and ack_status go to each
// connection's feed, and with reconnect.attempts above 0 it follows the server across
// connections as ReconnectingFeed does (the same ReconnectSchedule), reporting a
// ReportedConnection before each connection's items and each connection's end. no_reconnect
// forces its attempts to 0 and keeps the markers, so it reads as the correct client would
// until it fails to come back.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "client/defects/defect.hpp"
#include "client/defects/wire_proxy.hpp"
#include "client/json_lines.hpp"
#include "client/reconnecting_feed.hpp"
#include "client/tap_feed.hpp"

namespace tapharness::client {

class DefectiveClient : public std::enable_shared_from_this<DefectiveClient> {
 public:
  struct Callbacks {
    // With reconnect: a ReportedConnection first, per connection; then each event, then the
    // end (none after a crash).
    std::function<void(ReportedItem)> item;
    std::function<void(const std::string& why)> crash;  // instead of an end: it crashed
    std::function<void()> done;  // everything has stopped, connections included
  };

  // Connects to host:port (within options.connect_timeout) and starts the feed through the
  // proxy; when the proxy cannot connect, the feed connects directly and reports that itself.
  static std::shared_ptr<DefectiveClient> start(asio::any_io_executor executor, std::string host, std::string port,
                                                FeedOptions options, DefectSet defects, Callbacks callbacks);

  void close();

 private:
  DefectiveClient(asio::any_io_executor executor, std::string host, std::string port, FeedOptions options,
                  DefectSet defects, Callbacks callbacks);
  asio::awaitable<void> connect(std::shared_ptr<DefectiveClient> self);  // one connection
  void on_crash(const std::string& why);
  void on_end(const FeedEnd& end);
  void start_feed(std::string host, std::string port);
  void on_item(ReportedItem item);
  void end_closed();  // closed before a connection's feed began
  void maybe_done();

  asio::any_io_executor executor_;
  std::string host_;
  std::string port_;
  FeedOptions options_;
  DefectSet defects_;
  Callbacks callbacks_;
  ReconnectSchedule schedule_;
  bool markers_;  // the options asked for reconnects: report each connection
  std::uint32_t connection_ = 0;
  std::uint64_t events_ = 0;  // on the current connection
  asio::steady_timer backoff_timer_;
  std::shared_ptr<WireProxy::NackedKeys> nacked_keys_ = std::make_shared<WireProxy::NackedKeys>();
  std::shared_ptr<WireProxy> proxy_;
  std::optional<TapFeed> feed_;
  std::deque<std::pair<std::uint32_t, std::uint32_t>> deletions_;  // misread flags and expiry, in order
  bool crashed_ = false;
  bool ended_ = false;  // the last end was reported (or nothing more will be)
  int proxies_running_ = 0;
  bool closed_ = false;
};

}  // namespace tapharness::client
