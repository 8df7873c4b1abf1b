// How the engine runs a scenario (engine.hpp): overrides, tracing, and the client's limits.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "mockserver/stop_signal.hpp"
#include "mockserver/trace.hpp"
#include "protocol/frame_decoder.hpp"

namespace tapharness::mockserver {

struct EngineOptions {
  std::optional<std::uint64_t> seed;  // overrides the scenario's seed
  TraceSink trace;                    // may be empty
  std::size_t connection = 1;         // for the report
  // Mutation mode: the client may leave at any point, so a send to a departed client ends
  // the run without failing it (scenario/mutation.hpp).
  bool mutation = false;
  // How long the run may take; unset: the scenario's `limit`, or scenario::kDefaultLimit.
  std::optional<std::chrono::milliseconds> limit;
  // Stops the run from outside (may be empty).
  std::shared_ptr<StopSignal> stop;
  // What a client may send up to its TAP_CONNECT: one with a long vbucket list fits easily.
  protocol::Limits client_limits{.max_body = 1 << 20, .max_key = 4096, .max_extras = 64};
  // ...and after it, when it sends only ACKs (24 bytes; a key is only logged by ep-engine).
  protocol::Limits ack_limits{.max_body = 1024, .max_key = 1024, .max_extras = 64};
};

}  // namespace tapharness::mockserver
