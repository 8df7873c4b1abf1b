// The socket-free scenario engine: runs one parsed scenario over any stream (in memory in
// unit tests, TCP in tap_mockserver) and reports every step.
//
//   async_run_scenario(std::move(stream), scenario, {}, [](Report report) { ... });
//
// The engine reads the client's TAP_CONNECT, then performs the steps in order while a
// reader (client_inbox.hpp) collects what the client sends by protocol framing. Each frame
// is written exactly as planned: one write per planned chunk, faults applied byte for byte.
// Every wait is bounded by the step's `within` or the scenario's `timeout`, and so is every
// write (a client that stops reading is cut off), so a run always ends.
//
// Client frames are judged as they are met (the rules: ack_book.hpp):
// - an `expect ack` (or `unordered` group) takes the next frame, which must be its ACK;
//   ACKs for earlier sends that asked for one, and `optional` ACKs, may come before it;
// - between expectations, an ACK for any send that asked for one is accepted (in send
//   order under `acks auto`, which also requires them by the end); an `expect ack` that
//   later claims that send is judged on the ACK that came;
// - anything else fails the step during which it arrived, unless `allow unexpected`.
//
// Use one session per stream, from one thread (or a strand) at a time.
#pragma once

#include <exception>
#include <memory>
#include <optional>

#include "mockserver/engine_options.hpp"
#include "mockserver/report.hpp"
#include "mockserver/session.hpp"
#include "scenario/scenario.hpp"
#include "third_party/asio.hpp"

namespace tapharness::mockserver {

// Runs `scenario` over `stream` and completes with the report: void(Report). An internal
// failure of the engine (it should never happen) is the report's failure, not an exception.
template <class Stream, class CompletionToken>
auto async_run_scenario(Stream stream, std::shared_ptr<const Scenario> scenario, EngineOptions options,
                        CompletionToken&& token) {
  auto executor = stream.get_executor();
  auto session = std::make_shared<detail::Session<Stream>>(std::move(stream), scenario, options);
  return asio::async_initiate<CompletionToken, void(Report)>(
      [executor, session, scenario, connection = options.connection](auto handler) mutable {
        asio::co_spawn(executor, session->run(session),
                       [handler = std::move(handler), scenario, connection](std::exception_ptr error,
                                                                            Report report) mutable {
                         if (error) report = internal_failure(*scenario, connection, error);
                         handler(std::move(report));
                       });
      },
      token);
}

}  // namespace tapharness::mockserver
