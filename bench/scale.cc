// Scale: 1,000 concurrent connections, each replaying a small scenario against one
// tap_mockserver process; total time, and the server's resident memory per connection
// once they are all idle (the scenario ends with `close wait`).
//
//   bazel run -c opt //bench:scale -- [--connections N] [--json FILE]
#include <sys/resource.h>

#include <chrono>
#include <fstream>

#include <fmt/format.h>

#include "bench/report.hpp"
#include "client/tap_feed.hpp"
#include "runner/child_process.hpp"

namespace tapharness::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kScenario = R"(# scale: a short backfill, then idle until the client leaves
timeout 60s
send opaque vb=0 code=INITIAL_VBUCKET_STREAM
repeat 10 send mutation vb=0 key="key-{n}" value=fill(100)
send opaque vb=0 code=CLOSE_BACKFILL
close wait
)";

long rss_kib(pid_t pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

void raise_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace
}  // namespace tapharness::bench

int main(int argc, char** argv) {
  using namespace tapharness;
  using namespace tapharness::bench;
  std::size_t connections = 1000;
  std::string json = "-", server_binary = "mockserver/tap_mockserver";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--connections") connections = std::stoul(argv[i + 1]);
    if (std::string(argv[i]) == "--json") json = argv[i + 1];
    if (std::string(argv[i]) == "--server") server_binary = argv[i + 1];
  }
  raise_file_limit();
  const std::string scenario_path = fmt::format("/tmp/tapharness-scale-{}.scenario", getpid());
  std::ofstream(scenario_path) << kScenario;

  asio::io_context io;
  auto spawned = runner::ChildProcess::spawn(
      io, fmt::format("exec {} --scenario {} --connections {}", server_binary, scenario_path, connections));
  if (!spawned) {
    fmt::print(stderr, "scale: {}\n", spawned.error().message());
    return 2;
  }
  auto& server = **spawned;
  std::string first;
  boost::system::error_code ec;
  asio::read_until(server.out(), asio::dynamic_buffer(first), '\n', ec);
  const auto port = first.substr(first.rfind(':') + 1, first.find('\n') - first.rfind(':') - 1);
  const long baseline = rss_kib(server.pid());

  const auto start = Clock::now();
  std::vector<std::unique_ptr<client::TapFeed>> feeds;
  std::size_t idle = 0, ended = 0, events = 0;
  for (std::size_t i = 0; i < connections; ++i) {
    client::FeedOptions options;
    options.args.client_name = fmt::format("scale-{}", i);
    feeds.push_back(std::make_unique<client::TapFeed>(client::connect_feed(io.get_executor(), "127.0.0.1", port, options)));
    auto* feed = feeds.back().get();
    auto seen = std::make_shared<int>(0);
    feed->async_consume(
        [&, seen](const protocol::TapEventView&) {
          ++events;
          if (++*seen == 12) ++idle;  // begin_backfill, 10 mutations, end_backfill
        },
        [&](const client::FeedEnd&) { ++ended; });
  }
  while (idle < connections && Clock::now() - start < std::chrono::seconds(60)) io.run_one_for(std::chrono::milliseconds(50));
  const double to_idle = std::chrono::duration<double>(Clock::now() - start).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the server settle into `close wait`
  const long loaded = rss_kib(server.pid());

  for (auto& feed : feeds) feed->close();  // the clients leave: every `close wait` is satisfied
  while (ended < connections && Clock::now() - start < std::chrono::seconds(90)) io.run_one_for(std::chrono::milliseconds(50));
  std::string verdicts;
  asio::read(server.out(), asio::dynamic_buffer(verdicts), ec);
  const int status = server.wait();
  const double total = std::chrono::duration<double>(Clock::now() - start).count();
  std::remove(scenario_path.c_str());

  std::size_t passed = 0;
  for (std::size_t at = verdicts.find("PASS "); at != std::string::npos; at = verdicts.find("PASS ", at + 1)) ++passed;
  Report report("scale");
  report.add("connections", "count", static_cast<double>(connections));
  report.add("connections_served_and_passed", "count", static_cast<double>(passed));
  report.add("events_delivered", "count", static_cast<double>(events));
  report.add("time_to_all_idle", "s", to_idle);
  report.add("total_time", "s", total);
  report.add("server_rss_baseline", "KiB", static_cast<double>(baseline));
  report.add("server_rss_all_idle", "KiB", static_cast<double>(loaded));
  report.add("server_rss_per_idle_connection", "KiB", static_cast<double>(loaded - baseline) / connections);
  report.add("server_exit_status", "status", status);
  report.print();
  report.append_json(json);
  const double per_connection = static_cast<double>(loaded - baseline) / connections;
  fmt::print("\nper idle connection: {:.1f} KiB (target < 64 KiB: {})\n", per_connection,
             per_connection < 64 ? "met" : "NOT MET");
  return passed == connections && status == 0 ? 0 : 1;
}
