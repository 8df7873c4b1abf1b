// A statement's fields as a table. Each rule names a field, the kinds of the statement that
// take it, whether it is a bare word (`ack`) or `name=value`, and how it reads its value;
// parse_fields() applies the table the same way to every statement: unknown fields (with a
// suggestion), fields of another kind, duplicates, bare words given values, missing values.
//
//   constexpr FieldRule<ExpectAck> kRules[] = {
//       {"opaque", kEveryKind, Arity::value, &number_field<kMaxU32, &ExpectAck::opaque>},
//   };
//   parse_fields(values, words, kRules, StatementShape{"expect ack"}, ack);
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "scenario/internal/diagnostics.hpp"
#include "scenario/internal/values.hpp"
#include "scenario/internal/word.hpp"
#include "scenario/internal/suggest.hpp"

namespace tapharness::scenario {

inline constexpr std::uint64_t kMaxU8 = std::numeric_limits<std::uint8_t>::max();
inline constexpr std::uint64_t kMaxU16 = std::numeric_limits<std::uint16_t>::max();
inline constexpr std::uint64_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();
inline constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();

inline constexpr std::uint32_t kEveryKind = ~std::uint32_t{0};

// The bit of one kind of statement (a FrameKind, TapEventKind, ...), and of several.
template <class... E>
constexpr std::uint32_t kind_bits(E... kinds) {
  return (std::uint32_t{0} | ... | (std::uint32_t{1} << static_cast<unsigned>(kinds)));
}

enum class Arity { bare, value };

template <class Target>
struct FieldRule {
  std::string_view name;
  std::uint32_t kinds;  // kind_bits() of the statements that take it, or kEveryKind
  Arity arity;
  bool (*read)(ValueReader& values, const Field& field, Target& target);
  std::string_view slot = {};  // rules sharing a slot set the same thing (`vb`, `vbucket`)
};

// How parse_fields names the statement in its messages.
struct StatementShape {
  std::string_view statement;  // "send mutation"
  std::uint32_t kind = kEveryKind;  // this statement's kind_bits()
  std::string_view family = {};     // "send", for "it belongs to send opaque"
  std::span<const std::string_view> kind_names = {};  // indexed by kind
};

// Reads every word as a field of `rules`; false at the first error (recorded in the sink).
template <class Target>
bool parse_fields(ValueReader& values, std::span<const Word> words,
                  std::span<const FieldRule<std::type_identity_t<Target>>> rules,
                  const StatementShape& shape, Target& target) {
  ErrorSink& errors = values.errors();
  std::vector<std::pair<const FieldRule<Target>*, Word>> seen;
  for (const Word& word : words) {
    const Field field = split_field(word);
    const FieldRule<Target>* rule = nullptr;
    for (const auto& candidate : rules) {
      if (candidate.name == field.name.text) rule = &candidate;
    }
    if (!rule) {
      std::vector<std::string_view> valid;
      for (const auto& candidate : rules) {
        if (candidate.kinds & shape.kind) valid.push_back(candidate.name);
      }
      errors.fail(field.name,
                  fmt::format("unknown field {} for {}; expected one of {}", quoted(field.name.text),
                              shape.statement, word_list(valid)),
                  std::string(closest_word(field.name.text, valid)));
      return false;
    }
    if (!(rule->kinds & shape.kind)) {
      std::vector<std::string_view> owners;
      for (std::size_t i = 0; i < shape.kind_names.size(); ++i) {
        if (rule->kinds & (std::uint32_t{1} << i)) owners.push_back(shape.kind_names[i]);
      }
      errors.fail(field.name, fmt::format("{} is not a field of {}; it belongs to {} {}", quoted(rule->name),
                                          shape.statement, shape.family, word_list(owners)));
      return false;
    }
    const std::string_view slot = rule->slot.empty() ? rule->name : rule->slot;
    for (const auto& [earlier, where] : seen) {
      if ((earlier->slot.empty() ? earlier->name : earlier->slot) != slot) continue;
      errors.fail(field.name, earlier == rule
                                  ? fmt::format("duplicate field {}; already set at column {}",
                                                quoted(rule->name), where.column)
                                  : fmt::format("duplicate field {}; {} already set it at column {}",
                                                quoted(rule->name), quoted(earlier->name), where.column));
      return false;
    }
    seen.emplace_back(rule, field.name);
    if (rule->arity == Arity::bare && field.value) {
      errors.fail(field.name, fmt::format("{} is a bare word and takes no value", quoted(rule->name)));
      return false;
    }
    if (rule->arity == Arity::value && !field.value) {
      errors.fail(field.name.line, field.name.end_column(),
                  fmt::format("{} needs a value: {}=...", quoted(rule->name), rule->name));
      return false;
    }
    if (field.value && field.value->text.empty()) {
      errors.fail(*field.value, fmt::format("missing value after '{}='", rule->name));
      return false;
    }
    if (!rule->read(values, field, target)) return false;
  }
  return true;
}

// A statement made of fields alone (`expect ack`, `client args`): a Target from `words`.
template <class Target>
std::optional<Target> parse_field_statement(ValueReader& values, std::span<const Word> words,
                                            std::span<const FieldRule<std::type_identity_t<Target>>> rules,
                                            std::string_view statement) {
  Target target;
  if (!parse_fields(values, words, rules, StatementShape{statement}, target)) return std::nullopt;
  return target;
}

// Readers for table rules, generic over where the value goes: `Path` is a chain of member
// pointers, so number_field<kMaxU16, &SendDraft::fault, &FaultPlan::truncate> sets draft.fault.truncate.

template <auto... Path, class Target>
auto& member_at(Target& target) {
  return (target .* ... .* Path);
}

// A number up to Max; `{n}` too when the member holds a NumberValue.
template <std::uint64_t Max, auto... Path, class Target>
bool number_field(ValueReader& values, const Field& field, Target& target) {
  auto& slot = member_at<Path...>(target);
  using Value = typename std::remove_reference_t<decltype(slot)>::value_type;
  if constexpr (std::is_same_v<Value, NumberValue>) {
    const auto n = values.number_or_index(*field.value, field.name.text, Max);
    if (!n) return false;
    slot = *n;
  } else {
    static_assert(Max <= std::numeric_limits<Value>::max());
    const auto n = values.number(*field.value, field.name.text, Max);
    if (!n) return false;
    slot = static_cast<Value>(*n);
  }
  return true;
}

template <auto... Path, class Target>
bool bytes_field(ValueReader& values, const Field& field, Target& target) {
  auto bytes = values.bytes(*field.value, field.name.text);
  if (!bytes) return false;
  member_at<Path...>(target) = std::move(*bytes);
  return true;
}

template <auto... Path, class Target>
bool string_field(ValueReader& values, const Field& field, Target& target) {
  auto text = values.string(*field.value, field.name.text);
  if (!text) return false;
  member_at<Path...>(target) = std::move(*text);
  return true;
}

// A duration; with Positive, 0 is refused (a timeout of 0 could never be met).
template <bool Positive, auto... Path, class Target>
bool duration_field(ValueReader& values, const Field& field, Target& target) {
  const auto duration = values.duration(*field.value, field.name.text);
  if (!duration) return false;
  if (Positive && duration->count() == 0) {
    values.errors().fail(*field.value, fmt::format("'{}' must be more than 0", field.name.text));
    return false;
  }
  member_at<Path...>(target) = *duration;
  return true;
}

// A bare word that turns an option on.
template <auto... Path, class Target>
bool flag_field(ValueReader&, const Field&, Target& target) {
  member_at<Path...>(target) = true;
  return true;
}

}  // namespace tapharness::scenario
