// A one-connection TCP server on 127.0.0.1 and an ephemeral port, driven by a test's
// script on its own thread with blocking Asio calls: accept, then script(socket).
//
//   LoopbackServer server([](tcp::socket& s) { read_exactly(s, 36); write_hex(s, "80 0a ..."); });
//   feed.connect("127.0.0.1", server.port());
//   server.join();   // also done by the destructor
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "protocol/bytes.hpp"
#include "protocol/hex.hpp"
#include "third_party/asio.hpp"

namespace tapharness::testing {

class LoopbackServer {
 public:
  using Script = std::function<void(asio::ip::tcp::socket&)>;

  explicit LoopbackServer(Script script)
      : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this, script = std::move(script)] {
      asio::ip::tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      accepted_ = true;
      if (!ec) script(socket);
    });
  }
  ~LoopbackServer() { join(); }

  std::string port() const { return std::to_string(acceptor_.local_endpoint().port()); }

  // Waits for the script to finish. A client that never connected is stood in for by an
  // empty connection, so the script sees EOF at once.
  void join() {
    if (!thread_.joinable()) return;
    if (!accepted_) {
      asio::ip::tcp::socket stand_in(io_);
      boost::system::error_code ignored;
      stand_in.connect(acceptor_.local_endpoint(), ignored);
      stand_in.close(ignored);
    }
    thread_.join();
  }

 private:
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> accepted_{false};
  std::thread thread_;
};

inline protocol::Bytes read_exactly(asio::ip::tcp::socket& socket, std::size_t n) {
  protocol::Bytes bytes(n);
  boost::system::error_code ec;
  const std::size_t got = asio::read(socket, asio::buffer(bytes), ec);
  bytes.resize(got);
  return bytes;
}

inline void write_bytes(asio::ip::tcp::socket& socket, protocol::ByteView bytes) {
  boost::system::error_code ec;
  asio::write(socket, asio::buffer(bytes.data(), bytes.size()), ec);
}

inline void write_hex(asio::ip::tcp::socket& socket, std::string_view hex) {
  write_bytes(socket, protocol::parse_hex(hex).value());
}

}  // namespace tapharness::testing
