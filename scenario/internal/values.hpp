// Reads the values written in scenario lines (scenarios/README.md, "Values"): numbers, `{n}`,
// bytes, strings, durations, comma lists and enum names. Every reader names the field in its
// errors and points at the offending character; none throws.
//
//   ErrorSink errors(path);
//   ValueReader values(errors);
//   std::optional<std::uint64_t> vb = values.number(word, "vb", 0xffff);
//   // "vb=70000" -> x.scenario:3:9: 'vb' is at most 65535, got 70000
//
// Limits: random(N) and fill(N) are at most kMaxGeneratedBytes; strings and hex are bounded
// by the line length.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "scenario/scenario.hpp"
#include "scenario/internal/diagnostics.hpp"
#include "scenario/internal/word.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/named_value.hpp"

namespace tapharness::scenario {

// The largest value a client takes by default (protocol::Limits::max_value), so a value
// exactly at the limit can be written.
inline constexpr std::uint64_t kMaxGeneratedBytes = protocol::Limits{}.max_value;

// The longest wait a scenario may ask for: a day. Longer is a typo, and far longer overflows
// a clock's arithmetic (the command lines have the same bound, cli/duration.hpp).
inline constexpr Duration kMaxDuration{24 * 60 * 60 * 1000};

class ValueReader {
 public:
  explicit ValueReader(ErrorSink& errors) : errors_(errors) {}

  ErrorSink& errors() { return errors_; }

  // `{n}` (or `{NAME}` of `repeat N as NAME`) is allowed only while reading a repeat body of
  // `count` iterations.
  void enter_repeat(std::uint64_t count, std::string_view name = "n") {
    repeat_count_ = count;
    index_name_ = name;
  }
  void leave_repeat() { repeat_count_.reset(); }
  // An outer repeat written out iteration by iteration: while its body is read again for
  // iteration `value`, `{NAME}` is that number.
  void bind_index(std::string_view name, std::uint64_t value) { bound_.push_back({std::string(name), value}); }
  void unbind_index() { bound_.pop_back(); }
  // The index names in scope, outermost first, with the innermost repeat's last.
  std::vector<std::string_view> index_names() const;
  // Whether the word is one `{EXPR}` on an index name in scope (or on n): a number's form.
  bool is_index_word(std::string_view text) const {
    return !text.empty() && placeholder_length(text) == text.size();
  }

  // An unsigned number, decimal or 0x hex, at most `max`. `what` names it in errors.
  std::optional<std::uint64_t> number(const Word& value, std::string_view what, std::uint64_t max);
  // A number, or `{n}` inside a repeat whose indexes all fit under `max`.
  std::optional<NumberValue> number_or_index(const Word& value, std::string_view what,
                                             std::uint64_t max);
  // A string (with `{n}` pieces inside a repeat), x"hex", random(N) or fill(N[,BYTE]).
  std::optional<BytesValue> bytes(const Word& value, std::string_view what);
  // A quoted string without `{n}`: client names, error texts.
  std::optional<std::string> string(const Word& value, std::string_view what);
  // 250ms, 2s, 1m, 1h: at most kMaxDuration.
  std::optional<Duration> duration(const Word& value, std::string_view what);

  // Calls `item(Word)` for each comma-separated item; false at the first failure.
  template <class F>
  bool each_item(const Word& value, std::string_view what, F&& item);

  // A name from `table` (any case) or, when `number_max` is set, a number up to it.
  template <class E>
  std::optional<E> name(const Word& value, std::string_view what,
                        std::span<const protocol::NamedValue<E>> table, Spelling spelling,
                        std::optional<std::uint64_t> number_max = std::nullopt);

 private:
  std::nullopt_t fail_index_outside_repeat(const Word& at);
  std::optional<std::string> decode_string(const Word& value, BytesValue* pieces);
  std::optional<BytesValue> generated(const Word& value, std::string_view what);
  std::optional<BytesValue> from_file(const Word& value, std::string_view what);
  // `{EXPR}` at the start of `at` (its text), checked against this repeat's ends and `max`;
  // empty when the text is not an index placeholder at all (`length`: its characters).
  // What a `{EXPR}` is: arithmetic on the index (unset `expr`: the index itself), or, when it
  // names only bound indexes and numbers, a constant.
  struct Placeholder {
    std::optional<IndexExpr> expr;
    std::optional<std::uint64_t> constant;
  };
  std::optional<Placeholder> placeholder(const Word& at, std::string_view what, std::uint64_t max,
                                         std::size_t& length, bool& failed);
  // The length of the `{EXPR}` that opens `text`, or 0 when its braces are not arithmetic on a
  // name in scope (or on n) and so are literal text.
  std::size_t placeholder_length(std::string_view text) const;
  // " (vb=2)": the bound indexes, for errors that depend on them.
  std::string bound_context() const;

  ErrorSink& errors_;
  std::optional<std::uint64_t> repeat_count_;
  std::string index_name_ = "n";
  std::vector<BoundIndex> bound_;
};

inline bool starts_with_digit(std::string_view text) {
  return !text.empty() && text.front() >= '0' && text.front() <= '9';
}

template <class F>
bool ValueReader::each_item(const Word& value, std::string_view what, F&& item) {
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = std::min(value.text.find(',', start), value.text.size());
    const Word piece = value.part(start, comma - start);
    if (piece.text.empty()) {
      errors_.fail(piece, fmt::format("empty item in the list for '{}'; write items as a,b,c", what));
      return false;
    }
    if (!item(piece)) return false;
    if (comma == value.text.size()) return true;
    start = comma + 1;
  }
}

template <class E>
std::optional<E> ValueReader::name(const Word& value, std::string_view what,
                                   std::span<const protocol::NamedValue<E>> table,
                                   Spelling spelling, std::optional<std::uint64_t> number_max) {
  if (number_max && (starts_with_digit(value.text) || is_index_word(value.text))) {
    const auto n = number(value, what, *number_max);
    if (!n) return std::nullopt;
    return static_cast<E>(*n);
  }
  if (auto found = protocol::find_value(table, value.text)) return found;
  return fail_unknown(errors_, value, what, names_of(table), spelling,
                      number_max ? " or a number" : "");
}

}  // namespace tapharness::scenario
