// tap_mockserver's command line (kept apart from main() so it can be tested).
//
//   tap_mockserver --scenario FILE [--listen 127.0.0.1:0] [--connections N] [--trace DIR] [--pcap FILE]
//   tap_mockserver --check FILE...
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "mockserver/server.hpp"

namespace tapharness::mockserver {

struct ServeCommand {
  std::string row;  // --row: which case of a table to serve
  std::string scenario_path;
  ServerOptions server;
  std::optional<std::string> pcap;  // --pcap FILE: every connection, as pcapng
};

struct CheckCommand {
  std::vector<std::string> paths;
};

// --help (status 0, text for stdout) or bad usage (status 2, text for stderr).
struct CliUsage {
  int status = 2;
  std::string text;
};

std::variant<ServeCommand, CheckCommand, CliUsage> parse_server_cli(int argc, const char* const* argv);

}  // namespace tapharness::mockserver
