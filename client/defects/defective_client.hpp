// The built-in client with defects (defect.hpp): the correct feed, behind a WireProxy for the
// wire defects, its options changed for the behaviour defects, and what it reports changed
// for the reporting ones. tap_tail --defect and tap_scenario --defects run it.
//
//   auto client = DefectiveClient::start(executor, "127.0.0.1", "11210", options, defects,
//                                        {.item = print, .crash = die, .done = quit});
//   client->close();   // whenever; `done` still comes
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "client/defects/defect.hpp"
#include "client/defects/wire_proxy.hpp"
#include "client/json_lines.hpp"
#include "client/tap_feed.hpp"

namespace tapharness::client {

class DefectiveClient : public std::enable_shared_from_this<DefectiveClient> {
 public:
  struct Callbacks {
    std::function<void(ReportedItem)> item;  // each event, then the end (none after a crash)
    std::function<void(const std::string& why)> crash;  // instead of an end: it crashed
    std::function<void()> done;  // everything has stopped, connections included
  };

  // Connects to host:port (within options.connect_timeout) and starts the feed through the
  // proxy; when the proxy cannot connect, the feed connects directly and reports that itself.
  static std::shared_ptr<DefectiveClient> start(asio::any_io_executor executor, std::string host, std::string port,
                                                FeedOptions options, DefectSet defects, Callbacks callbacks);

  void close();

 private:
  DefectiveClient(asio::any_io_executor executor, FeedOptions options, DefectSet defects, Callbacks callbacks);
  asio::awaitable<void> connect(std::shared_ptr<DefectiveClient> self, std::string host, std::string port);
  void on_crash(const std::string& why);
  void on_end(const FeedEnd& end);
  void start_feed(std::string host, std::string port);
  void report(ReportedItem item);
  void on_item(ReportedItem item);
  void maybe_done();

  asio::any_io_executor executor_;
  FeedOptions options_;
  DefectSet defects_;
  Callbacks callbacks_;
  std::shared_ptr<WireProxy> proxy_;
  std::optional<TapFeed> feed_;
  std::deque<std::pair<std::uint32_t, std::uint32_t>> deletions_;  // misread flags and expiry, in order
  bool crashed_ = false;
  bool ended_ = false;
  bool proxy_done_ = true;
  bool closed_ = false;
};

}  // namespace tapharness::client
