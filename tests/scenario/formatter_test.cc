// The canonical layout (scenario/formatter.hpp): what changes, what never does, and that
// formatting twice changes nothing.
#include "scenario/formatter.hpp"

#include <gtest/gtest.h>

#include "scenario/parser.hpp"

namespace tapharness::scenario {
namespace {

TEST(Formatter, WordsSpacesIndentationAndComments) {
  const std::string messy =
      "\n\n# a header comment   \nseed   7\n\n\n\nrepeat 2 {\n      send    mutation key=\"a  b\"   ack # why\n"
      "  # inside\n}\nconnection a {\n\texpect connect\n unordered {\n expect ack opaque=1\n }\n}\n\n";
  const std::string tidy =
      "# a header comment\nseed 7\n\nrepeat 2 {\n  send mutation key=\"a  b\" ack  # why\n  # inside\n}\n"
      "connection a {\n  expect connect\n  unordered {\n    expect ack opaque=1\n  }\n}\n";
  EXPECT_EQ(format_scenario(messy), tidy);
}

TEST(Formatter, IsIdempotent) {
  const std::string once = format_scenario("send noop   # x\n\n\nrepeat 3 {\n send noop\n}\n");
  EXPECT_EQ(format_scenario(once), once);
}

TEST(Formatter, KeepsWhatTheFileMeans) {
  const std::string text = "seed 3\nsend mutation key=\"k # not a comment\" value=x\"00 01\"\nclient end eof\n";
  auto before = parse_scenario(text, "a.scenario");
  auto after = parse_scenario(format_scenario(text), "a.scenario");
  ASSERT_TRUE(before && after);
  EXPECT_EQ(std::get<Send>(after->steps[0].action).frame(), std::get<Send>(before->steps[0].action).frame());
  EXPECT_EQ(format_scenario(text), text) << "already canonical";
}

TEST(Formatter, AnUnterminatedStringIsLeftAsItIs) {
  EXPECT_EQ(format_scenario("send mutation key=\"open   \n"), "send mutation key=\"open\n");
}

}  // namespace
}  // namespace tapharness::scenario
