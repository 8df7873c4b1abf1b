// Runs the engine on one end of an in-memory pipe while a test plays the client on the
// other, byte by byte or with the real feed.
#pragma once

#include <optional>
#include <string_view>

#include <gtest/gtest.h>

#include "mockserver/engine.hpp"
#include "scenario/parser.hpp"
#include "protocol/hex.hpp"
#include "protocol/tap_connect.hpp"
#include "tests/support/memory_stream.hpp"
#include "testing/printers.hpp"

namespace tapharness::mockserver::testing {

using tapharness::testing::MemoryStream;

inline std::shared_ptr<const Scenario> parse(std::string_view text) {
  auto parsed = scenario::parse_scenario(text, "t.scenario");
  if (!parsed) {
    ADD_FAILURE() << parsed.error().text();
    return std::make_shared<Scenario>();
  }
  return std::make_shared<Scenario>(std::move(parsed).value());
}

class EngineHarness {
 public:
  // `configure` sets up the server's end (failure injection) before the engine takes it.
  explicit EngineHarness(std::string_view scenario_text, EngineOptions options = {},
                         const std::function<void(MemoryStream&)>& configure = {}) {
    auto [client, server] = tapharness::testing::make_memory_pipe(io_.get_executor());
    if (configure) configure(server);
    client_.emplace(std::move(client));
    async_run_scenario(std::move(server), parse(scenario_text), std::move(options),
                       [this](Report r) { report_ = std::move(r); });
    io_.poll();
  }

  asio::io_context& io() { return io_; }
  MemoryStream& client() { return *client_; }

  // The client's side: send bytes, read what the server wrote.
  void send(const protocol::Bytes& bytes) {
    asio::async_write(*client_, asio::buffer(bytes), [](auto, auto) {});
    io_.poll();
  }
  void send_hex(std::string_view text) { send(protocol::parse_hex(text).value()); }
  void send_connect(const protocol::TapArguments& args = {}) {
    protocol::Bytes out;
    protocol::encode_tap_connect(out, args);
    send(out);
  }

  // Runs until `n` more bytes arrived from the server (or it closed), up to a second.
  protocol::Bytes receive(std::size_t n) {
    protocol::Bytes out(n);
    std::size_t got = 0;
    bool done = false;
    asio::async_read(*client_, asio::buffer(out), [&](auto, std::size_t k) {
      got = k;
      done = true;
    });
    run_until([&] { return done; });
    out.resize(got);
    return out;
  }

  // Reads and drops whatever the server writes from now on, as a client that keeps up.
  void drain_in_background() {
    auto sink = std::make_shared<std::vector<std::uint8_t>>(1 << 16);
    auto on_read = std::make_shared<std::function<void(boost::system::error_code, std::size_t)>>();
    *on_read = [this, sink, weak = std::weak_ptr(on_read)](boost::system::error_code ec, std::size_t) {
      auto self = weak.lock();
      if (!ec && self) client_->async_read_some(asio::buffer(*sink), *self);
    };
    drain_ = on_read;
    client_->async_read_some(asio::buffer(*sink), *on_read);
  }

  // How the server ended the connection, seen from the client: eof, connection_reset, or
  // would_block when it has not ended (after the bytes the test did not read).
  boost::system::error_code server_end() {
    std::vector<std::uint8_t> sink(1 << 16);
    boost::system::error_code result = asio::error::would_block;
    bool done = false;
    std::function<void(boost::system::error_code, std::size_t)> on_read = [&](auto ec, std::size_t) {
      if (!ec) return client_->async_read_some(asio::buffer(sink), on_read);
      result = ec;
      done = true;
    };
    client_->async_read_some(asio::buffer(sink), on_read);
    run_until([&] { return done; }, std::chrono::milliseconds(300));
    return result;
  }

  // Runs until the engine reports (it always does: every wait is bounded).
  const Report& report() {
    run_until([&] { return report_.has_value(); }, std::chrono::seconds(10));
    if (!report_) {
      ADD_FAILURE() << "the engine did not finish";
      report_.emplace();
    }
    return *report_;
  }
  bool finished() const { return report_.has_value(); }

  template <class Done>
  void run_until(Done done, std::chrono::milliseconds limit = std::chrono::seconds(2)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_one_for(std::chrono::milliseconds(5));
    }
  }

 private:
  asio::io_context io_;
  std::optional<MemoryStream> client_;
  std::optional<Report> report_;
  std::shared_ptr<std::function<void(boost::system::error_code, std::size_t)>> drain_;
};

inline std::string failures(const Report& r) { return format_report(r); }

}  // namespace tapharness::mockserver::testing
