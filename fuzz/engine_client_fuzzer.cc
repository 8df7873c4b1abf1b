// Fuzz target: the mock server's engine reading an arbitrary client byte stream, the other
// input surface of the engine (tap_connect covers the TAP_CONNECT decoding alone).
//
// Input: "<scenario name>\n" [write size] [ending] then the client's bytes. The name picks a
// library scenario (an unknown name picks one by its hash; waits are cut short as in
// scenario_faults). The client end writes the bytes in pieces of `write size` (0: one write),
// letting the engine run between them, then ends as `ending` (mod 3) says: 0 FIN, 1 RST,
// 2 it stays open.
//
// Checked: the engine finishes within bounds whatever the client sends; it counts no more
// client frames than the bytes hold (decoded with its own limits); every step it reports
// points at a line of the scenario file (or line 0, the implicit `expect connect`); every
// failure says what was expected and what was observed.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "fuzz/fuzz_input.hpp"
#include "fuzz/library_runs.hpp"
#include "fuzz/scenario_library.hpp"
#include "mockserver/engine.hpp"
#include "mockserver/report.hpp"
#include "protocol/frame_decoder.hpp"
#include "tests/support/memory_stream.hpp"

namespace tapharness::fuzz {
namespace {

// How many whole frames `bytes` holds before it stops decoding.
std::size_t whole_frames(protocol::ByteView bytes, const protocol::Limits& limits) {
  protocol::FrameDecoder decoder(limits);
  std::size_t frames = 0;
  for (;;) {
    const auto result = decoder.decode(bytes);
    const auto* decoded = std::get_if<protocol::Decoded>(&result);
    if (!decoded) return frames;
    ++frames;
    bytes = bytes.subspan(decoded->consumed);
  }
}

int line_count(std::string_view text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
}

}  // namespace
}  // namespace tapharness::fuzz

TAPHARNESS_FUZZ_TARGET(in) {
  using namespace tapharness;
  using namespace tapharness::fuzz;
  auto scenario = short_library_scenario(in);
  const std::uint8_t write_size = in.byte();
  const std::uint8_t ending = in.byte() % 3;
  const protocol::ByteView bytes = in.rest();

  asio::io_context io;
  auto [client, server] = tapharness::testing::make_memory_pipe(io.get_executor());
  std::optional<mockserver::Report> report;
  const mockserver::EngineOptions options;
  mockserver::async_run_scenario(std::move(server), scenario, options,
                                 [&report](mockserver::Report r) { report = std::move(r); });

  constexpr std::size_t kMaxSteps = 1'000'000;
  std::size_t steps = 0;
  auto run_ready = [&] {
    io.restart();
    while (io.poll_one() > 0) FUZZ_CHECK(++steps <= kMaxSteps, "the engine did not settle in {} steps", kMaxSteps);
  };
  run_ready();
  const std::size_t piece = write_size == 0 ? bytes.size() : write_size;
  for (std::size_t at = 0; at < bytes.size(); at += piece) {
    const auto chunk = bytes.subspan(at, std::min(piece, bytes.size() - at));
    asio::async_write(client, asio::buffer(chunk.data(), chunk.size()), [](auto, std::size_t) {});
    run_ready();
  }
  if (ending == 0) client.shutdown_send();
  if (ending == 1) client.reset();

  // Every wait of the engine is bounded (and cut to milliseconds), so it finishes.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!report && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    steps += io.run_one_for(std::chrono::milliseconds(50));
    FUZZ_CHECK(steps <= kMaxSteps, "the engine did not finish in {} steps", kMaxSteps);
  }
  FUZZ_CHECK(report.has_value(), "the engine did not finish {} within 20 s", scenario->name);

  const std::size_t frames = whole_frames(bytes, options.client_limits);
  FUZZ_CHECK(report->frames_received <= frames, "the engine counts {} client frames; the bytes hold {}",
             report->frames_received, frames);
  const std::string_view text = [&] {
    for (const auto& s : scenario_library()) {
      if (s.name == scenario->name) return s.text;
    }
    return std::string_view();
  }();
  for (const auto& step : report->steps()) {
    FUZZ_CHECK(step.location.file() == scenario->path && step.location.line >= 0 &&
                   step.location.line <= line_count(text),
               "a step reported at {}, outside {}", step.location, scenario->path);
    FUZZ_CHECK(step.failed == 0 || (step.failure && !step.failure->expected.empty() && !step.failure->observed.empty()),
               "a failure at {} without expected and observed", step.location);
  }
  (void)mockserver::format_report(*report);

  // Leave nothing pending before the pipe goes away.
  client.close();
  io.restart();
  io.run_for(std::chrono::milliseconds(1));
  while (io.poll() > 0) io.restart();
  return 0;
}
