// The scenario parser against every construct of scenarios/README.md, checking the AST it
// builds field by field, the README's own examples included.
#include "scenario/parser.hpp"

#include "scenario/literals.hpp"
#include "scenario/render.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/scenario/parse_helpers.hpp"
#include "tests/support/temp_files.hpp"

namespace tapharness::scenario::testing {
namespace {

using protocol::Opcode;
using protocol::Status;
using protocol::TapConnectFlag;
using protocol::TapEventKind;

constexpr std::uint32_t bits(TapConnectFlag flag) { return static_cast<std::uint32_t>(flag); }

template <class Action>
const Action& action_of(const Step& step) {
  const auto* action = std::get_if<Action>(&step.action);
  EXPECT_NE(action, nullptr) << "step at line " << step.location.line;
  static const Action kNone{};
  return action ? *action : kNone;
}

// The `client event` line at `index` among the scenario's top-level client events.
const EventLine& event_at(const Scenario& s, std::size_t index) {
  static const EventLine kNone{};
  if (index >= s.client.events.size()) {
    ADD_FAILURE() << "no client event " << index;
    return kNone;
  }
  const auto* line = std::get_if<EventLine>(&s.client.events[index]);
  EXPECT_NE(line, nullptr) << "client event " << index << " is a repeat";
  return line ? *line : kNone;
}

// --- defaults and whole files ---

TEST(ScenarioParser, AnEmptyOrCommentsOnlyFileIsAnError) {
  for (const char* text : {"", "# nothing but a comment\n\n   \n", "seed 3\ntimeout 1s\n"}) {
    const auto parsed = parse_scenario(text, "x.scenario");
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().text(),
              "x.scenario: the scenario is empty: it needs at least one statement (a step, 'expect connect' or a "
              "client line; scenarios/README.md)");
  }
}

TEST(ScenarioParser, OneStepAndTheRestDefaults) {
  const Scenario s = parsed("# a comment\n\nsend noop\n");
  EXPECT_EQ(s.name, "x");
  EXPECT_EQ(s.path, "x.scenario");
  EXPECT_EQ(s.seed, 1u);
  EXPECT_EQ(s.timeout, Duration{5000});
  EXPECT_EQ(s.acks, AckPolicy::strict);
  EXPECT_EQ(s.steps.size(), 1u);
  EXPECT_FALSE(s.limit);
  EXPECT_EQ(s.connect.name.kind, FieldMatcher<std::string>::Kind::any);
  EXPECT_FALSE(s.connect.flags_exact);
  EXPECT_EQ(s.connect.flags_present, 0u);
  EXPECT_EQ(s.connect.flags_absent, 0u);
  EXPECT_EQ(s.connect.backfill.kind, FieldMatcher<std::uint64_t>::Kind::any);
  EXPECT_EQ(s.connect.vbuckets.kind, FieldMatcher<std::vector<std::uint16_t>>::Kind::any);
  EXPECT_EQ(s.connect_location.line, 0);
  EXPECT_FALSE(s.client.args);
  EXPECT_FALSE(s.client.end);
  EXPECT_FALSE(s.client.checks_events());
}

TEST(ScenarioParser, TheNameIsTheFileNameWithoutDirectoryOrExtension) {
  auto name = [](std::string path) { return parse_scenario("send noop", std::move(path)).value().name; };
  EXPECT_EQ(name("scenarios/backfill.scenario"), "backfill");
  EXPECT_EQ(name("/a/b/takeover.v2.scenario"), "takeover.v2");
  EXPECT_EQ(name("notes.txt"), "notes");
  EXPECT_EQ(parse_scenario("send noop", "dir/y.scenario").value().path, "dir/y.scenario");
}

TEST(ScenarioParser, ParsesTheReadmesFirstExample) {
  const Scenario s = parsed(kReadmeFirstExample);
  EXPECT_EQ(s.connect.name.kind, FieldMatcher<std::string>::Kind::exact);
  EXPECT_EQ(s.connect.name.value, "replica-1");
  EXPECT_EQ(s.connect.flags_present, bits(TapConnectFlag::backfill) | bits(TapConnectFlag::support_ack));
  EXPECT_EQ(s.connect_location, (SourceLocation{"x.scenario", 2, 1}));

  ASSERT_EQ(s.steps.size(), 7u) << "client lines are not the server's steps";
  const auto& begin = action_of<Send>(s.steps[0]).frame();
  EXPECT_EQ(begin.kind, FrameKind::opaque);
  EXPECT_EQ(begin.get(F::vbucket), number(0));
  EXPECT_EQ(value_of(begin, F::code), 1u);
  EXPECT_TRUE(begin.wants_ack());
  EXPECT_FALSE(begin.get(F::opaque));  // the producer numbers it
  EXPECT_EQ(s.steps[0].location, (SourceLocation{"x.scenario", 3, 1}));
  EXPECT_FALSE(action_of<ExpectAck>(s.steps[1]).opaque);
  const auto& mutation = action_of<Send>(s.steps[2]).frame();
  EXPECT_EQ(mutation.get(B::key), text_bytes("a"));
  EXPECT_EQ(mutation.get(B::value), text_bytes("hello"));
  EXPECT_EQ(mutation.get(F::flags), number(18));
  EXPECT_EQ(mutation.get(F::expiry), number(300));
  EXPECT_EQ(mutation.get(F::cas), number(7));
  EXPECT_FALSE(mutation.wants_ack());
  EXPECT_EQ(action_of<Send>(s.steps[3]).frame().kind, FrameKind::deletion);
  EXPECT_EQ(value_of(action_of<Send>(s.steps[4]).frame(), F::code), 8u);
  EXPECT_EQ(action_of<Close>(s.steps[6]).how, Close::How::fin);
  ASSERT_EQ(s.client.events.size(), 4u);
  EXPECT_EQ(event_at(s, 0).event.kind, TapEventKind::begin_backfill);
  EXPECT_EQ(event_at(s, 0).location, (SourceLocation{"x.scenario", 12, 1}));
  const auto& event = event_at(s, 1).event;
  EXPECT_EQ(event.kind, TapEventKind::mutation);
  EXPECT_EQ(event.key, text_bytes("a"));
  EXPECT_EQ(event.value, text_bytes("hello"));
  EXPECT_EQ(event.flags, number(18));
  EXPECT_EQ(event.expiry, number(300));
  EXPECT_EQ(event.cas, number(7));
  EXPECT_EQ(event_at(s, 3).event.kind, TapEventKind::end_backfill);
  EXPECT_TRUE(s.client.checks_events());

  ASSERT_TRUE(s.client.args);
  EXPECT_EQ(s.client.args->args.client_name, "replica-1");
  EXPECT_EQ(s.client.args->args.backfill, 0u);
  EXPECT_TRUE(s.client.args->args.support_ack);
  EXPECT_EQ(s.client.args_location.line, 11);
  ASSERT_TRUE(s.client.end);
  EXPECT_EQ(s.client.end->how, ClientEnd::How::eof);
  EXPECT_EQ(s.client.end_location.line, 16);
}

TEST(ScenarioParser, CommentsBlankLinesCrlfAndTabsAreLayout) {
  const Scenario s = parsed("\r\n\t# a comment\r\n\tsend\tnoop  # trailing comment\r\nsend noop#tight\r\n");
  ASSERT_EQ(s.steps.size(), 2u);
  EXPECT_EQ(s.steps[0].location, (SourceLocation{"x.scenario", 3, 2}));
  EXPECT_EQ(s.steps[1].location.line, 4);
}

TEST(ScenarioParser, AHashInsideAStringIsNotAComment) {
  EXPECT_EQ(only_step<Send>("send mutation key=\"a # b\" value=x\"23\"").frame().get(B::key), text_bytes("a # b"));
}

// --- directives ---

TEST(ScenarioParser, Directives) {
  const Scenario s = parsed("seed 0x2a\ntimeout 250ms\nacks auto\nwrites coalesced\nlimit 2m\nsend noop\n");
  EXPECT_EQ(s.seed, 42u);
  EXPECT_EQ(s.timeout, Duration{250});
  EXPECT_EQ(s.acks, AckPolicy::strict);  // `acks auto` is the older name of the default
  EXPECT_EQ(parsed("acks unchecked\nsend noop\n").acks, AckPolicy::unchecked);
  EXPECT_TRUE(s.coalesce_writes);
  EXPECT_EQ(s.limit, Duration{120'000});
  EXPECT_EQ(s.steps.size(), 1u);
  EXPECT_FALSE(parsed("send noop\n").coalesce_writes);
}

TEST(ScenarioParser, AllowUnexpectedIsAStepAtItsPosition) {
  const Scenario s = parsed("send noop\nallow unexpected\nsend noop\n");
  ASSERT_EQ(s.steps.size(), 3u);
  EXPECT_EQ(action_of<Allow>(s.steps[1]).what, Allow::What::unexpected);
  EXPECT_EQ(s.steps[1].location.line, 2);
  EXPECT_EQ(only_step<Allow>("allow nacks").what, Allow::What::nacks);
}

// --- expect connect ---

TEST(ScenarioParser, ExpectConnectExactFlagsBackfillAndVbuckets) {
  const Scenario s = parsed(
      R"(expect connect name="replica-1" flags=backfill,list_vbuckets backfill=0x5 vbuckets=0,1,2)");
  EXPECT_EQ(s.connect.name.value, "replica-1");
  EXPECT_EQ(s.connect.flags_exact, bits(TapConnectFlag::backfill) | bits(TapConnectFlag::list_vbuckets));
  EXPECT_EQ(s.connect.backfill.kind, FieldMatcher<std::uint64_t>::Kind::exact);
  EXPECT_EQ(s.connect.backfill.value, 5u);
  EXPECT_EQ(s.connect.vbuckets.kind, FieldMatcher<std::vector<std::uint16_t>>::Kind::exact);
  EXPECT_EQ(s.connect.vbuckets.value, (std::vector<std::uint16_t>{0, 1, 2}));
  EXPECT_TRUE(s.steps.empty());  // the connect check is not a step
}

TEST(ScenarioParser, ExpectConnectHasAndLacks) {
  const Scenario s = parsed("expect connect has=support_ack,checkpoint lacks=dump");
  EXPECT_EQ(s.connect.flags_present, bits(TapConnectFlag::support_ack) | bits(TapConnectFlag::checkpoint));
  EXPECT_EQ(s.connect.flags_absent, bits(TapConnectFlag::dump));
  EXPECT_FALSE(s.connect.flags_exact);
}

TEST(ScenarioParser, ExpectConnectAnyNoneAndAbsent) {
  const Scenario s = parsed("expect connect name=any backfill=none vbuckets=absent");
  EXPECT_EQ(s.connect.name.kind, FieldMatcher<std::string>::Kind::any);
  EXPECT_EQ(s.connect.backfill.kind, FieldMatcher<std::uint64_t>::Kind::exact);
  EXPECT_EQ(s.connect.backfill.value, protocol::kNoBackfill);
  EXPECT_EQ(s.connect.vbuckets.kind, FieldMatcher<std::vector<std::uint16_t>>::Kind::absent);
  EXPECT_EQ(parsed("expect connect backfill=absent").connect.backfill.kind,
            FieldMatcher<std::uint64_t>::Kind::absent);
}

TEST(ScenarioParser, ConnectFlagAliasesCaseAndNumbers) {
  EXPECT_EQ(parsed("expect connect has=takeover,ack,keys_only,registered").connect.flags_present,
            bits(TapConnectFlag::takeover_vbuckets) | bits(TapConnectFlag::support_ack) |
                bits(TapConnectFlag::request_keys_only) | bits(TapConnectFlag::registered_client));
  EXPECT_EQ(parsed("expect connect has=takeover_vbuckets,request_keys_only,registered_client,fix_flag_byteorder")
                .connect.flags_present,
            bits(TapConnectFlag::takeover_vbuckets) | bits(TapConnectFlag::request_keys_only) |
                bits(TapConnectFlag::registered_client) | bits(TapConnectFlag::fix_flag_byteorder));
  EXPECT_EQ(parsed("expect connect flags=SUPPORT_ACK,Dump").connect.flags_exact,
            bits(TapConnectFlag::support_ack) | bits(TapConnectFlag::dump));
  EXPECT_EQ(parsed("expect connect lacks=0x101").connect.flags_absent, 0x101u);
}

TEST(ScenarioParser, ExpectConnectMayFollowDelaysAndComeAfterClientLines) {
  const Scenario s = parsed("client args name=\"r\"\ndelay 10ms\nexpect connect name=\"r\"\nsend noop\n");
  EXPECT_EQ(s.connect_location.line, 3);
  EXPECT_EQ(s.steps.size(), 2u);
}

// --- send ---

TEST(ScenarioParser, SendMutationWithEveryField) {
  const Send send = only_step<Send>(
      "send mutation vbucket=3 opaque=9 cas=0xffffffffffffffff datatype=1 ttl=0 key=\"k\" value=\"v\" flags=1 "
      "expiry=2 rev_seqno=3 nru=4 engine=x\"0102\"");
  const FrameSpec& f = send.frame();
  EXPECT_EQ(f.kind, FrameKind::mutation);
  EXPECT_EQ(f.get(F::vbucket), number(3));
  EXPECT_EQ(f.get(F::opaque), number(9));
  EXPECT_EQ(f.get(F::cas), number(0xffffffffffffffff));
  EXPECT_EQ(f.get(F::datatype), number(1));
  EXPECT_EQ(f.get(F::ttl), number(0));
  EXPECT_EQ(f.get(B::key), text_bytes("k"));
  EXPECT_EQ(f.get(B::value), text_bytes("v"));
  EXPECT_EQ(f.get(F::flags), number(1));
  EXPECT_EQ(f.get(F::expiry), number(2));
  EXPECT_EQ(f.get(F::rev_seqno), number(3));
  EXPECT_EQ(f.get(F::nru), number(4));
  EXPECT_EQ(f.get(B::engine), (BytesValue{.kind = BytesValue::Kind::hex, .hex = {1, 2}}));
  EXPECT_FALSE(value_of(f, F::tap_flags));
  EXPECT_TRUE(send.fault().empty());
}

TEST(ScenarioParser, UnsetFieldsStayUnset) {
  const FrameSpec f = only_step<Send>("send mutation").frame();
  EXPECT_FALSE(f.get(F::vbucket) || f.get(F::opaque) || f.get(F::cas) || f.get(F::datatype) || f.get(F::ttl) || value_of(f, F::tap_flags) || f.get(B::engine) || f.get(B::key) ||
               f.get(B::value) || f.get(F::flags) || f.get(F::expiry) || f.get(F::rev_seqno) || f.get(F::nru));
  EXPECT_FALSE(value_of(f, F::magic) || value_of(f, F::opcode) || value_of(f, F::keylen) || value_of(f, F::extlen) || value_of(f, F::bodylen) || value_of(f, F::engine_length));
}

TEST(ScenarioParser, SendEveryOtherKind) {
  const Scenario s = parsed(R"(send deletion key="d" value="" rev_seqno=5
send flush
send opaque code=3
send opaque code=0x99
send vbucket_set vb=5 state=pending
send vbucket_set state=DEAD
send vbucket_set state=7
send checkpoint_start vb=1 checkpoint=42
send checkpoint_end checkpoint=43
send noop
send connect_error status=EACCESS body="no such bucket"
send connect_error status=0x86
send raw x"80 0a 00 00"
send raw "abc"
send raw fill(24,0x80)
send Mutation
)");
  ASSERT_EQ(s.steps.size(), 16u);
  auto frame = [&](std::size_t i) { return action_of<Send>(s.steps[i]).frame(); };
  EXPECT_EQ(frame(0).kind, FrameKind::deletion);
  EXPECT_EQ(frame(0).get(B::value), text_bytes(""));
  EXPECT_EQ(frame(0).get(F::rev_seqno), number(5));
  EXPECT_EQ(frame(1).kind, FrameKind::flush);
  EXPECT_EQ(value_of(frame(2), F::code), 3u);
  EXPECT_EQ(value_of(frame(3), F::code), 0x99u);
  EXPECT_EQ(value_of(frame(4), F::state), 3u);
  EXPECT_EQ(value_of(frame(5), F::state), 4u);
  EXPECT_EQ(value_of(frame(6), F::state), 7u);
  EXPECT_EQ(frame(7).kind, FrameKind::checkpoint_start);
  EXPECT_EQ(frame(7).get(F::checkpoint), number(42));
  EXPECT_EQ(frame(8).kind, FrameKind::checkpoint_end);
  EXPECT_EQ(frame(8).get(F::checkpoint), number(43));
  EXPECT_EQ(frame(9).kind, FrameKind::noop);
  EXPECT_EQ(value_of(frame(10), F::status), static_cast<std::uint16_t>(Status::eaccess));
  EXPECT_EQ(frame(10).get(B::body), text_bytes("no such bucket"));
  EXPECT_EQ(value_of(frame(11), F::status), static_cast<std::uint16_t>(Status::etmpfail));
  EXPECT_EQ(frame(12).get(B::raw), (BytesValue{.kind = BytesValue::Kind::hex, .hex = {0x80, 0x0a, 0, 0}}));
  EXPECT_EQ(frame(13).get(B::raw), text_bytes("abc"));
  EXPECT_EQ(frame(14).get(B::raw), (BytesValue{.kind = BytesValue::Kind::fill, .length = 24, .fill_byte = 0x80}));
  EXPECT_EQ(frame(15).kind, FrameKind::mutation);  // kind names ignore case
}

TEST(ScenarioParser, TapFlagsAsANumberAListAndBareWords) {
  EXPECT_EQ(value_of(only_step<Send>("send flush tap_flags=0x8004").frame(), F::tap_flags), 0x8004);
  EXPECT_EQ(value_of(only_step<Send>("send flush tap_flags=ack,no_value,network_byte_order").frame(), F::tap_flags), 0x7);
  EXPECT_EQ(value_of(only_step<Send>("send flush tap_flags=NO_VALUE,0x100").frame(), F::tap_flags), 0x102);
  EXPECT_EQ(value_of(only_step<Send>("send mutation no_value").frame(), F::tap_flags), 0x2);
  EXPECT_EQ(value_of(only_step<Send>("send mutation ack tap_flags=network_byte_order").frame(), F::tap_flags), 0x5);
  EXPECT_TRUE(only_step<Send>("send mutation tap_flags=1").frame().wants_ack());
}

TEST(ScenarioParser, LiesFromTheReadme) {
  const Scenario s = parsed(R"(send mutation key="k" value="v" bodylen=0xffffffff   # an oversized body claim
send opaque code=INITIAL_VBUCKET_STREAM magic=0x42   # corrupt magic
)");
  ASSERT_EQ(s.steps.size(), 2u);
  EXPECT_EQ(value_of(action_of<Send>(s.steps[0]).frame(), F::bodylen), 0xffffffffu);
  EXPECT_EQ(value_of(action_of<Send>(s.steps[1]).frame(), F::magic), 0x42);
  EXPECT_EQ(value_of(action_of<Send>(s.steps[1]).frame(), F::code), 1u);
}

TEST(ScenarioParser, EveryLie) {
  const FrameSpec f =
      only_step<Send>("send mutation opcode=TAP_DELETE keylen=0xffff extlen=255 engine_length=7 magic=0x81").frame();
  EXPECT_EQ(value_of(f, F::opcode), static_cast<std::uint8_t>(Opcode::tap_delete));
  EXPECT_EQ(value_of(f, F::keylen), 0xffff);
  EXPECT_EQ(value_of(f, F::extlen), 255);
  EXPECT_EQ(value_of(f, F::engine_length), 7);
  EXPECT_EQ(value_of(f, F::magic), 0x81);
  EXPECT_EQ(value_of(only_step<Send>("send noop opcode=0x99").frame(), F::opcode), 0x99);
  EXPECT_EQ(value_of(only_step<Send>("send noop opcode=tap_opaque").frame(), F::opcode), 0x44);
}

TEST(ScenarioParser, FaultsFromTheReadme) {
  const Scenario s = parsed(R"(send mutation key="k" value="v" split=3,24,30
send mutation key="k" value="v" truncate=30
close rst
)");
  ASSERT_EQ(s.steps.size(), 3u);
  EXPECT_EQ(action_of<Send>(s.steps[0]).fault().split, (std::vector<std::size_t>{3, 24, 30}));
  EXPECT_EQ(action_of<Send>(s.steps[1]).fault().truncate, 30u);
  EXPECT_EQ(action_of<Close>(s.steps[2]).how, Close::How::rst);
}

TEST(ScenarioParser, BytewiseGapAndCorrupt) {
  const FaultPlan plan = only_step<Send>("send noop bytewise gap=5ms corrupt=0:0x42,5:0").fault();
  EXPECT_TRUE(plan.bytewise);
  EXPECT_EQ(plan.gap, Duration{5});
  EXPECT_EQ(plan.corrupt, (std::vector<FaultPlan::Corruption>{{0, 0x42}, {5, 0}}));
  EXPECT_EQ(only_step<Send>("send noop bytewise").fault().gap, Duration{1});  // the default gap
  const FaultPlan raw = only_step<Send>("send raw x\"800a\" truncate=1").fault();
  EXPECT_EQ(raw.truncate, 1u);
}

TEST(ScenarioParser, FaultsAtTheFramesEdges) {
  // noop is 24 bytes: every offset up to 23 is inside, truncate may be the whole frame.
  const FaultPlan plan = only_step<Send>("send noop corrupt=23:1 truncate=24 split=1,23").fault();
  EXPECT_EQ(plan.truncate, 24u);
  EXPECT_EQ(plan.split, (std::vector<std::size_t>{1, 23}));
}

TEST(ScenarioParser, FaultChecksWaitForLengthsThatDependOnTheIndex) {
  const Repeat repeat = only_step<Repeat>("repeat 3 send mutation key=\"k{n}\" truncate=1000 corrupt=999:0");
  EXPECT_EQ(action_of<Send>(repeat.body[0]).fault().truncate, 1000u);
}

// --- expectations ---

TEST(ScenarioParser, ExpectAckFromTheReadme) {
  const Scenario s = parsed(R"(send flush ack
expect ack                      # the ACK for the oldest send with `ack` not yet expected
expect ack opaque=5 within=2s
expect ack opaque=7 status=ETMPFAIL   # a NACK is expected here
expect ack opaque=8 status=any
expect ack opaque=9 opcode=TAP_MUTATION status=0x85
)");
  ASSERT_EQ(s.steps.size(), 6u);
  const auto& oldest = action_of<ExpectAck>(s.steps[1]);
  EXPECT_FALSE(oldest.opaque);
  EXPECT_FALSE(oldest.opcode);
  EXPECT_EQ(oldest.status, Status::success);  // the default
  EXPECT_FALSE(oldest.within);
  const auto& within = action_of<ExpectAck>(s.steps[2]);
  EXPECT_EQ(within.opaque, 5u);
  EXPECT_EQ(within.within, Duration{2000});
  EXPECT_EQ(action_of<ExpectAck>(s.steps[3]).status, Status::etmpfail);
  EXPECT_FALSE(action_of<ExpectAck>(s.steps[4]).status);  // any
  const auto& explicit_opcode = action_of<ExpectAck>(s.steps[5]);
  EXPECT_EQ(explicit_opcode.opcode, Opcode::tap_mutation);
  EXPECT_EQ(explicit_opcode.status, Status::ebusy);
}

TEST(ScenarioParser, GroupsFromTheReadme) {
  const Scenario s = parsed(R"(unordered {                     # these, in any order
  expect ack opaque=1
  expect ack opaque=2
}
optional {                      # accepted if they come, not required
  expect ack opaque=3
}
)");
  ASSERT_EQ(s.steps.size(), 2u);
  const auto& unordered = action_of<ExpectGroup>(s.steps[0]);
  EXPECT_EQ(unordered.kind, ExpectGroup::Kind::unordered);
  ASSERT_EQ(unordered.items.size(), 2u);
  EXPECT_EQ(unordered.items[0].ack.opaque, 1u);
  EXPECT_EQ(unordered.items[1].ack.opaque, 2u);
  EXPECT_EQ(unordered.items[1].location, (SourceLocation{"x.scenario", 3, 3}));
  EXPECT_EQ(s.steps[0].location.line, 1);
  const auto& optional = action_of<ExpectGroup>(s.steps[1]);
  EXPECT_EQ(optional.kind, ExpectGroup::Kind::optional);
  ASSERT_EQ(optional.items.size(), 1u);
  EXPECT_EQ(optional.items[0].ack.opaque, 3u);
}

TEST(ScenarioParser, ExpectAckInAGroupClaimsSendsWithAck) {
  const Scenario s = parsed("send flush ack\nsend flush ack\nunordered {\n expect ack\n expect ack\n}\n");
  ASSERT_EQ(s.steps.size(), 3u);
  const auto& group = action_of<ExpectGroup>(s.steps[2]);
  ASSERT_EQ(group.items.size(), 2u);
  EXPECT_FALSE(group.items[0].ack.opaque);
}

// --- timing and endings ---

TEST(ScenarioParser, DelayAndEveryClose) {
  EXPECT_EQ(only_step<Delay>("delay 200ms        # a plain pause between steps").duration, Duration{200});
  EXPECT_EQ(only_step<Delay>("delay 1m").duration, Duration{60'000});
  EXPECT_EQ(only_step<Delay>("delay 24h").duration, Duration{86'400'000}) << "a day is the longest";
  EXPECT_EQ(only_step<Delay>("delay 0ms").duration, Duration{0});
  EXPECT_EQ(only_step<Close>("close fin          # close the connection").how, Close::How::fin);
  EXPECT_EQ(only_step<Close>("close rst").how, Close::How::rst);
  EXPECT_EQ(only_step<Close>("close half_close").how, Close::How::half_close);
  EXPECT_EQ(only_step<Close>("close stall").how, Close::How::stall);
  EXPECT_EQ(only_step<Close>("close wait").how, Close::How::wait);
}

TEST(ScenarioParser, AfterHalfCloseExpectationsDelaysAndClientLinesMayFollow) {
  const Scenario s = parsed(R"(send mutation ack
close half_close
delay 10ms
expect ack
optional {
  expect ack opaque=4
}
client event mutation
client end eof
)");
  ASSERT_EQ(s.steps.size(), 5u);
  EXPECT_EQ(action_of<Close>(s.steps[1]).how, Close::How::half_close);
  EXPECT_EQ(s.client.events.size(), 1u);
}

TEST(ScenarioParser, AfterAnyCloseClientLinesAndDirectivesMayFollow) {
  const Scenario s = parsed("close fin\nseed 3\nclient args ack\nclient event flush\nclient end end_stream\n");
  EXPECT_EQ(s.seed, 3u);
  EXPECT_EQ(s.steps.size(), 1u);
  EXPECT_EQ(s.client.events.size(), 1u);
}

// --- repetition ---

TEST(ScenarioParser, OneLineRepeatFromTheReadme) {
  const Scenario s = parsed(R"(repeat 100000 send mutation vb=0 key="key-{n}" value=random(100) cas={n})");
  ASSERT_EQ(s.steps.size(), 1u);
  const auto& repeat = action_of<Repeat>(s.steps[0]);
  EXPECT_EQ(repeat.count, 100000u);
  ASSERT_EQ(repeat.body.size(), 1u);
  EXPECT_EQ(repeat.body[0].location, (SourceLocation{"x.scenario", 1, 15}));
  const FrameSpec& f = action_of<Send>(repeat.body[0]).frame();
  EXPECT_EQ(f.get(F::vbucket), number(0));
  EXPECT_EQ(f.get(B::key)->pieces, (std::vector<std::string>{"key-", ""}));
  EXPECT_TRUE(f.get(B::key)->has_index());
  EXPECT_EQ(f.get(B::value), (BytesValue{.kind = BytesValue::Kind::random, .length = 100}));
  EXPECT_EQ(f.get(F::cas), kIndex);
  EXPECT_EQ(f.get(F::cas)->render(41), 41u);
}

TEST(ScenarioParser, RepeatBlockFromTheReadme) {
  const Scenario s = parsed(R"(repeat 1000 {
  send mutation vb={n} key="k{n}" ack
  expect ack
  client event mutation vb={n} key="k{n}"
}
)");
  ASSERT_EQ(s.steps.size(), 1u);
  const auto& repeat = action_of<Repeat>(s.steps[0]);
  EXPECT_EQ(repeat.count, 1000u);
  ASSERT_EQ(repeat.body.size(), 2u) << "the client event is the runner's";
  const FrameSpec& f = action_of<Send>(repeat.body[0]).frame();
  EXPECT_EQ(f.get(F::vbucket), kIndex);
  EXPECT_EQ(f.get(B::key)->pieces, (std::vector<std::string>{"k", ""}));
  EXPECT_TRUE(f.wants_ack());
  EXPECT_FALSE(action_of<ExpectAck>(repeat.body[1]).opaque);
  ASSERT_EQ(s.client.events.size(), 1u);
  const auto* events = std::get_if<EventRepeat>(&s.client.events[0]);
  ASSERT_NE(events, nullptr);
  EXPECT_EQ(events->count, 1000u);
  ASSERT_EQ(events->body.size(), 1u);
  const auto& event = events->body[0].event;
  EXPECT_EQ(event.vbucket, kIndex);
  EXPECT_EQ(event.key->pieces, (std::vector<std::string>{"k", ""}));
  EXPECT_TRUE(s.client.checks_events());
}

TEST(ScenarioParser, RepeatBodiesMayHoldGroupsDelaysAndAllowUnexpected) {
  const Scenario s = parsed(R"(repeat 2 {
  send flush ack
  unordered {
    expect ack
  }
  delay 1ms
  allow unexpected
}
repeat 3 delay 5ms
)");
  ASSERT_EQ(s.steps.size(), 2u);
  EXPECT_EQ(action_of<Repeat>(s.steps[0]).body.size(), 4u);
  EXPECT_EQ(action_of<Delay>(action_of<Repeat>(s.steps[1]).body[0]).duration, Duration{5});
}

// Only the innermost repeat of a nest is a loop; each outer one is written out, its index a
// number in each copy, and the arithmetic that mixes both keeps the inner index alone.
TEST(ScenarioParser, NestedRepeatsWriteOutTheOuterOnesWithTheirIndexNames) {
  const Scenario s = parsed(R"(repeat 3 as vb {
  send checkpoint_start vb={vb} checkpoint={vb+1}
  client event checkpoint_start vb={vb}
  repeat 4 as i {
    send mutation vb={vb} key="k{vb}-{i}" cas={vb*1000+i} ack
    expect ack
    client event mutation vb={vb} key="k{vb}-{i}"
  }
  repeat {vb} as j send noop
}
)");
  // Per vbucket: the checkpoint and the loop of 4; the noops for vb=1 and vb=2 only.
  ASSERT_EQ(s.steps.size(), 8u);
  for (std::uint64_t vb = 0; vb < 3; ++vb) {
    const std::size_t at = vb == 0 ? 0 : vb == 1 ? 2 : 5;
    SCOPED_TRACE(vb);
    const FrameSpec& start = action_of<Send>(s.steps[at]).frame();
    EXPECT_EQ(start.get(F::vbucket), (NumberValue{vb, false}));
    EXPECT_EQ(start.get(F::checkpoint), (NumberValue{vb + 1, false}));
    const auto& loop = action_of<Repeat>(s.steps[at + 1]);
    EXPECT_EQ(loop.count, 4u);
    const FrameSpec& m = action_of<Send>(loop.body[0]).frame();
    EXPECT_EQ(m.get(F::vbucket), (NumberValue{vb, false}));
    EXPECT_EQ(m.get(B::key)->pieces, (std::vector<std::string>{fmt::format("k{}-", vb), ""}));
    EXPECT_EQ(m.find(F::cas)->render(3), vb * 1000 + 3);
    EXPECT_EQ(s.steps[at + 1].location.line, 4);
  }
  EXPECT_EQ(action_of<Repeat>(s.steps[4]).count, 1u);
  EXPECT_EQ(action_of<Repeat>(s.steps[7]).count, 2u);
  // The client's side: a line and a loop of events per vbucket.
  ASSERT_EQ(s.client.events.size(), 6u);
  EXPECT_EQ(std::get<EventLine>(s.client.events[4]).event.vbucket, (NumberValue{2, false}));
  const auto& events = std::get<EventRepeat>(s.client.events[5]);
  EXPECT_EQ(events.count, 4u);
  EXPECT_EQ(events.body[0].event.key->pieces, (std::vector<std::string>{"k2-", ""}));
}

TEST(ScenarioParser, NestedRepeatsNestDeeperAndReadIncludesOnce) {
  tapharness::testing::write_temp_file("nested_one.inc", "send mutation vb={a} key=\"{a}.{b}.{c}\"\n");
  const std::string path = tapharness::testing::write_temp_file("nested.scenario", R"(repeat 2 as a {
  repeat 3 as b {
    repeat 5 as c {
      include "nested_one.inc"
    }
  }
}
)");
  auto s = load_scenario(path);
  ASSERT_TRUE(s.ok()) << s.error().text();
  ASSERT_EQ(s->steps.size(), 6u);
  const auto& last = action_of<Repeat>(s->steps[5]);
  EXPECT_EQ(last.count, 5u);
  const FrameSpec& f = action_of<Send>(last.body[0]).frame();
  EXPECT_EQ(f.get(B::key)->pieces, (std::vector<std::string>{"1.2.", ""}));
  EXPECT_EQ(last.body[0].location.file(), (tapharness::testing::temp_dir() / "nested_one.inc").string());
  EXPECT_EQ(last.body[0].location.line, 1);
}

TEST(ScenarioParser, AckClaimsCountPerIteration) {
  // Each iteration sends two and claims one: the claims never run out.
  EXPECT_TRUE(
      parse("repeat 5 {\n send flush ack\n send flush ack\n expect ack\n}\nexpect ack\nexpect ack\n").ok());
  // Three sends before, one claim per iteration: exactly enough for three iterations.
  EXPECT_TRUE(
      parse("send flush ack\nsend flush ack\nsend flush ack\nrepeat 3 expect ack\n").ok());
}

// --- what the client must report ---

TEST(ScenarioParser, ClientLinesFromTheReadme) {
  const Scenario s = parsed(R"(client args name="r1" backfill=0 vbuckets=0,1 ack checkpoint idle_timeout=2s
client event mutation vb=0 key="a" value="hello" flags=18 expiry=300 cas=7
client event checkpoint_start vb=0 checkpoint=42
client event vbucket_set vb=5 state=pending
client end eof
)");
  ASSERT_TRUE(s.client.args);
  const protocol::TapArguments& args = s.client.args->args;
  EXPECT_EQ(args.client_name, "r1");
  EXPECT_EQ(args.backfill, 0u);
  EXPECT_EQ(args.vbuckets, (std::vector<std::uint16_t>{0, 1}));
  EXPECT_TRUE(args.support_ack);
  EXPECT_TRUE(args.checkpoint);
  EXPECT_FALSE(args.dump || args.takeover || args.keys_only || args.registered_client);
  EXPECT_EQ(s.client.args->idle_timeout, Duration{2000});
  EXPECT_TRUE(s.steps.empty());
  ASSERT_EQ(s.client.events.size(), 3u);
  EXPECT_EQ(event_at(s, 1).event.checkpoint, number(42));
  EXPECT_EQ(event_at(s, 2).event.state, protocol::VBucketState::pending);
  EXPECT_EQ(s.client.end->how, ClientEnd::How::eof);
  EXPECT_TRUE(s.client.end->match.empty());

  const Scenario error = parsed(R"(client end error match="connect_rejected")");
  EXPECT_EQ(error.client.end->how, ClientEnd::How::error);
  EXPECT_EQ(error.client.end->match, "connect_rejected");
  EXPECT_EQ(parsed("client end end_stream").client.end->how, ClientEnd::How::end_stream);
}

TEST(ScenarioParser, ClientArgsEveryOptionAndDefaults) {
  const ClientArgs all = *parsed("client args dump takeover keys_only registered backfill=none").client.args;
  EXPECT_TRUE(all.args.dump && all.args.takeover && all.args.keys_only && all.args.registered_client);
  EXPECT_EQ(all.args.backfill, protocol::kNoBackfill);
  const ClientArgs bare = *parsed("client args").client.args;
  EXPECT_EQ(bare.args, protocol::TapArguments{});
  EXPECT_FALSE(bare.idle_timeout);
}

TEST(ScenarioParser, EveryClientEventKind) {
  const Scenario s = parsed(R"(client event begin_backfill vb=1
client event end_backfill
client event mutation
client event deletion key=x"00ff" cas=2
client event checkpoint_start
client event checkpoint_end vbucket=3 checkpoint=0x10
client event vbucket_set state=4
client event flush
)");
  ASSERT_EQ(s.client.events.size(), 8u);
  const TapEventKind kinds[] = {TapEventKind::begin_backfill, TapEventKind::end_backfill, TapEventKind::mutation,
                                TapEventKind::deletion,       TapEventKind::checkpoint_start,
                                TapEventKind::checkpoint_end, TapEventKind::vbucket_set, TapEventKind::flush};
  for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(event_at(s, i).event.kind, kinds[i]);
  EXPECT_EQ(event_at(s, 0).event.vbucket, number(1));
  EXPECT_EQ(event_at(s, 3).event.key, (BytesValue{.kind = BytesValue::Kind::hex, .hex = {0, 0xff}}));
  EXPECT_EQ(event_at(s, 5).event.checkpoint, number(16));
  EXPECT_EQ(event_at(s, 6).event.state, protocol::VBucketState::dead);
}

// --- values ---

// What --update, client failure output and tap_record write into lines reads back to the
// same bytes, for every byte value, in both forms.
TEST(ScenarioParserValues, LiteralsReadBackToTheirBytes) {
  std::string every;
  for (int b = 0; b < 256; ++b) every += static_cast<char>(b);
  for (const std::string& bytes : {every, std::string("plain key"), std::string("a\"b\\c\x01")}) {
    for (const std::string& literal : {string_literal(bytes), bytes_literal(bytes)}) {
      const Scenario s = parsed("send mutation key=" + literal + "\n");
      ScenarioRandom random(1);
      EXPECT_EQ(render_bytes(*action_of<Send>(s.steps[0]).frame().find(B::key), 0, random), bytes) << literal;
    }
  }
  EXPECT_EQ(bytes_literal("\x80\x81\x82\x83"), "x\"80818283\"");
  EXPECT_EQ(string_literal("a\"b\x01"), "\"a\\\"b\\x01\"");
}

TEST(ScenarioParserValues, StringEscapes) {
  EXPECT_EQ(only_step<Send>(R"(send mutation key="a\"b\x00\\\n\r\t\x7F")").frame().get(B::key),
            text_bytes(std::string("a\"b\0\\\n\r\t\x7f", 9)));
}

TEST(ScenarioParserValues, IndexPlaceholdersSplitStringsIntoPieces) {
  const Repeat r = only_step<Repeat>(R"(repeat 2 send mutation key="{n}" value="a{n}b{n}" engine="\x7bn}")");
  const FrameSpec& f = action_of<Send>(r.body[0]).frame();
  EXPECT_EQ(f.get(B::key)->pieces, (std::vector<std::string>{"", ""}));
  EXPECT_EQ(f.get(B::value)->pieces, (std::vector<std::string>{"a", "b", ""}));
  EXPECT_EQ(f.get(B::engine), text_bytes("{n}"));  // an escaped brace is text
  EXPECT_FALSE(f.get(B::engine)->has_index());
}

TEST(ScenarioParserValues, HexRandomAndFill) {
  const FrameSpec f =
      only_step<Send>(R"(send mutation key=x"80 0A ff" value=random(0) engine=fill(16))").frame();
  EXPECT_EQ(f.get(B::key), (BytesValue{.kind = BytesValue::Kind::hex, .hex = {0x80, 0x0a, 0xff}}));
  EXPECT_EQ(f.get(B::value), (BytesValue{.kind = BytesValue::Kind::random, .length = 0}));
  EXPECT_EQ(f.get(B::engine), (BytesValue{.kind = BytesValue::Kind::fill, .length = 16, .fill_byte = 'x'}));
  EXPECT_EQ(only_step<Send>("send mutation value=fill(0x10,171)").frame().get(B::value),
            (BytesValue{.kind = BytesValue::Kind::fill, .length = 16, .fill_byte = 0xab}));
  EXPECT_EQ(only_step<Send>("send mutation value=random(16777216)").frame().get(B::value)->length, 16u * 1024 * 1024);
  EXPECT_EQ(only_step<Send>("send mutation key=x\"\"").frame().get(B::key)->fixed_length(), 0u);
}

TEST(ScenarioParserValues, NumbersAtTheirWidths) {
  const FrameSpec f = only_step<Send>("send mutation vb=65535 opaque=0xFFFFFFFF nru=255 cas=18446744073709551615").frame();
  EXPECT_EQ(f.get(F::vbucket), number(65535));
  EXPECT_EQ(f.get(F::opaque), number(0xffffffff));
  EXPECT_EQ(f.get(F::nru), number(255));
  EXPECT_EQ(f.get(F::cas), number(0xffffffffffffffff));
}

TEST(ScenarioParserValues, Durations) {
  EXPECT_EQ(parsed("timeout 2s\nsend noop").timeout, Duration{2000});
  EXPECT_EQ(parsed("timeout 1m\nsend noop").timeout, Duration{60'000});
  EXPECT_EQ(parsed("timeout 1500ms\nsend noop").timeout, Duration{1500});
}

TEST(ScenarioParserValues, TheIndexInEveryNumericSlotOfARepeat) {
  const Repeat r = only_step<Repeat>(
      "repeat 3 send mutation opaque={n} cas={n} datatype={n} ttl={n} flags={n} expiry={n} rev_seqno={n} nru={n}");
  const FrameSpec& f = action_of<Send>(r.body[0]).frame();
  for (const auto& value : {f.get(F::opaque), f.get(F::cas), f.get(F::datatype), f.get(F::ttl), f.get(F::flags), f.get(F::expiry), f.get(F::rev_seqno), f.get(F::nru)}) {
    EXPECT_EQ(value, kIndex);
  }
  EXPECT_EQ(action_of<Send>(only_step<Repeat>("repeat 2 send checkpoint_end checkpoint={n}").body[0]).frame().get(F::checkpoint),
            kIndex);
  // The largest index is 255, which a u8 holds.
  EXPECT_EQ(action_of<Send>(only_step<Repeat>("repeat 256 send mutation nru={n}").body[0]).frame().get(F::nru), kIndex);
}

// --- sessions ---

TEST(ScenarioParser, ConnectionBlocksEachHoldTheirOwnScriptWithTheFilesDirectives) {
  const Scenario s = parsed(R"(timeout 2s
acks unchecked
connection first {
  expect connect name="r"
  send mutation key="a" ack
  close rst
  client args name="r" reconnect=3 backoff=50ms
  client end error
}
connection again after first within 1500ms {
  send noop
  client event mutation key="b"
}
)");
  EXPECT_TRUE(s.steps.empty());
  ASSERT_EQ(s.connections.size(), 2u);
  const Connection& first = s.connections[0];
  const Connection& again = s.connections[1];
  EXPECT_EQ(first.label, "first");
  EXPECT_EQ(first.location.line, 3);
  EXPECT_FALSE(first.after);
  EXPECT_EQ(first.script->steps.size(), 2u);
  EXPECT_EQ(first.script->timeout, Duration(2000));
  EXPECT_EQ(first.script->acks, AckPolicy::unchecked);
  EXPECT_EQ(first.script->name, "x.first");
  ASSERT_TRUE(first.script->client.args);
  EXPECT_EQ(first.script->client.args->reconnect, 3u);
  EXPECT_EQ(first.script->client.args->backoff, Duration(50));
  EXPECT_EQ(again.after, 0u);
  EXPECT_EQ(again.within, Duration(1500));
  EXPECT_EQ(again.script->client.events.size(), 1u);
  EXPECT_FALSE(again.script->client.args);
}

TEST(ScenarioParser, AReconnectWithoutWithinWaitsTheScenariosTimeout) {
  const Scenario s = parsed("connection a {\n send noop\n}\nconnection b after a {\n send noop\n}\ntimeout 3s\n");
  ASSERT_EQ(s.connections.size(), 2u);
  EXPECT_EQ(s.connections[1].within, Duration(3000));
}

TEST(ScenarioParser, SaslLinesComeBeforeTheConnectInOrder) {
  const Scenario s = parsed(R"(expect sasl_list_mechs mechs="CRAM-MD5 PLAIN"
expect sasl_auth user="u" password="p"
expect sasl_auth refuse
close wait
)");
  ASSERT_EQ(s.sasl.size(), 3u);
  EXPECT_EQ(s.sasl[0].what, ExpectSasl::What::list_mechs);
  EXPECT_EQ(s.sasl[0].mechs, "CRAM-MD5 PLAIN");
  EXPECT_EQ(s.sasl[1].user, "u");
  EXPECT_EQ(s.sasl[1].password, "p");
  EXPECT_FALSE(s.sasl[1].refuse);
  EXPECT_TRUE(s.sasl[2].refuse);
  EXPECT_EQ(s.sasl[2].location.line, 3);
}

TEST(ScenarioParser, RetransmitWindowAndTriggers) {
  const Scenario s = parsed(R"(ack_window 10 grace=2s
on ack opaque=0x10 close rst
on acks 3 close fin
send mutation key="k" ack retransmit=2
)");
  ASSERT_TRUE(s.ack_window);
  EXPECT_EQ(s.ack_window->size, 10u);
  EXPECT_EQ(s.ack_window->grace, Duration(2000));
  ASSERT_EQ(s.steps.size(), 3u);
  const auto& by_opaque = action_of<Trigger>(s.steps[0]);
  EXPECT_EQ(by_opaque.when, Trigger::When::ack_of_opaque);
  EXPECT_EQ(by_opaque.value, 0x10u);
  EXPECT_EQ(by_opaque.how, Close::How::rst);
  const auto& counted = action_of<Trigger>(s.steps[1]);
  EXPECT_EQ(counted.when, Trigger::When::acks_counted);
  EXPECT_EQ(counted.value, 3u);
  EXPECT_EQ(counted.how, Close::How::fin);
  EXPECT_EQ(action_of<Send>(s.steps[2]).retransmit(), 2u);
}

TEST(ScenarioParser, ClientArgsForAuthReconnectAndNacks) {
  const Scenario s = parsed(R"(client args user="u" password="p" reconnect=2 nack=busy,other:3 nack_status=EBUSY)");
  ASSERT_TRUE(s.client.args);
  const ClientArgs& a = *s.client.args;
  EXPECT_EQ(a.user, "u");
  EXPECT_EQ(a.password, "p");
  EXPECT_EQ(a.reconnect, 2u);
  ASSERT_EQ(a.nack.size(), 2u);
  EXPECT_EQ(a.nack[0], (std::pair<std::string, std::uint32_t>{"busy", 1}));
  EXPECT_EQ(a.nack[1], (std::pair<std::string, std::uint32_t>{"other", 3}));
  EXPECT_EQ(a.nack_status, Status::ebusy);
}

TEST(ScenarioParser, VbucketListsTakeRanges) {
  const Scenario s = parsed("expect connect vbuckets=0..3,8,10..11\nclient args vbuckets=0..1023\n");
  EXPECT_EQ(s.connect.vbuckets.value, (std::vector<std::uint16_t>{0, 1, 2, 3, 8, 10, 11}));
  ASSERT_TRUE(s.client.args);
  EXPECT_EQ(s.client.args->args.vbuckets.size(), 1024u);
  EXPECT_EQ(s.client.args->args.vbuckets.back(), 1023);
}

}  // namespace
}  // namespace tapharness::scenario::testing
