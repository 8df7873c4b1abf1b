// The capture mode end to end: tap_mockserver --pcap records a library scenario served to
// tap_tail, tap_record turns the capture into a scenario, and that scenario, served again
// to tap_tail, gives the same JSON lines with every ACK as recorded (the replaying server's
// strict verdict); its sends render to the very bytes the capture holds, and tap_scenario
// passes it against the built-in client.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "capture/capture_reader.hpp"
#include "runner/scenario_run.hpp"
#include "scenario/parser.hpp"
#include "scenario/render.hpp"
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

// What the server sent in the capture's only conversation.
protocol::Bytes server_bytes(const std::string& pcap) {
  std::ifstream in(pcap, std::ios::binary);
  const std::string file((std::istreambuf_iterator<char>(in)), {});
  auto capture = capture::read_capture(protocol::as_bytes(file));
  protocol::Bytes out;
  if (!capture || capture->conversations.size() != 1) return out;
  for (const auto& s : capture->conversations[0].segments) {
    if (s.direction == capture::Direction::to_client)
      out.insert(out.end(), s.payload.begin(), s.payload.end());
  }
  return out;
}

protocol::Bytes rendered_sends(const scenario::Scenario& s) {
  protocol::Bytes out;
  scenario::ScenarioRandom random(s.seed);
  for (const auto& step : s.steps) {
    if (const auto* send = std::get_if<scenario::Send>(&step.action)) {
      const auto frame = scenario::render_frame(send->frame(), 0, random, 0);
      out.insert(out.end(), frame.bytes.begin(), frame.bytes.end());
    }
  }
  return out;
}

class CaptureRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(CaptureRoundTrip, ReplayGivesTheSameEventsAcksAndBytes) {
  const std::string name = GetParam();
  const std::string library = "scenarios/" + name + ".scenario";
  auto scenario = scenario::load_scenario(library);
  ASSERT_TRUE(scenario) << scenario.error().text();
  const std::string flags = runner::tail_flags(*scenario);
  const auto dir = testing::fresh_temp_dir("capture_" + name);
  std::filesystem::create_directories(dir);
  const std::string pcap = (dir / (name + ".pcapng")).string();
  const std::string out = (dir / (name + ".recorded.scenario")).string();

  ChildProcess server("mockserver/tap_mockserver", {"--scenario", library, "--pcap", pcap});
  const std::string addr = listening(server);
  ASSERT_FALSE(addr.empty());
  const auto original = tail(addr, flags);
  const auto served = server.wait(Ms(20'000));
  ASSERT_EQ(served.status, 0) << served.out << served.err;

  ChildProcess record("record/tap_record", {pcap, "--out", out});
  const auto recorded = record.wait(Ms(20'000));
  ASSERT_EQ(recorded.status, 0) << recorded.out << recorded.err;
  const std::string text = testing::read_text_file(out);

  auto parsed = scenario::load_scenario(out);
  ASSERT_TRUE(parsed) << parsed.error().text() << "\n" << text;
  if (parsed->sasl.empty()) {  // the SASL replies are the mock server's own, not sends
    EXPECT_TRUE(rendered_sends(*parsed) == server_bytes(pcap)) << "the sends render other bytes\n"
                                                               << text;
  }

  testing::expect_replay_matches(out, flags, original, text);
}

INSTANTIATE_TEST_SUITE_P(
    Library, CaptureRoundTrip,
    ::testing::Values("backfill_several_vbuckets", "ack_requests_mutation_deletion_opaque",
                      "checkpoint_sync", "takeover_vbuckets", "opaque_every_sub_code",
                      "opaque_sub_code_needs_four_engine_bytes", "close_tap_stream_ends_feed",
                      "datatype_and_deletion_values", "sasl_plain_before_connect",
                      "sasl_auth_refused", "keys_only", "flush", "connection_reset",
                      "truncated_mid_body", "truncated_after_header", "fragmented_frames",
                      "nack_retransmit", "vbucket_set_unnamed_state", "connect_rejected_with_text",
                      "lie_extlen_too_short", "non_tap_request_gets_no_reply",
                      "stall_idle_timeout"));

// A recording of 100,000 frames (a send and a client event line each, none repeated) is
// recorded in bounded memory and replays within the run's limit: serving it was quadratic
// (the renderer searched its constants one by one) and ran past 20 s.
TEST(CaptureVolume, AHundredThousandFramesRecordAndReplay) {
  const auto dir = testing::fresh_temp_dir("capture_volume");
  std::filesystem::create_directories(dir);
  const std::string pcap = (dir / "volume.pcapng").string();
  const std::string out = (dir / "volume.scenario").string();
  ChildProcess server("mockserver/tap_mockserver",
                      {"--scenario", "scenarios/stream_100k_mutations.scenario", "--pcap", pcap});
  const std::string addr = listening(server);
  ASSERT_FALSE(addr.empty());
  const auto original = tail(addr, "--name bulk --backfill 0");
  ASSERT_EQ(server.wait(Ms(30'000)).status, 0);

  ChildProcess record("record/tap_record", {pcap, "--out", out});
  const auto recorded = record.wait(Ms(60'000));
  ASSERT_EQ(recorded.status, 0) << recorded.err;
  const auto capture_kib = static_cast<long>(std::filesystem::file_size(pcap) / 1024);
  const auto scenario_kib = static_cast<long>(std::filesystem::file_size(out) / 1024);
  // The capture is read whole (the reader's contract), the text is held, and it is parsed
  // back once: about 8 times the capture and the scenario together, measured.
  EXPECT_LT(recorded.peak_resident_kib, 16 * (capture_kib + scenario_kib) * testing::kSanitizerMemoryFactor)
      << "capture " << capture_kib << " KiB, scenario " << scenario_kib << " KiB";

  ChildProcess run = tap_scenario(out);
  const auto ran = run.wait(Ms(60'000));
  EXPECT_EQ(ran.status, 0) << ran.out << ran.err;
}

}  // namespace
}  // namespace tapharness::record
