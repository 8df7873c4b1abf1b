// tap_record's command line (kept apart from main() so it can be tested).
//
//   tap_record CAPTURE [--connection N] [--out FILE | --dir DIR] [--splits BYTES] [--pauses MS]
//   tap_record --listen HOST:PORT --upstream HOST:PORT --out FILE [--connections N]
//              [--connect-timeout SECONDS] [--splits BYTES] [--pauses MS]
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace tapharness::record {

// What both modes record with.
struct Shape {
  std::size_t splits = 0;                 // --splits BYTES (0: none)
  std::optional<std::uint64_t> pause_ms;  // --pauses MS
};

// A capture file to a scenario.
struct CaptureCommand {
  std::string capture;                    // the file ("-": standard input)
  std::optional<std::size_t> connection;  // --connection N (1-based), or the only one
  std::string out;                        // --out FILE; empty: standard output
  std::string dir;                        // --dir DIR: with standard output, where side files go
  Shape shape;
};

// A live proxy between a client and a TAP server.
struct ProxyCommand {
  std::string listen_host, listen_port;
  std::string upstream_host, upstream_port;
  std::string out;  // session k of N > 1 goes to STEM.k.EXT beside it
  std::size_t connections = 1;
  std::chrono::milliseconds connect_timeout{5000};
  Shape shape;
};

// --help (status 0, text for stdout) or bad usage (status 2, text for stderr).
struct CliUsage {
  int status = 2;
  std::string text;
};

std::variant<CaptureCommand, ProxyCommand, CliUsage> parse_record_cli(int argc,
                                                                      const char* const* argv);

// "out/s.scenario" for session 1 of 1; "out/s.2.scenario" for session 2 of several.
std::string session_path(const std::string& out, std::size_t session, std::size_t sessions);

}  // namespace tapharness::record
