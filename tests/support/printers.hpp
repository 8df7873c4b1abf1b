// GoogleTest printers for every project type that has a fmt formatter, so a failed
// expectation shows "TAP_MUTATION vb=3 ..." instead of raw bytes. Include it in tests
// after <gtest/gtest.h>; gtest finds PrintTo by argument-dependent lookup.
#pragma once

#include <ostream>
#include <variant>

#include <fmt/format.h>

namespace tapharness::testing {

template <class T>
void print_with_fmt(const T& value, std::ostream* os) {
  *os << fmt::format("{}", value);
}

}  // namespace tapharness::testing

#define TAPHARNESS_FMT_PRINTER(ns)                                         \
  namespace ns {                                                           \
  template <class T>                                                       \
    requires fmt::is_formattable<T>::value                                 \
  void PrintTo(const T& value, std::ostream* os) {                         \
    ::tapharness::testing::print_with_fmt(value, os);                      \
  }                                                                        \
  }

TAPHARNESS_FMT_PRINTER(tapharness::protocol)
