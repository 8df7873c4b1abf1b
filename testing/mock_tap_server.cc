#include "testing/mock_tap_server.hpp"

#include "scenario/parser.hpp"

namespace tapharness::testing {

std::unique_ptr<MockTapServer> MockTapServer::Start(std::string_view scenario_text) {
  return Serve(scenario_text, "inline.scenario");
}

std::unique_ptr<MockTapServer> MockTapServer::StartFile(const std::string& path) {
  auto text = scenario::read_scenario_file(path);
  if (!text) {
    std::unique_ptr<MockTapServer> failed(new MockTapServer);
    failed->error_ = text.error().text();
    return failed;
  }
  return Serve(*text, path);
}

std::unique_ptr<MockTapServer> MockTapServer::Serve(std::string_view text, std::string path) {
  std::unique_ptr<MockTapServer> out(new MockTapServer);
  auto parsed = scenario::parse_scenario(text, std::move(path));
  if (!parsed) {
    out->error_ = parsed.error().text();
    return out;
  }
  auto scenario = std::make_shared<const scenario::Scenario>(std::move(parsed).value());
  auto listening = mockserver::MockServer::listen(out->io_, scenario, {.host = out->host_, .connections = 1});
  if (!listening) {
    out->error_ = listening.error().message();
    return out;
  }
  out->server_ = std::move(*listening);
  out->port_ = out->server_->endpoint().port();
  MockTapServer* self = out.get();
  out->server_->start(
      [self](const mockserver::Report& report) {
        std::lock_guard lock(self->mutex_);
        self->report_ = report;
        self->reported_.notify_all();
      },
      [] {});
  out->thread_ = std::thread([self] { self->io_.run(); });
  return out;
}

MockTapServer::~MockTapServer() {
  if (server_) {
    asio::post(io_, [this] {
      server_->interrupt("the MockTapServer was destroyed");
      server_->stop();
    });
    // Each run is bounded (its limit); interrupted, it ends at once.
    if (thread_.joinable()) thread_.join();
  }
}

::testing::AssertionResult MockTapServer::WaitForReport(std::chrono::milliseconds timeout) {
  if (!ok()) return ::testing::AssertionFailure() << "the mock server is not running: " << error_;
  std::unique_lock lock(mutex_);
  if (!reported_.wait_for(lock, timeout, [&] { return report_.has_value(); })) {
    return ::testing::AssertionFailure() << "the scenario's run did not end within " << timeout.count()
                                         << "ms (has the client connected to " << address() << "?)";
  }
  if (report_->passed()) return ::testing::AssertionSuccess() << mockserver::format_report(*report_);
  return ::testing::AssertionFailure() << mockserver::format_report(*report_);
}

std::optional<mockserver::Report> MockTapServer::report() const {
  std::lock_guard lock(mutex_);
  return report_;
}

}  // namespace tapharness::testing
