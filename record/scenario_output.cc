#include "record/scenario_output.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "scenario/parser.hpp"

namespace tapharness::record {

ValueWords::Sink side_file_sink() {
  return [](runner::ScenarioUpdate::SideFile&& file) -> std::optional<std::string> {
    std::error_code ec;
    const std::filesystem::path path(file.path);
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(file.bytes.data()),
              static_cast<std::streamsize>(file.bytes.size()));
    out.close();
    if (!out) return fmt::format("writing {} failed: {}", file.path, std::strerror(errno));
    return std::nullopt;
  };
}

std::optional<InputError> write_scenario(const std::string& path, const Recording& recording,
                                         const std::string& check_as) {
  const bool stdout_ = path.empty() || path == "-";
  if (stdout_) {
    if (std::fwrite(recording.text.data(), 1, recording.text.size(), stdout) !=
            recording.text.size() ||
        std::fflush(stdout) != 0) {
      return InputError{"standard output", std::strerror(errno)};
    }
  } else {
    std::error_code ec;
    const std::filesystem::path p(path);
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << recording.text;
    out.close();
    if (!out) return InputError{path, fmt::format("cannot be written: {}", std::strerror(errno))};
  }
  // Parsed as the file it is (or will be), so file("...") values are read from beside it.
  const std::string as = stdout_ ? (check_as.empty() ? "recorded.scenario" : check_as) : path;
  if (auto parsed = scenario::parse_scenario(recording.text, as); !parsed) {
    return InputError{
        as, fmt::format("the recorded scenario does not parse: {}", parsed.error().text())};
  }
  return std::nullopt;
}

}  // namespace tapharness::record
