// Arithmetic on the repeat index (scenario/index_expr.hpp), and how the language uses it:
// numbers and strings in a repeat body, checked against the repeat's ends.
#include "scenario/index_expr.hpp"

#include <gtest/gtest.h>

#include "scenario/render.hpp"
#include "tests/scenario/parse_helpers.hpp"

namespace tapharness::scenario::testing {
namespace {

TEST(IndexExpr, EvaluatesWithTheUsualPrecedence) {
  EXPECT_EQ(IndexExpr::parse("n*2+1")->eval(5), 11u);
  EXPECT_EQ(IndexExpr::parse("n % 4")->eval(10), 2u);
  EXPECT_EQ(IndexExpr::parse("(n+3)/2")->eval(5), 4u);
  EXPECT_EQ(IndexExpr::parse("1+2*n-3")->eval(2), 2u);
  EXPECT_TRUE(IndexExpr::parse("n")->is_plain());
  EXPECT_FALSE(IndexExpr::parse("n+0")->is_plain());
}

TEST(IndexExpr, MalformedExpressionsSayWhereAndWhat) {
  EXPECT_EQ(IndexExpr::parse("n*").error().message, "expected n, a number or '('");
  EXPECT_EQ(IndexExpr::parse("n*").error().offset, 2u);
  EXPECT_EQ(IndexExpr::parse("n%0").error().message, "a divisor ('%') must be a number above 0");
  EXPECT_EQ(IndexExpr::parse("n/n").error().message, "a divisor ('/') must be a number above 0");
  EXPECT_EQ(IndexExpr::parse("(n+1").error().message, "expected ')'");
  EXPECT_EQ(IndexExpr::parse("n)").error().message, "unexpected ')'");
}

TEST(IndexArithmetic, NumbersAndStringsOfARepeatBodyUseIt) {
  const Scenario s = parsed("repeat 8 send mutation vb={n%4} key=\"k{n*2}-{n}\" cas={n*10+1}\n");
  const auto& repeat = std::get<Repeat>(s.steps[0].action);
  const FrameSpec& frame = std::get<Send>(repeat.body[0].action).frame();
  EXPECT_EQ(frame.find(SendField::vbucket)->render(6), 2u);
  EXPECT_EQ(frame.find(SendField::cas)->render(3), 31u);
  ScenarioRandom random(1);
  EXPECT_EQ(render_bytes(*frame.find(SendBytes::key), 3, random), "k6-3");
}

TEST(IndexArithmetic, TheRepeatsEndsAreCheckedAgainstTheField) {
  EXPECT_TRUE(fails_at("repeat 40000 send mutation vb={n*2}\n", 1, 31,
                       "'vb' is at most 65535, but '{n*2}' reaches 79998 in this repeat"));
  EXPECT_TRUE(fails_at("repeat 4 send mutation cas={n-1}\n", 1, 28, "'{n-1}' goes below 0 at {n}=0"));
  EXPECT_TRUE(fails_at("repeat 4 send mutation cas={n%0}\n", 1, 32, "in '{n%0}': a divisor ('%') must be a number above 0"));
  EXPECT_TRUE(fails_at("send mutation cas={n*2}\n", 1, 19, "'{n}' is the repeat index; it is allowed only inside a repeat body"));
}

TEST(IndexArithmetic, ATemplatedVolumeSendRendersWhatAFullRenderWould) {
  const Scenario s = parsed("repeat 20 send mutation vb={n%3} key=\"k{n}\" cas={n*7} opaque={n+100}\n");
  const auto& repeat = std::get<Repeat>(s.steps[0].action);
  const FrameSpec& frame = std::get<Send>(repeat.body[0].action).frame();
  ScenarioRandom random_a(1), random_b(1);
  FrameRenderer templated(random_a);
  for (std::uint64_t n = 0; n < 20; ++n) {
    protocol::Bytes fast, full;
    templated.render(frame, n, 1, fast);
    FrameRenderer fresh(random_b);
    fresh.render(frame, n, 1, full);
    EXPECT_EQ(fast, full) << "n=" << n;
  }
}

}  // namespace
}  // namespace tapharness::scenario::testing
