// Edit distances and "did you mean" picks.
#include "scenario/internal/suggest.hpp"

#include <array>
#include <string>

#include <gtest/gtest.h>

namespace tapharness::scenario {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsSubstitutionsAndSwaps) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("mutaton", "mutation"), 1u);   // insertion
  EXPECT_EQ(edit_distance("vbuckett", "vbucket"), 1u);   // deletion
  EXPECT_EQ(edit_distance("flish", "flush"), 1u);        // substitution
  EXPECT_EQ(edit_distance("delteion", "deletion"), 1u);  // adjacent swap
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(EditDistance, IgnoresCase) { EXPECT_EQ(edit_distance("CLOSE_BACKFILL", "close_backfill"), 0u); }

TEST(ClosestWord, PicksTheNearestCloseEnoughCandidate) {
  constexpr std::array<std::string_view, 4> kWords{"mutation", "deletion", "flush", "noop"};
  EXPECT_EQ(closest_word("mutaton", kWords), "mutation");
  EXPECT_EQ(closest_word("DELETION", kWords), "deletion");
  EXPECT_EQ(closest_word("nop", kWords), "noop");
  EXPECT_EQ(closest_word("xyz", kWords), "");
  EXPECT_EQ(closest_word("", kWords), "");
}

TEST(ClosestWord, AllowsAThirdOfTheWordInEdits) {
  constexpr std::array<std::string_view, 1> kWords{"checkpoint_start"};
  EXPECT_EQ(closest_word("chekpont_strt", kWords), "checkpoint_start");  // 3 edits in 13 letters: close
  EXPECT_EQ(closest_word("cpoint_st", kWords), "");                      // 7 edits in 9: not
}

TEST(ClosestWord, ASwapIsNearerThanASubstitution) {
  constexpr std::array<std::string_view, 2> kWords{"seed", "send"};
  EXPECT_EQ(closest_word("sned", kWords), "send");
  EXPECT_EQ(closest_word("seen", kWords), "seed");
}

TEST(ClosestWord, TiesGoToTheEarlierCandidate) {
  constexpr std::array<std::string_view, 2> kWords{"rst", "fst"};
  EXPECT_EQ(closest_word("xst", kWords), "rst");
}

TEST(ClosestWord, AHugeWordGetsNoSuggestion) {
  constexpr std::array<std::string_view, 1> kWords{"mutation"};
  EXPECT_EQ(closest_word(std::string(60'000, 'm'), kWords), "");
}

}  // namespace
}  // namespace tapharness::scenario
