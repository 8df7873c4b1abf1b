#include "mockserver/server.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "mockserver/trace_writer.hpp"

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
      accept_pause_timer_(io) {}

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
  if (reported_ == accepted_) done();
}

void MockServer::done() {
  if (done_) return;  // once, whether the last report or stop() comes last
  done_ = true;
  if (on_done_) on_done_();
}

asio::awaitable<void> MockServer::accept_loop() {
  while (accepted_ < options_.connections && !stopped_) {
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
    const std::size_t connection = ++accepted_;
    // Planned chunks must leave as separate segments, not wait for each other (Nagle).
    socket.set_option(tcp::no_delay(true), ec);

    EngineOptions engine{
        .seed = options_.seed, .connection = connection, .limit = options_.limit, .stop = stop_signal_};
    auto scenario = scenario_;
    if (options_.mutation) {
      const std::uint64_t seed = options_.mutation->seed + (connection - 1) % options_.mutation->count;
      scenario = std::make_shared<const Scenario>(scenario::mutate(*scenario_, seed));
      engine.mutation = true;
    }
    std::shared_ptr<TraceWriter> trace;
    if (options_.trace_dir) {
      trace = std::make_shared<TraceWriter>(
          fmt::format("{}/{}.{}.trace", *options_.trace_dir, scenario_->name, connection));
      if (trace->ok()) engine.trace = [trace](const TraceRecord& r) { trace->write(r); };
    }
    async_run_scenario(std::move(socket), std::move(scenario), std::move(engine),
                       [this](Report report) { finished(report); });
  }
  boost::system::error_code ignored;
  acceptor_.close(ignored);
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
  if (reported_ == (stopped_ ? accepted_ : options_.connections)) done();
}

}  // namespace tapharness::mockserver
