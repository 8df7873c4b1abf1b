#include "scenario/internal/diagnostics.hpp"

#include <fmt/format.h>

#include "scenario/internal/suggest.hpp"

namespace tapharness::scenario {
namespace {

constexpr std::size_t kMaxQuoted = 40;   // characters of a word shown in a message
constexpr std::size_t kMaxListed = 32;   // candidates listed in "expected one of"

std::string spelled(std::string_view word, Spelling spelling) {
  std::string out(word);
  if (spelling == Spelling::lower) {
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

}  // namespace

std::nullopt_t ErrorSink::fail(int line, int column, std::string message, std::string suggestion) {
  if (statement_failed_) return std::nullopt;
  statement_failed_ = true;
  if (errors_.size() < max_) {
    errors_.push_back(Diagnostic{SourceLocation{path_, line, column}, std::move(message), std::move(suggestion)});
  } else {
    ++dropped_;
  }
  return std::nullopt;
}

void ErrorSink::warn(int line, int column, std::string message) {
  // A line written out once per iteration of an outer repeat is warned about once.
  if (!warned_.emplace(path_, line, column, message).second) return;
  warnings_.push_back(Diagnostic{SourceLocation{path_, line, column}, std::move(message), {}, /*warning=*/true});
}

std::string quoted(std::string_view word) {
  std::string out = "'";
  for (std::size_t i = 0; i < word.size() && i < kMaxQuoted; ++i) {
    const auto c = static_cast<unsigned char>(word[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (word.size() > kMaxQuoted) out += "...";
  return out + "'";
}

std::string word_list(std::span<const std::string_view> words, Spelling spelling) {
  std::string out;
  for (std::size_t i = 0; i < words.size() && i < kMaxListed; ++i) {
    if (i > 0) out += ", ";
    out += spelled(words[i], spelling);
  }
  if (words.size() > kMaxListed) out += ", ...";
  return out;
}

std::nullopt_t fail_unknown(ErrorSink& errors, const Word& word, std::string_view what,
                            std::span<const std::string_view> candidates, Spelling spelling,
                            std::string_view alternative) {
  return errors.fail(word,
                     fmt::format("unknown {} {}; expected one of {}{}", what, quoted(word.text),
                                 word_list(candidates, spelling), alternative),
                     spelled(closest_word(word.text, candidates), spelling));
}

}  // namespace tapharness::scenario
