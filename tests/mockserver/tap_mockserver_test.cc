// tap_mockserver as a user runs it: the real binary in a child process, scenario files in
// $TEST_TMPDIR, clients over loopback. Its first line, its verdicts, its exit status (0
// pass, 1 fail, 2 bad scenario or usage), --check, --help, --trace and --connections.
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <string_view>

#include <gtest/gtest.h>

#include "capture/capture_reader.hpp"
#include "protocol/hex.hpp"
#include "tests/support/child_process.hpp"
#include "tests/mockserver/loopback_client.hpp"
#include "tests/support/temp_files.hpp"
#include "tests/protocol/golden_frames.hpp"

namespace tapharness::mockserver {
namespace {

using protocol::Opcode;
using tapharness::testing::ChildProcess;
using testing::LoopbackClient;
using tapharness::testing::read_text_file;
using tapharness::testing::write_temp_file;
namespace golden = tapharness::golden;

constexpr const char* kBinary = "mockserver/tap_mockserver";

// One ACKed opaque for a client named "r1".
constexpr std::string_view kAcked = "expect connect name=\"r1\"\nsend opaque vb=2 code=INITIAL_VBUCKET_STREAM ack\nexpect ack\n";

// tap_mockserver serving `args`, once it said where it listens.
class Served {
 public:
  explicit Served(std::vector<std::string> args) : process_(kBinary, args) {
    first_line_ = process_.read_line().value_or("(no line)");
    // "listening 127.0.0.1:PORT" exactly (<regex> trips GCC 12's -Wmaybe-uninitialized at -O1).
    constexpr std::string_view kPrefix = "listening 127.0.0.1:";
    const std::string_view digits = std::string_view(first_line_).substr(std::min(kPrefix.size(), first_line_.size()));
    if (first_line_.starts_with(kPrefix) && !digits.empty() && digits.size() <= 5 &&
        digits.find_first_not_of("0123456789") == std::string_view::npos) {
      port_ = static_cast<std::uint16_t>(std::stoul(std::string(digits)));
    }
  }

  const std::string& first_line() const { return first_line_; }
  std::uint16_t port() const { return port_; }
  ChildProcess& process() { return process_; }
  ChildProcess::Exit wait() { return process_.wait(); }

 private:
  ChildProcess process_;
  std::string first_line_;
  std::uint16_t port_ = 0;
};

TEST(TapMockserver, FirstLineIsWhereItListensThenTheVerdictAndStatusZero) {
  Served served({"--scenario", write_temp_file("pass.scenario", "send noop\n")});
  ASSERT_NE(served.port(), 0) << served.first_line();
  EXPECT_EQ(served.first_line(), fmt::format("listening 127.0.0.1:{}", served.port()));
  LoopbackClient client;
  ASSERT_TRUE(client.open_tap(served.port()));
  const auto ending = client.read_to_end();
  EXPECT_EQ(protocol::to_hex(ending.bytes), protocol::to_hex(protocol::parse_hex(golden::kNoop).value()));
  const auto exit = served.wait();
  EXPECT_EQ(exit.status, 0) << exit.out << exit.err;
  EXPECT_EQ(exit.out, "PASS pass (connection 1): 2 steps, 1 frames sent, 1 received\n");
  EXPECT_EQ(exit.err, "");
}

TEST(TapMockserver, AFailedExpectationIsStatusOneWithFileLineExpectedAndObserved) {
  const std::string path = write_temp_file("fail.scenario", kAcked);
  Served served({"--scenario", path});
  ASSERT_NE(served.port(), 0) << served.first_line();
  LoopbackClient client;
  ASSERT_TRUE(client.open_tap(served.port(), {.client_name = "someone-else"}));
  EXPECT_EQ(client.read_to_end().bytes.size(), 0u) << "nothing is sent after a failed connect";
  const auto exit = served.wait();
  EXPECT_EQ(exit.status, 1) << exit.out << exit.err;
  EXPECT_EQ(exit.out, fmt::format("FAIL fail (connection 1): 1 steps, 0 frames sent, 1 received\n"
                                  "  {}:1: expect connect\n"
                                  "    expected: TAP_CONNECT name=\"r1\"\n"
                                  "    observed: {{name=\"someone-else\" flags=BACKFILL backfill=none}} "
                                  "(name: expected \"r1\", got \"someone-else\")\n",
                                  path));
}

TEST(TapMockserver, ABadScenarioIsStatusTwoWithItsPositionAndNothingServed) {
  const std::string path = write_temp_file("bad.scenario", "seed 3\nsend mutaton key=\"k\"\n");
  ChildProcess process(kBinary, {"--scenario", path});
  const auto exit = process.wait();
  EXPECT_EQ(exit.status, 2);
  EXPECT_EQ(exit.out, "") << "no listening line for a scenario that does not parse";
  EXPECT_EQ(exit.err.rfind(path + ":2:6: unknown frame kind 'mutaton'", 0), 0u) << exit.err;
  EXPECT_NE(exit.err.find("did you mean 'mutation'?"), std::string::npos) << exit.err;
}

TEST(TapMockserver, ATableIsServedOneRowAtATime) {
  const std::string path = write_temp_file("rows.scenario", "table name code {\n  a CLOSE_BACKFILL\n  b CLOSE_TAP_STREAM\n}\n"
                                                            "send opaque code={code}\n");
  ChildProcess unnamed(kBinary, {"--scenario", path});
  const auto refused = unnamed.wait();
  EXPECT_EQ(refused.status, 2);
  EXPECT_NE(refused.err.find("is a table of 2 cases; --row NAME serves one of: a, b"), std::string::npos)
      << refused.err;
  Served served({"--scenario", path, "--row", "b"});
  ASSERT_NE(served.port(), 0) << served.first_line();
  LoopbackClient client;
  ASSERT_TRUE(client.open_tap(served.port()));
  const auto ending = client.read_to_end();
  ASSERT_EQ(ending.bytes.size(), 36u);
  EXPECT_EQ(protocol::load_be32(ending.bytes.data() + 32), 7u) << "CLOSE_TAP_STREAM, row b's code";
  const auto exit = served.wait();
  EXPECT_EQ(exit.status, 0) << exit.out << exit.err;
  EXPECT_EQ(exit.out.rfind("PASS rows/b (connection 1)", 0), 0u) << exit.out;
}

TEST(TapMockserver, BadUsageIsStatusTwoWithTheReasonAndTheUsage) {
  const std::string good = write_temp_file("usage.scenario", "send noop\n");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "--scenario FILE is required"},
      {{"--scenario", good, "--bogus"}, "unrecognised option '--bogus'"},
      {{"--scenario", good, "--connections", "0"}, "--connections must be at least 1, not 0"},
      {{"--scenario", good, "--connections", "-1"}, "--connections must be at least 1, not -1"},
      {{"--scenario", good, "--listen", "localhost"}, "--listen 'localhost' is not HOST:PORT"},
      {{"--scenario", good, "--listen", "127.0.0.1:99999"}, "the port must be a number from 0 to 65535"},
      {{"--scenario", good, "--listen", "127.0.0.1:http"}, "the port must be a number from 0 to 65535"},
      {{"--scenario", good, "--check", good}, "--check and --scenario do not go together"},
      {{"--scenario", good, "--trace", good}, good + ": cannot write traces: Not a directory"},
      {{"--scenario", good, "--pcap", "/no-such-dir/x.pcapng"},
       "--pcap /no-such-dir/x.pcapng: cannot be written: No such file or directory"},
  };
  for (const auto& [args, reason] : cases) {
    ChildProcess process(kBinary, args);
    const auto exit = process.wait();
    SCOPED_TRACE(fmt::format("tap_mockserver {}", fmt::join(args, " ")));
    EXPECT_EQ(exit.status, 2);
    EXPECT_EQ(exit.out, "");
    EXPECT_NE(exit.err.find(reason), std::string::npos) << exit.err;
  }
  ChildProcess usage(kBinary, {"--connections", "2"});
  EXPECT_NE(usage.wait().err.find("usage: tap_mockserver --scenario FILE"), std::string::npos);
}

TEST(TapMockserver, CheckLintsEveryFileWithoutServing) {
  const std::string good = write_temp_file("good.scenario", kAcked);
  const std::string also_good = write_temp_file("also-good.scenario", "repeat 3 send noop\nclose rst\n");
  {
    ChildProcess process(kBinary, {"--check", good, also_good});
    const auto exit = process.wait();
    EXPECT_EQ(exit.status, 0) << exit.err;
    EXPECT_EQ(exit.out, fmt::format("ok {}\nok {}\n", good, also_good));
    EXPECT_EQ(exit.err, "");
  }
  const std::string bad = write_temp_file("lint-bad.scenario", "send noop\nexpect ack wthin=2s\n");
  const std::string missing = (tapharness::testing::temp_dir() / "no-such.scenario").string();
  {
    ChildProcess process(kBinary, {"--check", bad, good, missing});
    const auto exit = process.wait();
    EXPECT_EQ(exit.status, 2);
    EXPECT_EQ(exit.out, fmt::format("ok {}\n", good)) << "the good file is still checked";
    std::istringstream lines(exit.err);
    std::string first, second;
    std::getline(lines, first);
    std::getline(lines, second);
    EXPECT_EQ(first, bad + ":2:12: unknown field 'wthin' for expect ack; expected one of opaque, opcode, "
                           "status, within; did you mean 'within'?");
    EXPECT_EQ(second.rfind(missing + ": cannot read the file", 0), 0u) << exit.err;
  }
}

TEST(TapMockserver, HelpGoesToStdoutWithStatusZero) {
  ChildProcess process(kBinary, {"--help"});
  const auto exit = process.wait();
  EXPECT_EQ(exit.status, 0);
  EXPECT_EQ(exit.err, "");
  EXPECT_EQ(exit.out.rfind("usage: tap_mockserver --scenario FILE", 0), 0u) << exit.out;
  for (const char* flag : {"--scenario", "--listen", "--connections", "--trace", "--seed", "--check"}) {
    EXPECT_NE(exit.out.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(exit.out.find("Exit status: 0"), std::string::npos) << exit.out;
}

TEST(TapMockserver, TraceWritesATranscriptOfDecodedFramesAndHex) {
  const auto dir = tapharness::testing::fresh_temp_dir("cli-traces") / "made-by-the-server";
  Served served({"--scenario", write_temp_file("traced.scenario", kAcked), "--trace", dir.string()});
  ASSERT_NE(served.port(), 0) << served.first_line();
  LoopbackClient client;
  ASSERT_TRUE(client.open_tap(served.port(), {.client_name = "r1"}));
  EXPECT_EQ(client.receive(36).size(), 36u);
  client.send_ack(Opcode::tap_opaque, 1);
  client.read_to_end();
  const auto exit = served.wait();
  EXPECT_EQ(exit.status, 0) << exit.out;
  const std::string trace = read_text_file(dir / "traced.1.trace");
  EXPECT_NE(trace.find("TAP_CONNECT {name=\"r1\""), std::string::npos) << trace;
  EXPECT_NE(trace.find("-> server, 36 bytes planned"), std::string::npos) << trace;
  EXPECT_NE(trace.find("TAP_OPAQUE vb=2 opaque=0x00000001"), std::string::npos) << trace;
  EXPECT_NE(trace.find("80440000080000020000000c00000001"), std::string::npos) << trace;  // its hex
  EXPECT_NE(trace.find("magic=RESPONSE opcode=TAP_OPAQUE"), std::string::npos) << trace;
}

// --pcap: each connection as TCP with its real ports, both directions, the server's FIN.
TEST(TapMockserver, PcapWritesEveryConnection) {
  const auto path = tapharness::testing::fresh_temp_dir("cli-pcap") / "run.pcapng";
  std::filesystem::create_directories(path.parent_path());
  Served served({"--scenario", write_temp_file("captured.scenario", kAcked), "--connections", "2", "--pcap",
                 path.string()});
  ASSERT_NE(served.port(), 0) << served.first_line();
  for (int i = 0; i < 2; ++i) {
    LoopbackClient client;
    ASSERT_TRUE(client.open_tap(served.port(), {.client_name = "r1"}));
    EXPECT_EQ(client.receive(36).size(), 36u);
    client.send_ack(Opcode::tap_opaque, 1);
    client.read_to_end();
  }
  const auto exit = served.wait();
  EXPECT_EQ(exit.status, 0) << exit.out << exit.err;
  const std::string file = read_text_file(path);
  auto capture = capture::read_capture(
      protocol::ByteView(reinterpret_cast<const std::uint8_t*>(file.data()), file.size()));
  ASSERT_TRUE(capture) << capture.error().message();
  ASSERT_EQ(capture->conversations.size(), 2u);
  for (const capture::Conversation& c : capture->conversations) {
    EXPECT_EQ(c.server, (capture::Endpoint{"127.0.0.1", served.port()}));
    EXPECT_NE(c.client.port, 0);
    EXPECT_EQ(c.client_by, capture::ClientBy::syn);
    EXPECT_EQ(c.bytes_to_client, 36u);
    ASSERT_FALSE(c.segments.empty());
    EXPECT_EQ(c.segments.front().direction, capture::Direction::to_server);
    EXPECT_EQ(c.segments.front().payload.at(1), 0x40) << "the TAP_CONNECT first";
    const bool server_fin = std::any_of(c.segments.begin(), c.segments.end(), [](const capture::Segment& s) {
      return s.fin && s.direction == capture::Direction::to_client;
    });
    EXPECT_TRUE(server_fin);
  }
  EXPECT_NE(capture->conversations[0].client.port, capture->conversations[1].client.port);
  EXPECT_NE(file.find("captured, connection 2"), std::string::npos) << "the SYN's comment";
}

TEST(TapMockserver, TwoConnectionsAtOnceGetAVerdictEach) {
  Served served({"--scenario", write_temp_file("two.scenario", kAcked), "--connections", "2"});
  ASSERT_NE(served.port(), 0) << served.first_line();
  LoopbackClient first, second;
  ASSERT_TRUE(first.open_tap(served.port(), {.client_name = "r1"}));
  ASSERT_TRUE(second.open_tap(served.port(), {.client_name = "r1"}));
  EXPECT_EQ(first.receive(36).size(), 36u);
  EXPECT_EQ(second.receive(36).size(), 36u);  // both served before either answers
  second.send_ack(Opcode::tap_opaque, 1);
  first.send_ack(Opcode::tap_opaque, 7);  // the wrong opaque: this connection fails
  first.read_to_end();
  second.read_to_end();
  const auto exit = served.wait();
  EXPECT_EQ(exit.status, 1) << exit.out;
  EXPECT_NE(exit.out.find("PASS two (connection 2): 3 steps, 1 frames sent, 2 received\n"), std::string::npos)
      << exit.out;
  EXPECT_NE(exit.out.find("FAIL two (connection 1): 3 steps, 1 frames sent, 2 received\n"), std::string::npos)
      << exit.out;
  EXPECT_NE(exit.out.find("opaque=0x00000007"), std::string::npos) << exit.out;
}

TEST(TapMockserver, MutateGivesEachConnectionItsSeedAndChecksTheClientCloses) {
  const std::string path = write_temp_file(
      "mutated.scenario", "timeout 1s\nsend opaque code=INITIAL_VBUCKET_STREAM\nrepeat 5 send mutation key=\"k{n}\"\n");
  Served served({"--scenario", path, "--mutate", "40:2"});  // seeds 40 and 41: two connections
  ASSERT_NE(served.port(), 0) << served.first_line();
  LoopbackClient good, hanging;
  ASSERT_TRUE(good.open_tap(served.port()));
  good.read_to_end();
  good.close();  // a good client closes after the server's FIN (or reset)
  ASSERT_TRUE(hanging.open_tap(served.port()));
  hanging.receive(1);  // reads a little, then neither reads on nor closes
  const auto exit = served.wait();
  EXPECT_EQ(exit.status, 1) << exit.out;
  EXPECT_NE(exit.out.find("PASS mutated mutate=40 (connection 1)"), std::string::npos) << exit.out;
  EXPECT_NE(exit.out.find("FAIL mutated mutate=41 (connection 2)"), std::string::npos) << exit.out;
  EXPECT_NE(exit.out.find("expected: the client to close the connection"), std::string::npos) << exit.out;
}

TEST(TapMockserver, TermStopsAndSaysHowManyWereServed) {
  Served served({"--scenario", write_temp_file("term.scenario", "send noop\n"), "--connections", "3"});
  ASSERT_NE(served.port(), 0) << served.first_line();
  LoopbackClient client;
  ASSERT_TRUE(client.open_tap(served.port()));
  client.read_to_end();
  // The verdict line says the connection is done; TERM then stops the server.
  const auto verdict = served.process().read_line();
  EXPECT_EQ(verdict, "PASS term (connection 1): 2 steps, 1 frames sent, 1 received");
  served.process().send_signal(SIGTERM);
  const auto exit = served.wait();
  EXPECT_EQ(exit.status, 130);
  EXPECT_EQ(exit.out, "interrupted after 1 of 3 connections\n");
}

// Ctrl-C stops at once, also in the middle of a run: that connection's verdict so far comes
// first, failing at the line it was on.
TEST(TapMockserver, CtrlCStopsARunningConnectionWithItsVerdictSoFar) {
  Served served({"--scenario", write_temp_file("slow.scenario", "send noop\ndelay 1h\nsend noop\n")});
  ASSERT_NE(served.port(), 0) << served.first_line();
  LoopbackClient client;
  ASSERT_TRUE(client.open_tap(served.port()));
  client.receive(24);
  served.process().send_signal(SIGINT);
  const auto exit = served.process().wait(std::chrono::seconds(5));
  EXPECT_EQ(exit.status, 130);
  EXPECT_NE(exit.out.find("FAIL slow (connection 1)"), std::string::npos) << exit.out;
  EXPECT_NE(exit.out.find("slow.scenario:2: interrupted"), std::string::npos) << exit.out;
  EXPECT_NE(exit.out.find("interrupted (Ctrl-C) at this line (delay)"), std::string::npos) << exit.out;
  EXPECT_NE(exit.out.find("interrupted after 1 of 1 connections"), std::string::npos) << exit.out;
}

TEST(TapMockserver, VersionAndStandardInput) {
  ChildProcess version("mockserver/tap_mockserver", {"--version"});
  EXPECT_EQ(version.wait().out, "tap_mockserver (tapharness) 1.0.0\n");
  ChildProcess check("mockserver/tap_mockserver", {"--check", "-"}, "send noop\n");
  const auto exit = check.wait();
  EXPECT_EQ(exit.status, 0) << exit.err;
  EXPECT_EQ(exit.out, "ok -\n");
}

}  // namespace
}  // namespace tapharness::mockserver
