// How fast the mock server sends a volume scenario, as a ratio to the raw sender (a thread
// writing pre-encoded blocks), and to how fast the client consumes.
//
//   bazel run -c opt //bench:mockserver_rate -- [--events N] [--json FILE]
#include <thread>

#include <fmt/format.h>

#include "bench/report.hpp"
#include "bench/stream_fixture.hpp"
#include "scenario/parser.hpp"
#include "mockserver/server.hpp"

namespace tapharness::bench {
namespace {

// The volume scenario: N mutations shaped like the raw sender's (20-byte keys, 100-byte
// values, seeded random letters), numbered keys and CAS, the producer's opaques, in one repeat.
std::shared_ptr<const scenario::Scenario> volume_scenario(std::size_t events, bool coalesced) {
  const std::string text = fmt::format(
      "{}seed 7\nrepeat {} send mutation vb=0 key=\"bench:key:{{n}}\" value=random(100) cas={{n}}\nclose fin\n",
      coalesced ? "writes coalesced\n" : "", events);
  auto parsed = scenario::parse_scenario(text, "volume.scenario");
  if (!parsed) {
    fmt::print(stderr, "{}\n", parsed.error());
    std::exit(2);
  }
  return std::make_shared<const scenario::Scenario>(std::move(parsed).value());
}

// Bytes per second a reader that discards everything sees from `port` (64 KiB reads, each
// filled: the fastest raw reader feed_throughput measures).
double read_all(const std::string& port) {
  const RawRead read = read_and_discard(port, 64 * 1024);
  return read.bytes / read.seconds;
}

// The mock server serving the volume scenario on its own thread to `read(port)`.
template <class Read>
double serve_volume(std::size_t events, bool coalesced, Read read) {
  auto scenario = volume_scenario(events, coalesced);
  asio::io_context io;
  auto server = mockserver::MockServer::listen(io, scenario, {}).value();
  server->start([](const mockserver::Report&) {}, [] {});
  std::thread serving([&] { io.run(); });
  const double rate = read(std::to_string(server->endpoint().port()));
  serving.join();
  return rate;
}

// Bytes per second the mock server sends to a reader that discards.
double mock_server_rate(std::size_t events, bool coalesced) { return serve_volume(events, coalesced, read_all); }

// Events per second the client consumes from the mock server.
double client_from_mock_server(std::size_t events) {
  return serve_volume(events, true, [&](const std::string& port) { return client_consume_rate(port, {events, 100, 0}); });
}

double raw_sender_rate(std::size_t events) {
  FastSender sender({events, 100, 0});
  return read_all(sender.port());
}

}  // namespace
}  // namespace tapharness::bench

int main(int argc, char** argv) {
  using namespace tapharness::bench;
  const auto [events, json] = parse_stream_args(argc, argv);
  const double frame = 24 + 16 + 9 + 20 + 100;
  // Rounds alternate, so a noisy neighbour hits every side; each keeps its best round.
  double raw = 0, one_per_frame = 0, coalesced = 0, client = 0, client_from_mock = 0;
  for (int round = 0; round < 5; ++round) {
    raw = std::max(raw, raw_sender_rate(events));
    coalesced = std::max(coalesced, mock_server_rate(events, true));
    client = std::max(client, client_consume_rate({events, 100, 0}));
    client_from_mock = std::max(client_from_mock, client_from_mock_server(events));
    if (round == 0) one_per_frame = mock_server_rate(std::min<std::size_t>(events, 100'000), false);
  }
  Report report("mockserver_rate");
  report.add("raw_sender_events_per_s", "events/s", raw / frame);
  report.add("mockserver_one_write_per_frame_events_per_s", "events/s", one_per_frame / frame);
  report.add("mockserver_coalesced_events_per_s", "events/s", coalesced / frame);
  report.add("mockserver_one_write_per_frame_vs_raw", "ratio", one_per_frame / raw);
  report.add("mockserver_coalesced_vs_raw", "ratio", coalesced / raw);
  report.add("client_consume_events_per_s", "events/s", client);
  report.add_ratio("mockserver_coalesced_vs_client", coalesced / frame / client, 1.0);
  // The same question asked of the client: does it consume as fast from the mock server as
  // from the raw sender (is the server ever what it waits for)?
  report.add("client_from_mockserver_events_per_s", "events/s", client_from_mock);
  report.add_ratio("client_from_mockserver_vs_from_raw_sender", client_from_mock / client, 0.9);
  report.print();
  report.append_json(json);
}
