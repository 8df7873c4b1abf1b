// What the engine does in answer to the client, not just on its own script: SASL before
// TAP_CONNECT, a NACK answered by sending the frame again, the ACK window, and faults that
// the client's ACKs set off. Each test plays the client byte for byte over an in-memory pipe.
#include <gtest/gtest.h>

#include "mockserver/engine.hpp"
#include "protocol/sasl.hpp"
#include "protocol/tap_message.hpp"
#include "scenario/render.hpp"
#include "tests/mockserver/engine_test_support.hpp"

namespace tapharness::mockserver {
namespace {

using testing::EngineHarness;
using protocol::Bytes;
using protocol::Opcode;
using protocol::Status;

Bytes ack(Opcode opcode, std::uint32_t opaque, Status status = Status::success) {
  const auto frame = protocol::tap_ack(opcode, opaque, status);
  return Bytes(frame.begin(), frame.end());
}

// The opaque of the frame at `offset` in what the server wrote.
std::uint32_t opaque_at(const Bytes& bytes, std::size_t offset) { return protocol::load_be32(bytes.data() + offset + 12); }

std::string failures(const Report& report) { return format_report(report); }

// One whole frame from the server: its header, then as much body as the header says.
Bytes receive_frame(EngineHarness& h) {
  Bytes frame = h.receive(protocol::kHeaderSize);
  if (frame.size() < protocol::kHeaderSize) return frame;
  const Bytes body = h.receive(protocol::load_be32(frame.data() + 8));
  frame.insert(frame.end(), body.begin(), body.end());
  return frame;
}

TEST(SessionReactions, SaslPlainIsAnsweredBeforeTapConnect) {
  EngineHarness h(R"(
expect sasl_list_mechs mechs="PLAIN"
expect sasl_auth user="u" password="p"
expect connect name="c"
send noop
)");
  Bytes request;
  protocol::encode_sasl_list_mechs(request, 7);
  h.send(request);
  const Bytes mechs = h.receive(24 + 5);
  ASSERT_EQ(mechs.size(), 29u);
  EXPECT_EQ(mechs[0], 0x81);
  EXPECT_EQ(mechs[1], 0x20);
  EXPECT_EQ(opaque_at(mechs, 0), 7u);
  EXPECT_EQ(std::string(mechs.begin() + 24, mechs.end()), "PLAIN");
  request.clear();
  protocol::encode_sasl_auth_plain(request, "u", "p", 8);
  h.send(request);
  const Bytes authed = h.receive(24);
  ASSERT_EQ(authed.size(), 24u);
  EXPECT_EQ(protocol::load_be16(authed.data() + 6), 0u);  // SUCCESS
  h.send_connect({.client_name = "c"});
  EXPECT_EQ(h.receive(24).size(), 24u);
  EXPECT_TRUE(h.report().passed()) << failures(h.report());
}

TEST(SessionReactions, WrongPasswordIsRefusedAndFailsTheLine) {
  EngineHarness h(R"(timeout 200ms
expect sasl_list_mechs
expect sasl_auth user="u" password="p"
expect connect
)");
  Bytes request;
  protocol::encode_sasl_list_mechs(request);
  protocol::encode_sasl_auth_plain(request, "u", "nope");
  h.send(request);
  const Bytes replies = h.receive(24 + 5 + 24 + 12);
  ASSERT_GE(replies.size(), 29u + 24u);
  EXPECT_EQ(protocol::load_be16(replies.data() + 29 + 6), static_cast<std::uint16_t>(Status::auth_error));
  const Report& report = h.report();
  ASSERT_FALSE(report.passed());
  EXPECT_EQ(report.first_failure()->location.line, 3);
  EXPECT_NE(report.first_failure()->failure->observed.find("another password"), std::string::npos);
}

TEST(SessionReactions, TapConnectWhereAuthenticationIsExpectedFails) {
  EngineHarness h("expect sasl_list_mechs\nsend noop\n");
  h.send_connect();
  const Report& report = h.report();
  ASSERT_FALSE(report.passed());
  EXPECT_EQ(report.first_failure()->step, "expect sasl_list_mechs");
  EXPECT_NE(report.first_failure()->failure->observed.find("TAP_CONNECT"), std::string::npos);
}

TEST(SessionReactions, NackedFrameGoesOutAgainWithANewOpaqueAndItsAckIsOwed) {
  EngineHarness h(R"(timeout 1s
send mutation key="k" value="v" ack retransmit=1
expect ack
)");
  h.send_connect({.support_ack = true});
  const Bytes first = receive_frame(h);  // header, TAP extras and item extras, key "k", value "v"
  ASSERT_FALSE(first.empty());
  const std::uint32_t opaque = opaque_at(first, 0);
  h.send(ack(Opcode::tap_mutation, opaque, Status::etmpfail));
  const Bytes again = h.receive(first.size());
  ASSERT_EQ(again.size(), first.size());
  const std::uint32_t new_opaque = opaque_at(again, 0);
  EXPECT_NE(new_opaque, opaque);
  EXPECT_TRUE(std::equal(again.begin() + 16, again.end(), first.begin() + 16))
      << "only the opaque changes: " << protocol::to_hex(first) << " then " << protocol::to_hex(again);
  h.send(ack(Opcode::tap_mutation, new_opaque));
  EXPECT_TRUE(h.report().passed()) << failures(h.report());
}

TEST(SessionReactions, NackBeyondTheRetransmitsFails) {
  EngineHarness h(R"(timeout 1s
send mutation key="k" value="v" ack retransmit=1
)");
  h.send_connect({.support_ack = true});
  const Bytes first = receive_frame(h);
  h.send(ack(Opcode::tap_mutation, opaque_at(first, 0), Status::etmpfail));
  const Bytes again = h.receive(first.size());
  ASSERT_EQ(again.size(), first.size());
  h.send(ack(Opcode::tap_mutation, opaque_at(again, 0), Status::etmpfail));
  const Report& report = h.report();
  ASSERT_FALSE(report.passed());
  EXPECT_NE(format_report(report).find("ETMPFAIL"), std::string::npos) << format_report(report);
}

TEST(SessionReactions, AckWindowHoldsTheNextFrameUntilAnAckComes) {
  std::size_t sent = 0;
  EngineOptions options;
  options.trace = [&sent](const TraceRecord& r) { sent += r.kind == TraceRecord::Kind::sent; };
  EngineHarness h(R"(timeout 1s
ack_window 1 grace=2s
send mutation key="a" ack
send mutation key="b" ack
)",
                  options);
  h.send_connect({.support_ack = true});
  const Bytes a = receive_frame(h);
  ASSERT_GT(a.size(), 24u);
  h.run_until([] { return false; }, std::chrono::milliseconds(200));
  EXPECT_EQ(sent, 1u) << "the window is full: nothing more goes out";
  h.send(ack(Opcode::tap_mutation, opaque_at(a, 0)));
  const Bytes b = receive_frame(h);
  ASSERT_GT(b.size(), 24u);
  h.send(ack(Opcode::tap_mutation, opaque_at(b, 0)));
  EXPECT_TRUE(h.report().passed()) << failures(h.report());
}

TEST(SessionReactions, AckWindowFullForTheGracePeriodDropsTheClient) {
  EngineHarness h(R"(timeout 1s
ack_window 1 grace=100ms
send mutation key="a" ack
send mutation key="b" ack
)");
  h.send_connect({.support_ack = true});
  receive_frame(h);
  const Report& report = h.report();
  ASSERT_FALSE(report.passed());
  EXPECT_EQ(report.first_failure()->location.line, 2);
  EXPECT_EQ(report.first_failure()->step, "ack_window");
  EXPECT_EQ(report.frames_sent, 1u);
}

TEST(SessionReactions, AckOfTheNamedOpaqueResetsTheConnection) {
  EngineHarness h(R"(timeout 1s
on ack opaque=2 close rst
send mutation key="a" ack opaque=1
send mutation key="b" ack opaque=2
delay 5s
send mutation key="never"
)");
  h.send_connect({.support_ack = true});
  receive_frame(h);
  receive_frame(h);
  h.send(ack(Opcode::tap_mutation, 1));
  h.send(ack(Opcode::tap_mutation, 2));
  const Report& report = h.report();
  EXPECT_TRUE(report.passed()) << failures(report);
  EXPECT_EQ(report.frames_sent, 2u) << "nothing after the fault";
}

TEST(SessionReactions, ATriggerThatNeverFiresFailsItsLine) {
  EngineHarness h(R"(timeout 300ms
on acks 2 close rst
send mutation key="a" ack
)");
  h.send_connect({.support_ack = true});
  const Bytes a = receive_frame(h);
  h.send(ack(Opcode::tap_mutation, opaque_at(a, 0)));
  const Report& report = h.report();
  ASSERT_FALSE(report.passed());
  EXPECT_EQ(report.first_failure()->location.line, 2);
  EXPECT_EQ(report.first_failure()->failure->observed, "1 came");
}

TEST(SessionReactions, ALargeGeneratedValueGoesOutAsAWholeRenderWouldWriteIt) {
  constexpr std::string_view kText = "timeout 2s\nsend mutation key=\"big\" value=random(1500003) cas=9 ack\nexpect ack\n";
  EngineHarness h(kText);
  h.send_connect({.support_ack = true});
  const Bytes frame = receive_frame(h);
  // The same scenario, rendered whole with the session's seed.
  const auto scenario = testing::parse(kText);
  const auto& send = std::get<scenario::Send>(scenario->steps[0].action);
  scenario::ScenarioRandom random(scenario->seed);
  scenario::FrameRenderer renderer(random);
  Bytes whole;
  renderer.render(send.frame(), 0, 1, whole);
  ASSERT_EQ(frame.size(), whole.size());
  EXPECT_TRUE(frame == whole) << "the generated value is the seeded one, byte for byte";
  h.send(ack(Opcode::tap_mutation, opaque_at(frame, 0)));
  EXPECT_TRUE(h.report().passed()) << failures(h.report());
  EXPECT_GT(h.client().peer_write_sizes().size(), 4u) << "written in pieces";
}

}  // namespace
}  // namespace tapharness::mockserver
