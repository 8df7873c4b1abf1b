// What every tool does the same way (cli/conventions.hpp): --version; '-' for standard
// input; paths from the user's directory under `bazel run`; Ctrl-C stops with what there is
// and status 130; a filter matching nothing says so; stray arguments are refused.
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/child_process.hpp"
#include "tests/support/loopback_server.hpp"

namespace tapharness::testing {
namespace {

std::string temp_dir() { return std::getenv("TEST_TMPDIR"); }

std::string write(const std::string& name, const std::string& text) {
  const std::string path = temp_dir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// Sets an environment variable for the children started while it lives.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) { setenv(name, value.c_str(), 1); }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

TEST(CliConventions, EveryToolPrintsItsVersion) {
  for (const auto& [path, name] : std::vector<std::pair<std::string, std::string>>{
           {"client/tap_tail", "tap_tail"},
           {"mockserver/tap_mockserver", "tap_mockserver"},
           {"runner/tap_scenario", "tap_scenario"},
           {"tools/tap_decode", "tap_decode"}}) {
    ChildProcess tool(path, {"--version"});
    const auto exit = tool.wait();
    EXPECT_EQ(exit.status, 0) << name;
    EXPECT_EQ(exit.out, name + " (tapharness) 1.0.0\n");
  }
}

TEST(CliConventions, ADashReadsStandardInput) {
  ChildProcess scenario("runner/tap_scenario", {"-"}, "send noop\nclient end eof\n");
  auto exit = scenario.wait();
  EXPECT_EQ(exit.status, 0) << exit.out << exit.err;
  EXPECT_NE(exit.out.find("PASS stdin"), std::string::npos) << exit.out;

  ChildProcess decode("tools/tap_decode", {"-"}, "80 0a 0000 00 00 0000 00000000 00000000 0000000000000000\n");
  exit = decode.wait();
  EXPECT_EQ(exit.status, 0) << exit.out << exit.err;
  EXPECT_NE(exit.out.find("NOOP"), std::string::npos) << exit.out;
}

// `bazel run` starts a tool in its runfiles tree; what the user typed is relative to where
// they were, which Bazel passes as BUILD_WORKING_DIRECTORY.
TEST(CliConventions, UnderBazelRunPathsAreTheUsers) {
  write("mine.scenario", "send noop\nclient end eof\n");
  write("mine.hex", "80 0a 0000 00 00 0000 00000000 00000000 0000000000000000\n");
  ScopedEnv user("BUILD_WORKING_DIRECTORY", temp_dir());
  ChildProcess check("mockserver/tap_mockserver", {"--check", "mine.scenario"});
  EXPECT_EQ(check.wait().status, 0);
  ChildProcess run("runner/tap_scenario", {"mine.scenario", "--junit", "report.xml"});
  EXPECT_EQ(run.wait().status, 0);
  EXPECT_TRUE(std::ifstream(temp_dir() + "/report.xml").good()) << "--junit too is the user's path";
  ChildProcess decode("tools/tap_decode", {"mine.hex"});
  EXPECT_EQ(decode.wait().status, 0);
}

TEST(CliConventions, AFilterMatchingNothingSaysSo) {
  const std::string file = write("only.scenario", "send noop\nclient end eof\n");
  ChildProcess run("runner/tap_scenario", {"--filter", "nothing*", file});
  auto exit = run.wait();
  EXPECT_EQ(exit.status, 4);
  EXPECT_EQ(exit.out, "no scenario matches the filter 'nothing*'\n");
  // Under `bazel test --test_filter` every scenario target gets the filter; most match nothing.
  ScopedEnv bazel("TESTBRIDGE_TEST_ONLY", "nothing*");
  ChildProcess filtered("runner/tap_scenario", {file});
  EXPECT_EQ(filtered.wait().status, 0);
}

TEST(CliConventions, CtrlCStopsTapScenarioWithWhatItHas) {
  const std::string file = write("long.scenario", "send noop\ndelay 1h\nclient end eof\n");
  const std::string xml = temp_dir() + "/interrupted.xml";
  ChildProcess run("runner/tap_scenario",
                   {"--junit", xml, "--client-cmd", "client/tap_tail --addr {addr} {args}", file});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  run.send_signal(SIGINT);
  const auto exit = run.wait(std::chrono::seconds(10));
  EXPECT_EQ(exit.status, 130) << exit.out << exit.err;
  EXPECT_NE(exit.out.find("INTERRUPTED long"), std::string::npos) << exit.out;
  EXPECT_NE(exit.out.find("interrupted: 0 passed, 0 failed"), std::string::npos) << exit.out;
  std::ifstream in(xml);
  const std::string junit((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(junit.find(R"(<testcase name="long")"), std::string::npos) << junit;
  EXPECT_NE(junit.find("<error message=\"interrupted (Ctrl-C)"), std::string::npos) << junit;
}

TEST(CliConventions, CtrlCEndsTapTailWithAClosedLine) {
  LoopbackServer server([](asio::ip::tcp::socket& s) {
    read_exactly(s, 36);
    read_exactly(s, 1);  // says nothing; holds on until the client goes
  });
  ChildProcess tail("client/tap_tail", {"--addr", "127.0.0.1:" + server.port()});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  tail.send_signal(SIGINT);
  const auto exit = tail.wait();
  EXPECT_EQ(exit.status, 130);
  EXPECT_EQ(exit.out, "{\"end\":\"closed\"}\n");
  server.join();
}

TEST(CliConventions, StrayArgumentsAreRefused) {
  ChildProcess tail("client/tap_tail", {"--addr", "127.0.0.1:1", "extra"});
  const auto exit = tail.wait();
  EXPECT_EQ(exit.status, 2);
  EXPECT_NE(exit.err.find("too many positional options"), std::string::npos) << exit.err;
  ChildProcess decode("tools/tap_decode", {"--bogus"});
  EXPECT_EQ(decode.wait().status, 2);
}

}  // namespace
}  // namespace tapharness::testing
