// The one result type of tapharness: a value, or the error that prevented it, naming what was
// wrong and where. std::expected has this shape but is C++23; the project is C++20.
//
//   Result<TapConnectRequest, DecodeError> request = decode_tap_connect(frame);
//   if (!request) return refuse(request.error());   // DecodeError: code, offset, field, value
//   use(request->name);
//
// Each layer has one error type: DecodeError for wire bytes (protocol/decode_error.hpp),
// Diagnostic for scenario text (scenario/parser.hpp, file:line:col), FeedEnd for a feed
// (client/feed_end.hpp), and InputError below for every other input: a command-line value, a
// path, an address, a line of another program's output.
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace tapharness {

template <class T, class E>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<T, E>, "a Result's value and error types must differ");

 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit on purpose

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // The value; only when ok().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error; only when !ok().
  E& error() & { return std::get<1>(v_); }
  const E& error() const& { return std::get<1>(v_); }
  E&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, E> v_;
};

// What was wrong with an input that is not wire bytes, and where: the option, field, path or
// address it came from.
struct InputError {
  std::string where;  // "--addr", "\"value_b64\"", "scenarios/x.scenario", "127.0.0.1:99"
  std::string what;   // "is not HOST:PORT", "no such file or directory"

  // "where: what", or just what when nothing names the place.
  std::string message() const { return where.empty() ? what : where + ": " + what; }
  friend bool operator==(const InputError&, const InputError&) = default;
};

}  // namespace tapharness
