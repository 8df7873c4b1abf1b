#include "runner/report_sessions.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "protocol/describe.hpp"
#include "protocol/frame_decoder.hpp"

namespace tapharness::runner {
namespace {

constexpr std::size_t kCorruptOffsetsKept = 16;
// What a line's bookkeeping costs beyond its records (the map node, its vectors).
constexpr std::size_t kLineCost = 160;

protocol::Bytes head_of(protocol::ByteView bytes, std::size_t max) {
  return protocol::Bytes(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(std::min(max, bytes.size())));
}

// The frame decoded, or why it does not decode: what the report shows for a frame it did not
// keep whole (describe_frame abbreviates keys and values, so this stays short).
std::string describe_bytes(protocol::ByteView bytes) {
  protocol::FrameDecoder decoder;
  auto result = decoder.decode(bytes);
  if (auto* d = std::get_if<protocol::Decoded>(&result)) return protocol::describe_frame(d->frame);
  if (auto* more = std::get_if<protocol::NeedMore>(&result)) {
    return fmt::format("not a whole frame: {} more bytes would be needed\n", more->bytes);
  }
  return fmt::format("does not decode: {}\n", std::get<protocol::DecodeError>(result));
}

}  // namespace

std::size_t LoggedRecord::cost() const {
  return sizeof(LoggedRecord) + frame.size() + written.size() + chunks.size() * sizeof(scenario::WriteChunk) +
         corrupt_at.size() * sizeof(std::size_t) + description.size() + note.size();
}

SessionLog::SessionLog(mockserver::ObservedConnection connection, SessionLimits limits)
    : connection_(std::move(connection)), limits_(limits) {}

mockserver::TraceSink SessionLog::sink_of(std::shared_ptr<SessionLog> log) {
  return [log = std::move(log)](const mockserver::TraceRecord& record) { log->add(record); };
}

LoggedRecord SessionLog::keep(const mockserver::TraceRecord& r) const {
  LoggedRecord out;
  out.kind = r.kind;
  out.at = r.at;
  out.location = r.location;
  out.frame = head_of(r.frame, limits_.frame_bytes);
  out.frame_size = r.frame.size();
  out.note = r.note;
  out.ending = r.ending;
  if (r.kind == LoggedRecord::Kind::sent) {
    out.written = head_of(r.written, limits_.frame_bytes);
    out.written_size = r.written.size();
    const std::size_t common = std::min(r.frame.size(), r.written.size());
    if (r.frame.data() != r.written.data()) {
      for (std::size_t i = 0; i < common; ++i) {
        if (r.frame[i] == r.written[i]) continue;
        if (out.corrupt_at.size() < kCorruptOffsetsKept) out.corrupt_at.push_back(i);
        ++out.corrupt_count;
      }
    }
    out.chunk_count = r.chunks.size();
    out.chunks.assign(r.chunks.begin(), r.chunks.begin() + static_cast<std::ptrdiff_t>(
                                                               std::min(limits_.chunks, r.chunks.size())));
  }
  if (!out.frame_whole()) out.description = describe_bytes(r.frame);
  return out;
}

void SessionLog::add(const mockserver::TraceRecord& record) {
  const std::uint64_t sequence = sequence_++;
  const auto key = std::make_tuple(&record.location.file(), record.location.line, static_cast<int>(record.kind));
  auto found = lines_.find(key);
  if (found == lines_.end()) {
    if (!fits(kLineCost)) {
      ++over_limit_;
      return;
    }
    kept_ += kLineCost;
    found = lines_.emplace(key, Line{}).first;
    found->second.left_out.kind = record.kind;
    found->second.left_out.location = record.location;
  }
  Line& line = found->second;
  // Most records of a long run only pass through a line's last ones: a cheap estimate of
  // their cost decides before anything is copied.
  const std::size_t estimate = sizeof(LoggedRecord) + 2 * std::min(record.frame.size(), limits_.frame_bytes) +
                               record.note.size();
  if (line.first.size() < limits_.per_line) {
    if (!fits(estimate)) {
      ++over_limit_;
      return;
    }
    LoggedRecord kept = keep(record);
    kept.sequence = sequence;
    kept_ += kept.cost();
    line.first.push_back(std::move(kept));
    return;
  }
  if (line.last.size() == limits_.per_line) {
    // The oldest of the last ones drops into the count between.
    const LoggedRecord& oldest = line.last.front();
    ++line.left_out.count;
    line.left_out.bytes += oldest.frame_size;
    kept_ -= oldest.cost();
    line.last.pop_front();
  }
  if (!fits(estimate)) {
    ++line.left_out.count;
    line.left_out.bytes += record.frame.size();
    ++over_limit_;
    return;
  }
  LoggedRecord kept = keep(record);
  kept.sequence = sequence;
  kept_ += kept.cost();
  line.last.push_back(std::move(kept));
  line.left_out.kept_before = line.first.size();
  line.left_out.kept_after = line.last.size();
}

std::vector<SessionLog::Entry> SessionLog::entries() const {
  // Sorted by (sequence, 0 for a gap / 1 for a record): a gap goes just before its line's
  // last records.
  std::vector<std::pair<std::pair<std::uint64_t, int>, Entry>> all;
  for (const auto& [key, line] : lines_) {
    for (const auto& r : line.first) all.push_back({{r.sequence, 1}, Entry{&r, nullptr}});
    for (const auto& r : line.last) all.push_back({{r.sequence, 1}, Entry{&r, nullptr}});
    if (line.left_out.count > 0) {
      const std::uint64_t at = line.last.empty() ? sequence_ : line.last.front().sequence;
      all.push_back({{at, 0}, Entry{nullptr, &line.left_out}});
    }
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Entry> out;
  out.reserve(all.size());
  for (auto& [order, entry] : all) out.push_back(entry);
  return out;
}

}  // namespace tapharness::runner
