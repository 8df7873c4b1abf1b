#include "scenario/internal/lexer.hpp"

#include <limits>

#include <fmt/format.h>

namespace tapharness::scenario {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

}  // namespace

bool LineReader::next(Line& line) {
  while (position_ < text_.size() && !errors_.done()) {
    errors_.next_statement();
    if (line_number_ == std::numeric_limits<int>::max()) {
      errors_.fail(line_number_, 1, "too many lines");
      return false;
    }
    ++line_number_;
    const std::size_t end = std::min(text_.find('\n', position_), text_.size());
    const std::string_view content = text_.substr(position_, end - position_);
    position_ = end + 1;
    if (content.size() > kMaxLineLength) {
      errors_.fail(line_number_, static_cast<int>(kMaxLineLength) + 1,
                   fmt::format("line is longer than {} bytes", kMaxLineLength));
      continue;  // the next line may still be read
    }
    if (!split(content, line)) continue;
    if (!line.words.empty()) return true;
  }
  return false;
}

LineSplit split_words(std::string_view content, int line_number, std::vector<Word>& words) {
  words.clear();
  LineSplit out;
  std::size_t i = 0;
  while (true) {
    while (i < content.size() && is_space(content[i])) ++i;
    if (i == content.size()) return out;
    if (content[i] == '#') {
      out.comment = i;
      return out;
    }
    const std::size_t start = i;
    while (i < content.size() && !is_space(content[i]) && content[i] != '#') {
      if (content[i] != '"') {
        ++i;
        continue;
      }
      const std::size_t open = i++;
      while (i < content.size() && content[i] != '"') i += content[i] == '\\' ? 2 : 1;
      if (i >= content.size()) {
        out.unterminated = open;
        return out;
      }
      ++i;  // the closing quote
    }
    words.push_back(Word{content.substr(start, i - start), line_number, static_cast<int>(start) + 1});
  }
}

bool LineReader::split(std::string_view content, Line& line) {
  line.number = line_number_;
  const LineSplit split = split_words(content, line_number_, line.words);
  if (split.unterminated) {
    errors_.fail(line_number_, static_cast<int>(*split.unterminated) + 1,
                 "unterminated string; expected a closing '\"' on the same line");
    return false;
  }
  return true;
}

}  // namespace tapharness::scenario
