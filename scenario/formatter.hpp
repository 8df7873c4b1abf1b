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

namespace tapharness::scenario {

std::string format_scenario(std::string_view text);

}  // namespace tapharness::scenario
