// The mock TAP server: a thin Asio shell around the engine. It listens, serves a number of
// connections (each gets the scenario afresh, all concurrently), and reports each. A
// scenario with connection blocks plans its own connections instead (connection_plan.hpp):
// each arrival runs the block it is, a reconnect that does not come in time fails, and a
// connection beyond the plan is reported as unexpected.
//
//   auto server = MockServer::listen(io, scenario, {.connections = 2});
//   fmt::print("listening {}\n", server->address());
//   server->start([](const Report& r) { ... }, [] { /* all served */ });
//   io.run();
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "mockserver/connection_plan.hpp"
#include "mockserver/engine.hpp"
#include "protocol/result.hpp"
#include "scenario/mutation.hpp"
#include "scenario/scenario.hpp"
#include "third_party/asio.hpp"

namespace tapharness::mockserver {

// A connection the server has taken, for whoever watches its records (ServerOptions::observe).
struct ObservedConnection {
  std::string scenario;    // the scenario (or block, or table case) it runs
  std::size_t connection;  // 1, 2, ... in the order they were taken
  asio::ip::tcp::endpoint client, server;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::string port = "0";  // 0: an ephemeral port
  std::size_t connections = 1;
  std::optional<std::string> trace_dir;  // one transcript per connection
  std::optional<std::uint64_t> seed;     // overrides the scenario's
  // Mutation mode: connection k gets the scenario mutated with seed + (k-1) % count.
  std::optional<scenario::MutationSpec> mutation;
  std::optional<std::chrono::milliseconds> limit;  // overrides the scenario's (EngineOptions::limit)
  // A planned connection (connection blocks) was taken as block `index`: a runner starts its
  // next client then, so concurrent clients arrive in file order.
  std::function<void(std::size_t index)> on_assigned;
  // Each connection's trace records also go to the sink this returns (a capture, a report);
  // called on the io_context's thread as the connection is taken. May be empty.
  std::function<TraceSink(const ObservedConnection&)> observe;
};

class MockServer {
 public:
  // Binds and listens, and creates the trace directory; a failure (bad address, port in use,
  // a trace directory that cannot be made) names the address or directory.
  static Result<std::unique_ptr<MockServer>, InputError> listen(
      asio::io_context& io, std::shared_ptr<const Scenario> scenario, ServerOptions options);

  // "127.0.0.1:PORT", where it listens (also once it has stopped listening).
  std::string address() const;
  asio::ip::tcp::endpoint endpoint() const { return endpoint_; }

  // Accepts `connections` clients (or the scenario's planned ones) and runs the scenario on
  // each; `on_report` gets each report as its connection finishes, `on_done` comes after
  // the last.
  void start(std::function<void(const Report&)> on_report, std::function<void()> on_done);

  // Stops accepting; sessions already running finish on their own. `on_done` comes once, after
  // the last of them (at once when none is running). Call it on the io_context's thread.
  void stop();

  // Cuts every running session short: each reports what it saw so far, failing at the line
  // it was on with `why`. Call it on the io_context's thread.
  void interrupt(const std::string& why) { stop_signal_->stop(why); }

  // Accepts that failed for lack of resources (EMFILE and the like), each followed by a
  // pause, so a server out of descriptors waits for them instead of spinning.
  std::size_t accept_failures() const { return accept_failures_.load(); }

  MockServer(asio::io_context& io, asio::ip::tcp::acceptor acceptor,
             std::shared_ptr<const Scenario> scenario, ServerOptions options);

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> pause_after_failed_accept();
  void serve(asio::ip::tcp::socket socket, std::shared_ptr<const Scenario> scenario, std::size_t connection);
  void finished(const Report& report);
  void done();
  std::size_t expected_reports() const;

  // Planned connections: which block an arrival is, the reconnects due, the unexpected.
  asio::awaitable<void> dispatch(asio::ip::tcp::socket socket);
  void assign(asio::ip::tcp::socket socket, std::optional<std::string> name);
  void planned_ended(std::size_t index);
  void arm_plan_timer();
  void give_up_overdue();
  void report_unexpected(asio::ip::tcp::socket socket);

  asio::io_context& io_;
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::endpoint endpoint_;  // the acceptor's, kept: a closed acceptor has none
  std::shared_ptr<const Scenario> scenario_;
  ServerOptions options_;
  std::function<void(const Report&)> on_report_;
  std::function<void()> on_done_;
  std::size_t accepted_ = 0;
  std::size_t reported_ = 0;
  bool stopped_ = false;
  bool done_ = false;
  std::atomic<std::size_t> accept_failures_{0};
  std::chrono::milliseconds accept_pause_{0};
  asio::steady_timer accept_pause_timer_;
  std::shared_ptr<StopSignal> stop_signal_ = std::make_shared<StopSignal>();

  std::optional<ConnectionPlan> plan_;
  asio::steady_timer plan_timer_;
  struct Held {
    asio::ip::tcp::socket socket;
    std::optional<std::string> name;
  };
  std::vector<Held> held_;  // reconnects that came before their predecessor's end was seen
  std::size_t unexpected_ = 0;
};

}  // namespace tapharness::mockserver
