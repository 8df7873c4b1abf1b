// Client feed throughput over loopback, as a ratio to its ceiling: a raw reader that reads
// the very same byte stream from the same kind of sender and discards it.
//
//   bazel run -c opt //bench:feed_throughput -- [--events N] [--json FILE]
#include <chrono>
#include <string>

#include <fmt/format.h>

#include "bench/report.hpp"
#include "bench/stream_fixture.hpp"
#include "client/tap_feed.hpp"

namespace tapharness::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Measured {
  double seconds = 0;
  std::size_t events = 0;
  std::size_t bytes = 0;
  double cpu_seconds = 0;  // the reading thread's, user and system (raw reader and push only)

  double wall_ns_per_event() const { return ns_each(seconds, events); }
  double cpu_ns_per_event() const { return ns_each(cpu_seconds, events); }
};

// Reads everything and discards it: the ceiling for any client.
Measured raw_reader(const StreamShape& shape, std::size_t read_size, std::size_t wake_at = 0) {
  FastSender sender(shape);
  const RawRead read = read_and_discard(sender.port(), read_size, wake_at);
  return Measured{read.seconds, shape.events, read.bytes, read.cpu_seconds};
}

// The feed reading the sender's stream, consumed by a consumer that only counts, pushed
// each event as a view (async_consume).
Measured client_push(const StreamShape& shape, std::size_t read_size = client::FeedOptions{}.read_size) {
  const Consumed consumed = client_consume(shape, read_size);
  return Measured{shape.events / consumed.events_per_s, shape.events, 0, consumed.cpu_seconds};
}

// Why the client's best round fell short of the ceiling's, from both rounds' CPU time: a
// thread busy for less than its round waited (for the sender, on this machine); one busy
// throughout was held by its own work.
std::string why_below_ceiling(const Measured& client, const Measured& raw) {
  const double busy = client.cpu_seconds / client.seconds;
  return fmt::format(
      "in its best round the client's thread was busy {:.0f}% of the time ({:.1f} ns of CPU per event, {:.1f} ns "
      "wall){}; the ceiling's best round took {:.1f} ns per event wall, its thread busy {:.0f}% ({:.1f} ns of CPU)",
      busy * 100, client.cpu_ns_per_event(), client.wall_ns_per_event(),
      busy < 0.85 ? ": it waited for the sender, which ran slower in every client round than in the ceiling's best"
                  : ": its own work per event is what it lacks",
      raw.wall_ns_per_event(), raw.cpu_seconds / raw.seconds * 100, raw.cpu_ns_per_event());
}

// The feed reading the sender's stream, pulled by a consumer that only counts: `start`
// gets the feed and the counter, and makes the first request.
template <class StartPulling>
Measured client_pulled(const StreamShape& shape, StartPulling start) {
  FastSender sender(shape);
  asio::io_context io;
  client::FeedOptions options;
  options.args.support_ack = shape.ack_every != 0;
  Measured m;
  const auto began = Clock::now();
  client::TapFeed feed = client::connect_feed(io.get_executor(), "127.0.0.1", sender.port(), options);
  start(feed, m.events);
  io.run();
  m.seconds = std::chrono::duration<double>(Clock::now() - began).count();
  return m;
}

// One owned event at a time (async_next).
Measured client_pull(const StreamShape& shape) {
  std::function<void(client::FeedItem)> pull;
  return client_pulled(shape, [&pull](client::TapFeed& feed, std::size_t& events) {
    pull = [&](client::FeedItem item) {
      if (!std::holds_alternative<protocol::TapEvent>(item)) return;
      ++events;
      feed.async_next(pull);
    };
    feed.async_next(pull);
  });
}

// Batches of up to 256 owned events (async_next_batch).
Measured client_pull_batch(const StreamShape& shape) {
  std::function<void(std::vector<client::FeedItem>)> pull;
  return client_pulled(shape, [&pull](client::TapFeed& feed, std::size_t& events) {
    pull = [&](std::vector<client::FeedItem> items) {
      for (const auto& item : items) {
        if (!std::holds_alternative<protocol::TapEvent>(item)) return;
        ++events;
      }
      feed.async_next_batch(256, pull);
    };
    feed.async_next_batch(256, pull);
  });
}

void keep_best(Measured& best, const Measured& m) {
  if (best.seconds == 0 || m.seconds < best.seconds) best = m;
}

}  // namespace
}  // namespace tapharness::bench

int main(int argc, char** argv) {
  using namespace tapharness::bench;
  const auto [events, json] = parse_stream_args(argc, argv);
  Report report("feed_throughput");
  struct Case {
    const char* name;
    StreamShape shape;
    double target;
  };
  for (const Case& c : {Case{"100B", {events, 100, 0}, 0.8}, Case{"4KiB", {events / 10, 4096, 0}, 0.0},
                        Case{"100B_ack_every_100", {events, 100, 100}, 0.0}}) {
    // Rounds alternate between the ceiling and the client, so a noisy neighbour hits both;
    // each keeps its best round. Nine: on this machine a round runs either at full speed or
    // at a third of it (sender and reader waking each other on busy vCPUs), for the raw
    // reader and the client alike, and with five one side sometimes never ran at full speed.
    // The ceiling is the faster of 64 KiB and 1 MiB reads; the client reads with its default
    // (1 MiB), and with 64 KiB and 256 KiB to show the default is the right one.
    Measured raw, raw_64k, raw_1m, raw_woken, feed, feed_64k, feed_256k, pull, batch;
    for (int round = 0; round < 9; ++round) {
      keep_best(raw_64k, raw_reader(c.shape, 64 * 1024));
      keep_best(raw_1m, raw_reader(c.shape, 1024 * 1024));
      keep_best(raw_woken, raw_reader(c.shape, kFastestReadSize, kFastestWakeAt));
      keep_best(feed, client_push(c.shape));
      keep_best(feed_64k, client_push(c.shape, 64 * 1024));
      keep_best(feed_256k, client_push(c.shape, 256 * 1024));
      keep_best(batch, client_pull_batch(c.shape));
      if (round < 2) keep_best(pull, client_pull(c.shape));
    }
    raw = raw_64k.seconds <= raw_1m.seconds ? raw_64k : raw_1m;
    if (feed.events != c.shape.events) fmt::print(stderr, "feed delivered {} of {} events\n", feed.events, c.shape.events);
    report.add(fmt::format("raw_{}_64KiB_reads_events_per_s", c.name), "events/s", raw_64k.events / raw_64k.seconds);
    report.add(fmt::format("raw_{}_1MiB_reads_events_per_s", c.name), "events/s", raw_1m.events / raw_1m.seconds);
    // A reader the kernel wakes only at 256 KiB (SO_RCVLOWAT) is faster still, but no client
    // can read so: a stream that trickles would never wake it. Shown, not the ceiling.
    report.add(fmt::format("raw_{}_1MiB_reads_woken_at_256KiB_events_per_s", c.name), "events/s",
               raw_woken.events / raw_woken.seconds);
    report.add(fmt::format("client_{}_vs_raw_woken_at_256KiB", c.name), "ratio", raw_woken.seconds / feed.seconds);
    report.add(fmt::format("client_{}_64KiB_reads_vs_default", c.name), "ratio", feed.seconds / feed_64k.seconds);
    report.add(fmt::format("client_{}_256KiB_reads_vs_default", c.name), "ratio", feed.seconds / feed_256k.seconds);
    report.add(fmt::format("raw_{}_events_per_s", c.name), "events/s", raw.events / raw.seconds);
    report.add(fmt::format("raw_{}_MB_per_s", c.name), "MB/s", raw.bytes / raw.seconds / 1e6);
    report.add(fmt::format("client_{}_events_per_s", c.name), "events/s", feed.events / feed.seconds);
    report.add(fmt::format("client_{}_MB_per_s", c.name), "MB/s", raw.bytes / feed.seconds / 1e6);
    report.add(fmt::format("client_{}_cpu_per_event_ns", c.name), "ns", feed.cpu_ns_per_event());
    report.add(fmt::format("raw_{}_cpu_per_event_ns", c.name), "ns", raw.cpu_ns_per_event());
    report.add_ratio(fmt::format("client_{}_vs_raw", c.name), raw.seconds / feed.seconds, c.target,
                     why_below_ceiling(feed, raw));
    report.add(fmt::format("client_pull_{}_events_per_s", c.name), "events/s", pull.events / pull.seconds);
    report.add(fmt::format("client_pull_{}_vs_raw", c.name), "ratio", raw.seconds / pull.seconds);
    report.add(fmt::format("client_pull_batch_{}_events_per_s", c.name), "events/s", batch.events / batch.seconds);
    report.add(fmt::format("client_pull_batch_{}_vs_raw", c.name), "ratio", raw.seconds / batch.seconds);
  }
  report.print();
  report.append_json(json);
  return 0;
}
