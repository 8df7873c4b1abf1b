// A TAP client played by a test over a real TCP socket to 127.0.0.1: blocking calls, each
// bounded by a timeout, made by running Asio's asynchronous operations on a private
// io_context for at most that long (Asio's blocking_tcp_client example).
//
//   LoopbackClient client;
//   ASSERT_TRUE(client.open_tap(port, {.client_name = "r1"}));   // connect, send TAP_CONNECT
//   EXPECT_EQ(to_hex(client.receive(24)), to_hex(parse_hex(golden::kNoop).value()));
//   EXPECT_EQ(client.read_to_end().error, asio::error::eof);
//
// A wait that runs out ends with asio::error::timed_out and whatever arrived until then.
// One thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "protocol/bytes.hpp"
#include "protocol/hex.hpp"
#include "protocol/tap_connect.hpp"
#include "protocol/tap_message.hpp"
#include "third_party/asio.hpp"

namespace tapharness::mockserver::testing {

// How long any test waits for anything that should happen promptly.
inline constexpr std::chrono::milliseconds kWait{10'000};

class LoopbackClient {
 public:
  using Duration = std::chrono::milliseconds;

  // Takes the socket's descriptor now; connect() then needs no new one.
  boost::system::error_code open() {
    boost::system::error_code ec;
    socket_.open(asio::ip::tcp::v4(), ec);
    return ec;
  }

  ::testing::AssertionResult connect(std::uint16_t port, Duration timeout = kWait) {
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    const auto ec = run_bounded([&](auto done) { socket_.async_connect(endpoint, done); }, timeout);
    if (ec) return ::testing::AssertionFailure() << "connect to 127.0.0.1:" << port << ": " << ec.message();
    boost::system::error_code ignored;
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);  // each send() its own segment
    return ::testing::AssertionSuccess();
  }

  // Connects and sends TAP_CONNECT for `args`: how most clients start.
  ::testing::AssertionResult open_tap(std::uint16_t port, const protocol::TapArguments& args = {}) {
    if (auto connected = connect(port); !connected) return connected;
    if (auto ec = send_connect(args)) return ::testing::AssertionFailure() << "send TAP_CONNECT: " << ec.message();
    return ::testing::AssertionSuccess();
  }

  // All of `bytes` in one write.
  boost::system::error_code send(protocol::ByteView bytes, Duration timeout = kWait) {
    return run_bounded(
        [&](auto done) {
          asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()),
                            [done](boost::system::error_code ec, std::size_t) { done(ec); });
        },
        timeout);
  }
  boost::system::error_code send_hex(std::string_view hex) { return send(protocol::parse_hex(hex).value()); }
  boost::system::error_code send_connect(const protocol::TapArguments& args = {}) {
    protocol::Bytes out;
    protocol::encode_tap_connect(out, args);
    return send(out);
  }
  boost::system::error_code send_ack(protocol::Opcode opcode, std::uint32_t opaque) {
    const auto ack = protocol::tap_ack(opcode, opaque);
    return send(ack);
  }

  // One write per byte, `gap` apart. The gap only makes separate TCP segments likely (with
  // TCP_NODELAY); a server that reads by framing passes with any gap, so nothing waits on it.
  boost::system::error_code send_bytewise(protocol::ByteView bytes, Duration gap = Duration(1)) {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      if (auto ec = send(bytes.subspan(i, 1))) return ec;
      std::this_thread::sleep_for(gap);
    }
    return {};
  }

  // Exactly `n` bytes, or fewer when the connection ended or `timeout` ran out (error() says).
  protocol::Bytes receive(std::size_t n, Duration timeout = kWait) {
    protocol::Bytes out(n);
    std::size_t got = 0;
    error_ = run_bounded(
        [&](auto done) {
          asio::async_read(socket_, asio::buffer(out), [&got, done](boost::system::error_code ec, std::size_t k) {
            got = k;
            done(ec);
          });
        },
        timeout);
    out.resize(got);
    return out;
  }

  // Everything until the server ends the connection: the bytes, and how it ended (eof,
  // connection_reset, or timed_out when it did not end within `timeout`).
  struct Ending {
    protocol::Bytes bytes;
    boost::system::error_code error;
  };
  Ending read_to_end(Duration timeout = kWait) {
    Ending ending;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::uint8_t chunk[16 * 1024];
    while (!ending.error) {
      const auto left = std::chrono::duration_cast<Duration>(deadline - std::chrono::steady_clock::now());
      if (left <= Duration(0)) {
        ending.error = asio::error::timed_out;
        break;
      }
      std::size_t got = 0;
      ending.error = run_bounded(
          [&](auto done) {
            socket_.async_read_some(asio::buffer(chunk), [&got, done](boost::system::error_code ec, std::size_t k) {
              got = k;
              done(ec);
            });
          },
          left);
      ending.bytes.insert(ending.bytes.end(), chunk, chunk + got);
    }
    return ending;
  }

  const boost::system::error_code& error() const { return error_; }

  // FIN: no more sends, keep reading.
  void half_close() {
    boost::system::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  }
  // RST: SO_LINGER 0, then close.
  void reset() {
    boost::system::error_code ignored;
    socket_.set_option(asio::socket_base::linger(true, 0), ignored);
    socket_.close(ignored);
  }
  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  // Starts an operation with a `done(error_code)` callback and runs it for at most
  // `timeout`; one that has not finished by then is cancelled and reported as timed_out.
  template <class Initiate>
  boost::system::error_code run_bounded(Initiate initiate, Duration timeout) {
    std::optional<boost::system::error_code> result;
    initiate([&result](boost::system::error_code ec) { result = ec; });
    io_.restart();
    io_.run_for(timeout);
    if (result) return *result;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    io_.restart();
    io_.run();  // the cancelled operation completes
    return asio::error::timed_out;
  }

  asio::io_context io_;
  asio::ip::tcp::socket socket_{io_};
  boost::system::error_code error_;
};

}  // namespace tapharness::mockserver::testing
