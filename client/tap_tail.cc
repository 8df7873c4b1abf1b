// tap_tail: follows a TAP stream and prints it as JSON lines (see tail_options.cc --help).
#include <csignal>
#include <cstdio>

#include <fmt/format.h>

#include "cli/conventions.hpp"
#include "client/defects/defective_client.hpp"
#include "client/json_lines.hpp"
#include "client/tail_options.hpp"
#include "client/tap_feed.hpp"

namespace {

// With --defect: the same output, from the defective client; a crash prints the reference's
// panic and exits 2 without an end line, as a Go panic does.
int run_defective(const tapharness::client::TailOptions& options) {
  using namespace tapharness;
  using namespace tapharness::client;
  asio::io_context io;
  int status = 1;
  auto client = DefectiveClient::start(
      io.get_executor(), options.host, options.port, options.feed, options.defects,
      {.item =
           [&](ReportedItem item) {
             if (auto* event = std::get_if<protocol::TapEvent>(&item)) {
               fmt::print("{}\n", event_json(*event));
               return;
             }
             const auto& end = std::get<ReportedEnd>(item);
             fmt::print("{}\n", end_json(end));
             std::fflush(stdout);
             status = end.how == ReportedEnd::How::error    ? 1
                      : end.how == ReportedEnd::How::closed ? cli::kInterruptedStatus
                                                            : 0;
           },
       .crash =
           [&](const std::string& why) {
             std::fflush(stdout);
             fmt::print(stderr, "{}\n", why);
             status = 2;
             io.stop();
           },
       .done = [&] { io.stop(); }});
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) client->close();
  });
  io.run();
  std::fflush(stdout);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tapharness;
  using namespace tapharness::client;

  auto parsed = parse_tail_options(argc, argv);
  if (auto* usage = std::get_if<TailUsage>(&parsed)) {
    fmt::print(usage->status == 0 ? stdout : stderr, "{}", usage->text);
    return usage->status;
  }
  const auto& options = std::get<TailOptions>(parsed);
  if (!options.defects.empty()) return run_defective(options);

  asio::io_context io;
  TapFeed feed = connect_feed(io.get_executor(), options.host, options.port, options.feed);
  // Ctrl-C and TERM close the feed, which then ends with "closed" like any other end.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) feed.close();
  });

  // Whatever has arrived is printed in one go and flushed once, so a reader of the pipe sees
  // each line as soon as its event arrives without a flush per line.
  int status = 1;
  constexpr std::size_t kBatch = 256;
  std::function<void(std::vector<FeedItem>)> print = [&](std::vector<FeedItem> items) {
    for (const auto& item : items) {
      if (auto* event = std::get_if<protocol::TapEvent>(&item)) {
        fmt::print("{}\n", event_json(*event));
        continue;
      }
      const auto& end = std::get<FeedEnd>(item);
      fmt::print("{}\n", end_json(report_of(end)));
      std::fflush(stdout);
      status = end.clean() ? 0 : end.reason == EndReason::closed ? cli::kInterruptedStatus : 1;
      signals.cancel();
      return;
    }
    std::fflush(stdout);
    feed.async_next_batch(kBatch, print);
  };
  feed.async_next_batch(kBatch, print);
  io.run();
  return status;
}
