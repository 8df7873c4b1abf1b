// tap_mockserver: serves a scenario to TAP clients (see server_cli.cc --help).
#include <sys/resource.h>

#include <algorithm>
#include <csignal>

#include "cli/conventions.hpp"
#include <cstdio>

#include <fmt/format.h>

#include "scenario/parser.hpp"
#include "mockserver/server.hpp"
#include "mockserver/pcap_capture.hpp"
#include "mockserver/server_cli.hpp"

namespace {

using namespace tapharness::mockserver;
using tapharness::scenario::check_scenario_file;
using tapharness::scenario::load_scenario;
using tapharness::scenario::Scenario;
namespace asio = tapharness::asio;

int check(const CheckCommand& command) {
  int status = 0;
  for (const auto& path : command.paths) {
    const auto checked = check_scenario_file(path);
    for (const auto& error : checked.errors) fmt::print(stderr, "{}\n", error);
    if (checked.more_errors > 0) fmt::print(stderr, "{}: ... and {} more errors\n", path, checked.more_errors);
    for (const auto& warning : checked.warnings) fmt::print(stderr, "{}\n", warning);
    if (!checked.valid()) {
      status = 2;
    } else {
      fmt::print("ok {}\n", path);
    }
  }
  return status;
}

// Many concurrent connections need many descriptors: take all the process may have.
void raise_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int serve(const ServeCommand& command) {
  raise_file_limit();
  auto cases = tapharness::scenario::load_scenario_cases(command.scenario_path);
  if (!cases) {
    fmt::print(stderr, "{}\n", cases.error());
    return 2;
  }
  // A file with a table is a scenario per row: --row picks one.
  const bool table = !cases->front().row.empty();
  auto chosen = std::find_if(cases->begin(), cases->end(), [&](const Scenario& s) { return s.row == command.row; });
  if (!table && !command.row.empty()) {
    fmt::print(stderr, "tap_mockserver: {} has no table; --row is for a file with one\n", command.scenario_path);
    return 2;
  }
  if (chosen == cases->end()) {
    std::string rows;
    for (const Scenario& s : *cases) rows += fmt::format("{}{}", rows.empty() ? "" : ", ", s.row);
    fmt::print(stderr, "tap_mockserver: {} is a table of {} cases; --row NAME serves one of: {}\n",
               command.scenario_path, cases->size(), rows);
    return 2;
  }
  auto scenario = std::make_shared<const Scenario>(std::move(*chosen));
  const std::size_t planned = scenario->connections.size();
  if (planned > 0 && (command.server.connections > 1 || command.server.mutation)) {
    fmt::print(stderr, "tap_mockserver: {} plans its own {} connections (its connection blocks); --connections and "
                       "--mutate take a scenario of one connection\n",
               command.scenario_path, planned);
    return 2;
  }
  const std::size_t expected = planned > 0 ? planned : command.server.connections;

  ServerOptions options = command.server;
  std::shared_ptr<PcapCapture> pcap;
  if (command.pcap) {
    auto opened = PcapCapture::open(*command.pcap);
    if (!opened) {
      fmt::print(stderr, "tap_mockserver: --pcap {}\n", opened.error().message());
      return 2;
    }
    pcap = std::move(*opened);
    options.observe = pcap->observer();
  }
  // Said once the run is over, however it ends: what the capture's limit left out.
  struct SayLeftOut {
    std::shared_ptr<PcapCapture>& pcap;
    ~SayLeftOut() {
      if (pcap && !pcap->left_out().empty()) fmt::print(stderr, "tap_mockserver: {}\n", pcap->left_out());
    }
  } say_left_out{pcap};

  asio::io_context io;
  auto listening = MockServer::listen(io, scenario, options);
  if (!listening) {
    fmt::print(stderr, "tap_mockserver: {}\n", listening.error().message());
    return 2;
  }
  auto& server = **listening;
  fmt::print("listening {}\n", server.address());
  std::fflush(stdout);

  // Ctrl-C (and TERM) stops at once: no more connections, and each running one reports what
  // it saw so far, failing at the line it was on.
  bool interrupted = false;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    interrupted = true;
    server.stop();
    server.interrupt(signal == SIGINT ? "Ctrl-C" : "SIGTERM");
  });
  int status = 0;
  std::size_t served = 0;
  server.start(
      [&](const Report& report) {
        ++served;
        if (!report.passed()) status = 1;
        fmt::print("{}", format_report(report));
        std::fflush(stdout);
      },
      [&] { signals.cancel(); });
  io.run();
  if (interrupted) {
    fmt::print("interrupted after {} of {} connections\n", served, expected);
    return tapharness::cli::kInterruptedStatus;
  }
  if (served < expected) {
    fmt::print("stopped after {} of {} connections\n", served, expected);
    status = 1;
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  auto command = parse_server_cli(argc, argv);
  if (auto* usage = std::get_if<CliUsage>(&command)) {
    fmt::print(usage->status == 0 ? stdout : stderr, "{}", usage->text);
    return usage->status;
  }
  if (auto* c = std::get_if<CheckCommand>(&command)) return check(*c);
  return serve(std::get<ServeCommand>(command));
}
