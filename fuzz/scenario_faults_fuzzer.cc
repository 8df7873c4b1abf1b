// Fuzz target, structure-aware: a real scenario from the library with its fault plan
// mutated by the fuzzer's bytes, run by the engine against the client feed over an
// in-memory pipe.
//
// Input: "<scenario name>\n" [settings] [max read] then one op per `send`, in file order
// (repeat bodies included):
// - the name picks the scenario (an unknown name picks one by its hash);
// - settings bits 0-1, the client's idle timeout: 0 the scenario's (at most 20 ms), 1 none,
//   2 1 ms, 3 5 ms;
// - max read: at most this many bytes per read of the client end (0: all there is);
// - op (mod 8), then its operands: 0 keep the send's faults; 1 clear them; 2 split at
//   1-4 offsets (u16 each); 3 truncate (u16); 4 corrupt 1-3 bytes (u16 offset, byte each);
//   5 write byte by byte; 6 reset the connection (close rst) right after this send's step,
//   dropping the steps after it; 7 the same with close fin.
// Running out of input keeps the remaining sends as they are.
//
// So that one run takes milliseconds, every wait is cut short (shorten_waits(): the scenario
// timeout and each `within` to 3 ms, delays and byte gaps to 0, repeats to 3 at most). The
// engine's verdicts are not checked (a mutated scenario is expected to fail them); what is
// checked is that both sides finish within bounds, that the engine's byte count matches
// what the feed read, and that the feed did exactly what the bytes it read require
// (check_feed, feed_harness.hpp): one end, the right one, nothing after it, every event and
// ACK.
//
// TAPHARNESS_FUZZ_VERBOSE=1 prints, per input, the scenario, the feed's end and the engine's
// report: the way to see what a saved input does.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz/feed_harness.hpp"
#include "fuzz/fuzz_check.hpp"
#include "fuzz/fuzz_input.hpp"
#include "fuzz/library_runs.hpp"
#include "mockserver/engine.hpp"
#include "scenario/render.hpp"
#include "scenario/parser.hpp"

namespace tapharness::fuzz {
namespace {

using scenario::FaultPlan;
using scenario::Scenario;

constexpr std::size_t kMaxBytewise = 4096;

// Applies one op to a send's faults; returns the close to put after its step, if any.
std::optional<scenario::Close::How> mutate(scenario::Send& send, std::uint64_t seed, FuzzInput& in) {
  const std::uint8_t op = in.byte() % 8;
  if (op == 0) return std::nullopt;
  if (op == 6) return scenario::Close::How::rst;
  if (op == 7) return scenario::Close::How::fin;
  FaultPlan& fault = send.edit_fault();
  scenario::ScenarioRandom random(seed);
  const std::size_t length = scenario::render_frame(send.frame(), 0, random, 1).bytes.size();
  auto offset_in = [&](std::size_t n) { return n == 0 ? 0 : in.u16() % n; };
  switch (op) {
    case 1:
      fault = FaultPlan{};
      break;
    case 2: {
      fault.bytewise = false;
      fault.split.clear();
      const std::size_t count = in.byte() % 4 + 1;
      for (std::size_t i = 0; i < count; ++i) fault.split.push_back(offset_in(length));
      break;
    }
    case 3:
      fault.truncate = offset_in(length + 1);
      break;
    case 4: {
      const std::size_t count = in.byte() % 3 + 1;
      for (std::size_t i = 0; i < count && length > 0; ++i) {
        const std::size_t at = offset_in(length);
        fault.corrupt.push_back({at, in.byte()});
      }
      break;
    }
    case 5:
      fault.split.clear();
      fault.bytewise = length <= kMaxBytewise;
      break;
  }
  // Keep the plan one the parser could have written: split offsets ascending, inside what is
  // written, never 0.
  const std::size_t written = fault.truncate.value_or(length);
  std::sort(fault.split.begin(), fault.split.end());
  fault.split.erase(std::unique(fault.split.begin(), fault.split.end()), fault.split.end());
  std::erase_if(fault.split, [&](std::size_t cut) { return cut == 0 || cut >= written; });
  return std::nullopt;
}

// Mutates the sends in file order; a close op cuts the steps after the one it follows.
void mutate(Scenario& scenario, FuzzInput& in) {
  for (std::size_t i = 0; i < scenario.steps.size() && !in.empty(); ++i) {
    scenario::Step& step = scenario.steps[i];
    std::optional<scenario::Close::How> close;
    if (auto* send = std::get_if<scenario::Send>(&step.action)) {
      close = mutate(*send, scenario.seed, in);
    } else if (auto* repeat = std::get_if<scenario::Repeat>(&step.action)) {
      for (auto& inner : repeat->body) {
        if (auto* send = std::get_if<scenario::Send>(&inner.action); send && !close) {
          close = mutate(*send, scenario.seed, in);
        }
      }
    }
    if (close) {
      const auto location = step.location;
      scenario.steps.resize(i + 1);
      scenario.steps.push_back(scenario::Step{scenario::Close{*close}, location});
      return;
    }
  }
}

}  // namespace
}  // namespace tapharness::fuzz

TAPHARNESS_FUZZ_TARGET(in) {
  using namespace tapharness;
  using namespace tapharness::fuzz;
  auto scenario = short_library_scenario(in);
  const std::uint8_t settings = in.byte();
  const std::uint8_t max_read = in.byte();
  mutate(*scenario, in);

  client::FeedOptions options;
  if (scenario->client.args) options.args = scenario->client.args->args;
  switch (settings & 3) {
    case 0:
      if (scenario->client.args && scenario->client.args->idle_timeout) {
        options.idle_timeout = std::min(*scenario->client.args->idle_timeout, client::Duration{20});
      }
      break;
    case 1: break;
    case 2: options.idle_timeout = client::Duration{1}; break;
    case 3: options.idle_timeout = client::Duration{5}; break;
  }

  asio::io_context io;
  auto log = std::make_shared<StreamLog>();
  auto [client_end, server_end] = tapharness::testing::make_memory_pipe(io.get_executor());
  if (max_read != 0) client_end.set_max_read(max_read);
  // The engine's writes wait for the client as a socket's do, so a client reading a few bytes
  // at a time holds a large frame's write up until its timeout, instead of finding 21 MiB
  // buffered at once that it must then read a few bytes at a time.
  server_end.set_send_buffer(256 * 1024);
  std::optional<mockserver::Report> report;
  mockserver::async_run_scenario(std::move(server_end), scenario, {},
                                 [&](mockserver::Report r) { report = std::move(r); });
  RecordedFeed feed(RecordingStream(std::move(client_end), log), options);
  Consumer consumer(feed);
  feed.start();
  consumer.start();

  // Both sides bound every wait, so both finish; the limits catch a hang or a livelock.
  // The 21 MiB value of value_at_the_limit, read in pipe-sized pieces, takes millions.
  constexpr std::size_t kMaxSteps = 20'000'000;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::size_t steps = 0;
  while (!(report && consumer.observed().end) && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    steps += io.run_one_for(std::chrono::milliseconds(50));
    FUZZ_CHECK(steps <= kMaxSteps, "{} did not finish within {} handler steps", scenario->name, kMaxSteps);
  }
  FUZZ_CHECK(report.has_value(), "the engine did not finish {} within 20 s", scenario->name);
  FUZZ_CHECK(consumer.observed().end.has_value(), "the feed did not end ({}) within 20 s", scenario->name);
  check_feed(consumer.observed(), *log, options);
  // The engine counts what it wrote: the feed cannot have read more, and reading to EOF it
  // read all of it.
  const bool read_to_eof = log->read_end == asio::error::eof;
  FUZZ_CHECK(read_to_eof ? log->read.size() == report->bytes_sent : log->read.size() <= report->bytes_sent,
             "the feed read {} bytes{}; the engine reports {} sent", log->read.size(), read_to_eof ? " to EOF" : "",
             report->bytes_sent);
  if (std::getenv("TAPHARNESS_FUZZ_VERBOSE")) {
    fmt::print(stderr, "{}: {} events, end '{}', {} bytes read, {} written\n{}\n", scenario->name,
               consumer.observed().events.size(), *consumer.observed().end, log->read.size(), log->written.size(),
               mockserver::format_report(*report));
  }

  // Leave nothing pending: every parked operation completes before the pipe goes away.
  feed.close();
  io.restart();
  io.run_for(std::chrono::milliseconds(1));
  while (io.poll() > 0) io.restart();
  return 0;
}
