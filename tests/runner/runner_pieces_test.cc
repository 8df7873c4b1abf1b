// The runner's smaller pieces: its command line and Bazel's test environment, name
// filters, collecting files, JUnit escaping, --update's rewrite, and {args}.
#include <map>

#include <gtest/gtest.h>

#include "scenario/parser.hpp"
#include "runner/junit.hpp"
#include "runner/kill_matrix.hpp"
#include "runner/runner_cli.hpp"
#include "runner/scenario_run.hpp"
#include "runner/update.hpp"

namespace tapharness::runner {
namespace {

std::variant<RunnerCommand, RunnerUsage> parse(std::vector<const char*> args,
                                               std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), "tap_scenario");
  return parse_runner_cli(static_cast<int>(args.size()), args.data(), [env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(RunnerCli, OptionsAndBazelEnvironment) {
  auto parsed = parse({"--seed", "9", "--client-cmd", "x {addr}", "--update", "a.scenario", "dir"},
                      {{"TESTBRIDGE_TEST_ONLY", "back*"},
                       {"XML_OUTPUT_FILE", "/tmp/x.xml"},
                       {"TEST_TOTAL_SHARDS", "4"},
                       {"TEST_SHARD_INDEX", "2"},
                       {"TEST_SHARD_STATUS_FILE", "/tmp/s"}});
  ASSERT_TRUE(std::holds_alternative<RunnerCommand>(parsed)) << std::get<RunnerUsage>(parsed).text;
  const auto& c = std::get<RunnerCommand>(parsed);
  EXPECT_EQ(c.inputs, (std::vector<std::string>{"a.scenario", "dir"}));
  EXPECT_EQ(c.run.seed, 9u);
  EXPECT_EQ(c.run.client_command, "x {addr}");
  EXPECT_TRUE(c.update);
  EXPECT_TRUE(c.run.keep_observed);
  EXPECT_EQ(c.filter, "back*");
  EXPECT_EQ(c.junit, "/tmp/x.xml");
  EXPECT_EQ(c.shard_count, 4u);
  EXPECT_EQ(c.shard_index, 2u);
  EXPECT_EQ(c.shard_status_file, "/tmp/s");
}

TEST(RunnerCli, AnExplicitJunitPathWinsOverBazels) {
  auto parsed = parse({"--junit", "mine.xml", "a"}, {{"XML_OUTPUT_FILE", "/tmp/x.xml"}});
  EXPECT_EQ(std::get<RunnerCommand>(parsed).junit, "mine.xml");
}

// --report DIR, or under `bazel test` the test's outputs; records are kept only for a report,
// and never for the kill matrix's many runs (its report is the table).
TEST(RunnerCli, ReportGoesToItsDirectoryOrTheTestsOutputs) {
  const auto plain = std::get<RunnerCommand>(parse({"a"}));
  EXPECT_FALSE(plain.report_dir);
  EXPECT_FALSE(plain.run.keep_sessions);
  const auto asked = std::get<RunnerCommand>(parse({"--report", "/tmp/r", "a"}, {{"TEST_UNDECLARED_OUTPUTS_DIR", "/o"}}));
  EXPECT_EQ(asked.report_dir, "/tmp/r");
  EXPECT_TRUE(asked.run.keep_sessions);
  const auto bazel = std::get<RunnerCommand>(parse({"a"}, {{"TEST_UNDECLARED_OUTPUTS_DIR", "/o"}}));
  EXPECT_EQ(bazel.report_dir, "/o");
  EXPECT_TRUE(bazel.report_from_bazel);
  EXPECT_FALSE(asked.report_from_bazel);
  EXPECT_TRUE(bazel.run.keep_sessions);
  const auto matrix = std::get<RunnerCommand>(parse({"--defects", "--report", "/tmp/r", "a"}));
  EXPECT_EQ(matrix.report_dir, "/tmp/r");
  EXPECT_FALSE(matrix.run.keep_sessions);
  EXPECT_FALSE(std::get<RunnerCommand>(parse({"--check", "a"}, {{"TEST_UNDECLARED_OUTPUTS_DIR", "/o"}})).run.keep_sessions);
}

TEST(RunnerCli, BadUsage) {
  EXPECT_EQ(std::get<RunnerUsage>(parse({})).status, 2);
  EXPECT_EQ(std::get<RunnerUsage>(parse({"--client-cmd", "no-placeholder", "a"})).status, 2);
  EXPECT_EQ(std::get<RunnerUsage>(parse({"--bogus", "a"})).status, 2);
  EXPECT_EQ(std::get<RunnerUsage>(parse({"--help"})).status, 0);
}

// A scenario that catches no defect says why in its header, or the kill matrix fails it.
TEST(KillMatrix, KillsNoneIsReadFromTheHeaderOnly) {
  EXPECT_EQ(kills_none_reason("# A title\n#  kills: none (only timing)  \nsend noop\n"), "only timing");
  EXPECT_EQ(kills_none_reason("#kills:none(x)\n"), "x");
  EXPECT_EQ(kills_none_reason("\n# kills: none (after a blank line)\n"), "after a blank line");
  EXPECT_EQ(kills_none_reason("send noop\n# kills: none (too late)\n"), std::nullopt);
  EXPECT_EQ(kills_none_reason("# kills: none\n"), std::nullopt);     // no reason
  EXPECT_EQ(kills_none_reason("# kills: none ()\n"), std::nullopt);  // an empty one
  EXPECT_EQ(kills_none_reason("# kills: some (x)\n"), std::nullopt);
}

TEST(Filter, GtestStylePatterns) {
  EXPECT_TRUE(filter_matches("", "anything"));
  EXPECT_TRUE(filter_matches("back*", "backfill"));
  EXPECT_FALSE(filter_matches("back*", "dump"));
  EXPECT_TRUE(filter_matches("dump:back*", "dump"));
  EXPECT_FALSE(filter_matches("*-eof*", "eof_mid_body"));
  EXPECT_TRUE(filter_matches("*-eof*", "rst"));
  EXPECT_TRUE(filter_matches("-eof*", "rst"));
  EXPECT_TRUE(filter_matches("eof_?", "eof_1"));
}

TEST(Collect, MissingInputsAreNamed) {
  auto missing = collect_scenarios({"no/such/dir"}, "");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "no/such/dir: no such file or directory");
}

TEST(Junit, EscapesMarkupAndControlBytes) {
  EXPECT_EQ(xml_escape("a<b>&\"'\x01"), "a&lt;b&gt;&amp;&quot;&apos;\\x01");
  ScenarioResult passed;
  passed.name = "p";
  passed.verdict = Verdict::passed;
  const std::string xml = junit_xml({passed}, "suite");
  EXPECT_NE(xml.find(R"(<testcase name="p" classname="suite")"), std::string::npos) << xml;
  EXPECT_NE(xml.find(R"(tests="1" failures="0" errors="0")"), std::string::npos);
}

scenario::Scenario parse_scenario_text(std::string_view text) {
  return scenario::parse_scenario(text, "u.scenario").value();
}

TEST(Update, ReplacesTheClientLinesWhereTheFirstOneWas) {
  const std::string text =
      "send mutation key=\"a\"\n"
      "client event mutation key=\"old\"\n"
      "send flush\n"
      "client event flush\n"
      "client end eof\n";
  protocol::TapEvent m;
  m.kind = protocol::TapEventKind::mutation;
  m.key = "a";
  std::vector<client::ReportedItem> observed{m, client::ReportedEnd{client::ReportedEnd::How::error, "truncated: x"}};
  auto updated = updated_scenario_text(parse_scenario_text(text), text, observed);
  ASSERT_TRUE(updated) << updated.error().message();
  // The line keeps the one field it checked; no field is added.
  EXPECT_EQ(updated->text,
            "send mutation key=\"a\"\n"
            "client event mutation key=\"a\"\n"
            "client end error match=\"truncated\"\n"
            "send flush\n");
  // What --update writes parses again.
  EXPECT_TRUE(scenario::parse_scenario(updated->text, "u.scenario").ok());
}

TEST(TailFlags, ClientArgsBecomeTapTailFlags) {
  auto s = parse_scenario_text(
      "client args name=\"r 1\" backfill=5 dump vbuckets=1,2 takeover ack keys_only checkpoint registered "
      "idle_timeout=1500ms\n");
  EXPECT_EQ(tail_flags(s),
            "--name 'r 1' --backfill 5 --dump --vbuckets 1,2 --takeover --ack --keys-only --checkpoint "
            "--registered --timeout 1.5");
  EXPECT_EQ(tail_flags(parse_scenario_text("send noop\n")), "--backfill none");
}

}  // namespace
}  // namespace tapharness::runner
