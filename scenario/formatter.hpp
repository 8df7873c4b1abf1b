// The scenario files' one canonical layout (`tap_scenario --fmt`), so a library reads the
// same everywhere and diffs show only what changed:
//
//   std::string tidy = format_scenario(text);     // format_scenario(tidy) == tidy
//
// - a statement's words are separated by one space (strings keep their own spaces);
// - a line inside a block (`{` ... `}`) is indented two spaces per level;
// - a comment on a line of its own takes the line's indentation; one after a statement is
//   two spaces after it; comments are otherwise kept as written;
// - runs of blank lines become one; none at the start, and the file ends with one newline.
//
// Only the layout changes: the words, and so what the file means, stay byte for byte.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tapharness::scenario {

std::string format_scenario(std::string_view text);

// One line's words as the parser splits them (a quoted string is one word, spaces and '#'
// inside it included) and its comment: for tools that rewrite some words of a line
// (tap_scenario --update) and keep the rest as written.
struct LineWords {
  std::vector<std::string_view> words;
  std::string_view comment;   // from its '#', or empty
  bool unterminated = false;  // a string without its closing quote: the words stop before it
};
LineWords split_line(std::string_view line);

}  // namespace tapharness::scenario
