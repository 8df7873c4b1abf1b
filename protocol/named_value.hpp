// Tables of enum values and their spec names, shared by every enum in the codec.
//
//   constexpr std::array kTable{NamedValue<Opcode>{Opcode::noop, "NOOP"}, ...};
//   find_name(std::span{kTable}, Opcode::noop)   // "NOOP"
//   find_value(std::span{kTable}, "noop")         // Opcode::noop (case-insensitive)
#pragma once

#include <algorithm>
#include <optional>
#include <span>
#include <string_view>

namespace tapharness::protocol {

template <class E>
struct NamedValue {
  E value;
  std::string_view name;
};

// Case-insensitive ASCII comparison.
constexpr bool iequals(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

// The name of `value`, or an empty view when the table has none.
template <class E>
std::string_view find_name(std::span<const NamedValue<E>> table, E value) {
  auto it = std::find_if(table.begin(), table.end(), [&](const auto& e) { return e.value == value; });
  return it == table.end() ? std::string_view{} : it->name;
}

// The value named `name`, ignoring case.
template <class E>
std::optional<E> find_value(std::span<const NamedValue<E>> table, std::string_view name) {
  auto it = std::find_if(table.begin(), table.end(), [&](const auto& e) { return iequals(e.name, name); });
  if (it == table.end()) return std::nullopt;
  return it->value;
}

}  // namespace tapharness::protocol
