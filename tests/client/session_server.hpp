// A TCP server on 127.0.0.1 and an ephemeral port for one client across several connections
// (a reconnecting client), every wait bounded: each accept waits at most `accept_wait`, and
// each connection's blocking reads and writes give up after `io_wait` (SO_RCVTIMEO and
// SO_SNDTIMEO), so a client that misbehaves fails the test instead of hanging it.
//
//   SessionServer server(2, [](tcp::socket& s, int connection) {   // connection: 1, 2, ...
//     read_exactly(s, 36);
//     if (connection == 1) reset(s); else write_hex(s, golden::kMutation);
//   });
//   ... the client connects to server.port() ...
//   server.join();
//   server.accepted();   // how many connections came, at most `connections`
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "protocol/bytes.hpp"
#include "third_party/asio.hpp"

namespace tapharness::client::testing {

using Millis = std::chrono::milliseconds;

// Blocking reads and writes on `s` fail after `wait` instead of blocking for ever.
inline void bound_io(asio::ip::tcp::socket& s, Millis wait = Millis(10000)) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(wait.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((wait.count() % 1000) * 1000);
  setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// An abortive close: the client reads ECONNRESET ("Connection reset by peer").
inline void reset(asio::ip::tcp::socket& s) {
  boost::system::error_code ignored;
  s.set_option(asio::socket_base::linger(true, 0), ignored);
  s.close(ignored);
}

class SessionServer {
 public:
  using Script = std::function<void(asio::ip::tcp::socket&, int connection)>;

  SessionServer(int connections, Script script, Millis accept_wait = Millis(10000), Millis io_wait = Millis(10000))
      : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this, connections, script = std::move(script), accept_wait, io_wait] {
      for (int n = 1; n <= connections && !stop_; ++n) {
        if (!wait_for_client(accept_wait)) break;
        asio::ip::tcp::socket socket(io_);
        boost::system::error_code ec;
        acceptor_.accept(socket, ec);
        if (ec) break;
        ++accepted_;
        bound_io(socket, io_wait);
        script(socket, n);
      }
    });
  }
  ~SessionServer() { join(); }

  std::string port() const { return std::to_string(acceptor_.local_endpoint().port()); }

  // Waits for the running script to finish; an accept still waiting gives up at once (so
  // join only once the client is done connecting).
  void join() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int accepted() const { return accepted_; }

 private:
  // A client is waiting to be accepted, within `wait` (polled in short steps, so join() is prompt).
  bool wait_for_client(Millis wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      pollfd p{acceptor_.native_handle(), POLLIN, 0};
      if (poll(&p, 1, 20) > 0) return (p.revents & POLLIN) != 0;
    }
    return false;
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

}  // namespace tapharness::client::testing
