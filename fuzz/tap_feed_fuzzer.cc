// Fuzz target: the client feed reading an arbitrary server byte stream over an in-memory
// stream.
//
// Input: [mode][max read][write size][queue bound][read size][k][stream...]
// - mode bits 0-1, how the server side ends: 0 FIN, 1 RST, 2 FIN while the consumer calls
//   close() after taking k events, 3 never (the stream stays open; the test closes the feed
//   once nothing is left to run);
//   bit 2: tight frame limits (max body 256, key 32, extras 24) instead of the defaults;
//   bit 3: the client end's k-th I/O operation fails (connection_aborted);
//   bits 4-6: the consumer pulls batches of at most this many items (async_next_batch),
//   0: one at a time (async_next);
// - max read: at most this many bytes per read of the client end (0: all there is);
// - write size: the server writes the stream in pieces of this size, letting the feed run
//   between them (0: one write);
// - queue bound: the feed's max_queued_events (and 16 x it bytes), so it pauses reading
//   (0: the defaults);
// - read size: the feed's read size (0: 64 KiB).
//
// The feed runs with an eager consumer until nothing is left to run; it must settle within a
// bounded number of handler steps and, unless the server stays silent, have ended. Then
// check_feed (feed_harness.hpp) holds it to the oracle: exactly one end, the right one, no
// event after it, exactly the events and ACKs the bytes it read ask for. With a silent
// server it must not end by itself unless a frame ends it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "fuzz/feed_harness.hpp"
#include "fuzz/fuzz_check.hpp"
#include "fuzz/fuzz_input.hpp"

namespace tapharness::fuzz {
namespace {

constexpr protocol::Limits kTightLimits{.max_body = 256, .max_key = 32, .max_extras = 24};

enum class ServerEnd { fin, rst, fin_consumer_closes, silent };

// Runs ready handlers until none is left. Nothing here waits on a clock, so "none left"
// means the feed is waiting for the server, and the step bound catches a livelock.
void settle(asio::io_context& io, std::size_t& steps, std::size_t bound) {
  io.restart();
  while (io.poll_one() > 0) {
    FUZZ_CHECK(++steps <= bound, "the feed did not settle within {} handler steps", bound);
  }
}

}  // namespace
}  // namespace tapharness::fuzz

TAPHARNESS_FUZZ_TARGET(in) {
  using namespace tapharness;
  using namespace tapharness::fuzz;
  const std::uint8_t mode = in.byte();
  const std::uint8_t max_read = in.byte();
  const std::uint8_t write_size = in.byte();
  const std::uint8_t queue_bound = in.byte();
  const std::uint8_t read_size = in.byte();
  const std::uint8_t k = in.byte();
  const protocol::ByteView stream = in.rest();
  const auto server_end = static_cast<ServerEnd>(mode & 3);

  client::FeedOptions options;
  options.args.client_name = "fuzz";
  options.args.support_ack = true;
  if ((mode & 4) != 0) options.limits = kTightLimits;
  if (queue_bound != 0) {
    options.max_queued_events = queue_bound;
    options.max_queued_bytes = 16u * queue_bound;
  }
  if (read_size != 0) options.read_size = read_size;

  asio::io_context io;
  auto log = std::make_shared<StreamLog>();
  auto pipe = tapharness::testing::make_memory_pipe(io.get_executor());
  MemoryStream& server = pipe.second;
  if (max_read != 0) pipe.first.set_max_read(max_read);
  if ((mode & 8) != 0) pipe.first.fail_operation(k, asio::error::connection_aborted);
  RecordedFeed feed(RecordingStream(std::move(pipe.first), log), options);
  const std::size_t batch = (mode >> 4) & 7;
  Consumer consumer(feed, server_end == ServerEnd::fin_consumer_closes ? std::optional<std::size_t>(k) : std::nullopt,
                    batch);

  // Every byte costs a read at worst, every frame a handful of handlers.
  const std::size_t bound = 64 * (stream.size() + 16);
  std::size_t steps = 0;
  feed.start();
  consumer.start();
  settle(io, steps, bound);

  const std::size_t piece = write_size == 0 ? stream.size() : write_size;
  for (std::size_t at = 0; at < stream.size(); at += piece) {
    const auto chunk = stream.subspan(at, std::min(piece, stream.size() - at));
    asio::async_write(server, asio::buffer(chunk.data(), chunk.size()), [](auto ec, std::size_t) {
      FUZZ_CHECK(!ec, "the server end could not write: {}", ec.message());
    });
    settle(io, steps, bound);
  }

  // What the feed wrote, read at the server end as a peer sees it, must be what it logged.
  protocol::Bytes at_server;
  auto collect = [&] {
    while (server.bytes_unread() > 0) {
      std::vector<std::uint8_t> chunk(server.bytes_unread());
      server.async_read_some(asio::buffer(chunk), [&](auto ec, std::size_t n) {
        if (!ec) at_server.insert(at_server.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
      });
      settle(io, steps, bound);
    }
  };

  switch (server_end) {
    case ServerEnd::fin:
    case ServerEnd::fin_consumer_closes:
      server.shutdown_send();
      settle(io, steps, bound);
      break;
    case ServerEnd::rst:
      collect();
      server.reset();
      settle(io, steps, bound);
      break;
    case ServerEnd::silent: {
      // Still open: only a frame (or an injected failure) may have ended the feed.
      const auto expected = expect_feed(log->read, options.limits);
      const bool failed = log->read_end || log->write_failed;
      FUZZ_CHECK(failed || consumer.observed().end.has_value() == expected.terminal.has_value(),
                 "with the server silent the feed {} ended{}", consumer.observed().end ? "has" : "has not",
                 consumer.observed().end ? fmt::format(" ({})", *consumer.observed().end) : std::string());
      consumer.close();
      settle(io, steps, bound);
      break;
    }
  }
  FUZZ_CHECK(consumer.observed().end.has_value(), "the feed hangs: nothing left to run and no end after {} bytes",
             log->read.size());
  check_feed(consumer.observed(), *log, options);
  if (server_end != ServerEnd::rst) collect();
  FUZZ_CHECK(at_server == log->written, "the server end read {} bytes, the feed logged {} written",
             at_server.size(), log->written.size());

  // Leave nothing pending: the feed closes its stream and every parked operation completes.
  feed.close();
  settle(io, steps, bound + 1000);
  return 0;
}
