// tap_tail: follows a TAP stream and prints it as JSON lines (see tail_options.cc --help).
#include <unistd.h>

#include <algorithm>
#include <string_view>
#include <vector>

#include <cerrno>
#include <csignal>
#include <cstdio>

#include <fmt/format.h>

#include "cli/conventions.hpp"
#include "client/defects/defective_client.hpp"
#include "client/json_lines.hpp"
#include "client/reconnecting_feed.hpp"
#include "client/tail_options.hpp"
#include "client/tap_feed.hpp"

namespace {

// Standard output written in large pieces with write(2): stdio's buffering would copy again.
// Standard output's buffer: lines are written straight into it (a std::string would zero
// the room reserved for each line first), written out when full, at the end of each read,
// and at the end.
class StdoutBuffer {
 public:
  static constexpr std::size_t kFlushAt = 256 * 1024;

  // Room for `n` more bytes at the end: flushes first when they do not fit; grows only for a
  // line longer than the buffer (a value of megabytes).
  char* room(std::size_t n) {
    if (used_ + n > bytes_.size()) flush();
    if (n > bytes_.size()) bytes_.resize(n);
    return bytes_.data() + used_;
  }
  void commit(char* end) { used_ = static_cast<std::size_t>(end - bytes_.data()); }
  void append(std::string_view text) { commit(std::copy(text.begin(), text.end(), room(text.size()))); }
  std::size_t size() const { return used_; }

  void flush() {
    std::size_t at = 0;
    while (at < used_) {
      const ssize_t n = ::write(STDOUT_FILENO, bytes_.data() + at, used_ - at);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the reader went away: nothing more can be told
      at += static_cast<std::size_t>(n);
    }
    used_ = 0;
  }

 private:
  std::vector<char> bytes_ = std::vector<char>(kFlushAt + 64 * 1024);
  std::size_t used_ = 0;
};

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
             if (auto* connection = std::get_if<ReportedConnection>(&item)) {
               fmt::print("{}\n", connection_json(*connection));
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

// Events formatted into the buffer, which is written when it fills or when the feed has
// nothing more ready (a posted flush runs after the events of the current read).
struct EventPrinter {
  StdoutBuffer& out;
  tapharness::asio::io_context& io;
  bool flush_posted = false;

  void print(const tapharness::protocol::TapEventView& event) {
    char* end = tapharness::client::write_event_json(out.room(tapharness::client::event_json_bound(event) + 1), event);
    *end++ = '\n';
    out.commit(end);
    if (out.size() >= StdoutBuffer::kFlushAt) {
      out.flush();
    } else if (!flush_posted) {
      flush_posted = true;
      tapharness::asio::post(io, [this] {
        flush_posted = false;
        out.flush();
      });
    }
  }
};

// The exit status of an end: 0 when the server finished the stream, 130 after Ctrl-C, 1 for
// an error. With --reconnect, the last end's.
int status_of(const tapharness::client::FeedEnd& end) {
  using tapharness::client::EndReason;
  return end.clean() ? 0 : end.reason == EndReason::closed ? tapharness::cli::kInterruptedStatus : 1;
}

// With --reconnect N: the same lines through the same buffer and writer, each connection's
// after its {"connection":N} marker and followed by its end line.
int run_reconnecting(const tapharness::client::TailOptions& options) {
  using namespace tapharness;
  using namespace tapharness::client;
  asio::io_context io;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  StdoutBuffer out;
  EventPrinter printer{out, io};
  int status = 1;
  auto feed = ReconnectingFeed::start(
      io.get_executor(), options.host, options.port, options.feed,
      {.on_connection =
           [&](std::uint32_t n) {
             out.append(connection_json(ReportedConnection{n}) + '\n');
             out.flush();
           },
       .on_event =
           [&](const protocol::TapEventView& event) {
             printer.print(event);
             return protocol::Status::success;  // the ACK's status is --nack's (FeedOptions::ack_status)
           },
       .on_end =
           [&](const FeedEnd& end, bool last) {
             out.append(end_json(report_of(end)) + '\n');
             out.flush();
             status = status_of(end);
             if (last) signals.cancel();
           }});
  // Ctrl-C and TERM close the feed: the running connection ends "closed", and so does a wait
  // between connections.
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) feed->close();
  });
  io.run();
  out.flush();
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
  if (options.feed.reconnect.attempts > 0) return run_reconnecting(options);

  asio::io_context io;
  TapFeed feed = connect_feed(io.get_executor(), options.host, options.port, options.feed);
  // Ctrl-C and TERM close the feed, which then ends with "closed" like any other end.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) feed.close();
  });

  // Events are formatted into one buffer, written when it fills or when the feed has nothing
  // more ready (a posted flush runs after the events of the current read), so a reader of the
  // pipe sees each event as soon as it arrived, with one write per read rather than per line.
  StdoutBuffer out;
  EventPrinter printer{out, io};
  int status = 1;
  feed.async_consume([&](const protocol::TapEventView& event) { printer.print(event); },
      [&](const FeedEnd& end) {
        out.append(end_json(report_of(end)) + '\n');
        out.flush();
        status = status_of(end);
        signals.cancel();
      });
  io.run();
  return status;
}
