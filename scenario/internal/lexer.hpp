// Splits scenario text into lines of words (scenarios/README.md): whitespace separates words,
// `#` outside a string starts a comment, and a quoted string stays inside its word even when
// it holds spaces or '#'. Lines without words are skipped.
//
//   ErrorSink errors(path);
//   LineReader reader(text, errors);
//   Line line;
//   while (reader.next(line)) use(line.words);   // false at the end, or once the sink is full
//   if (errors.failed()) ...                      // an unterminated string, a long line
//
// Words are views into `text`, which must outlive them.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "scenario/internal/diagnostics.hpp"
#include "scenario/internal/word.hpp"

namespace tapharness::scenario {

// Longer lines are an error: they bound every word, string and hex blob.
inline constexpr std::size_t kMaxLineLength = 64 * 1024;

struct Line {
  int number = 0;
  std::vector<Word> words;
};

// One line's words, as the reader splits them, and where its comment begins.
struct LineSplit {
  std::size_t comment = std::string_view::npos;  // the `#` that starts the comment
  std::optional<std::size_t> unterminated;       // an opening '"' without its close
};
LineSplit split_words(std::string_view content, int line_number, std::vector<Word>& words);

class LineReader {
 public:
  LineReader(std::string_view text, ErrorSink& errors) : text_(text), errors_(errors) {}

  // Fills `line` with the next line that has words; a line with an error (recorded in the
  // sink) is skipped. False at the end of the text or once the sink holds all it may.
  bool next(Line& line);

 private:
  bool split(std::string_view content, Line& line);

  std::string_view text_;
  std::size_t position_ = 0;
  int line_number_ = 0;
  ErrorSink& errors_;
};

}  // namespace tapharness::scenario
