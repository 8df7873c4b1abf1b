// Reading a fuzz target's settings from the front of its input, so that the fuzzer chooses
// them and a saved input replays with the same ones (the role of libFuzzer's
// FuzzedDataProvider, which gcc builds do not have). Reads past the end give zeros, so every
// input means something and a short input means "defaults".
//
//   TAPHARNESS_FUZZ_TARGET(in) {          // the libFuzzer entry point, its input as `in`
//     const std::uint8_t mode = in.byte();
//     const std::uint16_t offset = in.u16();
//     protocol::ByteView stream = in.rest();
//     return 0;
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/bytes.hpp"

namespace tapharness::fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size) : bytes_(data, size) {}
  explicit FuzzInput(protocol::ByteView bytes) : bytes_(bytes) {}

  std::uint8_t byte() { return at_ < bytes_.size() ? bytes_[at_++] : 0; }
  std::uint16_t u16() {
    const std::uint16_t high = byte();
    return static_cast<std::uint16_t>((high << 8) | byte());
  }

  // Up to `n` bytes.
  protocol::ByteView take(std::size_t n) {
    const std::size_t k = n < remaining() ? n : remaining();
    const auto out = bytes_.subspan(at_, k);
    at_ += k;
    return out;
  }

  // The bytes up to the first `delimiter` (not included; it is consumed), or all the rest.
  std::string_view until(char delimiter) {
    const auto rest = protocol::as_chars(bytes_.subspan(at_));
    const std::size_t end = rest.find(delimiter);
    const std::string_view out = rest.substr(0, end);
    at_ += end == std::string_view::npos ? rest.size() : end + 1;
    return out;
  }

  protocol::ByteView rest() { return take(remaining()); }
  std::size_t remaining() const { return bytes_.size() - at_; }
  bool empty() const { return remaining() == 0; }

 private:
  protocol::ByteView bytes_;
  std::size_t at_ = 0;
};

}  // namespace tapharness::fuzz

// Defines LLVMFuzzerTestOneInput, reading its input through the FuzzInput named `in` in the
// function body that follows.
#define TAPHARNESS_FUZZ_TARGET(in)                                                    \
  static int tapharness_fuzz_one(::tapharness::fuzz::FuzzInput& in);                 \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
    ::tapharness::fuzz::FuzzInput input(data, size);                                  \
    return tapharness_fuzz_one(input);                                                \
  }                                                                                   \
  static int tapharness_fuzz_one(::tapharness::fuzz::FuzzInput& in)
