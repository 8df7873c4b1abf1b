// The live recorder end to end, over loopback: tap_mockserver serves a library scenario as
// the "real" server, tap_tail follows it through tap_record --listen/--upstream, and the
// recorded scenario, served again to tap_tail, gives the same JSON lines; the replaying
// server's verdict (every ACK as recorded, strictly) passes, and tap_scenario passes the
// recording against the built-in client.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "runner/scenario_run.hpp"
#include "scenario/parser.hpp"
#include "tests/record/tools_support.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_files.hpp"

namespace tapharness::record {
namespace {

using testing::ChildProcess;
using Ms = ChildProcess::Duration;
using testing::listening;
using testing::tail;
using testing::tap_scenario;

struct RoundTrip {
  std::string original, replayed;
};

class ProxyRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(ProxyRoundTrip, ReplayGivesTheSameEventsAndAcks) {
  const std::string name = GetParam();
  const std::string library = "scenarios/" + name + ".scenario";
  auto scenario = scenario::load_scenario(library);
  ASSERT_TRUE(scenario) << scenario.error().text();
  const std::string flags = runner::tail_flags(*scenario);
  const auto dir = testing::fresh_temp_dir("proxy_" + name);
  const std::string out = (dir / (name + ".recorded.scenario")).string();

  ChildProcess server("mockserver/tap_mockserver", {"--scenario", library});
  const std::string upstream = listening(server);
  ASSERT_FALSE(upstream.empty());
  ChildProcess recorder("record/tap_record",
                        {"--listen", "127.0.0.1:0", "--upstream", upstream, "--out", out});
  const std::string proxy = listening(recorder);
  ASSERT_FALSE(proxy.empty());
  const auto original = tail(proxy, flags);
  const auto recorded = recorder.wait(Ms(20'000));
  ASSERT_EQ(recorded.status, 0) << recorded.out << recorded.err;
  const auto served = server.wait(Ms(20'000));
  EXPECT_EQ(served.status, 0) << served.out << served.err;
  const std::string text = testing::read_text_file(out);
  ASSERT_FALSE(text.empty());

  // The recording, served again: the same events, end and ACKs, and tap_scenario passes it.
  testing::expect_replay_matches(out, flags, original, text);
}

INSTANTIATE_TEST_SUITE_P(
    Library, ProxyRoundTrip,
    ::testing::Values("backfill_several_vbuckets", "ack_requests_mutation_deletion_opaque",
                      "checkpoint_sync", "takeover_vbuckets", "opaque_every_sub_code",
                      "close_tap_stream_ends_feed", "datatype_and_deletion_values",
                      "sasl_plain_before_connect", "keys_only", "flush", "connection_reset",
                      "truncated_mid_body", "fragmented_frames", "nack_retransmit",
                      "vbucket_set_every_state", "stall_idle_timeout"));

}  // namespace
}  // namespace tapharness::record
