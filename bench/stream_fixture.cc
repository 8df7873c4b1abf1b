#include "bench/stream_fixture.hpp"

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <functional>
#include <limits>

#include <sys/socket.h>
#include <time.h>

#include "client/tap_feed.hpp"
#include "protocol/tap_connect.hpp"
#include "protocol/tap_message.hpp"

namespace tapharness::bench {

protocol::Bytes encode_mutations(const StreamShape& shape, std::size_t first, std::size_t count) {
  protocol::Bytes out;
  const std::string value(shape.value_size, 'v');
  for (std::size_t i = first; i < first + count; ++i) {
    const std::string key = fmt::format("bench:key:{:010}", i);  // 20 bytes
    const bool ack = shape.ack_every != 0 && (i + 1) % shape.ack_every == 0;
    protocol::append(out, protocol::ep_engine::mutation({.vbucket = static_cast<std::uint16_t>(i % 1024),
                                                                     .key = key,
                                                                     .value = value,
                                                                     .cas = i,
                                                                     .opaque = static_cast<std::uint32_t>(i + 1),
                                                                     .tap_flags = static_cast<std::uint16_t>(ack)}));
  }
  return out;
}

FastSender::FastSender(StreamShape shape)
    : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
      port_(std::to_string(acceptor_.local_endpoint().port())) {
  // One pre-encoded block written again and again, so the writer does nothing but write and
  // its speed does not depend on the stream's length (a stream's worth of distinct blocks
  // would measure the sender's memory, not the reader). Keys repeat across blocks: no
  // reader here cares.
  constexpr std::size_t kBlock = 4096;
  std::vector<std::shared_ptr<const protocol::Bytes>> blocks;
  const auto block = std::make_shared<const protocol::Bytes>(encode_mutations(shape, 0, std::min(kBlock, shape.events)));
  for (std::size_t first = 0; first < shape.events; first += kBlock) {
    const std::size_t count = std::min(kBlock, shape.events - first);
    blocks.push_back(count == kBlock || first == 0 ? block
                                                   : std::make_shared<const protocol::Bytes>(encode_mutations(shape, first, count)));
    bytes_ += blocks.back()->size();
  }
  auto socket = std::make_shared<asio::ip::tcp::socket>(io_);
  writer_ = std::thread([this, socket, blocks = std::move(blocks)] {
    boost::system::error_code ec;
    acceptor_.accept(*socket, ec);
    if (ec) return;
    // Nothing is written before the reader's TAP_CONNECT arrives (as a producer does), so no
    // reader finds the socket buffers filled before its clock starts: megabytes on loopback,
    // which made short streams look faster than long ones.
    std::array<std::uint8_t, 1> first{};
    asio::read(*socket, asio::buffer(first), ec);
    if (ec) return;
    drainer_ = std::thread([socket] {
      std::vector<std::uint8_t> sink(64 * 1024);
      boost::system::error_code e;
      while (!e) socket->read_some(asio::buffer(sink), e);
    });
    for (const auto& block : blocks) {
      // The whole block per system call: asio's transfer_all would offer 64 KiB at a time.
      asio::write(*socket, asio::buffer(*block), [](const boost::system::error_code& e, std::size_t) {
        return e ? 0 : std::numeric_limits<std::size_t>::max();
      }, ec);
      if (ec) break;
    }
    socket->shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    writer_cpu_ = thread_cpu_seconds();
  });
}

void FastSender::join() {
  if (writer_.joinable()) writer_.join();
  if (drainer_.joinable()) drainer_.join();
}

FastSender::~FastSender() { join(); }

RawRead read_and_discard(const std::string& port, std::size_t read_size, std::size_t wake_at) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  std::vector<std::uint8_t> buffer(read_size);
  protocol::Bytes connect;
  protocol::encode_tap_connect(connect, {});
  RawRead read;
  // Timed from the connect, as a client is: the sender starts once the TAP_CONNECT is in.
  const double cpu = thread_cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(port))});
  socket.set_option(asio::ip::tcp::no_delay(true));  // as the feed sets it
  asio::write(socket, asio::buffer(connect));
  // Read as the feed reads (non-blocking reads on an io_context, each taking what has
  // arrived), and only discard: the same I/O without the decoding. Blocking reads measured
  // slower than the feed itself, so they were no ceiling.
  socket.non_blocking(true);
  if (wake_at > 0) {
    const int bytes = static_cast<int>(wake_at);
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes);
  }
  std::function<void(boost::system::error_code, std::size_t)> on_read = [&](boost::system::error_code ec,
                                                                              std::size_t n) {
    read.bytes += n;
    if (!ec) socket.async_read_some(asio::buffer(buffer), on_read);
  };
  socket.async_read_some(asio::buffer(buffer), on_read);
  io.run();
  read.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  read.cpu_seconds = thread_cpu_seconds() - cpu;
  return read;
}

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

StreamArgs parse_stream_args(int argc, char** argv) {
  StreamArgs args;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--events") args.events = std::stoul(argv[i + 1]);
    if (std::string(argv[i]) == "--json") args.json = argv[i + 1];
  }
  return args;
}

std::string flag_value(int argc, char** argv, std::string_view flag) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == flag) return argv[i + 1];
  }
  return {};
}

Consumed client_consume(const StreamShape& shape, std::size_t read_size) {
  FastSender sender(shape);
  return client_consume(sender.port(), shape, read_size);
}

Consumed client_consume(const std::string& port, const StreamShape& shape, std::size_t read_size) {
  asio::io_context io;
  client::FeedOptions options;
  options.read_size = read_size;
  options.args.support_ack = shape.ack_every != 0;
  std::size_t seen = 0;
  const double cpu = thread_cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  client::TapFeed feed = client::connect_feed(io.get_executor(), "127.0.0.1", port, options);
  feed.async_consume([&](const protocol::TapEventView&) { ++seen; }, [&](const client::FeedEnd& end) {
    if (seen != shape.events) fmt::print(stderr, "the feed delivered {} of {} events: {}\n", seen, shape.events, end);
  });
  io.run();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return Consumed{static_cast<double>(seen) / seconds, thread_cpu_seconds() - cpu};
}

}  // namespace tapharness::bench
