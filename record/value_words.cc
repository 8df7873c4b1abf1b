#include "record/value_words.hpp"

#include <fmt/format.h>

#include <filesystem>

namespace tapharness::record {

std::string ValueWords::word(std::string_view value, std::string_view form,
                             std::string_view field) {
  const std::string stem =
      path_.empty() ? "recorded" : std::filesystem::path(path_).stem().string();
  const std::string name = fmt::format("{}.{}{}.{}.bin", stem, side_, frame_, field);
  if (name == last_name_ && protocol::as_chars(last_value_) == value) return last_word_;
  std::vector<runner::ScenarioUpdate::SideFile> files;
  std::string out = runner::bytes_word(value, form, path_.empty() ? name : path_, name, files);
  if (!files.empty()) {
    last_name_ = name;
    last_word_ = out;
    last_value_ = files.front().bytes;
  }
  for (auto& file : files) {
    if (error_) break;
    if (path_.empty()) {
      error_ =
          fmt::format("a {}-byte {} needs a file beside the scenario: give --out FILE or --dir DIR",
                      value.size(), field);
    } else if (auto failed = sink_(std::move(file))) {
      error_ = std::move(*failed);
    }
  }
  return error_ ? std::string() : out;
}

}  // namespace tapharness::record
