// A mock TAP server for a user's own tests (GoogleTest): serves a scenario on 127.0.0.1
// with an ephemeral port, on its own thread, and reports whether the client did what the
// scenario expects. The client under test is yours; connect it to address().
//
//   auto server = tapharness::testing::MockTapServer::Start(R"(
//     expect connect name="replica"
//     send mutation key="k1" value="v1" ack
//     close fin
//   )");
//   ASSERT_TRUE(server->ok()) << server->error();
//   my_client.connect(server->host(), server->port());
//   ...
//   EXPECT_TRUE(server->WaitForReport(std::chrono::seconds(5)));   // expected vs observed if not
//
// The destructor stops it (a run still going is cut short).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <gtest/gtest.h>

#include "mockserver/report.hpp"
#include "mockserver/server.hpp"
#include "scenario/scenario.hpp"
#include "third_party/asio.hpp"

namespace tapharness::testing {

class MockTapServer {
 public:
  // Serves `scenario_text` (the scenario language, scenarios/README.md) to one connection.
  static std::unique_ptr<MockTapServer> Start(std::string_view scenario_text);
  // Serves a scenario file.
  static std::unique_ptr<MockTapServer> StartFile(const std::string& path);

  ~MockTapServer();
  MockTapServer(const MockTapServer&) = delete;
  MockTapServer& operator=(const MockTapServer&) = delete;

  // Whether it is serving; otherwise error() says why (the scenario's file:line:col error).
  bool ok() const { return server_ != nullptr; }
  const std::string& error() const { return error_; }

  const std::string& host() const { return host_; }
  std::uint16_t port() const { return port_; }
  std::string address() const { return host_ + ":" + std::to_string(port_); }

  // Waits until the connection's run has ended. Succeeds when every expectation held; fails
  // with the report (each failed line, expected against observed) otherwise, or when it did
  // not end within `timeout`.
  ::testing::AssertionResult WaitForReport(std::chrono::milliseconds timeout);

  // The report, once there is one.
  std::optional<mockserver::Report> report() const;

 private:
  MockTapServer() = default;
  static std::unique_ptr<MockTapServer> Serve(std::string_view text, std::string path);

  asio::io_context io_;
  std::unique_ptr<mockserver::MockServer> server_;
  std::thread thread_;
  std::string error_;
  std::string host_ = "127.0.0.1";
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable reported_;
  std::optional<mockserver::Report> report_;
};

}  // namespace tapharness::testing
