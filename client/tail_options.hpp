// tap_tail's command line, parsed into FeedOptions (kept apart from main() so it can be
// tested).
//
//   auto parsed = parse_tail_options(argc, argv);
//   if (auto* usage = std::get_if<TailUsage>(&parsed)) { print(usage->text); exit(usage->status); }
#pragma once

#include <string>
#include <variant>

#include "client/defects/defect.hpp"
#include "client/feed_options.hpp"
#include "client/nack_rule.hpp"
#include "protocol/result.hpp"

namespace tapharness::client {

struct TailOptions {
  std::string host;
  std::string port;
  // --user/--password set feed.auth, --reconnect and --reconnect-backoff feed.reconnect,
  // --nack and --nack-status feed.ack_status (made from `nack`).
  FeedOptions feed;
  DefectSet defects;  // --defect: none unless asked
  NackRule nack;      // --nack KEY[:N] (repeatable), --nack-status: no keys unless asked
};

// --help (status 0, text on stdout) or a usage error (status 2, text on stderr).
struct TailUsage {
  int status = 2;
  std::string text;
};

std::variant<TailOptions, TailUsage> parse_tail_options(int argc, const char* const* argv);

struct Address {
  std::string host;
  std::string port;
};

// "HOST:PORT" (or "[v6]:PORT") split in two; fails when it is not that shape.
Result<Address, InputError> split_address(const std::string& address);

}  // namespace tapharness::client
