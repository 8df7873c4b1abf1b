// The byte streams and the fast sender the throughput benchmarks share: N ep-engine
// mutations (keys ~20 bytes), written over loopback from a thread that only writes.
#pragma once

#include <cstdint>
#include <string>
#include <thread>

#include "protocol/bytes.hpp"
#include "third_party/asio.hpp"

namespace tapharness::bench {

struct StreamShape {
  std::size_t events = 1'000'000;
  std::size_t value_size = 100;
  std::size_t ack_every = 0;  // 0: no ACK requests; N: every Nth mutation asks
};

// `count` consecutive frames of the stream starting at event `first` (keys differ).
protocol::Bytes encode_mutations(const StreamShape& shape, std::size_t first, std::size_t count);

// Accepts one connection on 127.0.0.1:0 and writes the whole stream to it as fast as it
// can (pre-encoded blocks), then closes. Anything the peer sends is read and discarded.
class FastSender {
 public:
  explicit FastSender(StreamShape shape);
  ~FastSender();
  std::string port() const { return port_; }
  std::size_t bytes() const { return bytes_; }  // the stream's total size
  void join();

 private:
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::string port_;
  std::size_t bytes_ = 0;
  std::thread writer_;
  std::thread drainer_;
};

// Events per second the feed delivers to a push-style consumer that only counts, reading
// what a FastSender sends.
double client_consume_rate(const StreamShape& shape);

}  // namespace tapharness::bench
