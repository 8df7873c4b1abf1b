// tap_record as users run it: usage errors and exit statuses, the capture mode's choice of
// conversation and its side files, the proxy's upstream failure and its Ctrl-C.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <string>

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

ChildProcess::Exit record(const std::vector<std::string>& args) {
  ChildProcess child("record/tap_record", args);
  return child.wait(Ms(20'000));
}

// `scenario` served `connections` times to tap_tail, captured.
std::string capture_of(const std::string& name, const std::string& scenario, int connections = 1) {
  const auto dir = testing::temp_dir() / ("cli_" + name);
  std::filesystem::create_directories(dir);
  const std::string path = testing::write_temp_file(name + ".scenario", scenario);
  const std::string pcap = (dir / (name + ".pcapng")).string();
  ChildProcess server("mockserver/tap_mockserver", {"--scenario", path, "--pcap", pcap,
                                                    "--connections", std::to_string(connections)});
  const std::string addr = listening(server);
  for (int i = 0; i < connections; ++i) tail(addr);
  const auto served = server.wait(Ms(20'000));
  EXPECT_EQ(served.status, 0) << served.out << served.err;
  return pcap;
}

TEST(TapRecord, UsageErrorsSayWhatAndExit2) {
  const auto help = record({"--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("usage: tap_record CAPTURE"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--splits"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--pauses"), std::string::npos) << help.out;

  const auto none = record({});
  EXPECT_EQ(none.status, 2);
  EXPECT_NE(none.err.find("give a CAPTURE file, or --listen and --upstream"), std::string::npos)
      << none.err;
  const auto half = record({"--listen", "127.0.0.1:0", "--out", "x.scenario"});
  EXPECT_EQ(half.status, 2);
  EXPECT_NE(half.err.find("needs both --listen and --upstream"), std::string::npos) << half.err;
  const auto bad =
      record({"--listen", "127.0.0.1:0", "--upstream", "nowhere", "--out", "x.scenario"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("--upstream 'nowhere' is not HOST:PORT"), std::string::npos) << bad.err;
  const auto pauses = record({"some.pcapng", "--pauses", "0"});
  EXPECT_EQ(pauses.status, 2);
  EXPECT_NE(pauses.err.find("--pauses must be from 1"), std::string::npos) << pauses.err;
  const auto missing = record({"no-such.pcapng"});
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("no-such.pcapng"), std::string::npos) << missing.err;
  const std::string not_capture =
      testing::write_temp_file("not.pcapng", "hello, this is no capture");
  const auto garbage = record({not_capture});
  EXPECT_EQ(garbage.status, 2);
  EXPECT_NE(garbage.err.find("byte 0"), std::string::npos) << garbage.err;
}

TEST(TapRecord, SeveralConversationsAreListedAndOnePicked) {
  const std::string pcap =
      capture_of("two", "expect connect\nsend mutation vb=0 key=\"k\" value=\"v\"\n", 2);
  const auto listed = record({pcap});
  EXPECT_EQ(listed.status, 2);
  EXPECT_NE(listed.err.find("2 TCP conversations that carried bytes; pick one with --connection N"),
            std::string::npos)
      << listed.err;
  EXPECT_NE(listed.err.find("  2  127.0.0.1:"), std::string::npos) << listed.err;
  const auto picked = record({pcap, "--connection", "2"});
  EXPECT_EQ(picked.status, 0) << picked.err;
  EXPECT_NE(picked.out.find("connection 2"), std::string::npos) << picked.out;
  EXPECT_NE(picked.out.find("\nsend mutation vb=0 key=\"k\" value=\"v\""), std::string::npos)
      << picked.out;
  const auto beyond = record({pcap, "--connection", "3"});
  EXPECT_EQ(beyond.status, 2);
  EXPECT_NE(beyond.err.find("--connection 3: the capture has 2 TCP conversations"),
            std::string::npos)
      << beyond.err;
}

TEST(TapRecord, LongValuesOnStandardOutputNeedADirectory) {
  const std::string pcap =
      capture_of("long", "expect connect\nsend mutation vb=0 key=\"k\" value=random(3000)\n");
  const auto refused = record({pcap});
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.err.find("needs_side_files"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--out FILE or --dir DIR"), std::string::npos) << refused.err;

  const auto dir = testing::fresh_temp_dir("long_dir");
  const auto kept = record({pcap, "--dir", dir.string()});
  ASSERT_EQ(kept.status, 0) << kept.err;
  EXPECT_NE(kept.out.find("value=file(\"recorded.s0.value.bin\")"), std::string::npos) << kept.out;
  EXPECT_EQ(std::filesystem::file_size(dir / "recorded.s0.value.bin"), 3000u);
  const std::string path = (dir / "recorded.scenario").string();
  std::ofstream(path) << kept.out;
  EXPECT_TRUE(scenario::load_scenario(path));
}

TEST(TapRecord, AnUpstreamThatRefusesIsNamed) {
  const auto out = (testing::temp_dir() / "refused.scenario").string();
  // Port 1 on loopback: nothing listens there.
  ChildProcess proxy("record/tap_record", {"--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:1",
                                           "--out", out, "--connect-timeout", "2"});
  const std::string addr = listening(proxy);
  ASSERT_FALSE(addr.empty());
  tail(addr, "--timeout 2");
  const auto exit = proxy.wait(Ms(10'000));
  EXPECT_EQ(exit.status, 1);
  EXPECT_NE(exit.err.find("session 1: connecting to 127.0.0.1:1: Connection refused"),
            std::string::npos)
      << exit.err;
}

TEST(TapRecord, CtrlCWritesWhatTheSessionHadAndExits130) {
  const std::string path = testing::write_temp_file(
      "slow.scenario",
      "expect connect\nsend mutation vb=0 key=\"k\" value=\"v\"\ndelay 10s\nclose fin\n");
  ChildProcess server("mockserver/tap_mockserver", {"--scenario", path});
  const std::string upstream = listening(server);
  const auto out = (testing::temp_dir() / "interrupted.scenario").string();
  ChildProcess proxy("record/tap_record",
                     {"--listen", "127.0.0.1:0", "--upstream", upstream, "--out", out});
  const std::string addr = listening(proxy);
  ASSERT_FALSE(addr.empty());
  ChildProcess client("client/tap_tail", {"--addr", addr});
  ASSERT_TRUE(client.read_line(Ms(10'000)));  // the mutation went through the proxy
  proxy.send_signal(SIGINT);
  const auto exit = proxy.wait(Ms(10'000));
  EXPECT_EQ(exit.status, 130) << exit.err;
  const std::string text = testing::read_text_file(out);
  EXPECT_NE(text.find("\nsend mutation vb=0 key=\"k\" value=\"v\""), std::string::npos) << text;
  EXPECT_NE(text.find("# the conversation had not ended when the recording stopped"),
            std::string::npos)
      << text;
  EXPECT_TRUE(scenario::load_scenario(out)) << text;
}

}  // namespace
}  // namespace tapharness::record
