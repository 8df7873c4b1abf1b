// "Did you mean" hints: the valid word closest to a misspelt one.
//
//   std::array<std::string_view, 2> kinds{"mutation", "deletion"};
//   closest_word("mutaton", kinds)   // "mutation"
//   closest_word("zzz", kinds)       // "" (nothing is close enough to suggest)
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace tapharness::scenario {

// The edit distance between two words, ignoring ASCII case: inserting, deleting or
// substituting a character, or swapping two adjacent ones, each costs 1.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, when its distance is at most a third of the word's length
// (at least 1), so short words get only one-letter fixes. A swap of adjacent letters counts
// half here, so it beats a substitution ("sned": "send", not "seed"); remaining ties go to the
// earlier candidate. Empty when none is that close.
std::string_view closest_word(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace tapharness::scenario
