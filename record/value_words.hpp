// Bytes as words of a recorded scenario, in --update's forms (runner/update.hpp bytes_word):
// a string or hex on the line, a fill for one repeated byte, and a file beside the scenario
// for anything longer than a line should hold, named for the frame it came from.
//
//   ValueWords words("out/session.scenario", sink);
//   words.set_frame(12);
//   words.word(value, "", "value");   // "\"hello\"", or file("session.f12.value.bin")
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "record/record_error.hpp"
#include "runner/update.hpp"

namespace tapharness::record {

class ValueWords {
 public:
  // Takes each side file as soon as a word needs one (so none is held); an error stops the
  // recording. An empty `scenario_path` means there is nowhere to write them.
  using Sink = std::function<std::optional<std::string>(runner::ScenarioUpdate::SideFile&& file)>;

  ValueWords(std::string scenario_path, Sink sink)
      : path_(std::move(scenario_path)), sink_(std::move(sink)) {}

  // The frame (counted from 1 per direction) the next words belong to, for file names.
  void set_frame(std::string_view side, std::uint64_t frame) {
    side_ = side;
    frame_ = frame;
  }

  // `value` written as `form` shows ("" a string or hex, "x\"" hex). On a side file that
  // cannot be written (or has nowhere to go), the error; the word is then empty. The same
  // bytes for the same frame and field again take the same file, written once.
  std::string word(std::string_view value, std::string_view form, std::string_view field);

  const std::optional<std::string>& error() const { return error_; }

 private:
  std::string path_;
  Sink sink_;
  std::string_view side_ = "s";
  std::uint64_t frame_ = 0;
  std::optional<std::string> error_;
  // The last long word, so that a send and its client event share one file.
  std::string last_name_, last_word_;
  protocol::Bytes last_value_;
};

}  // namespace tapharness::record
