#include "scenario/formatter.hpp"

#include <vector>

#include "scenario/internal/lexer.hpp"

namespace tapharness::scenario {
namespace {

std::string_view trim_right(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

}  // namespace

LineWords split_line(std::string_view line) {
  std::vector<Word> words;
  const LineSplit split = split_words(line, 1, words);
  LineWords out;
  for (const Word& w : words) out.words.push_back(w.text);
  if (split.comment != std::string_view::npos) out.comment = trim_right(line.substr(split.comment));
  out.unterminated = split.unterminated.has_value();
  return out;
}

std::string format_scenario(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::vector<Word> words;
  int depth = 0;
  bool blank_pending = false;
  std::size_t position = 0;
  int line_number = 0;
  while (position < text.size()) {
    const std::size_t end = std::min(text.find('\n', position), text.size());
    const std::string_view content = text.substr(position, end - position);
    position = end + 1;
    const LineSplit split = split_words(content, ++line_number, words);
    if (split.unterminated) {  // not a statement the layout can know: kept as it is
      out += trim_right(content);
      out += '\n';
      continue;
    }
    const std::string_view comment =
        split.comment == std::string_view::npos ? std::string_view() : trim_right(content.substr(split.comment));
    if (words.empty() && comment.empty()) {
      blank_pending = !out.empty();
      continue;
    }
    if (blank_pending) out += '\n';
    blank_pending = false;
    if (!words.empty() && words.front().text == "}" && depth > 0) --depth;
    out.append(2 * static_cast<std::size_t>(depth), ' ');
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (i > 0) out += ' ';
      out += words[i].text;
    }
    if (!comment.empty()) {
      if (!words.empty()) out += "  ";
      out += comment;
    }
    out += '\n';
    if (!words.empty() && words.back().text == "{") ++depth;
  }
  return out;
}

}  // namespace tapharness::scenario
