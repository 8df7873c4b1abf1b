// The parsed-scenario types' own helpers: frame kind names, fixed lengths (checked against
// what the codec really encodes), wants_ack; and Diagnostic's text and load_scenario.
#include "scenario/scenario.hpp"

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "scenario/parser.hpp"
#include "protocol/frame.hpp"
#include "protocol/tap_message.hpp"
#include "tests/scenario/parse_helpers.hpp"

namespace tapharness::scenario::testing {
namespace {

namespace ep = protocol::ep_engine;

std::size_t encoded_size(const protocol::Bytes& frame) { return frame.size(); }

std::size_t encoded_size(const protocol::TapMessage& message) { return protocol::encode(message).size(); }

std::size_t encoded_size(const protocol::FrameFields& fields) {
  protocol::Bytes out;
  return protocol::encode_frame(out, fields);
}

std::optional<std::size_t> length_of(std::string_view send_line) {
  return only_step<Send>(send_line).frame().fixed_length();
}

TEST(FrameKind, NamesInTheScenarioLanguage) {
  EXPECT_EQ(name_of(FrameKind::mutation), "mutation");
  EXPECT_EQ(name_of(FrameKind::vbucket_set), "vbucket_set");
  EXPECT_EQ(name_of(FrameKind::connect_error), "connect_error");
  EXPECT_EQ(fmt::format("{}", FrameKind::raw), "raw");
  ASSERT_EQ(all_frame_kinds().size(), 10u);
  for (std::size_t i = 0; i < all_frame_kinds().size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(all_frame_kinds()[i].value), i) << "the table is in enum order";
  }
}

TEST(BytesValue, FixedLengthOfEachForm) {
  EXPECT_EQ(text_bytes("hello").fixed_length(), 5u);
  EXPECT_EQ((BytesValue{.pieces = {"k", ""}}).fixed_length(), std::nullopt);
  EXPECT_EQ((BytesValue{.kind = BytesValue::Kind::hex, .hex = {1, 2, 3}}).fixed_length(), 3u);
  EXPECT_EQ((BytesValue{.kind = BytesValue::Kind::random, .length = 100}).fixed_length(), 100u);
  EXPECT_EQ((BytesValue{.kind = BytesValue::Kind::fill, .length = 7}).fixed_length(), 7u);
  EXPECT_EQ(BytesValue{}.fixed_length(), 0u);
}

TEST(FrameSpec, FixedLengthIsWhatTheCodecEncodesForEachKind) {
  const ep::Item item{.key = "mykey", .value = "value"};
  EXPECT_EQ(length_of(R"(send mutation key="mykey" value="value")"), encoded_size(ep::mutation(item)));
  EXPECT_EQ(length_of(R"(send deletion key="mykey" value="value")"), encoded_size(ep::deletion(item)));
  EXPECT_EQ(length_of("send flush"), encoded_size(ep::flush()));
  EXPECT_EQ(length_of("send opaque code=CLOSE_BACKFILL"),
            encoded_size(ep::opaque(0, protocol::TapOpaqueCode::close_backfill)));
  EXPECT_EQ(length_of("send vbucket_set state=active"),
            encoded_size(ep::vbucket_set(0, protocol::VBucketState::active)));
  EXPECT_EQ(length_of("send checkpoint_start checkpoint=1"), encoded_size(ep::checkpoint_start(0, 1)));
  EXPECT_EQ(length_of("send checkpoint_end checkpoint=1"), encoded_size(ep::checkpoint_end(0, 1)));
  EXPECT_EQ(length_of("send noop"), encoded_size(protocol::FrameFields{.opcode = protocol::Opcode::noop}));
  EXPECT_EQ(length_of(R"(send connect_error body="nope")"),
            encoded_size(protocol::FrameFields{.magic = protocol::Magic::response,
                                               .opcode = protocol::Opcode::tap_connect,
                                               .value = protocol::as_bytes("nope")}));
  EXPECT_EQ(length_of("send raw fill(3)"), 3u);
}

TEST(FrameSpec, EngineReplacesTheEngineSpecificBytesInTheLength) {
  ep::Scratch scratch;
  const protocol::Bytes two{1, 2}, five(5, 'x');
  auto mutation = ep::mutation({.key = "k"}, scratch);
  mutation.engine_specific = two;
  EXPECT_EQ(length_of(R"(send mutation key="k" engine=x"0102")"), encoded_size(mutation));
  auto flush = ep::flush(0, 0, scratch);
  flush.engine_specific = five;
  EXPECT_EQ(length_of("send flush engine=fill(5)"), encoded_size(flush));
}

TEST(FrameSpec, LiesAddNoBytes) {
  EXPECT_EQ(length_of("send noop bodylen=0xffffffff keylen=9 extlen=3 magic=0"), 24u);
}

TEST(FrameSpec, NoFixedLengthWhenABytesValueDependsOnTheIndex) {
  FrameSpec spec;
  spec.set(SendBytes::value, BytesValue{.pieces = {"v", ""}});
  EXPECT_EQ(spec.fixed_length(), std::nullopt);
  spec.kind = FrameKind::flush;  // flush does not carry the value
  EXPECT_EQ(spec.fixed_length(), 32u);
}

TEST(FrameSpec, WantsAckFollowsTheAckBit) {
  FrameSpec spec;
  EXPECT_FALSE(spec.wants_ack());
  spec.set(SendField::tap_flags, NumberValue{0x2});
  EXPECT_FALSE(spec.wants_ack());
  spec.set(SendField::tap_flags, NumberValue{0x3});
  EXPECT_TRUE(spec.wants_ack());
}

TEST(FrameSpec, HoldsOnlyTheFieldsItsLineSets) {
  FrameSpec spec;
  spec.set(SendField::nru, NumberValue{4});
  spec.set(SendField::vbucket, NumberValue{3});
  spec.set(SendField::engine_length, NumberValue{9});
  spec.set(SendField::vbucket, NumberValue{5});  // set again: replaced, not added
  EXPECT_EQ(spec.get(SendField::vbucket), (NumberValue{5}));
  EXPECT_EQ(spec.get(SendField::nru), (NumberValue{4}));
  EXPECT_EQ(spec.get(SendField::engine_length), (NumberValue{9}));
  EXPECT_EQ(spec.find(SendField::cas), nullptr);
  EXPECT_EQ(spec.number_or<std::uint32_t>(SendField::cas, 0, 77), 77u);
}

TEST(Send, EditingASharedSendLeavesItsTwinAlone) {
  const Send original(FrameSpec{}, FaultPlan{});
  Send twin = original;
  EXPECT_TRUE(twin.same_as(original));
  twin.edit_frame().set(SendField::magic, NumberValue{0x42});
  EXPECT_EQ(original.frame().find(SendField::magic), nullptr);
  EXPECT_FALSE(twin.same_as(original));
}

TEST(SourceLocation, HoldsItsPathOnceForEveryLine) {
  const SourceLocation a{"dir/x.scenario", 1, 1};
  const SourceLocation b = a.at(7, 3);
  EXPECT_EQ(&a.file(), &b.file());
  EXPECT_EQ(&a.file(), &SourceLocation("dir/x.scenario", 2, 2).file());
  EXPECT_EQ(fmt::format("{}", b), "dir/x.scenario:7:3");
  EXPECT_EQ(SourceLocation{}.file(), "");
}

TEST(Diagnostic, TextNamesThePlaceAndTheSuggestion) {
  const Diagnostic with{{"s/x.scenario", 4, 6}, "unknown frame kind 'mutaton'", "mutation"};
  EXPECT_EQ(with.text(), "s/x.scenario:4:6: unknown frame kind 'mutaton'; did you mean 'mutation'?");
  EXPECT_EQ(fmt::format("{}", with), with.text());
  const Diagnostic without{{"x.scenario", 1, 1}, "'}' without an open block", ""};
  EXPECT_EQ(without.text(), "x.scenario:1:1: '}' without an open block");
  const Diagnostic no_line{{"gone.scenario", 0, 0}, "cannot read the file (No such file or directory)", ""};
  EXPECT_EQ(no_line.text(), "gone.scenario: cannot read the file (No such file or directory)");
}

std::string temporary_path(std::string_view name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return fmt::format("{}/{}", dir ? dir : "/tmp", name);
}

TEST(LoadScenario, AMissingFileIsAnErrorNamingThePath) {
  const std::string path = temporary_path("missing.scenario");
  const auto result = load_scenario(path);
  ASSERT_FALSE(result);
  const Diagnostic* error = &result.error();
  EXPECT_EQ(error->location, (SourceLocation{path, 0, 0}));
  EXPECT_EQ(error->message, "cannot read the file (No such file or directory)");
  EXPECT_EQ(error->text(), path + ": cannot read the file (No such file or directory)");
}

TEST(LoadScenario, ADirectoryIsAnError) {
  const auto result = load_scenario(temporary_path(""));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().location.line, 0);
}

TEST(LoadScenario, ReadsAndParsesAFile) {
  const std::string path = temporary_path("backfill.scenario");
  std::ofstream(path) << "seed 7\nsend noop\nsend mutaton\n";
  const auto bad = load_scenario(path);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().location, (SourceLocation{path, 3, 6}));

  std::ofstream(path) << "seed 7\nsend noop\n";
  const auto good = load_scenario(path);
  ASSERT_TRUE(good.ok()) << good.error().text();
  const Scenario& s = *good;
  EXPECT_EQ(s.name, "backfill");
  EXPECT_EQ(s.path, path);
  EXPECT_EQ(s.seed, 7u);
  EXPECT_EQ(s.steps.size(), 1u);
}

}  // namespace
}  // namespace tapharness::scenario::testing
