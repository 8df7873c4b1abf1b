#include "fuzz/library_runs.hpp"

#include <algorithm>
#include <string>

#include "fuzz/fuzz_check.hpp"
#include "fuzz/scenario_library.hpp"
#include "scenario/parser.hpp"

namespace tapharness::fuzz {

std::shared_ptr<scenario::Scenario> library_scenario(std::string_view selector) {
  const auto library = scenario_library();
  const LibraryScenario* chosen = nullptr;
  for (const auto& s : library) {
    if (s.name == selector) chosen = &s;
  }
  if (!chosen) {
    std::uint64_t hash = 0xcbf29ce484222325;  // FNV-1a
    for (char c : selector) hash = (hash ^ static_cast<std::uint8_t>(c)) * 0x100000001b3;
    chosen = &library[hash % library.size()];
  }
  auto parsed = parse_library_scenario(*chosen);
  FUZZ_CHECK(parsed.ok(), "library scenario {} does not parse: {}", chosen->name,
             parsed ? std::string() : parsed.error().text());
  return std::make_shared<scenario::Scenario>(std::move(parsed).value());
}

void shorten_waits(scenario::Scenario& scenario) {
  using scenario::Duration;
  scenario.timeout = kShortWait;
  auto shorten_step = [](scenario::Step& step) {
    if (auto* expect = std::get_if<scenario::ExpectAck>(&step.action)) {
      expect->within = std::min(expect->within.value_or(kShortWait), kShortWait);
    } else if (auto* group = std::get_if<scenario::ExpectGroup>(&step.action)) {
      for (auto& item : group->items) item.ack.within = std::min(item.ack.within.value_or(kShortWait), kShortWait);
    } else if (auto* delay = std::get_if<scenario::Delay>(&step.action)) {
      delay->duration = Duration{0};
    } else if (auto* send = std::get_if<scenario::Send>(&step.action)) {
      send->edit_fault().gap = Duration{0};
    }
  };
  for (auto& step : scenario.steps) {
    shorten_step(step);
    if (auto* repeat = std::get_if<scenario::Repeat>(&step.action)) {
      repeat->count = std::min(repeat->count, kMaxRepeat);
      for (auto& inner : repeat->body) shorten_step(inner);
    }
  }
}

std::shared_ptr<scenario::Scenario> short_library_scenario(FuzzInput& in) {
  auto scenario = library_scenario(in.until('\n'));
  shorten_waits(*scenario);
  return scenario;
}

}  // namespace tapharness::fuzz
