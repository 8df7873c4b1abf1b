#include "runner/update.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "runner/client_check.hpp"
#include "scenario/formatter.hpp"
#include "scenario/parser.hpp"

namespace tapharness::runner {
namespace {

using protocol::TapEvent;
using protocol::TapEventKind;

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return lines;
}

// `name=value` words of a `client event` line, in order, after its kind.
struct LineFields {
  std::string indent;
  std::vector<std::pair<std::string, std::string>> fields;  // name, value as written
  std::string comment;
};

LineFields fields_of(std::string_view line) {
  LineFields out;
  out.indent = std::string(line.substr(0, line.find_first_not_of(" \t")));
  const scenario::LineWords split = scenario::split_line(line);
  out.comment = std::string(split.comment);
  for (std::size_t w = 3; w < split.words.size(); ++w) {  // client event KIND ...
    const std::string_view word = split.words[w];
    const std::size_t eq = word.find('=');
    if (eq == std::string_view::npos) continue;
    out.fields.emplace_back(std::string(word.substr(0, eq)), std::string(word.substr(eq + 1)));
  }
  return out;
}

class LineWriter {
 public:
  LineWriter(const scenario::Scenario& scenario, std::vector<ScenarioUpdate::SideFile>& side)
      : scenario_(scenario), side_(side) {}

  // A number in the base the author wrote (0x... stays hex).
  static std::string number(std::uint64_t value, std::string_view written) {
    return written.starts_with("0x") || written.starts_with("0X") ? fmt::format("{:#x}", value) : fmt::format("{}", value);
  }

  // Bytes in the author's form where it can say them, a file when they are long.
  std::string bytes(std::string_view value, std::string_view written, int line, std::string_view field) {
    const std::string name =
        fmt::format("{}.line{}.{}.bin", std::filesystem::path(scenario_.path).stem().string(), line, field);
    return bytes_word(value, written, scenario_.path, name, side_);
  }

  // The value of `field` for `event`, written as `written` was; empty when the kind has none.
  std::optional<std::string> field(std::string_view name, std::string_view written, const TapEvent& e, int line) {
    const bool item = e.kind == TapEventKind::mutation || e.kind == TapEventKind::deletion;
    if (name == "vb") return number(e.vbucket, written);
    if (name == "key" && item) return bytes(e.key, written, line, name);
    if (name == "value" && item) return bytes(e.value, written, line, name);
    if (name == "flags" && e.kind == TapEventKind::mutation) return number(e.flags, written);
    if (name == "expiry" && e.kind == TapEventKind::mutation) return number(e.expiry, written);
    if (name == "cas" && item) return number(e.cas, written);
    if (name == "datatype" && item) return number(e.datatype, written);
    if (name == "checkpoint" &&
        (e.kind == TapEventKind::checkpoint_start || e.kind == TapEventKind::checkpoint_end)) {
      return number(e.checkpoint_id, written);
    }
    if (name == "state" && e.kind == TapEventKind::vbucket_set) {
      return !written.empty() && std::isdigit(static_cast<unsigned char>(written[0]))
                 ? number(static_cast<std::uint32_t>(e.state), written)
                 : state_word(e.state);
    }
    return std::nullopt;
  }

  // `client event` for `e` with the fields `layout` names, in its forms.
  std::string event_line(const TapEvent& e, const LineFields& layout, int line) {
    std::string out = fmt::format("{}client event {}", layout.indent, protocol::name_of(e.kind));
    for (const auto& [name, written] : layout.fields) {
      if (auto value = field(name, written, e, line)) out += fmt::format(" {}={}", name, *value);
    }
    if (!layout.comment.empty()) out += " " + layout.comment;
    return out;
  }

 private:
  const scenario::Scenario& scenario_;
  std::vector<ScenarioUpdate::SideFile>& side_;
};

}  // namespace

std::string bytes_word(std::string_view value, std::string_view written, const std::string& scenario_path,
                       const std::string& file_name, std::vector<ScenarioUpdate::SideFile>& side) {
  const bool uniform = !value.empty() && std::all_of(value.begin(), value.end(), [&](char c) { return c == value[0]; });
  if (written.starts_with("fill(") && uniform) {
    return value[0] == 'x' ? fmt::format("fill({})", value.size())
                           : fmt::format("fill({},{:#04x})", value.size(), static_cast<unsigned char>(value[0]));
  }
  if (value.size() > kLongestInlineValue) {
    if (uniform) return fmt::format("fill({},{:#04x})", value.size(), static_cast<unsigned char>(value[0]));
    side.push_back({(std::filesystem::path(scenario_path).parent_path() / file_name).string(),
                    protocol::Bytes(value.begin(), value.end())});
    return fmt::format("file(\"{}\")", file_name);
  }
  if (written.starts_with("x\"")) {
    std::string hex;
    for (unsigned char c : value) hex += fmt::format("{:02x}", c);
    return fmt::format("x\"{}\"", hex);
  }
  return bytes_literal(value);
}

std::string client_end_line(const client::ReportedEnd& end) {
  switch (end.how) {
    case client::ReportedEnd::How::eof: return "client end eof";
    case client::ReportedEnd::How::end_stream: return "client end end_stream";
    // A client that closed its own feed ended no way a scenario can expect.
    case client::ReportedEnd::How::closed: return "# client end: the client closed its feed itself";
    case client::ReportedEnd::How::error: {
      const auto reason = end.error.substr(0, end.error.find(':'));
      return fmt::format("client end error match=\"{}\"", reason);
    }
  }
  return {};
}

Result<ScenarioUpdate, InputError> updated_scenario_text(const scenario::Scenario& scenario, std::string_view text,
                                                         const std::vector<client::ReportedItem>& observed) {
  if (!scenario.connections.empty()) {
    return InputError{scenario.path, "a scenario of connection blocks cannot be updated: each block's client lines "
                                     "are its own"};
  }
  const std::vector<std::string_view> lines = split_lines(text);
  std::vector<const scenario::EventLine*> expected;
  for (const auto& item : scenario.client.events) {
    if (const auto* repeat = std::get_if<scenario::EventRepeat>(&item)) {
      return InputError{fmt::format("{}:{}", scenario.path, repeat->body.front().location.line),
                        "client events inside a repeat block cannot be updated one by one"};
    }
    expected.push_back(&std::get<scenario::EventLine>(item));
  }
  for (std::size_t i = 1; i < expected.size(); ++i) {
    // A line met again: an outer repeat's body, written out once per iteration.
    if (&expected[i]->location.file() == &expected[i - 1]->location.file() &&
        expected[i]->location.line <= expected[i - 1]->location.line) {
      return InputError{fmt::format("{}:{}", scenario.path, expected[i]->location.line),
                        "client events inside a repeat block cannot be updated one by one"};
    }
  }
  for (const auto* line : expected) {
    if (line->location.file() != scenario.path) {
      return InputError{fmt::format("{}:{}", line->location.file(), line->location.line),
                        "a client event from an included file cannot be updated in the scenario"};
    }
  }
  // What the file checks of each kind, for events it has no line for.
  std::map<TapEventKind, LineFields> layout_of_kind;
  for (const auto* line : expected) {
    LineFields& layout = layout_of_kind[line->event.kind];
    for (auto& f : fields_of(lines[line->location.line - 1]).fields) {
      if (std::none_of(layout.fields.begin(), layout.fields.end(), [&](const auto& g) { return g.first == f.first; })) {
        layout.fields.push_back(std::move(f));
      }
    }
  }

  ScenarioUpdate update;
  LineWriter writer(scenario, update.side_files);
  std::string replacement;
  std::size_t next = 0;  // the expected line the next observed event stands against
  for (const auto& item : observed) {
    if (const auto* event = std::get_if<TapEvent>(&item)) {
      if (next < expected.size()) {
        const scenario::EventLine& line = *expected[next++];
        const std::string_view written = lines[line.location.line - 1];
        if (differing_fields(line.event, 0, *event).empty()) {
          replacement += std::string(written) + "\n";  // met: kept as written
        } else {
          LineFields layout = fields_of(written);
          if (line.event.kind != event->kind) layout.fields = layout_of_kind[event->kind].fields;
          replacement += writer.event_line(*event, layout, line.location.line) + "\n";
        }
        continue;
      }
      LineFields layout = layout_of_kind[event->kind];
      if (layout.fields.empty()) layout.fields = {{"vb", "0"}, {"key", "\"\""}};
      if (!expected.empty()) layout.indent = fields_of(lines[expected.back()->location.line - 1]).indent;
      replacement += writer.event_line(*event, layout, static_cast<int>(lines.size()) + 1) + "\n";
    } else if (const auto* end = std::get_if<client::ReportedEnd>(&item)) {
      replacement += client_end_line(*end) + "\n";
    }
  }

  std::set<int> drop;
  for (const auto* line : expected) drop.insert(line->location.line);
  if (scenario.client.end) drop.insert(scenario.client.end_location.line);
  std::string out;
  bool inserted = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const int number = static_cast<int>(i) + 1;
    if (drop.count(number)) {
      if (!inserted) out += replacement;  // where the first old line was
      inserted = true;
      continue;
    }
    out += std::string(lines[i]) + "\n";
  }
  if (!inserted) out += replacement;

  // Whatever was observed, what is written must be a scenario (with side files, the caller
  // checks once they are written).
  if (auto parsed = scenario::parse_scenario(out, scenario.path); !parsed && update.side_files.empty()) {
    return InputError{scenario.path, fmt::format("the updated file would not parse ({}); nothing written",
                                                 parsed.error().text())};
  }
  update.text = std::move(out);
  return update;
}

std::string line_diff(std::string_view before, std::string_view after) {
  const auto a = split_lines(before);
  const auto b = split_lines(after);
  // The common head and tail; what lies between is the change (updates touch one region).
  std::size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  std::size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head && a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) ++tail;
  if (head == a.size() && head == b.size()) return {};
  std::string out = fmt::format("@@ -{},{} +{},{} @@\n", head + 1, a.size() - head - tail, head + 1, b.size() - head - tail);
  for (std::size_t i = head; i < a.size() - tail; ++i) out += fmt::format("-{}\n", a[i]);
  for (std::size_t i = head; i < b.size() - tail; ++i) out += fmt::format("+{}\n", b[i]);
  return out;
}

}  // namespace tapharness::runner
