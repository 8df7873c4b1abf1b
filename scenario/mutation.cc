#include "scenario/mutation.hpp"

#include <charconv>

#include <fmt/format.h>

#include "scenario/render.hpp"

namespace tapharness::scenario {
namespace {

// Perturbations per scenario: few enough that the stream still reaches deep states.
constexpr int kMaxPerturbations = 3;

bool parse_u64(std::string_view text, std::uint64_t& out) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

// The steps a perturbation can land on: sends, top level or inside a repeat body.
std::vector<Step*> sends(Scenario& s) {
  std::vector<Step*> out;
  for (auto& step : s.steps) {
    if (std::holds_alternative<Send>(step.action)) out.push_back(&step);
    if (auto* repeat = std::get_if<Repeat>(&step.action)) {
      for (auto& inner : repeat->body) {
        if (std::holds_alternative<Send>(inner.action)) out.push_back(&inner);
      }
    }
  }
  return out;
}

// Applies one perturbation to `send`; returns what it did.
std::string perturb(Send& send, ScenarioRandom& random) {
  FrameSpec& f = send.edit_frame();
  FaultPlan& fault = send.edit_fault();
  const std::size_t size = f.fixed_length().value_or(24);
  auto pick = [&](std::uint64_t n) { return n == 0 ? 0 : random.next() % n; };
  // Sets a lie and gives back its value.
  auto lie = [&](SendField field, std::uint64_t value) {
    f.set(field, NumberValue{value});
    return value;
  };
  switch (pick(8)) {
    case 0: {
      static constexpr std::uint32_t kBodies[] = {0, 1, 7, 23, 0xffff, 0x1500000, 0xffffffff};
      // A wild claim, or one a few bytes off the truth.
      const std::int64_t near = static_cast<std::int64_t>(size) - 24 + static_cast<std::int64_t>(pick(65)) - 32;
      const std::uint64_t claim =
          pick(2) ? kBodies[pick(std::size(kBodies))] : static_cast<std::uint64_t>(std::max<std::int64_t>(0, near));
      return fmt::format("bodylen={:#x}", lie(SendField::bodylen, claim));
    }
    case 1: return fmt::format("keylen={}", lie(SendField::keylen, pick(2) ? pick(0x10000) : pick(64)));
    case 2: return fmt::format("extlen={}", lie(SendField::extlen, pick(2) ? pick(256) : pick(24)));
    case 3: return fmt::format("engine_length={}", lie(SendField::engine_length, pick(2) ? pick(0x10000) : pick(32)));
    case 4:
      if (pick(2)) return fmt::format("magic={:#04x}", lie(SendField::magic, pick(256)));
      return fmt::format("opcode={:#04x}", lie(SendField::opcode, pick(2) ? 0x40 + pick(8) : pick(256)));
    case 5: {
      const std::size_t offset = pick(size);
      fault.corrupt.push_back({offset, static_cast<std::uint8_t>(pick(256))});
      return fmt::format("corrupt={}:{:#04x}", offset, fault.corrupt.back().byte);
    }
    case 6:
      if (size > 1 && !fault.truncate) {
        fault.truncate = 1 + pick(size - 1);
        return fmt::format("truncate={}", *fault.truncate);
      }
      [[fallthrough]];
    default:
      if (size > 1 && fault.paced_size() == 0) {
        fault.split.clear();
        std::size_t at = 0;
        while (at + 1 < size && fault.split.size() < 4) {
          at += 1 + pick(std::min<std::size_t>(size - at - 1, 30));
          if (at < size) fault.split.push_back(at);
        }
        if (fault.truncate) std::erase_if(fault.split, [&](std::size_t s) { return s >= *fault.truncate; });
        return fmt::format("split into {} writes", fault.split.size() + 1);
      }
      return "unchanged";
  }
}

// Mutates a copy and records what was done.
Scenario mutate_recording(const Scenario& original, std::uint64_t seed, std::string* log) {
  Scenario s = original;
  s.name = fmt::format("{} mutate={}", original.name, seed);
  ScenarioRandom random(seed ^ 0x6d7574617465ull);  // "mutate": keeps seeds apart from the scenario's own

  // The server's expectations of the client are the original stream's; they no longer hold.
  s.connect = ExpectConnect{};
  s.acks = AckPolicy::unchecked;
  std::erase_if(s.steps, [](const Step& step) {
    return std::holds_alternative<ExpectAck>(step.action) || std::holds_alternative<ExpectGroup>(step.action) ||
           std::holds_alternative<Close>(step.action);
  });
  for (auto& step : s.steps) {
    if (auto* repeat = std::get_if<Repeat>(&step.action)) {
      std::erase_if(repeat->body, [](const Step& inner) {
        return std::holds_alternative<ExpectAck>(inner.action) || std::holds_alternative<ExpectGroup>(inner.action);
      });
    }
  }
  s.steps.insert(s.steps.begin(), Step{Allow{}, {s.path, 0, 0}});
  s.client.events.clear();
  s.client.end.reset();
  s.client.events_any = true;  // only the invariant is checked

  auto targets = sends(s);
  const int perturbations = targets.empty() ? 0 : 1 + static_cast<int>(random.next() % kMaxPerturbations);
  for (int i = 0; i < perturbations; ++i) {
    Step* step = targets[random.next() % targets.size()];
    Send& send = std::get<Send>(step->action);
    const std::string what = perturb(send, random);
    if (log) *log += fmt::format("line {}: send {} {}\n", step->location.line, send.frame().kind, what);
  }

  // How the connection ends: mostly FIN and then the client must close too; sometimes a
  // reset part-way through.
  const SourceLocation end{s.path, 0, 0};
  if (!s.steps.empty() && random.next() % 8 == 0) {
    const std::size_t at = 1 + random.next() % s.steps.size();
    s.steps.insert(s.steps.begin() + static_cast<std::ptrdiff_t>(at), Step{Close{Close::How::rst}, end});
    s.steps.resize(at + 1);
    if (log) *log += fmt::format("reset after step {}\n", at);
  } else {
    s.steps.push_back(Step{Close{Close::How::half_close}, end});
    s.steps.push_back(Step{Close{Close::How::wait}, end});
  }
  return s;
}

}  // namespace

std::optional<MutationSpec> parse_mutation(std::string_view text) {
  MutationSpec spec;
  const auto colon = text.find(':');
  if (!parse_u64(text.substr(0, colon), spec.seed)) return std::nullopt;
  if (colon != std::string_view::npos && (!parse_u64(text.substr(colon + 1), spec.count) || spec.count == 0)) {
    return std::nullopt;
  }
  return spec;
}

Scenario mutate(const Scenario& scenario, std::uint64_t seed) { return mutate_recording(scenario, seed, nullptr); }

std::string describe_mutation(const Scenario& original, std::uint64_t seed) {
  std::string log;
  mutate_recording(original, seed, &log);
  return log;
}

}  // namespace tapharness::scenario
