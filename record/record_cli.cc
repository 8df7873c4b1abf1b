#include "record/record_cli.hpp"

#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <filesystem>
#include <sstream>
#include <vector>

#include "cli/conventions.hpp"
#include "cli/duration.hpp"

namespace tapharness::record {
namespace po = boost::program_options;

namespace {

constexpr std::string_view kUsage =
    "usage: tap_record CAPTURE [--connection N] [--out FILE | --dir DIR] [--splits BYTES] "
    "[--pauses MS]\n"
    "       tap_record --listen HOST:PORT --upstream HOST:PORT --out FILE [--connections N]\n"
    "                  [--connect-timeout SECONDS] [--splits BYTES] [--pauses MS]";

constexpr std::string_view kAbout = R"(
Records a TAP session as a scenario (scenarios/README.md) that tap_mockserver replays to a
client as the server did: the server's frames as exact send lines, the client's TAP_CONNECT,
SASL and ACKs as expect lines, what the built-in client reports as client event lines, and
how the session ended.

From a capture: CAPTURE is a pcap or pcapng file ('-': standard input) of at most 1 GiB. A
capture of one TCP conversation is recorded; of several, --connection N picks one (without
it they are listed). The scenario goes to --out FILE, or to standard output.

Live: listens on --listen (its first output line is "listening HOST:PORT"), relays each
client to --upstream unchanged and writes the scenario to --out when the session ends, or
on Ctrl-C/SIGTERM with what it has (status 130). With --connections N it takes N sessions,
one after another or at once; session k goes to FILE's name with .k before its extension.

Values over 1 KiB go to files beside the scenario (file("...")); with standard output they
need --dir DIR, the directory the scenario will be kept in.
Exit status: 0 when everything was recorded, 1 when the recording stopped early (the
scenario says where, in a comment) or the upstream could not be reached, 2 for bad usage or
an unreadable capture.
)";

// HOST:PORT, as tap_mockserver reads --listen.
std::optional<std::string> split_address(const std::string& option, const std::string& text,
                                         std::string& host, std::string& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return fmt::format("{} '{}' is not HOST:PORT", option, text);
  }
  host = text.substr(0, colon);
  port = text.substr(colon + 1);
  // The resolver would take a service name, or wrap 99999 to 34463.
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) > 65535) {
    return fmt::format("{} '{}': the port must be a number from 0 to 65535", option, text);
  }
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return std::nullopt;
}

}  // namespace

std::string session_path(const std::string& out, std::size_t session, std::size_t sessions) {
  if (sessions <= 1) return out;
  const std::filesystem::path path(out);
  return (path.parent_path() /
          fmt::format("{}.{}{}", path.stem().string(), session, path.extension().string()))
      .string();
}

std::variant<CaptureCommand, ProxyCommand, CliUsage> parse_record_cli(int argc,
                                                                      const char* const* argv) {
  po::options_description described("options");
  std::string capture, out, dir, listen, upstream;
  // Signed, so that "-1" is refused rather than read as 2^64-1 (Boost's lexical_cast wraps).
  std::int64_t connection = 0, connections = 1, splits = 0, pauses = -1;
  double connect_timeout = 5;
  // clang-format off
  described.add_options()
      ("help,h", "print this help")
      ("version", "print the version")
      ("capture", po::value(&capture)->value_name("CAPTURE"), "a pcap or pcapng file to record ('-': standard input)")
      ("connection", po::value(&connection)->value_name("N"), "which TCP conversation of the capture to record (from 1)")
      ("out", po::value(&out)->value_name("FILE"), "write the scenario to FILE (its long values beside it); default: standard output")
      ("dir", po::value(&dir)->value_name("DIR"), "with standard output: the directory the scenario will be kept in, for its long values' files")
      ("listen", po::value(&listen)->value_name("HOST:PORT"), "record live: listen here for clients (port 0: an ephemeral one)")
      ("upstream", po::value(&upstream)->value_name("HOST:PORT"), "record live: the TAP server each client is relayed to")
      ("connections", po::value(&connections)->value_name("N"), "record live: N sessions (default 1)")
      ("connect-timeout", po::value(&connect_timeout)->value_name("SECONDS"), "record live: how long to try the upstream (default 5)")
      ("splits", po::value(&splits)->value_name("BYTES"),
       "keep where chunks (TCP segments, reads) began inside frames of up to BYTES bytes, as split= or bytewise; default: never")
      ("pauses", po::value(&pauses)->value_name("MS"), "write the server's pauses of MS milliseconds or more (before a frame or its close) as delay lines; default: never");
  // clang-format on
  po::positional_options_description positional;
  positional.add("capture", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(described).positional(positional).run(),
              vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return CliUsage{2, fmt::format("tap_record: {}\n{}\n", e.what(), kUsage)};
  }
  auto usage_error = [](std::string message) {
    return CliUsage{2, fmt::format("tap_record: {}\n{}\n", message, kUsage)};
  };
  if (vm.count("help")) {
    std::ostringstream help;
    help << described;
    return CliUsage{0, fmt::format("{}\n{}\n{}", kUsage, kAbout, help.str())};
  }
  if (vm.count("version")) return CliUsage{0, cli::version_text("tap_record") + "\n"};
  if (splits < 0)
    return usage_error(fmt::format("--splits must be at least 0 bytes, not {}", splits));
  if (vm.count("pauses") && (pauses < 1 || pauses > 86'400'000)) {
    return usage_error(
        fmt::format("--pauses must be from 1 to 86400000 milliseconds, not {}", pauses));
  }
  Shape shape;
  shape.splits = static_cast<std::size_t>(splits);
  if (vm.count("pauses")) shape.pause_ms = static_cast<std::uint64_t>(pauses);
  // Under `bazel run`, paths are the user's (cli/conventions.hpp).
  out = out.empty() ? out : cli::user_path(out);
  dir = dir.empty() ? dir : cli::user_path(dir);

  const bool live = vm.count("listen") || vm.count("upstream");
  if (live) {
    if (vm.count("capture"))
      return usage_error("a CAPTURE and --listen/--upstream do not go together");
    if (!vm.count("listen") || !vm.count("upstream"))
      return usage_error("recording live needs both --listen and --upstream");
    if (out.empty()) return usage_error("recording live needs --out FILE");
    if (vm.count("dir") || vm.count("connection"))
      return usage_error("--dir and --connection are for a CAPTURE");
    if (connections < 1)
      return usage_error(fmt::format("--connections must be at least 1, not {}", connections));
    ProxyCommand command;
    command.out = out;
    command.connections = static_cast<std::size_t>(connections);
    command.shape = shape;
    if (auto e = split_address("--listen", listen, command.listen_host, command.listen_port))
      return usage_error(*e);
    if (auto e =
            split_address("--upstream", upstream, command.upstream_host, command.upstream_port)) {
      return usage_error(*e);
    }
    auto timeout = cli::seconds_option("--connect-timeout", connect_timeout);
    if (!timeout) return usage_error(timeout.error().message());
    command.connect_timeout = *timeout;
    return command;
  }
  if (!vm.count("capture")) return usage_error("give a CAPTURE file, or --listen and --upstream");
  if (vm.count("connections") || vm.count("connect-timeout")) {
    return usage_error("--connections and --connect-timeout are for recording live");
  }
  if (vm.count("connection") && connection < 1) {
    return usage_error(fmt::format("--connection counts from 1, not {}", connection));
  }
  if (!out.empty() && !dir.empty())
    return usage_error("--out FILE puts long values beside it; --dir is for standard output");
  CaptureCommand command;
  command.capture = capture == cli::kStdio ? capture : cli::user_path(capture);
  if (vm.count("connection")) command.connection = static_cast<std::size_t>(connection);
  command.out = out;
  command.dir = dir;
  command.shape = shape;
  return command;
}

}  // namespace tapharness::record
