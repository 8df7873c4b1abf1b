// The mock TAP server: a thin Asio shell around the engine. It listens, serves a number of
// connections (each gets the scenario afresh, all concurrently), and reports each.
//
//   auto server = MockServer::listen(io, scenario, {.connections = 2});
//   fmt::print("listening {}\n", server->address());
//   server->start([](const Report& r) { ... }, [] { /* all served */ });
//   io.run();
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "mockserver/engine.hpp"
#include "mockserver/mutation.hpp"
#include "mockserver/scenario.hpp"
#include "third_party/asio.hpp"

namespace tapharness::mockserver {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::string port = "0";  // 0: an ephemeral port
  std::size_t connections = 1;
  std::optional<std::string> trace_dir;  // one transcript per connection
  std::optional<std::uint64_t> seed;     // overrides the scenario's
  // Mutation mode: connection k gets the scenario mutated with seed + (k-1) % count.
  std::optional<MutationSpec> mutation;
};

class MockServer {
 public:
  // Binds and listens; a failure (bad address, port in use) is the error text.
  static std::variant<std::unique_ptr<MockServer>, std::string> listen(
      asio::io_context& io, std::shared_ptr<const Scenario> scenario, ServerOptions options);

  // "127.0.0.1:PORT"
  std::string address() const;
  asio::ip::tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }

  // Accepts `connections` clients and runs the scenario on each; `on_report` gets each
  // report as its connection finishes, `on_done` comes after the last.
  void start(std::function<void(const Report&)> on_report, std::function<void()> on_done);

  // Stops accepting; sessions already running finish on their own.
  void stop();

  MockServer(asio::io_context& io, asio::ip::tcp::acceptor acceptor,
             std::shared_ptr<const Scenario> scenario, ServerOptions options);

 private:
  asio::awaitable<void> accept_loop();
  void finished(const Report& report);

  asio::io_context& io_;
  asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<const Scenario> scenario_;
  ServerOptions options_;
  std::function<void(const Report&)> on_report_;
  std::function<void()> on_done_;
  std::size_t accepted_ = 0;
  std::size_t reported_ = 0;
  bool stopped_ = false;
};

}  // namespace tapharness::mockserver
