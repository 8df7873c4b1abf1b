// tap_record: a captured or live TAP session as a scenario (see record_cli.cc --help).
#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "capture/capture_reader.hpp"
#include "cli/conventions.hpp"
#include "record/capture_input.hpp"
#include "record/proxy.hpp"
#include "record/record_cli.hpp"
#include "record/recorder.hpp"
#include "record/scenario_output.hpp"

namespace {

using namespace tapharness::record;
namespace asio = tapharness::asio;
namespace capture = tapharness::capture;

// The reader takes the whole file (its payload bound is 512 MiB): a larger capture is cut
// to one conversation first (tshark -Y, editcap), not read.
constexpr std::uintmax_t kMaxCaptureFile = 1024ull * 1024 * 1024;

std::optional<std::string> read_capture_file(const std::string& path, std::string& bytes) {
  if (path == tapharness::cli::kStdio) {
    char buffer[64 * 1024];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, stdin)) > 0) {
      bytes.append(buffer, n);
      if (bytes.size() > kMaxCaptureFile)
        return fmt::format("standard input: more than {} bytes", kMaxCaptureFile);
    }
    return std::nullopt;
  }
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return fmt::format("{}: {}", path, ec.message());
  if (size > kMaxCaptureFile) {
    return fmt::format(
        "{}: {} bytes is over the {} tap_record reads (cut the capture to one conversation first)",
        path, size, kMaxCaptureFile);
  }
  std::ifstream in(path, std::ios::binary);
  bytes.assign(std::istreambuf_iterator<char>(in), {});
  if (!in && !in.eof()) return fmt::format("{}: cannot be read", path);
  return std::nullopt;
}

RecordOptions options_for(const Shape& shape, std::string path, std::string source) {
  RecordOptions o;
  o.scenario_path = std::move(path);
  o.source = std::move(source);
  o.splits = shape.splits;
  o.pause_ms = shape.pause_ms;
  return o;
}

int record_capture(const CaptureCommand& command) {
  std::string bytes;
  if (auto e = read_capture_file(command.capture, bytes)) {
    fmt::print(stderr, "tap_record: {}\n", *e);
    return 2;
  }
  auto parsed = capture::read_capture(tapharness::protocol::as_bytes(bytes));
  if (!parsed) {
    fmt::print(stderr, "tap_record: {}: {}\n", command.capture, parsed.error().message());
    return 2;
  }
  std::string().swap(bytes);  // the capture holds copies of what it keeps
  auto chosen = choose_conversation(*parsed, command.connection);
  if (!chosen) {
    fmt::print(stderr, "tap_record: {}: {}", command.capture, chosen.error().message());
    if (!chosen.error().message().ends_with('\n')) fmt::print(stderr, "\n");
    return 2;
  }
  const capture::Conversation& c = **chosen;
  const std::size_t index = static_cast<std::size_t>(&c - parsed->conversations.data()) + 1;
  // Long values go beside --out, or into --dir when the scenario goes to standard output.
  const std::string scenario_path =
      !command.out.empty()
          ? command.out
          : (command.dir.empty()
                 ? std::string()
                 : (std::filesystem::path(command.dir) / "recorded.scenario").string());
  const std::string source =
      fmt::format("{}, connection {} ({}:{} -> {}:{})",
                  std::filesystem::path(command.capture).filename().string(), index,
                  c.client.address, c.client.port, c.server.address, c.server.port);
  Recorder recorder(options_for(command.shape, scenario_path, source), side_file_sink());
  feed_conversation(c, recorder);
  const Recording recording = recorder.finish();
  if (auto e = write_scenario(command.out, recording, scenario_path)) {
    fmt::print(stderr, "tap_record: {}\n", e->message());
    return 1;
  }
  if (recording.error) {
    fmt::print(stderr, "tap_record: {}: {}\n", command.capture, recording.error->message());
    return 1;
  }
  return 0;
}

int record_live(const ProxyCommand& command) {
  asio::io_context io;
  ProxyOptions options;
  options.listen_host = command.listen_host;
  options.listen_port = command.listen_port;
  options.upstream_host = command.upstream_host;
  options.upstream_port = command.upstream_port;
  options.connect_timeout = command.connect_timeout;
  options.connections = command.connections;
  const std::string upstream = fmt::format("{}:{}", command.upstream_host, command.upstream_port);
  auto proxy = RecordingProxy::listen(io, options, [&](std::size_t session) {
    return std::make_unique<Recorder>(
        options_for(command.shape, session_path(command.out, session, command.connections),
                    fmt::format("a live session {} with {}", session, upstream)),
        side_file_sink());
  });
  if (!proxy) {
    fmt::print(stderr, "tap_record: {}\n", proxy.error().message());
    return 2;
  }
  fmt::print("listening {}\n", (*proxy)->address());
  std::fflush(stdout);

  // Ctrl-C (and TERM): every session writes what it has.
  bool interrupted = false;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    interrupted = true;
    (*proxy)->stop();
  });
  int status = 0;
  (*proxy)->start(
      [&](SessionResult result) {
        if (result.failure) {
          fmt::print(stderr, "tap_record: session {}: {}\n", result.session, *result.failure);
          status = 1;
          return;
        }
        const std::string path = session_path(command.out, result.session, command.connections);
        if (auto e = write_scenario(path, *result.recording)) {
          fmt::print(stderr, "tap_record: {}\n", e->message());
          status = 1;
          return;
        }
        fmt::print("recorded {}: {} frames from the server, {} from the client\n", path,
                   result.recording->server_frames, result.recording->client_frames);
        std::fflush(stdout);
        if (result.recording->error) {
          fmt::print(stderr, "tap_record: {}: {}\n", path, result.recording->error->message());
          status = 1;
        }
      },
      [&] { signals.cancel(); });
  io.run();
  return interrupted ? tapharness::cli::kInterruptedStatus : status;
}

}  // namespace

int main(int argc, char** argv) {
  auto command = parse_record_cli(argc, argv);
  if (auto* usage = std::get_if<CliUsage>(&command)) {
    fmt::print(usage->status == 0 ? stdout : stderr, "{}", usage->text);
    return usage->status;
  }
  if (auto* c = std::get_if<CaptureCommand>(&command)) return record_capture(*c);
  return record_live(std::get<ProxyCommand>(command));
}
