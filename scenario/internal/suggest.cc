#include "scenario/internal/suggest.hpp"

#include <algorithm>
#include <vector>

namespace tapharness::scenario {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::size_t length_difference(std::string_view a, std::string_view b) {
  return a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
}

// Optimal string alignment over three rolling rows (the one before last is needed for swaps):
// each insertion, deletion or substitution costs `edit`, each swap of adjacent letters `swap`.
std::size_t weighted_distance(std::string_view a, std::string_view b, std::size_t edit, std::size_t swap) {
  std::vector<std::size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j * edit;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i * edit;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const bool same = lower(a[i - 1]) == lower(b[j - 1]);
      current[j] = std::min({previous[j] + edit, current[j - 1] + edit, previous[j - 1] + (same ? 0 : edit)});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1])) {
        current[j] = std::min(current[j], before[j - 2] + swap);
      }
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) { return weighted_distance(a, b, 1, 1); }

std::string_view closest_word(std::string_view word, std::span<const std::string_view> candidates) {
  // In half steps: swapped letters, the commonest slip, cost half an edit, so "sned" is
  // nearer "send" than "seed".
  constexpr std::size_t kEdit = 2;
  constexpr std::size_t kSwap = 1;
  const std::size_t limit = std::max<std::size_t>(1, word.size() / 3) * kEdit;
  std::string_view best;
  std::size_t best_distance = limit + 1;
  for (std::string_view candidate : candidates) {
    // The length difference bounds the distance from below: skip hopeless (and huge) words
    // before paying for the table.
    if (length_difference(word, candidate) * kEdit >= best_distance) continue;
    const std::size_t distance = weighted_distance(word, candidate, kEdit, kSwap);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace tapharness::scenario
