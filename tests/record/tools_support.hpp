// The tools a recording test runs as child processes, from the test's runfiles: what each
// prints first, tap_tail against an address, and tap_scenario without this test's Bazel
// variables.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "tests/support/child_process.hpp"

namespace tapharness::testing {

using Ms = ChildProcess::Duration;

// "listening 127.0.0.1:PORT" (tap_mockserver's and tap_record's first line) -> the address,
// or "" when the line did not come within 10 s.
inline std::string listening(ChildProcess& child) {
  const auto line = child.read_line(Ms(10'000));
  if (!line || !line->starts_with("listening ")) return {};
  return line->substr(10);
}

// tap_tail's JSON lines against `addr`, with these flags (a scenario's client args).
inline ChildProcess::Exit tail(const std::string& addr, const std::string& flags = "") {
  ChildProcess child("/bin/sh", {"-c", "client/tap_tail --addr " + addr + " " + flags});
  return child.wait(Ms(20'000));
}

// tap_scenario on `path`, without the variables Bazel set for this test (its filter, shards
// and XML file are this test's, not the child's).
inline ChildProcess tap_scenario(const std::string& path) {
  return ChildProcess("/usr/bin/env", {"-u", "TESTBRIDGE_TEST_ONLY", "-u", "TEST_TOTAL_SHARDS",
                                       "-u", "TEST_SHARD_INDEX", "-u", "TEST_SHARD_STATUS_FILE",
                                       "-u", "XML_OUTPUT_FILE", "runner/tap_scenario", path});
}

// The recorded scenario at `path` (its text, for failure output), served again to tap_tail
// with `flags`: the same JSON lines and exit status as `original`, every recorded ACK (the
// replaying server's strict verdict), and tap_scenario passes it against the built-in client.
inline void expect_replay_matches(const std::string& path, const std::string& flags, const ChildProcess::Exit& original,
                                  const std::string& text) {
  ChildProcess replay("mockserver/tap_mockserver", {"--scenario", path});
  const std::string again = listening(replay);
  ASSERT_FALSE(again.empty());
  const auto replayed = tail(again, flags);
  const auto verdict = replay.wait(Ms(20'000));
  EXPECT_EQ(verdict.status, 0) << verdict.out << verdict.err << "\n" << text;
  EXPECT_EQ(replayed.out, original.out) << text;
  EXPECT_EQ(replayed.status, original.status);

  ChildProcess run = tap_scenario(path);
  const auto ran = run.wait(Ms(30'000));
  EXPECT_EQ(ran.status, 0) << ran.out << ran.err << "\n" << text;
}

}  // namespace tapharness::testing
