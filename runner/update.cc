#include "runner/update.hpp"

#include <set>

#include <fmt/format.h>

#include "runner/client_check.hpp"

namespace tapharness::runner {

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

Result<std::string, InputError> updated_scenario_text(const scenario::Scenario& scenario, std::string_view text,
                                                      const std::vector<client::ReportedItem>& observed) {
  std::set<int> drop;
  for (const auto& item : scenario.client.events) {
    if (const auto* repeat = std::get_if<scenario::EventRepeat>(&item)) {
      return InputError{fmt::format("{}:{}", scenario.path, repeat->body.front().location.line),
                        "client events inside a repeat block cannot be updated one by one"};
    }
    drop.insert(std::get<scenario::EventLine>(item).location.line);
  }
  if (scenario.client.end) drop.insert(scenario.client.end_location.line);

  std::string lines;
  for (const auto& item : observed) {
    if (const auto* event = std::get_if<protocol::TapEvent>(&item)) {
      lines += "client event " + describe_observed(*event) + "\n";
    } else if (std::holds_alternative<client::ReportedConnection>(item)) {
      continue;  // a reconnecting client's marker: no scenario line for it yet
    } else {
      lines += client_end_line(std::get<client::ReportedEnd>(item)) + "\n";
    }
  }

  // Replace the old lines, putting the new ones where the first old one was.
  std::string out;
  bool inserted = false;
  int number = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = text.find('\n', at);
    const std::string_view line = text.substr(at, end == std::string_view::npos ? text.size() - at : end - at + 1);
    at += line.size();
    if (drop.count(++number)) {
      if (!inserted) out += lines;
      inserted = true;
      continue;
    }
    out += line;
  }
  if (!inserted) {
    if (!out.empty() && out.back() != '\n') out += '\n';
    out += lines;
  }
  return out;
}

}  // namespace tapharness::runner
