#include "runner/client_check.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "protocol/tap_constants.hpp"
#include "scenario/render.hpp"

namespace tapharness::runner {
namespace {

using scenario::ClientEvent;
using protocol::TapEvent;
using protocol::TapEventKind;

// How far a mismatch looks ahead for the event the client may have skipped to.
constexpr std::size_t kLookahead = 64;
// Failures kept in full; the rest are counted.
constexpr std::size_t kMaxFailures = 20;

bool has_key(TapEventKind k) { return k == TapEventKind::mutation || k == TapEventKind::deletion; }
bool has_checkpoint(TapEventKind k) {
  return k == TapEventKind::checkpoint_start || k == TapEventKind::checkpoint_end;
}

std::string render(const scenario::BytesValue& v, std::uint64_t index) {
  scenario::ScenarioRandom no_random(0);  // `client event` values are text or hex
  return scenario::render_bytes(v, index, no_random);
}

// Failure text stays readable: a 2 MB value is shown by its first bytes.
std::string abbreviated(std::string text) {
  constexpr std::size_t kShown = 320;
  if (text.size() <= kShown + 32) return text;
  const std::size_t left_out = text.size() - kShown;
  text.resize(kShown);
  return fmt::format("{}...(+{} characters)", text, left_out);
}

}  // namespace

std::string state_word(protocol::VBucketState state) {
  std::string name(protocol::name_of(state));
  if (name.empty()) return std::to_string(static_cast<std::uint32_t>(state));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

ExpectedEvents::ExpectedEvents(const scenario::Scenario& scenario) : scenario_(scenario) {}

bool ExpectedEvents::fill(std::size_t count) {
  const auto& items = scenario_.client.events;
  while (window_.size() < count && item_ < items.size()) {
    if (const auto* line = std::get_if<scenario::EventLine>(&items[item_])) {
      window_.push_back({&line->event, 0, line->location});
      ++item_;
      continue;
    }
    const auto& repeat = std::get<scenario::EventRepeat>(items[item_]);
    if (iteration_ >= repeat.count) {
      ++item_;
      iteration_ = inner_ = 0;
      continue;
    }
    const auto& inner = repeat.body[inner_];
    window_.push_back({&inner.event, iteration_, inner.location});
    if (++inner_ == repeat.body.size()) {
      inner_ = 0;
      ++iteration_;
    }
  }
  return window_.size() >= count;
}

std::optional<ExpectedEvent> ExpectedEvents::peek(std::size_t ahead) {
  if (!fill(ahead + 1)) return std::nullopt;
  return window_[ahead];
}

void ExpectedEvents::advance(std::size_t n) {
  fill(n);
  window_.erase(window_.begin(), window_.begin() + static_cast<std::ptrdiff_t>(std::min(n, window_.size())));
}

std::string describe(const ClientEvent& e, std::uint64_t index) {
  std::string out(protocol::name_of(e.kind));
  if (e.vbucket) out += fmt::format(" vb={}", e.vbucket->render(index));
  if (e.key) out += " key=" + bytes_literal(render(*e.key, index));
  if (e.value) out += " value=" + bytes_literal(render(*e.value, index));
  if (e.flags) out += fmt::format(" flags={}", e.flags->render(index));
  if (e.expiry) out += fmt::format(" expiry={}", e.expiry->render(index));
  if (e.cas) out += fmt::format(" cas={}", e.cas->render(index));
  if (e.datatype) out += fmt::format(" datatype={}", e.datatype->render(index));
  if (e.checkpoint) out += fmt::format(" checkpoint={}", e.checkpoint->render(index));
  if (e.state) out += " state=" + state_word(*e.state);
  return out;
}

std::string describe_observed(const TapEvent& e) {
  std::string out = fmt::format("{} vb={}", e.kind, e.vbucket);
  if (e.kind == TapEventKind::mutation) {
    out += fmt::format(" key={} value={} flags={} expiry={} cas={}", bytes_literal(e.key),
                       bytes_literal(e.value), e.flags, e.expiry, e.cas);
  } else if (e.kind == TapEventKind::deletion) {
    out += " key=" + bytes_literal(e.key);
    if (!e.value.empty()) out += " value=" + bytes_literal(e.value);
    out += fmt::format(" cas={}", e.cas);
    if (e.flags != 0 || e.expiry != 0) out += fmt::format(" flags={} expiry={}", e.flags, e.expiry);
  }
  if (has_key(e.kind) && e.datatype != 0) out += fmt::format(" datatype={}", e.datatype); else if (has_checkpoint(e.kind)) {
    out += fmt::format(" checkpoint={}", e.checkpoint_id);
  } else if (e.kind == TapEventKind::vbucket_set) {
    out += " state=" + state_word(e.state);
  }
  return out;
}

std::vector<std::string> differing_fields(const ClientEvent& x, std::uint64_t index, const TapEvent& o) {
  std::vector<std::string> out;
  if (x.kind != o.kind) out.push_back("kind");
  if (x.vbucket && x.vbucket->render(index) != o.vbucket) out.push_back("vb");
  if (x.key && (!has_key(o.kind) || render(*x.key, index) != o.key)) out.push_back("key");
  if (x.value && (!has_key(o.kind) || render(*x.value, index) != o.value)) out.push_back("value");
  // A deletion has no item flags or expiry: any it reports were read from the wrong bytes.
  const bool deletion = o.kind == TapEventKind::deletion;
  if (x.flags ? x.flags->render(index) != o.flags : deletion && o.flags != 0) out.push_back("flags");
  if (x.expiry ? x.expiry->render(index) != o.expiry : deletion && o.expiry != 0) out.push_back("expiry");
  if (x.cas && x.cas->render(index) != o.cas) out.push_back("cas");
  if (x.datatype && x.datatype->render(index) != o.datatype) out.push_back("datatype");
  if (x.checkpoint && x.checkpoint->render(index) != o.checkpoint_id) out.push_back("checkpoint");
  if (x.state && *x.state != o.state) out.push_back("state");
  return out;
}

std::string describe(const scenario::ClientEnd& end) {
  switch (end.how) {
    case scenario::ClientEnd::How::eof: return "end eof";
    case scenario::ClientEnd::How::end_stream: return "end end_stream";
    case scenario::ClientEnd::How::error:
      if (end.message) return fmt::format("end error message=\"{}\"", protocol::escape_bytes(*end.message));
      return end.match.empty() ? "end error" : fmt::format("end error match=\"{}\"", protocol::escape_bytes(end.match));
  }
  return {};
}

std::string describe(const client::ReportedEnd& end) {
  switch (end.how) {
    case client::ReportedEnd::How::eof: return "end eof";
    case client::ReportedEnd::How::end_stream: return "end end_stream";
    case client::ReportedEnd::How::closed: return "end closed";
    case client::ReportedEnd::How::error: return fmt::format("end error \"{}\"", protocol::escape_bytes(end.error));
  }
  return {};
}

ClientCheck::ClientCheck(const scenario::Scenario& scenario) : scenario_(scenario), expected_(scenario) {}

void ClientCheck::fail(ClientFailure failure) {
  failure.expected = abbreviated(std::move(failure.expected));
  failure.observed = abbreviated(std::move(failure.observed));
  if (failures_.size() < kMaxFailures) {
    failures_.push_back(std::move(failure));
  } else {
    ++failures_dropped_;
  }
}

void ClientCheck::observe(const client::ReportedItem& item) {
  // Which connection a line belongs to is ChainCheck's (chain_check.hpp); one check is one connection.
  if (std::holds_alternative<client::ReportedConnection>(item)) return;
  if (end_) {
    fail({{scenario_.path, 0, 0}, "client", "nothing after the end", "more output after the end"});
    return;
  }
  if (const auto* event = std::get_if<TapEvent>(&item)) {
    on_event(*event);
  } else {
    on_end(std::get<client::ReportedEnd>(item));
  }
}

void ClientCheck::bad_output(std::size_t line_number, const std::string& reason, const std::string& line) {
  fail({{scenario_.path, 0, 0}, "client output", "one JSON event or end per line",
        fmt::format("line {}: {}: {}", line_number, reason, line)});
}

void ClientCheck::on_event(const TapEvent& observed) {
  ++events_seen_;
  if (!scenario_.client.checks_events()) return;  // events are not checked
  if (pending_) {
    const auto next = expected_.peek();  // pending_ exists only when there was one
    if (differing_fields(*next->event, next->index, observed).empty()) {
      fail({next->location, "client event", describe(*next->event, next->index),
            fmt::format("{} first (an event the scenario does not expect here)", describe_observed(*pending_))});
      pending_.reset();
      expected_.advance();
      return;
    }
    settle_pending();
  }
  auto next = expected_.peek();
  if (!next) {
    fail({{scenario_.path, 0, 0}, "client event", "no more events", describe_observed(observed)});
    return;
  }
  if (differing_fields(*next->event, next->index, observed).empty()) {
    expected_.advance();
    return;
  }
  // Did the client skip events? The closest later expected event that matches exactly.
  for (std::size_t ahead = 1; ahead <= kLookahead; ++ahead) {
    auto later = expected_.peek(ahead);
    if (!later) break;
    if (differing_fields(*later->event, later->index, observed).empty()) {
      fail({next->location, "client event", describe(*next->event, next->index),
            fmt::format("{} (the {} expected event{} from here on never came; this one is line {})",
                        describe_observed(observed), ahead, ahead == 1 ? "" : "s", later->location.line)});
      expected_.advance(ahead + 1);
      return;
    }
  }
  pending_ = observed;
}

// The pending event took the expected one's place: report the fields that differ.
void ClientCheck::settle_pending() {
  if (!pending_) return;
  const auto next = expected_.peek();
  const auto diff = differing_fields(*next->event, next->index, *pending_);
  fail({next->location, "client event", describe(*next->event, next->index),
        fmt::format("{} ({} differ{})", describe_observed(*pending_), fmt::join(diff, ", "),
                    diff.size() == 1 ? "s" : "")});
  pending_.reset();
  expected_.advance();
}

void ClientCheck::on_end(const client::ReportedEnd& end) {
  end_ = end;
  settle_pending();
  if (scenario_.client.checks_events()) {
    if (auto missing = expected_.peek()) {
      std::size_t count = 0;
      while (expected_.peek(count)) ++count;
      fail({missing->location, "client event", describe(*missing->event, missing->index),
            fmt::format("the client ended ({}) with {} expected event{} not reported", describe(end), count,
                        count == 1 ? "" : "s")});
    }
  }
  if (!scenario_.client.end) return;
  const auto& want = *scenario_.client.end;
  bool ok = false;
  switch (want.how) {
    case scenario::ClientEnd::How::eof: ok = end.how == client::ReportedEnd::How::eof; break;
    case scenario::ClientEnd::How::end_stream: ok = end.how == client::ReportedEnd::How::end_stream; break;
    case scenario::ClientEnd::How::error:
      ok = end.how == client::ReportedEnd::How::error && end.error.find(want.match) != std::string::npos &&
           (!want.message || end.error == *want.message);
      break;
  }
  if (!ok) fail({scenario_.client.end_location, "client end", describe(want), describe(end)});
}

void ClientCheck::finish() {
  if (!end_) {
    fail({scenario_.client.end ? scenario_.client.end_location : scenario::SourceLocation{scenario_.path, 0, 0},
          "client end", scenario_.client.end ? describe(*scenario_.client.end) : "an end",
          "the client reported no end"});
  }
}

}  // namespace tapharness::runner
