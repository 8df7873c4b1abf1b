// The HTML report's pieces: escaping what came from the wire and the files, the session log's
// bounds (a line's first and last records, the byte cap), ACK links, fault marks, the page,
// and collecting a real run's records over 127.0.0.1.
#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "protocol/frame.hpp"
#include "protocol/tap_message.hpp"
#include "runner/report_diagram.hpp"
#include "runner/report_escape.hpp"
#include "runner/report_html.hpp"
#include "runner/report_sessions.hpp"
#include "runner/scenario_run.hpp"
#include "scenario/parser.hpp"

namespace tapharness::runner {
namespace {

using Kind = mockserver::TraceRecord::Kind;

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A TAP_MUTATION as a server sends it, asking for an ACK when `ack`.
protocol::Bytes mutation(std::uint32_t opaque, std::string_view key, bool ack, std::string_view value = "v") {
  const auto flags = ack ? static_cast<std::uint16_t>(protocol::TapFlag::ack) : std::uint16_t{0};
  return protocol::ep_engine::mutation({.key = key, .value = value, .opaque = opaque, .tap_flags = flags});
}

protocol::Bytes ack_of(protocol::Opcode opcode, std::uint32_t opaque) {
  protocol::Bytes out;
  protocol::encode_frame(out, {.magic = protocol::Magic::response, .opcode = opcode, .opaque = opaque});
  return out;
}

scenario::SourceLocation line(int n) { return scenario::SourceLocation("x.scenario", n, 1); }

mockserver::TraceRecord sent(const protocol::Bytes& frame, int at_line) {
  return {.kind = Kind::sent, .frame = frame, .chunks = {{0, frame.size(), {}}}, .written = frame,
          .location = line(at_line)};
}

mockserver::TraceRecord received(const protocol::Bytes& frame, int at_line) {
  return {.kind = Kind::received, .frame = frame, .location = line(at_line)};
}

SessionLog log_of(SessionLimits limits = {}) { return SessionLog({.scenario = "s", .connection = 1}, limits); }

TEST(ReportEscape, TextFromFilesIsEscapedAndShowsEveryByte) {
  EXPECT_EQ(html_text("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;");
  EXPECT_EQ(html_text(std::string("a\0b\x1b", 4)), "a\\x00b\\x1b");
  EXPECT_EQ(html_text("caf\xc3\xa9 \xe2\x80\xa8"), "caf\xc3\xa9 \xe2\x80\xa8");  // valid UTF-8 stays
  EXPECT_EQ(html_text("\xff\xc3(\xed\xa0\x80"), "\\xff\\xc3(\\xed\\xa0\\x80");     // invalid, a surrogate
  EXPECT_EQ(html_text("line\nnext\ttab"), "line\nnext\ttab");
}

TEST(ReportEscape, WireBytesShowNonPrintablesAsHex) {
  EXPECT_EQ(html_bytes(std::string_view("k\x00<\xff\\", 5)), "k\\x00&lt;\\xff\\x5c");
  EXPECT_EQ(html_bytes(std::string_view("abcdef"), 3), "abc... (3 more bytes)");
}

TEST(ReportEscape, JsonCannotEndItsScriptElement) {
  const std::string name = "</script><script>x()</script> \xe2\x80\xa8\xe2\x80\xa9 <!-- \xff";
  const std::string text = script_json({{"name", name}});
  EXPECT_EQ(text.find("</"), std::string::npos) << text;
  EXPECT_EQ(text.find("<!--"), std::string::npos) << text;
  EXPECT_EQ(text.find("\xe2\x80\xa8"), std::string::npos) << text;
  EXPECT_NE(text.find("\\u2028\\u2029"), std::string::npos) << text;
  EXPECT_TRUE(std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }));
  const auto back = nlohmann::json::parse(text);
  EXPECT_EQ(back["name"].get<std::string>().substr(0, 30), name.substr(0, 30));
}

TEST(SessionLog, KeepsTheFirstAndLastRecordsOfALineAndCountsTheRest) {
  SessionLog log = log_of({.per_line = 3});
  log.add(sent(mutation(0, "first", false), 3));
  for (std::uint32_t i = 1; i <= 1000; ++i) log.add(sent(mutation(i, fmt::format("k{}", i), false), 7));
  log.add({.kind = Kind::closed, .note = "server closed the connection", .location = line(9),
           .ending = mockserver::Ending::server_fin});
  const auto entries = log.entries();
  ASSERT_EQ(entries.size(), 1u + 3 + 1 + 3 + 1);
  EXPECT_EQ(log.records_seen(), 1002u);
  EXPECT_EQ(log.records_over_limit(), 0u);
  std::vector<std::uint64_t> sequences;
  for (const auto& e : entries) {
    if (e.record) sequences.push_back(e.record->sequence);
  }
  EXPECT_EQ(sequences, (std::vector<std::uint64_t>{0, 1, 2, 3, 998, 999, 1000, 1001}));
  const LeftOut* gap = entries[4].gap;
  ASSERT_NE(gap, nullptr);
  EXPECT_EQ(gap->count, 994u);
  EXPECT_EQ(gap->location.line, 7);
  EXPECT_EQ(gap->kept_before, 3u);
  EXPECT_EQ(gap->kept_after, 3u);
  EXPECT_GT(gap->bytes, 994u * 24);
  // The diagram says so, and draws what was kept.
  const std::string html = render_diagram(log, {}, "d");
  EXPECT_NE(html.find("994 sent frames of line 7 left out"), std::string::npos) << html;
  EXPECT_NE(html.find("data-sent=\"7\""), std::string::npos);
  EXPECT_EQ(count(html, "<svg class=\"msg\""), 7u);
  EXPECT_NE(html.find("key=k1000"), std::string::npos);
  EXPECT_EQ(html.find("key=k500"), std::string::npos);
}

TEST(SessionLog, StopsAtItsByteLimitAndSaysSo) {
  SessionLog log = log_of({.per_line = 3, .limit = 16 * 1024});
  const std::string value(600, 'v');
  for (int i = 0; i < 2000; ++i) log.add(sent(mutation(1, "k", false, value), 10 + i));  // a line each
  EXPECT_LE(log.bytes_kept(), 16u * 1024);
  EXPECT_GT(log.records_over_limit(), 1900u);
  EXPECT_EQ(log.records_seen(), 2000u);
  EXPECT_NE(render_diagram(log, {}, "d").find("records were left out"), std::string::npos);
}

TEST(SessionLog, KeepsLongFramesShortAndDescribesThemWhole) {
  SessionLog log = log_of({.frame_bytes = 256});
  log.add(sent(mutation(1, "big", false, std::string(100'000, 'z')), 4));
  const auto entries = log.entries();
  ASSERT_EQ(entries.size(), 1u);
  const LoggedRecord& r = *entries[0].record;
  EXPECT_EQ(r.frame.size(), 256u);
  EXPECT_GT(r.frame_size, 100'000u);
  EXPECT_NE(r.description.find("TAP_MUTATION"), std::string::npos) << r.description;
  EXPECT_LT(r.description.size(), 2000u);
}

TEST(ReportDiagram, LinksEachAckToTheFrameThatAskedForIt) {
  SessionLog log = log_of();
  log.add(sent(mutation(5, "a", true), 3));
  log.add(sent(mutation(6, "b", false), 4));
  log.add(sent(mutation(7, "c", true), 5));
  log.add(received(ack_of(protocol::Opcode::tap_mutation, 7), 6));
  log.add(received(ack_of(protocol::Opcode::tap_mutation, 5), 6));
  log.add(received(ack_of(protocol::Opcode::tap_mutation, 6), 6));  // 6 did not ask
  log.add(received(ack_of(protocol::Opcode::tap_delete, 5), 6));    // another opcode
  const auto links = ack_links(log.entries());
  EXPECT_EQ(links, (std::map<std::size_t, std::size_t>{{3, 2}, {4, 0}}));
  const std::string html = render_diagram(log, {}, "d");
  EXPECT_NE(html.find("id=\"d-e0\" data-pair=\"d-e4\""), std::string::npos) << html;
  EXPECT_NE(html.find("id=\"d-e4\" data-pair=\"d-e0\""), std::string::npos) << html;
  EXPECT_EQ(count(html, "data-pair="), 4u);
  EXPECT_EQ(count(html, "asks ACK"), 2u);
}

TEST(ReportDiagram, MarksEachFaultWhereItHits) {
  const protocol::Bytes frame = mutation(1, "k", false);
  auto marks = [](const LoggedRecord& r) {
    std::vector<std::string> kinds;
    for (const auto& f : faults_of(r)) kinds.push_back(f.kind);
    return kinds;
  };
  auto record = [&](mockserver::TraceRecord t) {
    SessionLog log = log_of();
    log.add(t);
    return *log.entries().at(0).record;
  };
  protocol::Bytes corrupt = frame;
  corrupt[3] ^= 0xff;
  const protocol::Bytes truncated(frame.begin(), frame.begin() + 10);
  protocol::Bytes lie = frame;
  lie[11] += 100;  // bodylen
  std::vector<scenario::WriteChunk> bytewise;
  for (std::size_t i = 0; i < frame.size(); ++i) bytewise.push_back({i, i + 1, std::chrono::milliseconds(i ? 1 : 0)});

  EXPECT_EQ(marks(record(sent(frame, 1))), std::vector<std::string>{});
  EXPECT_EQ(marks(record({.kind = Kind::sent, .frame = frame, .chunks = {{0, frame.size(), {}}}, .written = corrupt})),
            std::vector<std::string>{"corrupt"});
  EXPECT_EQ(marks(record({.kind = Kind::sent, .frame = frame, .chunks = {{0, 10, {}}}, .written = truncated})),
            std::vector<std::string>{"truncate"});
  EXPECT_EQ(marks(record({.kind = Kind::sent, .frame = lie, .chunks = {{0, lie.size(), {}}}, .written = lie})),
            std::vector<std::string>{"lie"});
  EXPECT_EQ(marks(record({.kind = Kind::sent, .frame = frame, .chunks = {{0, 3, {}}, {3, frame.size(), {}}},
                          .written = frame})),
            std::vector<std::string>{"split"});
  EXPECT_EQ(marks(record({.kind = Kind::sent, .frame = frame, .chunks = bytewise, .written = frame})),
            std::vector<std::string>{"bytewise"});
  EXPECT_EQ(marks(record({.kind = Kind::closed, .note = "server reset the connection (RST)",
                          .ending = mockserver::Ending::server_rst})),
            std::vector<std::string>{"rst"});
  EXPECT_EQ(marks(record({.note = "server stalls: sends nothing more"})), std::vector<std::string>{"stall"});

  SessionLog log = log_of();
  log.add({.kind = Kind::sent, .frame = frame, .chunks = {{0, 10, {}}}, .written = truncated, .location = line(2)});
  const std::string html = render_diagram(log, {}, "d");
  EXPECT_NE(html.find("class=\"fault fault-truncate\""), std::string::npos) << html;
  EXPECT_NE(html.find("only 10 of "), std::string::npos) << html;
}

TEST(ReportDiagram, KeysAreEscapedAndShownAsHex) {
  SessionLog log = log_of();
  log.add(sent(mutation(1, std::string_view("<b>\x00\xff", 5), false), 2));
  const std::string html = render_diagram(log, {}, "d");
  EXPECT_NE(html.find("key=&lt;b&gt;\\x00\\xff"), std::string::npos) << html;
  EXPECT_EQ(html.find("<b>"), std::string::npos);
}

TEST(ReportDiagram, HighlightsTheFailingStepWithExpectedAndObserved) {
  SessionLog log = log_of();
  log.add(sent(mutation(1, "a", true), 3));
  log.add(sent(mutation(2, "b", true), 5));
  const std::string html = render_diagram(
      log, {{line(4), "expect ack", "ACK opaque=0x00000001", "nothing <within> 5000ms", false}}, "d");
  const auto failure = html.find("ev failure server");
  ASSERT_NE(failure, std::string::npos) << html;
  // After the record of the line before it, before the next line's.
  EXPECT_GT(failure, html.find("id=\"d-e0\""));
  EXPECT_LT(failure, html.find("id=\"d-e1\""));
  EXPECT_NE(html.find("nothing &lt;within&gt; 5000ms"), std::string::npos);
  EXPECT_NE(html.find("<b>FAILED</b> x.scenario:4: expect ack"), std::string::npos);
  const std::string at_line = render_diagram(log, {{line(5), "send", "e", "o", false}}, "d");
  EXPECT_EQ(count(at_line, " failing\""), 1u) << at_line;
}

ScenarioResult result_named(std::string name, Verdict verdict) {
  ScenarioResult r;
  r.name = std::move(name);
  r.path = "scenarios/" + r.name + ".scenario";
  r.verdict = verdict;
  if (verdict == Verdict::failed) r.problem = "the client exited with status 3";
  return r;
}

TEST(ReportPage, IsSelfContainedMarksFailuresAndEscapesNames) {
  std::vector<ScenarioResult> results{result_named("fine", Verdict::passed),
                                      result_named("<img src=x onerror=alert(1)>", Verdict::failed)};
  auto log = std::make_shared<SessionLog>(mockserver::ObservedConnection{.scenario = "fine", .connection = 1});
  log->add(sent(mutation(1, "k", false), 2));
  results[0].sessions.push_back(log);
  const std::string html = render_report({.results = results});
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  EXPECT_EQ(html.find("http:"), std::string::npos);
  EXPECT_EQ(html.find("https:"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("<script src"), std::string::npos);
  EXPECT_EQ(count(html, "<tr class=\"scenario-row failed\""), 1u);
  EXPECT_EQ(count(html, "<tr class=\"scenario-row passed\""), 1u);
  EXPECT_NE(html.find("1 FAILED"), std::string::npos);
  EXPECT_EQ(count(html, "class=\"diagram\""), 1u);
  EXPECT_NE(html.find("the client exited with status 3"), std::string::npos);
}

TEST(ReportPage, LeavesOutDiagramsPastItsLimit) {
  std::vector<ScenarioResult> results;
  for (int i = 0; i < 20; ++i) {
    results.push_back(result_named(fmt::format("s{}", i), Verdict::passed));
    auto log = std::make_shared<SessionLog>(mockserver::ObservedConnection{.scenario = "s", .connection = 1});
    for (int k = 0; k < 50; ++k) log->add(sent(mutation(k, "k", false), k + 1));
    results.back().sessions.push_back(log);
  }
  const std::string whole = render_report({.results = results});
  const std::string capped = render_report({.results = results, .limit = whole.size() / 4});
  EXPECT_EQ(count(whole, "class=\"diagram\""), 20u);
  const std::size_t drawn = count(capped, "class=\"diagram\"");
  EXPECT_GT(drawn, 0u);
  EXPECT_LT(drawn, 8u);
  EXPECT_EQ(count(capped, "Diagram left out"), 20u - drawn);
  EXPECT_LT(capped.size(), whole.size() / 4 + whole.size() / 10);
}

TEST(ReportPage, TheKillMatrixIsATable) {
  KillMatrix m;
  m.columns = {{"skip_ack", {}}, {"never_ack", {}}};
  m.rows = {{.name = "a", .path = "a.scenario", .correct_passed = true, .killed = {true, false}},
            {.name = "b<", .path = "b.scenario", .correct_passed = false, .correct_failure = "x", .killed = {false, false}}};
  const std::string html = render_report({.matrix = &m});
  EXPECT_NE(html.find("<table class=\"matrix\""), std::string::npos);
  EXPECT_EQ(count(html, "<td class=\"k killed\">X</td>"), 1u);
  EXPECT_NE(html.find("b&lt;"), std::string::npos);
  EXPECT_NE(html.find("The kill matrix does not hold"), std::string::npos);
}

TEST(ReportPage, IsWrittenIntoItsDirectoryOrSaysWhichCannotBe) {
  const std::string dir = fmt::format("{}/reports/new", std::getenv("TEST_TMPDIR"));
  auto written = write_report(dir, {});
  ASSERT_TRUE(written) << written.error().message();
  EXPECT_EQ(*written, dir + "/report.html");
  EXPECT_TRUE(std::filesystem::is_regular_file(*written));
  // A directory under a file cannot be made: the error names it.
  const std::string under_file = *written + "/sub";
  auto refused = write_report(under_file, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().where, under_file);
  EXPECT_NE(refused.error().message().find("cannot write the report there"), std::string::npos);
}

// A real run over 127.0.0.1 with keep_sessions: each connection's records come back.
TEST(ReportRun, CollectsEachConnectionsRecordsOnlyWhenAsked) {
  auto parsed = scenario::parse_scenario(R"(expect connect
send mutation vb=0 key="k1" value="v" ack
expect ack
send mutation vb=0 key="k2" value="v" split=5
close rst
)",
                                         "inline.scenario");
  ASSERT_TRUE(parsed) << parsed.error().text();
  auto shared = std::make_shared<const scenario::Scenario>(std::move(parsed).value());
  const ScenarioResult plain = run_scenario(shared, {});
  EXPECT_TRUE(plain.sessions.empty());
  RunOptions options;
  options.keep_sessions = true;
  const ScenarioResult kept = run_scenario(shared, options);
  ASSERT_EQ(kept.sessions.size(), 1u) << format_result(kept);
  const SessionLog& log = *kept.sessions[0];
  EXPECT_EQ(log.connection().client.address().to_string(), "127.0.0.1");
  EXPECT_NE(log.connection().server.port(), 0);
  std::size_t sent_frames = 0, received_frames = 0, resets = 0;
  for (const auto& e : log.entries()) {
    if (!e.record) continue;
    sent_frames += e.record->kind == Kind::sent;
    received_frames += e.record->kind == Kind::received;
    resets += e.record->ending == mockserver::Ending::server_rst;
  }
  EXPECT_EQ(sent_frames, 2u);
  EXPECT_EQ(received_frames, 2u);  // TAP_CONNECT and the ACK
  EXPECT_EQ(resets, 1u);
  const std::string html = render_diagram(log, {}, "d");
  EXPECT_EQ(count(html, "data-pair="), 2u) << html;
  EXPECT_NE(html.find("fault-split"), std::string::npos);
  EXPECT_NE(html.find("fault-rst"), std::string::npos);
}

}  // namespace
}  // namespace tapharness::runner
