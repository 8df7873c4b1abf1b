// tap_scenario as CI and QA run it: the deliberately wrong scenarios in wrong/ fail with
// the line and message their headers name (with the built-in client and with tap_tail as
// an external client), the library in scenarios/ passes both ways with the same verdicts,
// and --junit, --update, --filter, sharding and exit statuses behave.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/runner/expectation_files.hpp"

namespace tapharness::runner {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  std::string output;
  int status = -1;
};

// Runs tap_scenario without the variables Bazel set for this test (its filter, shards and
// XML path are this test's, not the child's), plus `env`.
Outcome run(const std::string& args, const std::string& env = "") {
  const std::string clean =
      "env -u TESTBRIDGE_TEST_ONLY -u TEST_TOTAL_SHARDS -u TEST_SHARD_INDEX -u TEST_SHARD_STATUS_FILE "
      "-u XML_OUTPUT_FILE ";
  FILE* pipe = popen((clean + env + " runner/tap_scenario " + args + " 2>&1").c_str(), "r");
  Outcome r;
  if (!pipe) return r;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) r.output.append(buffer, n);
  const int raw = pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

const std::string kExternal = "--client-cmd 'client/tap_tail --addr {addr} {args}'";

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".scenario") out.push_back(entry.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string tmp_path(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

// The verdict lines only ("PASS name", "FAIL name"), without timings.
std::vector<std::string> verdicts(const std::string& output) {
  std::vector<std::string> out;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("PASS ", 0) == 0 || line.rfind("FAIL ", 0) == 0 || line.rfind("INVALID ", 0) == 0) {
      out.push_back(line.substr(0, line.find(" (")));
    }
  }
  return out;
}

std::string fmt_shard(int index, const std::string& status_file) {
  return "TEST_TOTAL_SHARDS=3 TEST_SHARD_INDEX=" + std::to_string(index) + " TEST_SHARD_STATUS_FILE=" + status_file;
}

class WrongExpectations : public ::testing::TestWithParam<std::string> {};

TEST_P(WrongExpectations, FailWithTheLineAndMessageTheyName) {
  const std::string path = "tests/runner/wrong/" + GetParam();
  const auto expected = testing::expected_output(path);
  ASSERT_FALSE(expected.empty()) << path << " has no '# expect:' lines";
  const bool invalid = expected.front() == "INVALID";
  for (const std::string& client : {std::string(), kExternal}) {
    SCOPED_TRACE(client.empty() ? "built-in client" : "tap_tail as an external client");
    Outcome r = run(client + " " + path);
    EXPECT_EQ(r.status, invalid ? 2 : 1) << r.output;
    for (const auto& piece : expected) EXPECT_NE(r.output.find(piece), std::string::npos) << piece << "\n" << r.output;
    EXPECT_NE(r.output.find("0 passed, 1 failed\n"), std::string::npos) << r.output;
  }
}

INSTANTIATE_TEST_SUITE_P(Files, WrongExpectations, ::testing::ValuesIn([] {
                           std::vector<std::string> names;
                           for (const auto& p : files_in("tests/runner/wrong")) names.push_back(fs::path(p).filename());
                           return names;
                         }()),
                         [](const auto& info) {
                           std::string name = info.param.substr(0, info.param.size() - 9);
                           for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

TEST(TapScenario, TheLibraryPassesWithTheBuiltInClientAndWithTapTail) {
  Outcome builtin = run("scenarios");
  Outcome external = run(kExternal + " scenarios");
  EXPECT_EQ(builtin.status, 0) << builtin.output;
  EXPECT_EQ(external.status, 0) << external.output;
  const auto names = verdicts(builtin.output);
  // One verdict per file, and one per row of the refusal sweep's table (33 rows).
  EXPECT_EQ(names.size(), files_in("scenarios").size() + 32);
  EXPECT_EQ(names, verdicts(external.output)) << "the external client must see what the built-in one sees";
}

TEST(TapScenario, JunitHasOneTestcasePerScenario) {
  const std::string xml = tmp_path("report.xml");
  Outcome r = run("--junit " + xml + " tests/runner/wrong/wrong_end.scenario tests/runner/wrong/invalid.scenario");
  EXPECT_EQ(r.status, 2);
  std::ifstream in(xml);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find(R"(<testsuites tests="2" failures="1" errors="1")"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find(R"(<testcase name="wrong_end")"), std::string::npos);
  // The message is the first failing line, expected against observed; every case is named by
  // its scenario, an invalid file too; the suite names the client.
  EXPECT_NE(text.str().find("<failure message=\"tests/runner/wrong/wrong_end.scenario:"), std::string::npos)
      << text.str();
  EXPECT_NE(text.str().find(": client end: expected end end_stream; observed end eof"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find(R"(<testcase name="invalid" classname="tap_scenario.built-in")"), std::string::npos)
      << text.str();
  EXPECT_NE(text.str().find("<error message=\"tests/runner/wrong/invalid.scenario:"), std::string::npos)
      << text.str();
}

TEST(TapScenario, XmlOutputFileFromBazelIsTheDefaultJunitPath) {
  const std::string xml = tmp_path("bazel.xml");
  Outcome r = run("tests/runner/wrong/wrong_end.scenario", "XML_OUTPUT_FILE=" + xml);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(fs::exists(xml));
}

TEST(TapScenario, UpdateRewritesTheExpectedEventsFromWhatWasObserved) {
  const std::string copy = tmp_path("event_field_differs.scenario");
  fs::copy_file("tests/runner/wrong/event_field_differs.scenario", copy, fs::copy_options::overwrite_existing);
  Outcome first = run("--update " + copy);
  EXPECT_EQ(first.status, 1);
  EXPECT_NE(first.output.find("updated " + copy), std::string::npos) << first.output;
  std::ifstream in(copy);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("client event deletion vb=0 key=\"b\" cas=8\n"), std::string::npos) << text.str();
  Outcome second = run(copy);
  EXPECT_EQ(second.status, 0) << second.output;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(TapScenario, UpdateKeepsTheAuthorsFormsAndAddsNoFields) {
  const std::string path = tmp_path("forms.scenario");
  std::ofstream(path) << "send mutation vb=0 key=\"a\" value=fill(3000,0x41) cas=17\n"
                         "send flush\n"
                         "client event mutation vb=0x0 key=x\"62\" value=fill(3000,0x41) cas=0x10\n"
                         "client event flush vb=0\n"
                         "client end eof\n";
  Outcome r = run("--update " + path);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("-client event mutation vb=0x0 key=x\"62\" value=fill(3000,0x41) cas=0x10\n"
                          "+client event mutation vb=0x0 key=x\"61\" value=fill(3000,0x41) cas=0x11\n"),
            std::string::npos)
      << "the diff, hex kept hex and fill kept fill:\n" << r.output;
  const std::string text = read_text(path);
  EXPECT_NE(text.find("client event flush vb=0\n"), std::string::npos) << "a line the client met stays as written";
  EXPECT_EQ(text.find("flags="), std::string::npos) << "no field the author did not check";
  EXPECT_EQ(run(path).status, 0) << run(path).output;
}

TEST(TapScenario, UpdateRefusesARunThatFailedOnTheServerSideUnlessForced) {
  const std::string path = tmp_path("server_failed.scenario");
  const std::string original = "send mutation key=\"a\" ack\nexpect ack within=200ms opaque=0x99\n"
                               "client event mutation key=\"b\"\nclient end eof\n";
  std::ofstream(path) << original;
  Outcome refused = run("--update " + path);
  EXPECT_NE(refused.output.find("not updated: " + path + " failed for another reason than its client lines"),
            std::string::npos)
      << refused.output;
  EXPECT_EQ(read_text(path), original);
  Outcome dry = run("--update --force --dry-run " + path);
  EXPECT_NE(dry.output.find("+client event mutation key=\"a\""), std::string::npos) << dry.output;
  EXPECT_NE(dry.output.find("would update " + path), std::string::npos) << dry.output;
  EXPECT_EQ(read_text(path), original) << "a dry run writes nothing";
  run("--update --force " + path);
  EXPECT_NE(read_text(path).find("client event mutation key=\"a\"\n"), std::string::npos) << read_text(path);
}

TEST(TapScenario, UpdateWritesALongValueToAFileBesideTheScenario) {
  const std::string path = tmp_path("long_value.scenario");
  fs::remove(tmp_path("long_value.line2.value.bin"));
  std::ofstream(path) << "send mutation key=\"k\" value=random(5000)\nclient event mutation key=\"k\" value=\"x\"\n";
  run("--update " + path);
  EXPECT_TRUE(fs::exists(tmp_path("long_value.line2.value.bin"))) << read_text(path);
  EXPECT_NE(read_text(path).find("value=file(\"long_value.line2.value.bin\")"), std::string::npos) << read_text(path);
  Outcome again = run(path);
  EXPECT_EQ(again.status, 0) << again.output;
}

TEST(TapScenario, UpdateRefusesEventsInsideRepeat) {
  const std::string copy = tmp_path("repeat_mismatch.scenario");
  fs::copy_file("tests/runner/wrong/repeat_mismatch.scenario", copy, fs::copy_options::overwrite_existing);
  Outcome r = run("--update " + copy);
  EXPECT_NE(r.output.find("client events inside a repeat block cannot be updated"), std::string::npos) << r.output;
}

TEST(TapScenario, FilterAndShardingPickScenarios) {
  Outcome filtered = run("--filter 'wrong_*:event_*-event_not*' tests/runner/wrong");
  EXPECT_EQ(verdicts(filtered.output), (std::vector<std::string>{"FAIL event_field_differs", "FAIL event_never_sent",
                                                                 "FAIL wrong_end", "FAIL wrong_error"}));
  Outcome bazel_filter = run("tests/runner/wrong", "TESTBRIDGE_TEST_ONLY=wrong_end");
  EXPECT_EQ(verdicts(bazel_filter.output), (std::vector<std::string>{"FAIL wrong_end"}));

  std::vector<std::string> all;
  const std::string status_file = tmp_path("shard_status");
  for (int shard = 0; shard < 3; ++shard) {
    Outcome r = run("--check tests/runner/wrong",
                fmt_shard(shard, status_file));
    for (auto& v : verdicts(r.output)) all.push_back(v);
  }
  EXPECT_TRUE(fs::exists(status_file));
  std::sort(all.begin(), all.end());
  Outcome whole = run("--check tests/runner/wrong");
  auto expected = verdicts(whole.output);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(all, expected) << "the shards together run every scenario once";
}

TEST(TapScenarioMutate, TheLibrarySurvivesMutationWithBothClients) {
  // The 100,000-mutation stream is left out for time; it adds nothing a mutation finds.
  for (const std::string& client : {std::string(), kExternal}) {
    Outcome r = run(client + " --mutate 100:3 --filter '*-stream_100k*' scenarios");
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("PASS bad_magic mutate=100..102"), std::string::npos) << r.output;
  }
}

TEST(TapScenarioMutate, AClientThatHangsIsCaughtWithTheSeedToReplay) {
  const std::string path = tmp_path("hang.scenario");
  std::ofstream(path) << "timeout 1s\nsend opaque code=INITIAL_VBUCKET_STREAM\nsend mutation key=\"a\"\n";
  // A client that connects, sends a TAP_CONNECT (flags 0) and then never reads or closes.
  const std::string script = tmp_path("hanging_client.sh");
  std::ofstream(script) << "a=$1\n"
                           "exec 3<>/dev/tcp/${a%:*}/${a#*:}\n"
                           "printf '\\x80\\x40\\x00\\x00\\x04\\x00\\x00\\x00\\x00\\x00\\x00\\x04"
                           "\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00"
                           "\\x00\\x00\\x00\\x00' >&3\n"
                           "sleep 30\n";
  const std::string hanging = "--client-cmd 'bash " + script + " {addr}'";
  Outcome r = run(hanging + " --mutate 7:2 " + path);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("FAIL hang mutate=7"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("replay: tap_scenario --mutate 7 " + path), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("what was mutated:"), std::string::npos) << r.output;
}

TEST(TapScenario, CheckOnlyParses) {
  Outcome ok = run("--check tests/runner/wrong/wrong_end.scenario");
  EXPECT_EQ(ok.status, 0) << ok.output;
  Outcome bad = run("--check tests/runner/wrong/invalid.scenario");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.output.find("invalid.scenario:4:6: unknown frame kind 'mutaton'"), std::string::npos) << bad.output;
}

TEST(TapScenario, ATableRunsEachRowAsItsOwnCaseSelectableByName) {
  const std::string sweep = "scenarios/connect_refusal_sweep.scenario";
  Outcome all = run(sweep);
  EXPECT_EQ(all.status, 0) << all.output;
  EXPECT_NE(all.output.find("33 passed, 0 failed"), std::string::npos) << all.output;
  EXPECT_NE(all.output.find("PASS connect_refusal_sweep/eaccess_binary"), std::string::npos) << all.output;
  Outcome some = run(sweep, "TESTBRIDGE_TEST_ONLY='connect_refusal_sweep/eaccess*'");
  EXPECT_EQ(verdicts(some.output),
            (std::vector<std::string>{"PASS connect_refusal_sweep/eaccess_text", "PASS connect_refusal_sweep/eaccess_empty",
                                      "PASS connect_refusal_sweep/eaccess_binary"}))
      << some.output;
  const std::string xml = tmp_path("table.xml");
  run("--junit " + xml + " --filter '*/ebusy_empty' " + sweep);
  std::ifstream in(xml);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find(R"(<testcase name="connect_refusal_sweep/ebusy_empty")"), std::string::npos) << text.str();
}

TEST(TapScenario, TheLibraryIsFormatted) {
  Outcome r = run("--fmt --check scenarios");
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST(TapScenario, FmtRewritesALayoutAndCheckNamesTheFirstLineThatDiffers) {
  const std::string path = tmp_path("messy.scenario");
  std::ofstream(path) << "send   noop\n\n\nrepeat 2 {\nsend noop   # why\n}\n";
  Outcome check = run("--fmt --check " + path);
  EXPECT_EQ(check.status, 1) << check.output;
  EXPECT_NE(check.output.find(path + ":1: not formatted"), std::string::npos) << check.output;
  Outcome fmt = run("--fmt " + path);
  EXPECT_EQ(fmt.status, 0) << fmt.output;
  EXPECT_NE(fmt.output.find("formatted " + path), std::string::npos) << fmt.output;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "send noop\n\nrepeat 2 {\n  send noop  # why\n}\n");
  EXPECT_EQ(run("--fmt --check " + path).status, 0);
  EXPECT_EQ(run("--fmt --check tests/runner/wrong/invalid.scenario").status, 2) << "a broken file is not formatted";
}

TEST(TapScenario, NewWritesAStartingFileForEachKindThatPasses) {
  Outcome list = run("new");
  EXPECT_EQ(list.status, 0) << list.output;
  for (const std::string kind : {"backfill", "dump", "takeover", "checkpoints", "ack_modes", "refusal", "truncation"}) {
    EXPECT_NE(list.output.find(kind), std::string::npos) << list.output;
    const std::string path = tmp_path("new_" + kind + ".scenario");
    fs::remove(path);
    Outcome made = run("new " + kind + " " + path);
    EXPECT_EQ(made.status, 0) << made.output;
    Outcome ran = run(path);
    EXPECT_EQ(ran.status, 0) << kind << ":\n" << ran.output;
    EXPECT_EQ(run("--fmt --check " + path).status, 0) << kind << " is formatted";
    Outcome again = run("new " + kind + " " + path);
    EXPECT_EQ(again.status, 2) << "an existing file is never overwritten";
  }
  Outcome unknown = run("new backfil");
  EXPECT_EQ(unknown.status, 2);
  EXPECT_NE(unknown.output.find("no template 'backfil'"), std::string::npos) << unknown.output;
}

TEST(TapScenario, BadUsageIsStatusTwo) {
  EXPECT_EQ(run("").status, 2);
  EXPECT_EQ(run("no/such/file.scenario").status, 2);
  EXPECT_EQ(run("--client-cmd 'tap_tail' scenarios").status, 2);
  Outcome pcap = run("--pcap /no-such-dir/run.pcapng scenarios/flush.scenario");
  EXPECT_EQ(pcap.status, 2);
  EXPECT_EQ(pcap.output, "tap_scenario: --pcap /no-such-dir/run.pcapng: cannot be written: No such file or directory\n");
  Outcome help = run("--help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.output.find("--client-cmd"), std::string::npos);
}

}  // namespace
}  // namespace tapharness::runner
