// ClientCheck: the expected events walked lazily through repeats, exact matches, fields
// that differ, skipped and extra events, and how the end is judged.
#include "runner/client_check.hpp"

#include <gtest/gtest.h>

#include "scenario/parser.hpp"

namespace tapharness::runner {
namespace {

using client::ReportedEnd;
using protocol::TapEvent;
using protocol::TapEventKind;

scenario::Scenario parse(std::string_view text) {
  auto parsed = scenario::parse_scenario(text, "c.scenario");
  EXPECT_TRUE(parsed.ok()) << (parsed ? "" : parsed.error().text());
  return parsed ? std::move(parsed).value() : scenario::Scenario{};
}

TapEvent mutation(std::string key, std::uint64_t cas = 0, std::uint16_t vb = 0) {
  TapEvent e;
  e.kind = TapEventKind::mutation;
  e.key = std::move(key);
  e.cas = cas;
  e.vbucket = vb;
  return e;
}

const ReportedEnd kEof{ReportedEnd::How::eof, {}};

TEST(ClientCheck, ExactEventsAndEndPass) {
  auto s = parse("client event mutation key=\"a\" cas=1\nclient event mutation key=\"b\"\nclient end eof\n");
  ClientCheck check(s);
  check.observe(mutation("a", 1));
  check.observe(mutation("b", 99));  // cas not named: not checked
  check.observe(kEof);
  check.finish();
  EXPECT_TRUE(check.passed());
  EXPECT_EQ(check.events_seen(), 2u);
}

TEST(ClientCheck, NamesTheFieldsThatDiffer) {
  auto s = parse("client event mutation vb=2 key=\"a\" cas=1\n");
  ClientCheck check(s);
  check.observe(mutation("x", 5, 2));
  check.observe(kEof);
  ASSERT_EQ(check.failures().size(), 1u);
  const auto& f = check.failures()[0];
  EXPECT_EQ(f.location.line, 1);
  EXPECT_EQ(f.expected, "mutation vb=2 key=\"a\" cas=1");
  EXPECT_EQ(f.observed, "mutation vb=2 key=\"x\" value=\"\" flags=0 expiry=0 cas=5 (key, cas differ)");
}

TEST(ClientCheck, ASkippedEventIsFoundByLookingAhead) {
  auto s = parse("client event mutation key=\"a\"\nclient event mutation key=\"b\"\nclient event mutation key=\"c\"\n");
  ClientCheck check(s);
  check.observe(mutation("a"));
  check.observe(mutation("c"));
  check.observe(kEof);
  ASSERT_EQ(check.failures().size(), 1u);
  EXPECT_EQ(check.failures()[0].location.line, 2);
  EXPECT_NE(check.failures()[0].observed.find("never came; this one is line 3"), std::string::npos);
}

TEST(ClientCheck, AnExtraEventIsToldApartFromAReplacedOne) {
  auto s = parse("client event mutation key=\"a\"\nclient event mutation key=\"b\"\n");
  {
    ClientCheck check(s);
    check.observe(mutation("a"));
    check.observe(mutation("zzz"));  // extra
    check.observe(mutation("b"));
    check.observe(kEof);
    ASSERT_EQ(check.failures().size(), 1u);
    EXPECT_NE(check.failures()[0].observed.find("first (an event the scenario does not expect here)"),
              std::string::npos);
  }
  {
    ClientCheck check(s);
    check.observe(mutation("a"));
    check.observe(mutation("zzz"));  // in place of "b"
    check.observe(kEof);
    ASSERT_EQ(check.failures().size(), 1u);
    EXPECT_NE(check.failures()[0].observed.find("(key differs)"), std::string::npos);
  }
}

TEST(ClientCheck, MissingEventsAndTheWrongEnd) {
  auto s = parse("client event flush\nclient event flush\nclient end error match=\"truncated\"\n");
  ClientCheck check(s);
  TapEvent flush;
  flush.kind = TapEventKind::flush;
  check.observe(flush);
  check.observe(kEof);
  ASSERT_EQ(check.failures().size(), 2u);
  EXPECT_EQ(check.failures()[0].location.line, 2);
  EXPECT_EQ(check.failures()[0].observed, "the client ended (end eof) with 1 expected event not reported");
  EXPECT_EQ(check.failures()[1].expected, "end error match=\"truncated\"");
  EXPECT_EQ(check.failures()[1].observed, "end eof");
}

TEST(ClientCheck, ErrorEndsMatchBySubstring) {
  auto s = parse("client end error match=\"truncated\"\n");
  ClientCheck check(s);
  check.observe(ReportedEnd{ReportedEnd::How::error, "truncated: the stream ended inside a frame"});
  check.finish();
  EXPECT_TRUE(check.passed());
}

TEST(ClientCheck, ASayAboutTheClientWithoutClientEventsMeansNoEvents) {
  for (const char* text : {"send noop\nclient end eof\n", "send noop\nclient args name=\"x\"\n"}) {
    auto s = parse(text);
    ClientCheck check(s);
    check.observe(mutation("made-up"));
    check.observe(kEof);
    check.finish();
    ASSERT_FALSE(check.failures().empty()) << text;
    EXPECT_EQ(check.failures()[0].expected, "no more events") << text;
  }
}

TEST(ClientCheck, ClientEventsAnyChecksOnlyTheEnd) {
  auto s = parse("send noop\nclient events any\nclient end eof\n");
  ClientCheck check(s);
  check.observe(mutation("anything"));
  check.observe(kEof);
  check.finish();
  EXPECT_TRUE(check.passed());
}

TEST(ClientCheck, NoEndIsAFailure) {
  auto s = parse("send noop\n");
  ClientCheck check(s);
  check.finish();
  ASSERT_EQ(check.failures().size(), 1u);
  EXPECT_EQ(check.failures()[0].observed, "the client reported no end");
}

TEST(ClientCheck, RepeatsAreWalkedLazilyWithTheirIndex) {
  auto s = parse("repeat 100000 {\n  send mutation key=\"k{n}\"\n  client event mutation key=\"k{n}\" cas={n}\n}\n");
  ClientCheck check(s);
  for (std::uint64_t i = 0; i < 100000; ++i) check.observe(mutation(fmt::format("k{}", i), i));
  check.observe(kEof);
  check.finish();
  EXPECT_TRUE(check.passed());
  EXPECT_EQ(check.events_seen(), 100000u);
}

TEST(ClientCheck, FailuresBeyondTwentyAreCounted) {
  auto s = parse("repeat 50 client event mutation key=\"k\" cas={n}\n");
  ClientCheck check(s);
  for (int i = 0; i < 50; ++i) check.observe(mutation("k", 1000));
  check.observe(kEof);
  EXPECT_EQ(check.failures().size(), 20u);
  EXPECT_EQ(check.failures_dropped(), 30u);
}

TEST(Describe, EventsInScenarioSyntax) {
  TapEvent e = mutation(std::string("\x01\x02\x03", 3), 7);
  e.value = "v\"";
  EXPECT_EQ(describe_observed(e), "mutation vb=0 key=x\"010203\" value=\"v\\\"\" flags=0 expiry=0 cas=7");
  TapEvent set;
  set.kind = TapEventKind::vbucket_set;
  set.vbucket = 9;
  set.state = protocol::VBucketState::replica;
  EXPECT_EQ(describe_observed(set), "vbucket_set vb=9 state=replica");
}

}  // namespace
}  // namespace tapharness::runner
