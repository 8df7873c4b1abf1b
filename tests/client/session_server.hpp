// A TCP server on 127.0.0.1 and an ephemeral port for one client across several connections
// (a reconnecting client), every wait bounded: each accept waits at most `accept_wait`, and
// the scripts read with read_bounded / read_frame, which give up after a wait (10 s by
// default), so a client that misbehaves fails the test instead of hanging it. (Asio's
// blocking reads ignore SO_RCVTIMEO: they poll again on EAGAIN. Hence poll(2) here.)
//
//   SessionServer server(2, [](tcp::socket& s, int connection) {   // connection: 1, 2, ...
//     read_frame(s);   // TAP_CONNECT
//     if (connection == 1) reset(s); else write_hex(s, golden::kMutation);
//   });
//   ... the client connects to server.port() ...
//   server.join();
//   server.accepted();   // how many connections came, at most `connections`
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "protocol/bytes.hpp"
#include "protocol/header.hpp"
#include "third_party/asio.hpp"

namespace tapharness::client::testing {

using Millis = std::chrono::milliseconds;

inline constexpr Millis kReadWait(10000);

// `n` bytes from `s`, or fewer when the peer closes, the read fails, or `wait` passes first.
inline protocol::Bytes read_bounded(asio::ip::tcp::socket& s, std::size_t n, Millis wait = kReadWait) {
  protocol::Bytes out(n);
  std::size_t got = 0;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (got < n) {
    const auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left <= Millis(0)) break;
    pollfd p{s.native_handle(), POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    const ssize_t k = ::recv(s.native_handle(), out.data() + got, n - got, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    got += static_cast<std::size_t>(k);
  }
  out.resize(got);
  return out;
}

// One whole frame from the client (its header, then its body), within `wait` per part.
inline protocol::Bytes read_frame(asio::ip::tcp::socket& s, Millis wait = kReadWait) {
  protocol::Bytes frame = read_bounded(s, protocol::kHeaderSize, wait);
  if (frame.size() < protocol::kHeaderSize) return frame;
  protocol::append(frame, read_bounded(s, protocol::read_header(frame.data()).bodylen, wait));
  return frame;
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

  SessionServer(int connections, Script script, Millis accept_wait = Millis(10000))
      : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this, connections, script = std::move(script), accept_wait] {
      for (int n = 1; n <= connections && !stop_; ++n) {
        if (!wait_for_client(accept_wait)) break;
        asio::ip::tcp::socket socket(io_);
        boost::system::error_code ec;
        acceptor_.accept(socket, ec);
        if (ec) break;
        ++accepted_;
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
