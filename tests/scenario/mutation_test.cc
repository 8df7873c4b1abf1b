// Mutation mode: the same seed gives the same perturbed scenario, seeds differ from each
// other, the server's expectations are dropped, and the run ends by checking that the
// client closes after the server's FIN.
#include "scenario/mutation.hpp"

#include <set>

#include <gtest/gtest.h>

#include "mockserver/engine.hpp"
#include "scenario/parser.hpp"
#include "protocol/tap_connect.hpp"
#include "tests/support/memory_stream.hpp"

namespace tapharness::scenario {
namespace {

using mockserver::async_run_scenario;
using mockserver::EngineOptions;
using mockserver::Report;

const char* kScenario = R"(expect connect name="r1"
send opaque vb=0 code=INITIAL_VBUCKET_STREAM ack
expect ack
repeat 3 send mutation key="k{n}" value="v"
send deletion key="d" ack
unordered {
  expect ack
}
close fin
client event begin_backfill vb=0
client end eof
)";

Scenario parsed() { return parse_scenario(kScenario, "m.scenario").value(); }

TEST(Mutation, ParsesSeedAndCount) {
  auto one = parse_mutation("42");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->seed, 42u);
  EXPECT_EQ(one->count, 1u);
  auto many = parse_mutation("0x10:5");
  ASSERT_TRUE(many);
  EXPECT_EQ(many->seed, 16u);
  EXPECT_EQ(many->count, 5u);
  EXPECT_FALSE(parse_mutation(""));
  EXPECT_FALSE(parse_mutation("x"));
  EXPECT_FALSE(parse_mutation("1:0"));
  EXPECT_FALSE(parse_mutation("1:"));
}

TEST(Mutation, DropsTheServersExpectationsAndEndsByWaitingForTheClient) {
  const Scenario m = mutate(parsed(), 1);
  EXPECT_EQ(m.name, "m mutate=1");
  EXPECT_EQ(m.connect.name.kind, FieldMatcher<std::string>::Kind::any);
  EXPECT_FALSE(m.client.checks_events());
  EXPECT_FALSE(m.client.end);
  ASSERT_FALSE(m.steps.empty());
  EXPECT_TRUE(std::holds_alternative<Allow>(m.steps.front().action));
  for (const auto& step : m.steps) {
    EXPECT_FALSE(std::holds_alternative<ExpectAck>(step.action));
    EXPECT_FALSE(std::holds_alternative<ExpectGroup>(step.action));
  }
  const auto& last = std::get<Close>(m.steps.back().action);
  EXPECT_TRUE(last.how == Close::How::wait || last.how == Close::How::rst);
}

TEST(Mutation, SameSeedSameBytesOnTheWire) {
  // Runs a mutated scenario twice over the in-memory pipe and compares what was written.
  auto wire = [](std::uint64_t seed) {
    auto scenario = std::make_shared<const Scenario>(mutate(parsed(), seed));
    asio::io_context io;
    auto [client, server] = tapharness::testing::make_memory_pipe(io.get_executor());
    EngineOptions options;
    options.mutation = true;
    std::optional<Report> report;
    async_run_scenario(std::move(server), scenario, options, [&](Report r) { report = std::move(r); });
    protocol::Bytes connect;
    protocol::encode_tap_connect(connect, {.client_name = "r1"});
    asio::async_write(client, asio::buffer(connect), [](auto, auto) {});
    protocol::Bytes received;
    std::array<std::uint8_t, 4096> chunk;
    std::function<void(boost::system::error_code, std::size_t)> on_read = [&](auto ec, std::size_t n) {
      received.insert(received.end(), chunk.begin(), chunk.begin() + n);
      if (ec) {
        client.close();  // after the server's FIN (or reset), close as a good client does
        return;
      }
      client.async_read_some(asio::buffer(chunk), on_read);
    };
    client.async_read_some(asio::buffer(chunk), on_read);
    io.run_for(std::chrono::seconds(10));
    EXPECT_TRUE(report && report->passed()) << (report ? mockserver::format_report(*report) : "no report");
    return received;
  };
  EXPECT_EQ(wire(3), wire(3));
  bool differs = false;
  for (std::uint64_t seed = 4; seed < 12 && !differs; ++seed) differs = wire(seed) != wire(3);
  EXPECT_TRUE(differs);
}

TEST(Mutation, SameSeedSameScenarioOtherSeedsOtherPerturbations) {
  const Scenario original = parsed();
  EXPECT_EQ(describe_mutation(original, 5), describe_mutation(original, 5));
  std::set<std::string> seen;
  for (std::uint64_t seed = 0; seed < 50; ++seed) seen.insert(describe_mutation(original, seed));
  EXPECT_GT(seen.size(), 40u) << "seeds should perturb differently";
  for (const auto& text : seen) EXPECT_FALSE(text.empty());
}

}  // namespace
}  // namespace tapharness::scenario
