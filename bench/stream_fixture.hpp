// The byte streams and the fast sender the throughput benchmarks share: N ep-engine
// mutations (keys ~20 bytes), written over loopback from a thread that only writes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

#include "client/feed_options.hpp"
#include "protocol/bytes.hpp"
#include "third_party/asio.hpp"

namespace tapharness::bench {

// CPU time the calling thread has used, in seconds (user and system).
double thread_cpu_seconds();
// `seconds` spread over `count` things, in nanoseconds each.
inline double ns_each(double seconds, std::size_t count) { return seconds / static_cast<double>(count) * 1e9; }

struct StreamShape {
  std::size_t events = 1'000'000;
  std::size_t value_size = 100;
  std::size_t ack_every = 0;  // 0: no ACK requests; N: every Nth mutation asks
};

// `count` consecutive frames of the stream starting at event `first` (keys differ).
protocol::Bytes encode_mutations(const StreamShape& shape, std::size_t first, std::size_t count);

// Accepts one connection on 127.0.0.1:0, waits for the peer's first byte (its TAP_CONNECT),
// then writes the whole stream to it as fast as it can (pre-encoded blocks) and closes.
// Anything the peer sends is read and discarded.
class FastSender {
 public:
  explicit FastSender(StreamShape shape);
  ~FastSender();
  std::string port() const { return port_; }
  std::size_t bytes() const { return bytes_; }  // the stream's total size
  void join();
  // The CPU time the writing thread used (all of it in system calls), once joined.
  double writer_cpu_seconds() const { return writer_cpu_; }

 private:
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::string port_;
  std::size_t bytes_ = 0;
  double writer_cpu_ = 0;
  std::thread writer_;
  std::thread drainer_;
};

// What a reader that discards everything saw: the ceiling for any client of `port`.
struct RawRead {
  std::size_t bytes = 0;
  double seconds = 0;
  double cpu_seconds = 0;  // the reading thread's meanwhile (user and system)
};

// Connects to 127.0.0.1:`port`, sends a default TAP_CONNECT (a mock server waits for one; a
// FastSender waits for it), then reads until EOF, `read_size` bytes at most per read,
// discarding; timed from the connect, as client_consume times a client. With `wake_at`,
// the kernel wakes the reader only once that many bytes are ready (SO_RCVLOWAT), or at the
// end: a reader that does no work otherwise wakes for every few segments, and those
// wake-ups, on both sides, made it slower than the client it was to bound.
RawRead read_and_discard(const std::string& port, std::size_t read_size = 64 * 1024, std::size_t wake_at = 0);

// The fastest discarding reader on this machine: 1 MiB reads, woken at 256 KiB.
inline constexpr std::size_t kFastestReadSize = 1024 * 1024;
inline constexpr std::size_t kFastestWakeAt = 256 * 1024;
inline RawRead read_and_discard_fastest(const std::string& port) {
  return read_and_discard(port, kFastestReadSize, kFastestWakeAt);
}

// The options every stream benchmark takes: --events N (default 1,000,000) and --json FILE
// (default "-", standard output).
struct StreamArgs {
  std::size_t events = 1'000'000;
  std::string json = "-";
};
StreamArgs parse_stream_args(int argc, char** argv);
// The value after `flag` on the command line ("" when it is not there).
std::string flag_value(int argc, char** argv, std::string_view flag);

// What the feed did for a push-style consumer that only counts: the events per second it
// delivered, and the CPU time the consuming thread spent meanwhile (user and system).
struct Consumed {
  double events_per_s = 0;
  double cpu_seconds = 0;
};
// Reading what a FastSender sends (built before the clock and the CPU count start).
Consumed client_consume(const StreamShape& shape, std::size_t read_size = client::FeedOptions{}.read_size);
// The same reading `shape.events` events from a server already listening on `port`.
Consumed client_consume(const std::string& port, const StreamShape& shape,
                        std::size_t read_size = client::FeedOptions{}.read_size);

}  // namespace tapharness::bench
