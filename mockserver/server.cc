#include "mockserver/server.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "mockserver/trace_writer.hpp"
#include "protocol/header.hpp"
#include "scenario/mutation.hpp"

namespace tapharness::mockserver {

using asio::ip::tcp;

Result<std::unique_ptr<MockServer>, InputError> MockServer::listen(
    asio::io_context& io, std::shared_ptr<const Scenario> scenario, ServerOptions options) {
  boost::system::error_code ec;
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(options.host, options.port, tcp::resolver::passive, ec);
  const std::string address = fmt::format("{}:{}", options.host, options.port);
  if (ec || endpoints.empty()) return InputError{address, fmt::format("cannot resolve: {}", ec.message())};
  tcp::acceptor acceptor(io);
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return InputError{address, fmt::format("cannot listen: {}", ec.message())};
  // A transcript that cannot be written is an error now, not silence later.
  if (options.trace_dir) {
    std::error_code dir_error;
    std::filesystem::create_directories(*options.trace_dir, dir_error);
    if (dir_error || !std::filesystem::is_directory(*options.trace_dir)) {
      return InputError{*options.trace_dir, fmt::format("cannot write traces: {}",
                                                        dir_error ? dir_error.message() : "Not a directory")};
    }
  }
  return std::make_unique<MockServer>(io, std::move(acceptor), std::move(scenario), std::move(options));
}

MockServer::MockServer(asio::io_context& io, tcp::acceptor acceptor, std::shared_ptr<const Scenario> scenario,
                       ServerOptions options)
    : io_(io),
      acceptor_(std::move(acceptor)),
      endpoint_(acceptor_.local_endpoint()),
      scenario_(std::move(scenario)),
      options_(std::move(options)),
      accept_pause_timer_(io),
      plan_timer_(io) {
  if (!scenario_->connections.empty()) plan_.emplace(*scenario_);
}

std::string MockServer::address() const {
  const auto& e = endpoint_;
  return e.address().is_v6() ? fmt::format("[{}]:{}", e.address().to_string(), e.port())
                             : fmt::format("{}:{}", e.address().to_string(), e.port());
}

void MockServer::start(std::function<void(const Report&)> on_report, std::function<void()> on_done) {
  on_report_ = std::move(on_report);
  on_done_ = std::move(on_done);
  asio::co_spawn(io_, accept_loop(), asio::detached);
}

void MockServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  accept_pause_timer_.cancel();
  plan_timer_.cancel();
  held_.clear();
  if (reported_ == accepted_) done();
}

std::size_t MockServer::expected_reports() const {
  return plan_ ? plan_->size() + unexpected_ : options_.connections;
}

void MockServer::done() {
  if (done_) return;  // once, whether the last report or stop() comes last
  done_ = true;
  if (on_done_) on_done_();
}

asio::awaitable<void> MockServer::accept_loop() {
  while ((plan_ ? !plan_->finished() : accepted_ < options_.connections) && !stopped_) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (stopped_) break;  // also a connection accepted just before stop(): it is not served
    if (ec == asio::error::connection_aborted) continue;  // it vanished between SYN and accept
    if (ec) {
      // Out of descriptors or buffers: retrying at once would spin while nothing changes.
      co_await pause_after_failed_accept();
      continue;
    }
    accept_pause_ = std::chrono::milliseconds(0);
    // Planned chunks must leave as separate segments, not wait for each other (Nagle).
    socket.set_option(tcp::no_delay(true), ec);
    if (plan_) {
      asio::co_spawn(io_, dispatch(std::move(socket)), asio::detached);
      continue;
    }
    const std::size_t connection = ++accepted_;
    auto scenario = scenario_;
    if (options_.mutation) {
      const std::uint64_t seed = options_.mutation->seed + (connection - 1) % options_.mutation->count;
      scenario = std::make_shared<const Scenario>(scenario::mutate(*scenario_, seed));
    }
    serve(std::move(socket), std::move(scenario), connection);
  }
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

void MockServer::serve(tcp::socket socket, std::shared_ptr<const Scenario> scenario, std::size_t connection) {
  {
    EngineOptions engine{
        .seed = options_.seed, .connection = connection, .limit = options_.limit, .stop = stop_signal_};
    engine.mutation = options_.mutation.has_value();
    std::shared_ptr<TraceWriter> trace;
    if (options_.trace_dir) {
      // A table case is "file/row": one file per case, beside the others.
      std::string name = scenario->name;
      std::replace(name.begin(), name.end(), '/', '.');
      trace = std::make_shared<TraceWriter>(fmt::format("{}/{}.{}.trace", *options_.trace_dir, name, connection));
      if (!trace->ok()) trace.reset();
    }
    TraceSink observer;
    if (options_.observe) {
      boost::system::error_code ignored;
      observer = options_.observe({.scenario = scenario->name,
                                   .connection = connection,
                                   .client = socket.remote_endpoint(ignored),
                                   .server = socket.local_endpoint(ignored)});
    }
    if (trace && observer) {
      engine.trace = [trace, observer](const TraceRecord& r) {
        trace->write(r);
        observer(r);
      };
    } else if (trace) {
      engine.trace = [trace](const TraceRecord& r) { trace->write(r); };
    } else {
      engine.trace = std::move(observer);
    }
    const std::optional<std::size_t> planned = plan_ ? std::optional<std::size_t>(connection - 1) : std::nullopt;
    async_run_scenario(std::move(socket), std::move(scenario), std::move(engine), [this, planned](Report report) {
      if (planned) planned_ended(*planned);
      finished(report);
    });
  }
}

// ---- planned connections ------------------------------------------------------------------

namespace {

// The client name in the first frame the client sent, read without taking it off the socket
// (MSG_PEEK), so the engine still reads the frame itself. Empty when the first frame is not
// a whole TAP_CONNECT (authentication first, garbage, silence) within `timeout`.
asio::awaitable<std::optional<std::string>> peek_connect_name(tcp::socket& socket, std::chrono::milliseconds timeout) {
  constexpr std::size_t kMaxPeek = 64 * 1024;  // a TAP_CONNECT's name and vbucket list fit easily
  std::vector<std::uint8_t> bytes(kMaxPeek);
  asio::steady_timer pause(socket.get_executor());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t seen = 0;
  // Each pass waits for bytes or a 5 ms pause: a peek sees the same bytes until more come.
  while (std::chrono::steady_clock::now() < deadline) {
    boost::system::error_code ec;
    if (seen == 0) {
      pause.expires_at(deadline);
      pause.async_wait([&socket](const boost::system::error_code& e) {
        if (!e) socket.cancel();
      });
      co_await socket.async_wait(tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
      pause.cancel();
      if (ec) co_return std::nullopt;
    }
    const std::size_t n = socket.receive(asio::buffer(bytes), tcp::socket::message_peek, ec);
    if (ec || n == 0) co_return std::nullopt;
    if (n >= protocol::kHeaderSize) {
      const protocol::Header h = protocol::read_header(bytes.data());
      const std::size_t total = protocol::kHeaderSize + h.bodylen;
      if (h.magic != protocol::Magic::request || h.opcode != protocol::Opcode::tap_connect || total > kMaxPeek ||
          std::size_t{h.extlen} + h.keylen > h.bodylen) {
        co_return std::nullopt;
      }
      if (n >= total) {
        const char* key = reinterpret_cast<const char*>(bytes.data()) + protocol::kHeaderSize + h.extlen;
        co_return std::string(key, h.keylen);
      }
    }
    seen = n;
    pause.expires_after(std::chrono::milliseconds(5));
    co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return std::nullopt;
}

}  // namespace

asio::awaitable<void> MockServer::dispatch(tcp::socket socket) {
  std::optional<std::string> name;
  if (plan_->candidates() > 1) name = co_await peek_connect_name(socket, scenario_->timeout);
  if (stopped_) co_return;
  assign(std::move(socket), std::move(name));
}

void MockServer::assign(tcp::socket socket, std::optional<std::string> name) {
  const ConnectionPlan::Arrival arrival = plan_->arrive(name);
  using Kind = ConnectionPlan::Arrival::Kind;
  if (arrival.kind == Kind::held && held_.size() < 16) {
    held_.push_back(Held{std::move(socket), std::move(name)});
    return;
  }
  if (arrival.kind != Kind::assigned) return report_unexpected(std::move(socket));
  ++accepted_;
  serve(std::move(socket), scenario_->connections[arrival.index].script, arrival.index + 1);
  if (options_.on_assigned) options_.on_assigned(arrival.index);
}

void MockServer::planned_ended(std::size_t index) {
  plan_->ended(index, std::chrono::steady_clock::now());
  // The reconnects that came early are what the plan now awaits.
  std::vector<Held> early = std::move(held_);
  held_.clear();
  for (Held& h : early) assign(std::move(h.socket), std::move(h.name));
  arm_plan_timer();
  if (plan_->finished()) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }
}

void MockServer::arm_plan_timer() {
  const auto next = plan_->next_deadline();
  if (!next || stopped_) return;
  plan_timer_.expires_at(*next);
  plan_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) give_up_overdue();
  });
}

void MockServer::give_up_overdue() {
  std::vector<std::size_t> missed;
  for (const std::size_t index : plan_->overdue(std::chrono::steady_clock::now())) {
    const scenario::Connection& planned = scenario_->connections[index];
    Report report(planned.script->name, index + 1);
    const scenario::Connection& before = scenario_->connections[*planned.after];
    const bool orphaned = std::find(missed.begin(), missed.end(), *planned.after) != missed.end();
    missed.push_back(index);
    report.fail(planned.location, "connection",
                fmt::format("the client back within {}ms of the end of connection '{}' (a reconnect)",
                            planned.within.count(), before.label),
                orphaned ? fmt::format("connection '{}' never came, so neither could this one", before.label)
                         : std::string("no connection came"));
    ++accepted_;
    finished(report);
  }
  arm_plan_timer();
  if (plan_->finished()) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }
}

// A connection the plan has no place for fails the run: a client that comes back when it
// should not (after a clean end, a refusal, or more often than planned).
void MockServer::report_unexpected(tcp::socket socket) {
  ++unexpected_;
  ++accepted_;
  Report report(scenario_->name, plan_->size() + unexpected_);
  report.fail(SourceLocation(scenario_->path, 0, 0), "connection",
              fmt::format("at most {} connections, as the scenario's connection blocks plan", plan_->size()),
              "another connection came");
  boost::system::error_code ignored;
  socket.close(ignored);
  finished(report);
}

asio::awaitable<void> MockServer::pause_after_failed_accept() {
  ++accept_failures_;
  // 10 ms, doubling up to a second: sessions ending free descriptors soon or not for a while.
  accept_pause_ = std::clamp(accept_pause_ * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
  accept_pause_timer_.expires_after(accept_pause_);
  boost::system::error_code ignored;  // cancelled by stop()
  co_await accept_pause_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

void MockServer::finished(const Report& report) {
  if (on_report_) on_report_(report);
  ++reported_;
  const bool all = plan_ ? plan_->finished() && reported_ == accepted_ : reported_ == options_.connections;
  if (stopped_ ? reported_ == accepted_ : all) done();
}

}  // namespace tapharness::mockserver
