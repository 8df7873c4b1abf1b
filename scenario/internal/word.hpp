// A word of a scenario line, and its `name=value` view, with 1-based positions so that every
// error can point at the exact column (scenarios/README.md, "Errors").
//
//   Word word{"vb=70000", 4, 15};
//   Field field = split_field(word);   // field.name.text == "vb"; field.value->text == "70000",
//                                      // at column 18
#pragma once

#include <algorithm>
#include <optional>
#include <string_view>

namespace tapharness::scenario {

// A name the file gives something (a connection's label, a table's column or row): letters,
// digits, '_' and '-', at least one.
inline bool is_label(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

struct Word {
  std::string_view text;  // a view into the scenario text
  int line = 0;
  int column = 0;

  // The part from `offset` on (at most `count` characters), with its own column.
  Word part(std::size_t offset, std::size_t count = std::string_view::npos) const {
    offset = std::min(offset, text.size());
    return {text.substr(offset, count), line, column + static_cast<int>(offset)};
  }

  // The column just past the word: where a missing value is reported.
  int end_column() const { return column + static_cast<int>(text.size()); }
};

struct Field {
  Word name;
  std::optional<Word> value;  // what follows '='; unset for a bare word such as `ack`
};

// Splits at the first '=' before any quote, so `x"a=b"` stays a bare word.
inline Field split_field(const Word& word) {
  const std::size_t equals = word.text.find('=');
  const std::size_t quote = word.text.find('"');
  if (equals == std::string_view::npos || quote < equals) return {word, std::nullopt};
  return {word.part(0, equals), word.part(equals + 1)};
}

}  // namespace tapharness::scenario
