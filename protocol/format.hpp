// How the project's types print, for people (reports, traces, failure messages, gtest): one
// fmt formatter per kind of type instead of a fmt::formatter specialization per type.
//
// A type that describes itself declares, beside it (argument-dependent lookup finds it):
//   FormatOut describe_to(FormatOut out, const T& value);
// An enum whose values have names declares:
//   std::string_view name_of(E value);   // empty for a value without a name
//
//   fmt::format("{}", Opcode::tap_mutation)   // "TAP_MUTATION"
//   fmt::format("{}", Opcode{0x99})           // "0x99": an unnamed wire value, in hex
//   fmt::format("{}", TapOpaqueCode{99})      // "99": an unnamed sub-code, in decimal
//   fmt::format("{}", header)                 // whatever describe_to(out, header) writes
#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include <fmt/format.h>

namespace tapharness {

using FormatOut = fmt::format_context::iterator;

template <class T>
concept SelfDescribing = !std::is_enum_v<T> && requires(FormatOut out, const T& value) {
  { describe_to(out, value) } -> std::same_as<FormatOut>;
};

template <class E>
concept NamedEnum = std::is_enum_v<E> && requires(E value) {
  { name_of(value) } -> std::convertible_to<std::string_view>;
};

// Whether an unnamed value of E prints in hex, as wide as its field (the header's magic,
// opcode and status), rather than in decimal. Specialize it as true beside E.
template <class E>
inline constexpr bool kUnnamedInHex = false;

}  // namespace tapharness

template <tapharness::NamedEnum E>
struct fmt::formatter<E> : fmt::formatter<std::string_view> {
  auto format(E value, fmt::format_context& ctx) const -> fmt::format_context::iterator {
    const std::string_view name = name_of(value);
    if (!name.empty()) return fmt::formatter<std::string_view>::format(name, ctx);
    using Underlying = std::underlying_type_t<E>;
    const auto number = static_cast<std::uint64_t>(static_cast<Underlying>(value));
    if constexpr (tapharness::kUnnamedInHex<E>) {
      return fmt::format_to(ctx.out(), "0x{:0{}x}", number, 2 * sizeof(Underlying));
    } else {
      return fmt::format_to(ctx.out(), "{}", number);
    }
  }
};

template <tapharness::SelfDescribing T>
struct fmt::formatter<T> : fmt::formatter<std::string_view> {
  auto format(const T& value, fmt::format_context& ctx) const -> fmt::format_context::iterator {
    return describe_to(ctx.out(), value);
  }
};
