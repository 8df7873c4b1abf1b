// GoogleTest printers for tapharness's types: a failed expectation shows
// "mutation vb=3 key=\"k\" ..." or "eof" instead of "1-byte object <02>". Any type with a fmt
// formatter in a tapharness namespace prints through it; gtest finds PrintTo by
// argument-dependent lookup, so including this header is all it takes.
#pragma once

#include <ostream>

#include <fmt/format.h>

#include "client/feed_end.hpp"
#include "protocol/format.hpp"
#include "protocol/tap_event.hpp"

namespace tapharness::testing {

template <class T>
void print_with_fmt(const T& value, std::ostream* os) {
  *os << fmt::format("{}", value);
}

}  // namespace tapharness::testing

#define TAPHARNESS_FMT_PRINTER(ns)                    \
  namespace ns {                                      \
  template <class T>                                  \
    requires fmt::is_formattable<T>::value            \
  void PrintTo(const T& value, std::ostream* os) {    \
    ::tapharness::testing::print_with_fmt(value, os); \
  }                                                   \
  }

TAPHARNESS_FMT_PRINTER(tapharness::protocol)
TAPHARNESS_FMT_PRINTER(tapharness::client)
