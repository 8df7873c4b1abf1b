#include "scenario/internal/lint.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "protocol/header.hpp"

namespace tapharness::scenario {
namespace {

// The opaques the server's frames can carry, as far as the file says: the values given, the
// `{n}` ranges of repeats, and the producer sequence (1, 2, ...) of frames that leave it unset.
class OpaqueCoverage {
 public:
  void add(const Send& send, std::uint64_t count) {
    const FrameSpec& frame = send.frame();
    if (frame.kind == FrameKind::raw) {
      unknown_ = true;  // its bytes may hold any opaque
    } else if (const NumberValue* opaque = frame.find(SendField::opaque)) {
      if (opaque->is_index && opaque->expr) {
        unknown_ = true;  // arithmetic on {n}: any opaque it reaches
      } else if (opaque->is_index) {
        index_max_ = std::max(index_max_, count);
      } else {
        given_.insert(opaque->value);
      }
    } else if (frame.kind != FrameKind::noop && frame.kind != FrameKind::connect_error) {
      sequence_ += count;
    }
  }

  bool covers(std::uint64_t opaque) const {
    return unknown_ || given_.contains(opaque) || opaque < index_max_ || (opaque >= 1 && opaque <= sequence_);
  }

 private:
  std::set<std::uint64_t> given_;
  std::uint64_t index_max_ = 0;  // `{n}` covers [0, index_max_)
  std::uint64_t sequence_ = 0;   // frames numbered by the producer sequence
  bool unknown_ = false;
};

// Saturating: counts multiply.
std::uint64_t times(std::uint64_t a, std::uint64_t b) {
  return b != 0 && a > std::numeric_limits<std::uint64_t>::max() / b ? std::numeric_limits<std::uint64_t>::max()
                                                                      : a * b;
}

void lint_repeat(const Repeat& repeat, const SourceLocation& where, ErrorSink& sink) {
  std::uint64_t per_iteration = 0;
  for (const Step& step : repeat.body) {
    if (const auto* send = std::get_if<Send>(&step.action)) {
      per_iteration += send->frame().fixed_length().value_or(protocol::kHeaderSize);
    }
  }
  const std::uint64_t total = times(per_iteration, repeat.count);
  if (total > kMaxRepeatBytes) {
    sink.warn(where.line, where.column,
              fmt::format("this repeat sends about {} GiB ({} times {} bytes); is the count right? A volume run "
                          "belongs in bench/, and a run has a time limit (limit)",
                          total >> 30, repeat.count, per_iteration));
  }
}

void warn_unknown_opaque(const ExpectAck& ack, const SourceLocation& where, const OpaqueCoverage& opaques,
                         ErrorSink& sink) {
  if (ack.opaque && !opaques.covers(*ack.opaque)) {
    sink.warn(where.line, where.column,
              fmt::format("no send uses opaque {:#x}, so no ACK can carry it (the producer numbers frames without "
                          "opaque= 1, 2, ...)",
                          *ack.opaque));
  }
}

// A reconnect the built-in client is not told to make.
void lint_reconnects(const Scenario& scenario, ErrorSink& sink) {
  for (const Connection& planned : scenario.connections) {
    if (!planned.after) continue;
    std::size_t head = *planned.after;
    for (int hops = 0; scenario.connections[head].after && hops < 1024; ++hops) head = *scenario.connections[head].after;
    const Scenario& first = *scenario.connections[head].script;
    if (first.client.args && first.client.args->reconnect == 0) {
      sink.warn(planned.location.line, planned.location.column,
                fmt::format("connection '{}' expects the client back, but the 'client args' of connection '{}' (line "
                            "{}) do not say reconnect=N, so the built-in client will not reconnect",
                            planned.label, scenario.connections[head].label, first.client.args_location.line));
    }
  }
}

}  // namespace

void lint(const Scenario& scenario, ErrorSink& sink) {
  for (const Connection& planned : scenario.connections) lint(*planned.script, sink);
  lint_reconnects(scenario, sink);
  OpaqueCoverage opaques;
  for (const Step& step : scenario.steps) {
    if (const auto* send = std::get_if<Send>(&step.action)) opaques.add(*send, 1);
    if (const auto* repeat = std::get_if<Repeat>(&step.action)) {
      for (const Step& inner : repeat->body) {
        if (const auto* send = std::get_if<Send>(&inner.action)) opaques.add(*send, repeat->count);
      }
      lint_repeat(*repeat, step.location, sink);
    }
  }
  auto check_acks = [&](const Step& step) {
    if (const auto* ack = std::get_if<ExpectAck>(&step.action)) warn_unknown_opaque(*ack, step.location, opaques, sink);
    if (const auto* group = std::get_if<ExpectGroup>(&step.action)) {
      for (const auto& item : group->items) warn_unknown_opaque(item.ack, item.location, opaques, sink);
    }
  };
  for (const Step& step : scenario.steps) {
    check_acks(step);
    if (const auto* repeat = std::get_if<Repeat>(&step.action)) {
      for (const Step& inner : repeat->body) check_acks(inner);
    }
  }

  const ClientSide& client = scenario.client;
  if (client.end) {
    auto after_end = [&](const EventLine& line) {
      if (line.location.line > client.end_location.line) {
        sink.warn(line.location.line, line.location.column,
                  fmt::format("'client event' after 'client end' (line {}): the events are checked in order, and "
                              "the end comes last",
                              client.end_location.line));
      }
    };
    for (const auto& item : client.events) {
      if (const auto* line = std::get_if<EventLine>(&item)) after_end(*line);
      if (const auto* repeat = std::get_if<EventRepeat>(&item)) {
        for (const auto& line : repeat->body) after_end(line);
      }
    }
    if (client.end->how == ClientEnd::How::eof) {
      for (const Step& step : scenario.steps) {
        const auto* close = std::get_if<Close>(&step.action);
        if (close && close->how == Close::How::wait) {
          sink.warn(step.location.line, step.location.column,
                    fmt::format("'close wait' waits for the client to close first, so it never sees the server's "
                                "EOF that 'client end eof' (line {}) expects",
                                client.end_location.line));
        }
      }
    }
  }
}

}  // namespace tapharness::scenario
