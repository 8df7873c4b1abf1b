// Codec decode throughput over an in-memory buffer of the feed benchmark's frames, as a
// ratio to a plain memcpy of the same buffer (Google Benchmark measures; this prints the
// ratios).
//
//   bazel run -c opt //bench:codec_throughput -- [--json FILE]
#include <benchmark/benchmark.h>

#include <cstring>

#include <fmt/format.h>

#include "bench/report.hpp"
#include "bench/stream_fixture.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/tap_event.hpp"

namespace tapharness::bench {
namespace {

const protocol::Bytes& frames(std::size_t value_size) {
  static std::map<std::size_t, protocol::Bytes> cache;
  auto& bytes = cache[value_size];
  if (bytes.empty()) bytes = encode_mutations({100'000, value_size, 0}, 0, 100'000);
  return bytes;
}

void memcpy_buffer(benchmark::State& state) {
  const auto& in = frames(state.range(0));
  protocol::Bytes out(in.size());
  for (auto _ : state) {
    std::memcpy(out.data(), in.data(), in.size());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
}

// Frames only: header checks and the split into extras, engine bytes, key and value.
void decode_frames(benchmark::State& state) {
  const auto& in = frames(state.range(0));
  for (auto _ : state) {
    protocol::FrameDecoder decoder;
    protocol::ByteView rest = in;
    std::size_t count = 0;
    while (!rest.empty()) {
      auto result = decoder.decode(rest);
      const auto* d = std::get_if<protocol::Decoded>(&result);
      if (!d) break;
      benchmark::DoNotOptimize(d->frame.value.data());
      rest = rest.subspan(d->consumed);
      ++count;
    }
    benchmark::DoNotOptimize(count);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
}

// Frames and the TAP layer: what the feed does per frame (the event as views, ACK requests),
// every field of each event read.
void decode_events(benchmark::State& state) {
  const auto& in = frames(state.range(0));
  for (auto _ : state) {
    protocol::FrameDecoder decoder;
    protocol::ByteView rest = in;
    std::size_t events = 0;
    std::uint64_t checksum = 0;
    while (!rest.empty()) {
      auto result = decoder.decode(rest);
      const auto* d = std::get_if<protocol::Decoded>(&result);
      if (!d) break;
      auto step = protocol::map_feed_frame_view(d->frame, protocol::position_of(d->frame));
      if (const auto* deliver = std::get_if<protocol::DeliverView>(&step)) {
        // Every field of the event (the key and value as views), folded so that none can be
        // optimised away (DoNotOptimize here would clobber all memory per frame).
        const protocol::TapEventView& e = deliver->event;
        events += 1;
        checksum += e.key.size() + e.value.size() + e.cas + e.flags + e.expiry + e.vbucket + e.datatype +
                    static_cast<std::uint64_t>(e.kind) + (deliver->ack ? deliver->ack->opaque : 0) +
                    reinterpret_cast<std::uintptr_t>(e.key.data()) + reinterpret_cast<std::uintptr_t>(e.value.data());
      }
      rest = rest.subspan(d->consumed);
    }
    benchmark::DoNotOptimize(events);
    benchmark::DoNotOptimize(checksum);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
}

BENCHMARK(memcpy_buffer)->Arg(100)->Arg(4096)->Unit(benchmark::kMillisecond);
BENCHMARK(decode_frames)->Arg(100)->Arg(4096)->Unit(benchmark::kMillisecond);
BENCHMARK(decode_events)->Arg(100)->Arg(4096)->Unit(benchmark::kMillisecond);

// Keeps each run's seconds per iteration for the ratios, and prints the usual table.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) seconds[run.benchmark_name()] = run.GetAdjustedRealTime() / 1e3;  // ms -> s
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> seconds;
};

}  // namespace
}  // namespace tapharness::bench

int main(int argc, char** argv) {
  using namespace tapharness::bench;
  std::string json = "-";
  std::vector<char*> args{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--json" && i + 1 < argc) {
      json = argv[++i];
    } else {
      args.push_back(argv[i]);
    }
  }
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);

  Report report("codec_throughput");
  for (const char* size : {"100", "4096"}) {
    const double copy = reporter.seconds[fmt::format("memcpy_buffer/{}", size)];
    const double bytes = static_cast<double>(frames(std::stoul(size)).size());
    for (const char* what : {"decode_frames", "decode_events"}) {
      const double t = reporter.seconds[fmt::format("{}/{}", what, size)];
      if (t <= 0 || copy <= 0) continue;
      report.add(fmt::format("{}_{}B_MB_per_s", what, size), "MB/s", bytes / t / 1e6);
      report.add(fmt::format("{}_{}B_frames_per_s", what, size), "frames/s", 100'000 / t);
      report.add_ratio(fmt::format("{}_{}B_vs_memcpy", what, size), copy / t, 0.5);
    }
    report.add(fmt::format("memcpy_{}B_MB_per_s", size), "MB/s", bytes / copy / 1e6);
  }
  report.print();
  report.append_json(json);
}
