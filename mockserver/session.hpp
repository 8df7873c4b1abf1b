// The engine's session: one scenario over one stream, the sequencing of its steps and the
// waits for what the client sends. Use it through async_run_scenario() (engine.hpp).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <unordered_map>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <fmt/format.h>

#include "mockserver/ack_book.hpp"
#include "mockserver/engine_options.hpp"
#include "mockserver/client_inbox.hpp"
#include "mockserver/client_model.hpp"
#include "mockserver/expectations.hpp"
#include "mockserver/frame_writer.hpp"
#include "mockserver/report.hpp"
#include "mockserver/trace.hpp"
#include "mockserver/transport.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/sasl.hpp"
#include "protocol/tap_connect.hpp"
#include "scenario/faults.hpp"
#include "scenario/render.hpp"
#include "scenario/scenario.hpp"
#include "third_party/asio.hpp"

namespace tapharness::mockserver {

using scenario::Duration;
using scenario::Scenario;
using scenario::SourceLocation;

namespace detail {

// Frames up to this size, well formed, are under every limit a correct client has.
inline constexpr std::size_t kPlainFrameMax = 64 * 1024;

inline constexpr std::string_view kNothingToClaim =
    "none left: each frame the client must ACK is claimed already (a frame sent with `ack` that a correct "
    "client refuses, or that a fault cut, is owed no ACK)";

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream stream, std::shared_ptr<const Scenario> scenario, EngineOptions options)
      : stream_(std::move(stream)),
        scenario_(std::move(scenario)),
        options_(std::move(options)),
        random_(options_.seed.value_or(scenario_->seed)),
        renderer_(random_),
        inbox_(stream_, options_.client_limits, options_.ack_limits,
               [this](const typename Inbox::Frame& frame) {
                 ++report_.frames_received;
                 trace({.kind = TraceRecord::Kind::received, .frame = frame.bytes, .location = last_location_});
               },
               [this](const std::string& why) {
                 const Ending ending = inbox_.state() == Inbox::State::eof     ? Ending::client_closed
                                       : inbox_.state() == Inbox::State::error ? Ending::client_failed
                                                                               : Ending::none;
                 trace({.kind = ending == Ending::none ? TraceRecord::Kind::note : TraceRecord::Kind::closed,
                        .note = why,
                        .location = last_location_,
                        .ending = ending});
               }),
        writer_(stream_, scenario_->timeout, [this] { close_now(Ending::server_fin); }),
        book_(scenario_->acks, AckBook::has_ack_expectations(*scenario_)),
        report_(scenario_->name, options_.connection),
        started_(Clock::now()),
        limit_(options_.limit.value_or(scenario_->limit.value_or(scenario::kDefaultLimit))),
        limit_at_(started_ + limit_),
        limit_timer_(stream_.get_executor()),
        sleep_timer_(stream_.get_executor()) {}

  asio::awaitable<Report> run(std::shared_ptr<Session> self) {
    asio::co_spawn(stream_.get_executor(), inbox_.read_loop(self), asio::detached);
    // The limit ends the run wherever it waits: the close stops every read, write and wait.
    limit_timer_.expires_at(limit_at_);
    limit_timer_.async_wait([this, self](const boost::system::error_code& ec) {
      if (!ec) over_limit();
    });
    if (options_.stop) {
      options_.stop->listen([weak = std::weak_ptr<Session>(self), this](const std::string& why) {
        if (weak.lock()) cut_off("the run to its end", fmt::format("interrupted ({}) at this line ({})", why, last_step_));
      });
    }
    const Authenticated auth = co_await authenticate();
    // After a refusal the scenario asked for, a correct client sends no TAP_CONNECT: the
    // steps run without waiting for one (a TAP_CONNECT that comes anyway is unexpected).
    if (auth != Authenticated::failed && (auth == Authenticated::refused || co_await expect_connect())) {
      for (const scenario::Step& step : scenario_->steps) {
        if (aborted_) break;
        if (const auto* repeat = std::get_if<scenario::Repeat>(&step.action)) {
          co_await run_repeat(*repeat);
        } else {
          co_await run_step(step, std::nullopt);
        }
      }
      co_await flush_coalesced();
      if (!closed_) co_await finish_and_close(last_location_);
    } else {
      close_now(Ending::server_fin);
    }
    drain(last_location_, last_step_);
    settle_triggers();
    settle_acks();
    limit_timer_.cancel();
    co_return std::move(report_);
  }

 private:
  using Clock = std::chrono::steady_clock;
  using Inbox = ClientInbox<Stream>;
  using Owed = AckBook::Owed;

  // Frames sent with `retransmit=`, by the opaque whose NACK would send them again.
  struct Resendable {
    protocol::Bytes frame;
    std::uint32_t remaining = 0;
    SourceLocation location;
  };

  struct Armed {
    scenario::Trigger trigger;
    SourceLocation location;
    std::uint64_t counted = 0;
    bool fired = false;
  };

  // ---- the connect -------------------------------------------------------------------

  asio::awaitable<bool> expect_connect() {
    const SourceLocation where =
        scenario_->connect_location.line > 0 ? scenario_->connect_location : SourceLocation{scenario_->path, 0, 0};
    last_location_ = where;
    last_step_ = "expect connect";
    const std::string expected = describe(scenario_->connect);
    co_await inbox_.wait(Clock::now() + scenario_->timeout);
    if (inbox_.empty()) {
      report_.fail(where, last_step_, expected, silence(scenario_->timeout));
      co_return false;
    }
    if (const auto problem = judge_connect(scenario_->connect, inbox_.take().bytes)) {
      report_.fail(where, last_step_, expected, *problem);
      co_return false;
    }
    report_.pass(where, last_step_);
    co_return true;
  }

  // ---- steps -------------------------------------------------------------------------

  asio::awaitable<void> run_repeat(const scenario::Repeat& repeat) {
    if (repeat.body.size() == 1 && !options_.trace) {
      if (const auto* send = coalescible(repeat.body[0])) {
        co_await run_volume_repeat(repeat.count, *send, repeat.body[0].location);
        co_return;
      }
    }
    for (std::uint64_t i = 0; i < repeat.count && !aborted_; ++i) {
      // Steps that never wait (claims that fail at once) would keep the timer from firing.
      if (i % 1024 == 1023 && Clock::now() >= limit_at_) over_limit();
      for (const scenario::Step& inner : repeat.body) {
        if (aborted_) break;
        // A coalesced frame is only rendered: no coroutine per frame of a volume run.
        if (const auto* send = coalescible(inner)) {
          if (window_full() || !resends_.empty()) {
            co_await flush_coalesced();
            co_await resend_nacked();
            co_await wait_for_window();
            if (aborted_) break;
          }
          if (sendable(inner.location, *send, i)) {
            gather(*send, inner.location, i);
            if (writer_.coalesce_full()) co_await flush_coalesced();
          }
          continue;
        }
        co_await run_step(inner, i);
      }
    }
  }

  // A volume repeat: one coalesced send. The client's frames are judged, and the step
  // passed, once per coalesced write rather than per frame: none of the write's frames is on
  // the wire before it goes, so the client can have answered none of them (about a quarter
  // of a volume frame's cost).
  asio::awaitable<void> run_volume_repeat(std::uint64_t count, const scenario::Send& send,
                                          const SourceLocation& where) {
    std::uint64_t gathered = 0;  // frames in the pending write
    bool judged = false;         // whether sendable() has seen the pending write
    auto flush = [&]() -> asio::awaitable<void> {
      if (gathered > 0) report_.pass(where, last_step_, gathered);
      gathered = 0;
      judged = false;
      co_await flush_coalesced();
      if (Clock::now() >= limit_at_) over_limit();  // a run of frames skips the per-1024 check
    };
    for (std::uint64_t i = 0; i < count && !aborted_; ++i) {
      if (i % 1024 == 1023 && Clock::now() >= limit_at_) over_limit();
      if (window_full() || !resends_.empty()) {
        co_await flush();
        co_await resend_nacked();
        co_await wait_for_window();
        if (aborted_) break;
      }
      if (!judged && !sendable(where, send, i)) continue;
      judged = true;
      // The frames a client owes nothing for, rendered back to back until the write is full.
      if (model_.at_frame_boundary()) {
        auto& coalesced = writer_.coalesced();
        const std::size_t before = coalesced.size();
        bool sequence = false;
        const std::uint64_t run =
            renderer_.render_run(send.frame(), i, count - i, next_opaque_, coalesced, writer_.coalesce_limit(),
                                 kPlainFrameMax, writer_.frame_ends(), sequence);
        if (run > 0) {
          if (sequence) next_opaque_ += static_cast<std::uint32_t>(run);
          model_.counted_plain(coalesced.size() - before);
          gathered += run;
          i += run - 1;
          if (writer_.coalesce_full()) co_await flush();
          continue;
        }
      }
      gather_frame(send, where, i);
      ++gathered;
      if (writer_.coalesce_full()) co_await flush();
    }
    if (gathered > 0) report_.pass(where, last_step_, gathered);
  }

  asio::awaitable<void> run_step(const scenario::Step& step, std::optional<std::uint64_t> index) {
    last_location_ = step.location;
    // Coalesced frames go out before anything that is not another coalesced frame.
    if (!coalescible(step)) co_await flush_coalesced();
    co_await resend_nacked();
    if (aborted_) co_return;
    // perform() copies what it needs into its own frame; a coroutine lambda here would
    // outlive its captures.
    co_await std::visit([&](const auto& action) { return perform(action, step.location, index); }, step.action);
  }

  asio::awaitable<void> perform(const scenario::Repeat&, const SourceLocation&, std::optional<std::uint64_t>) {
    co_return;  // expanded by run(); repeats do not nest
  }

  asio::awaitable<void> perform(const scenario::Allow& allow, const SourceLocation& where,
                                std::optional<std::uint64_t>) {
    const bool unexpected = allow.what == scenario::Allow::What::unexpected;
    const std::string_view step = unexpected ? "allow unexpected" : "allow nacks";
    drain(where, step);
    if (unexpected) {
      book_.allow_unexpected();
    } else {
      book_.allow_nacks();
    }
    report_.pass(where, step);
    co_return;
  }

  asio::awaitable<void> perform(const scenario::Delay& delay, const SourceLocation& where,
                                std::optional<std::uint64_t>) {
    last_step_ = "delay";
    co_await sleep(delay.duration);
    drain(where, last_step_);
    report_.pass(where, last_step_);
  }

  asio::awaitable<void> perform(const scenario::Send& send, const SourceLocation& where,
                                std::optional<std::uint64_t> index) {
    co_await wait_for_window();
    if (aborted_ || !sendable(where, send, index)) co_return;
    if (const scenario::BytesValue* value = generated_as_written(send)) {
      co_await send_generated(send, *value, where, index);
      co_return;
    }
    if (coalescible(send)) {
      gather(send, where, index);
      if (writer_.coalesce_full()) co_await flush_coalesced();
      co_return;
    }
    frame_.clear();
    const scenario::FrameInfo& info = renderer_.render(send.frame(), index.value_or(0), next_opaque_, frame_);
    if (info.uses_sequence) ++next_opaque_;
    auto planned = scenario::plan_writes(frame_, send.fault(), where);
    if (!planned) {
      report_.fail(where, last_step_, "a fault plan that fits the frame", planned.error().message, index);
      co_return;
    }
    const scenario::PlannedWrites& writes = *planned;
    const std::size_t owed_before = book_.owed_count();
    owe(writes.bytes, writes.bytes.size() < frame_.size(), where);
    if (send.retransmit() > 0 && book_.owed_count() > owed_before) {
      resendable_[protocol::load_be32(frame_.data() + 12)] = Resendable{frame_, send.retransmit(), where};
    }
    trace({.kind = TraceRecord::Kind::sent, .frame = frame_, .chunks = writes.chunks, .written = writes.bytes,
           .location = where});
    for (const scenario::WriteChunk& chunk : writes.chunks) {
      if (chunk.delay_before.count() > 0) co_await sleep(chunk.delay_before);
      const std::size_t length = chunk.end - chunk.begin;
      boost::system::error_code ec;
      const std::size_t written =
          co_await writer_.write(asio::buffer(writes.bytes.data() + chunk.begin, length), ec, this->shared_from_this());
      report_.bytes_sent += written;  // what left, also when the write failed part-way
      if (ec) {
        if (options_.mutation || ended_by_trigger_) {
          trace({.note = fmt::format("the client is gone: {}", ec.message()), .location = where});
        } else {
          report_.fail(where, last_step_, "to write the frame",
                       fmt::format("writing failed after {} of {} bytes: {}", chunk.begin + written,
                                   writes.bytes.size(), writer_.failure(ec, written)),
                       index);
        }
        aborted_ = true;
        co_return;
      }
    }
    ++report_.frames_sent;
    report_.pass(where, last_step_);
  }

  // Values this large, filled or random, are generated as they are written: a 22 MiB item
  // costs a 256 KiB buffer, not its size twice over.
  static constexpr std::size_t kGeneratedAsWritten = 1024 * 1024;
  static constexpr std::size_t kGeneratedChunk = 256 * 1024;

  // The value a send generates as it writes it, if it is one: a whole well-formed item frame
  // (no faults or lies) whose fill or random value is large.
  const scenario::BytesValue* generated_as_written(const scenario::Send& send) const {
    using scenario::SendField;
    const scenario::FrameSpec& spec = send.frame();
    if (!send.fault().empty() || send.retransmit() > 0 || !model_.at_frame_boundary()) return nullptr;
    if (spec.kind != scenario::FrameKind::mutation && spec.kind != scenario::FrameKind::deletion) return nullptr;
    for (SendField lie : {SendField::magic, SendField::opcode, SendField::keylen, SendField::extlen,
                          SendField::bodylen, SendField::engine_length}) {
      if (spec.find(lie)) return nullptr;
    }
    const scenario::BytesValue* value = spec.find(scenario::SendBytes::value);
    const bool generated = value && (value->kind == scenario::BytesValue::Kind::fill ||
                                     value->kind == scenario::BytesValue::Kind::random);
    return generated && value->length >= kGeneratedAsWritten ? value : nullptr;
  }

  // Writes the frame up to its value, then the value a chunk at a time, each generated as
  // the whole render would (the same bytes for the same seed).
  asio::awaitable<void> send_generated(const scenario::Send& send, const scenario::BytesValue& value,
                                       const SourceLocation& where, std::optional<std::uint64_t> index) {
    // The frame without its value, kept per send: the renderer knows specs by address.
    auto [at, added] = heads_.try_emplace(&send.frame(), send.frame());
    if (added) at->second.set(scenario::SendBytes::value, scenario::BytesValue{});
    frame_.clear();
    const scenario::FrameInfo& info = renderer_.render(at->second, index.value_or(0), next_opaque_, frame_);
    if (info.uses_sequence) ++next_opaque_;
    protocol::Bytes head = frame_;
    namespace off = protocol::header_offset;
    protocol::store_be32(head.data() + off::bodylen,
                         protocol::load_be32(head.data() + off::bodylen) + static_cast<std::uint32_t>(value.length));
    for (const protocol::AckRequest& ack : model_.written_generated(head, frame_, value.length)) {
      book_.owe(AckTarget{ack.opaque, ack.opcode, protocol::Status::success}, where);
    }
    trace({.kind = TraceRecord::Kind::sent, .frame = head, .chunks = {{0, head.size(), Duration{0}}}, .written = head,
           .location = where});
    trace({.note = fmt::format("then its {}-byte value, generated as it is written", value.length),
           .location = where,
           .generated_bytes = value.length});
    // One bound for the whole frame, as a frame written at once has.
    const auto deadline = Clock::now() + scenario_->timeout;
    boost::system::error_code ec;
    std::size_t written = co_await writer_.write(asio::buffer(head), ec, this->shared_from_this(), deadline);
    std::size_t frame_written = written;
    report_.bytes_sent += written;
    std::size_t left = value.length;
    chunk_.resize(kGeneratedChunk + ScenarioRandomWindow);
    while (!ec && left > 0 && !aborted_) {
      // The last piece stays longer than a random window, so the draws match a whole render.
      const std::size_t n = left - std::min(left, kGeneratedChunk) <= ScenarioRandomWindow ? left : kGeneratedChunk;
      if (value.kind == scenario::BytesValue::Kind::fill) {
        std::memset(chunk_.data(), value.fill_byte, n);
      } else {
        random_.fill_text(reinterpret_cast<char*>(chunk_.data()), n);
      }
      written = co_await writer_.write(asio::buffer(chunk_.data(), n), ec, this->shared_from_this(), deadline);
      report_.bytes_sent += written;
      frame_written += written;
      left -= n;
    }
    if (ec) {
      if (!options_.mutation && !ended_by_trigger_) {
        report_.fail(where, last_step_, "to write the frame",
                     fmt::format("writing failed after {} of {} bytes: {}", frame_written, head.size() + value.length,
                                 writer_.failure(ec, frame_written)),
                     index);
      }
      aborted_ = true;
      co_return;
    }
    ++report_.frames_sent;
    report_.pass(where, last_step_);
  }

  bool coalescible(const scenario::Send& send) const {
    return scenario_->coalesce_writes && send.fault().empty() && send.retransmit() == 0;
  }
  const scenario::Send* coalescible(const scenario::Step& step) const {
    const auto* send = std::get_if<scenario::Send>(&step.action);
    return send && coalescible(*send) ? send : nullptr;
  }

  // Whether a send may go ahead: judges what arrived meanwhile, and fails the step when
  // either side has closed.
  bool sendable(const SourceLocation& where, const scenario::Send& send, std::optional<std::uint64_t> index) {
    const std::string_view statement = scenario::send_statement(send.frame().kind);
    if (last_step_ != statement) last_step_ = statement;  // not a copy per frame of a volume repeat
    drain(where, last_step_);
    if (ended_by_trigger_) return false;
    if (half_closed_ || closed_) {
      report_.fail(where, last_step_, "to send a frame", "the server already closed its side", index);
      return false;
    }
    if (inbox_.state() == Inbox::State::eof || inbox_.state() == Inbox::State::error) {
      if (!options_.mutation) report_.fail(where, last_step_, "to send a frame", inbox_.detail(), index);
      aborted_ = true;
      return false;
    }
    return true;
  }

  // Records the ACKs a correct client owes for `written`, the bytes of a send as they go on
  // the wire (`cut`: a fault wrote fewer than its frame).
  void owe(protocol::ByteView written, bool cut, const SourceLocation& where) {
    const bool was_reading = model_.reading();
    for (const protocol::AckRequest& ack : model_.written(written, cut)) {
      book_.owe(AckTarget{ack.opaque, ack.opcode, protocol::Status::success}, where);
    }
    if (was_reading && !model_.reading()) {
      trace({.note = fmt::format("a correct client reads no further: {}; no ACK is owed from here",
                                 model_.why_not_reading()),
             .location = where});
    }
  }

  // Renders a frame without faults straight into the pending coalesced write.
  void gather(const scenario::Send& send, const SourceLocation& where, std::optional<std::uint64_t> index) {
    gather_frame(send, where, index);
    report_.pass(where, last_step_);
  }

  void gather_frame(const scenario::Send& send, const SourceLocation& where, std::optional<std::uint64_t> index) {
    // Rendered apart and then gathered: the renderer's encoders write protocol::Bytes.
    gathered_frame_.clear();
    const scenario::FrameInfo& info = renderer_.render(send.frame(), index.value_or(0), next_opaque_, gathered_frame_);
    if (info.uses_sequence) ++next_opaque_;
    auto& coalesced = writer_.coalesced();
    const std::size_t start = coalesced.size();
    coalesced.insert(coalesced.end(), gathered_frame_.begin(), gathered_frame_.end());
    const std::size_t size = coalesced.size() - start;
    // A volume repeat's frames: ep-engine-shaped, small, asking nothing: nothing to decode.
    const bool plain = !info.wants_ack && size <= kPlainFrameMax && info.ep_engine_shaped;
    // A correct client reads such a frame and owes nothing for it: counted, not decoded.
    // (a part-written frame before it decides otherwise: then it is decoded)
    if (!plain || !model_.counted_plain(size)) owe(protocol::ByteView(coalesced.data() + start, size), false, where);
    writer_.end_frame();
    if (options_.trace) {
      const protocol::ByteView bytes(coalesced.data() + start, coalesced.size() - start);
      trace({.kind = TraceRecord::Kind::sent, .frame = bytes, .chunks = {{0, bytes.size(), Duration{0}}},
             .written = bytes, .location = where, .coalesced = true});
    }
  }

  // Writes the frames `writes coalesced` has gathered, in one write.
  asio::awaitable<void> flush_coalesced() {
    if (aborted_) co_return;
    boost::system::error_code ec;
    // A trace says how the gathered frames went out: one write (its bytes, for a capture).
    protocol::Bytes traced;
    if (options_.trace) traced.assign(writer_.coalesced().begin(), writer_.coalesced().end());
    const auto flushed = co_await writer_.flush(ec, this->shared_from_this());
    report_.bytes_sent += flushed.written;
    report_.frames_sent += flushed.frames;
    if (options_.trace && flushed.size > 0) {
      trace({.written = protocol::ByteView(traced).first(flushed.written),
             .note = fmt::format("{} frames went out in one write of {} bytes (writes coalesced)", flushed.frames,
                                 flushed.written),
             .location = last_location_,
             .coalesced_write = true});
    }
    if (ec && !options_.mutation && !ended_by_trigger_) {
      report_.fail(last_location_, "send (coalesced)", "to write the frames",
                   fmt::format("writing {} bytes failed after {}: {}", flushed.size, flushed.written,
                               writer_.failure(ec, flushed.written)));
    }
    if (ec) aborted_ = true;
  }

  // ---- what the client sends ---------------------------------------------------------

  void report_verdict(const AckVerdict& verdict, const SourceLocation& where, std::optional<std::uint64_t> index,
                      std::string_view step = "expect ack") {
    if (verdict.passed) {
      report_.pass(where, step);
    } else {
      report_.fail(where, step, verdict.expected, verdict.observed, index);
    }
  }

  asio::awaitable<void> perform(const scenario::ExpectAck& expect, const SourceLocation& where,
                                std::optional<std::uint64_t> index) {
    last_step_ = "expect ack";
    auto claimed = book_.claim(expect);
    if (!claimed) {
      report_.fail(where, last_step_, "a frame the client must ACK, to claim", std::string(kNothingToClaim), index);
      co_return;
    }
    claimed->owed.location = where;
    if (claimed->arrived) {
      report_verdict(book_.judge_arrived(*claimed, claimed->owed.sequence), where, index);
      co_return;
    }
    std::vector<Owed> targets{claimed->owed};
    co_await await_acks(targets, expect.within.value_or(scenario_->timeout), claimed->owed.sequence, index);
  }

  asio::awaitable<void> perform(const scenario::ExpectGroup& group, const SourceLocation& where,
                                std::optional<std::uint64_t> index) {
    if (group.kind == scenario::ExpectGroup::Kind::optional) {
      book_.tolerate(group);
      report_.pass(where, "optional");
      co_return;
    }
    last_step_ = "unordered";
    AckBook::GroupClaim claims = book_.claim_group(group, scenario_->timeout);
    for (const auto& where : claims.unclaimable) {
      report_.fail(where, "expect ack", "a frame the client must ACK, to claim", std::string(kNothingToClaim), index);
    }
    for (const auto& claimed : claims.arrived) {
      report_verdict(book_.judge_arrived(claimed, claims.newest), claimed.owed.location, index);
    }
    co_await await_acks(std::move(claims.waiting), claims.within, claims.newest, index);
  }

  // Waits for every target, in any order. Frames before them must be ACKs owed by earlier
  // sends or tolerated ones; anything else fails the wait. `newest` is the newest send the
  // expectation claims (a group's arrived members count).
  asio::awaitable<void> await_acks(std::vector<Owed> targets, Duration within, std::uint64_t newest,
                                   std::optional<std::uint64_t> index) {
    const auto deadline = Clock::now() + within;
    for (const auto& t : targets) newest = std::max(newest, t.sequence);
    while (!targets.empty()) {
      co_await resend_nacked();
      co_await inbox_.wait(deadline);
      if (ended_by_trigger_) co_return;
      if (inbox_.empty()) {
        for (const auto& t : targets) report_.fail(t.location, "expect ack", describe(t.target), silence(within), index);
        co_return;
      }
      const typename Inbox::Frame frame = inbox_.take();
      if (retransmitted(frame.header, &targets)) continue;
      after_ack(frame.header);
      if (ended_by_trigger_) co_return;
      auto hit = std::find_if(targets.begin(), targets.end(), [&](const Owed& t) { return matches(t.target, frame.header); });
      if (hit != targets.end()) {
        if (options_.trace) trace({.note = fmt::format("the ACK of opaque {:#x} answers 'expect ack' at line {}",
                                                       frame.header.opaque, hit->location.line),
                                   .location = hit->location});
        book_.overtake(hit->sequence, frame.header);
        if (hit->overtaken_by) {
          report_.fail(hit->location, "expect ack", describe(hit->target), out_of_order(*hit->overtaken_by), index);
        } else if (const auto jumped = book_.jumped_ahead(newest, book_.arrivals())) {
          report_.fail(hit->location, "expect ack", describe(hit->target),
                       fmt::format("{} first (out of order)", describe_client_frame(*jumped)), index);
        } else {
          report_.pass(hit->location, "expect ack");
        }
        targets.erase(hit);
        continue;
      }
      if (accepted(book_.accept_unclaimed(frame.header, newest), frame.header)) continue;
      // The closest target explains the miss.
      report_verdict(AckBook::judge(targets.front(), frame.header), targets.front().location, index);
      targets.erase(targets.begin());
    }
  }

  // Judges the frames that arrived while no expectation was waiting.
  void drain(const SourceLocation& where, std::string_view step) {
    while (!inbox_.empty() && !ended_by_trigger_) {
      const protocol::Header header = inbox_.take().header;
      if (retransmitted(header, nullptr)) continue;
      judge_unclaimed(header, where, step);
      after_ack(header);
    }
    if (inbox_.state() == Inbox::State::garbage && !garbage_reported_) {
      garbage_reported_ = true;
      report_.fail(where, step, "frames that decode", inbox_.detail());
    }
  }

  // A frame no expectation waits for: an owed ACK in order, or a failure reported once, at
  // the line of the frame it should have answered when there is one.
  void judge_unclaimed(const protocol::Header& frame, const SourceLocation& where, std::string_view step) {
    if (accepted(book_.accept_unclaimed(frame, std::nullopt), frame)) return;
    if (book_.strict()) {
      if (auto oldest = book_.take_oldest()) {  // it answers the oldest owed ACK, wrongly
        report_verdict(AckBook::judge(*oldest, frame), oldest->location, std::nullopt, "ack owed");
        return;
      }
    }
    report_.fail(where, step, "nothing from the client", fmt::format("unexpected {}", describe_client_frame(frame)));
  }

  // Whether the book accepted a frame; one that came out of order fails its line, once.
  bool accepted(const AckBook::Unclaimed& verdict, const protocol::Header&) {
    if (const auto& late = verdict.out_of_order) {
      report_.fail(late->location, "ack owed", describe(late->target), out_of_order(*late->overtaken_by));
    }
    return verdict.accepted;
  }

  static std::string out_of_order(const protocol::Header& first) {
    return fmt::format("{} came first (out of order: a correct client ACKs in the order the frames came)",
                       describe_client_frame(first));
  }

  // What a wait that found nothing saw. A failure that quotes the garbage has reported it, so
  // drain() does not report it again.
  std::string silence(Duration waited) {
    if (inbox_.state() == Inbox::State::garbage) garbage_reported_ = true;
    return inbox_.silence(waited);
  }

  // ---- endings -----------------------------------------------------------------------

  asio::awaitable<void> perform(const scenario::Close& close, const SourceLocation& where,
                                std::optional<std::uint64_t>) {
    last_step_ = fmt::format("close {}", scenario::name_of(close.how));
    using How = scenario::Close::How;
    switch (close.how) {
      case How::fin:
        co_await fin_then_collect(where);
        break;
      case How::rst:
        drain(where, last_step_);
        if (!book_.take_all_owed().empty()) {
          trace({.note = "the reset forgives the ACKs still owed: none of them can arrive now", .location = where});
        }
        close_now(Ending::server_rst);
        break;
      case How::half_close:
        drain(where, last_step_);
        send_fin(where);
        break;
      case How::stall:
        trace({.note = "server stalls: sends nothing more", .location = where});
        co_await wait_for_client_close(Clock::now() + scenario_->timeout, where,
                                       "the client to give up on a silent server and close");
        close_now(Ending::server_fin);
        break;
      case How::wait:
        co_await wait_for_client_close(Clock::now() + scenario_->timeout, where, "the client to close the connection");
        close_now(Ending::server_fin);
        break;
    }
    drain(where, last_step_);
    if (!report_.has_failed_at(where)) report_.pass(where, last_step_);
  }

  // Reads on until the client closes; not closing in time fails the step.
  asio::awaitable<void> wait_for_client_close(Clock::time_point deadline, const SourceLocation& where,
                                              std::string_view expected) {
    while (inbox_.open() && !ended_by_trigger_ && Clock::now() < deadline) {
      co_await inbox_.wait(deadline);
      drain(where, last_step_);
    }
    if (inbox_.open() && !ended_by_trigger_) {
      report_.fail(where, last_step_, std::string(expected),
                   fmt::format("still open after {}ms", scenario_->timeout.count()));
    }
  }

  // The end of the steps without a `close`: as `close fin`.
  asio::awaitable<void> finish_and_close(const SourceLocation& where) {
    last_step_ = half_closed_ ? "end of scenario (after half_close)" : "end of scenario (close fin)";
    co_await fin_then_collect(where);
  }

  void send_fin(const SourceLocation& where) {
    if (half_closed_) return;
    transport::half_close(stream_);
    half_closed_ = true;
    trace({.kind = TraceRecord::Kind::closed,
           .note = "server half-closed (FIN), still reading",
           .location = where,
           .ending = Ending::server_half_close});
  }

  // FIN, then reading on while ACKs are owed (the client answers the last frames after it
  // has read them), up to the timeout; then the close.
  asio::awaitable<void> fin_then_collect(const SourceLocation& where) {
    drain(where, last_step_);
    const auto deadline = Clock::now() + scenario_->timeout;
    // A frame the scenario sends again on a NACK is answered before the FIN: after it nothing
    // could be re-sent.
    while (!resendable_.empty() && inbox_.open() && !aborted_ && Clock::now() < deadline) {
      co_await resend_nacked();
      co_await inbox_.wait(deadline);
      drain(where, last_step_);
    }
    co_await resend_nacked();
    if (ended_by_trigger_) co_return;
    send_fin(where);
    while (book_.strict() && book_.oldest_owed() && inbox_.open() && Clock::now() < deadline) {
      co_await inbox_.wait(deadline);
      drain(where, last_step_);
    }
    if (book_.strict() && book_.oldest_owed()) {
      fail_missing(inbox_.open() ? fmt::format("not sent within {}ms of the server's FIN", scenario_->timeout.count())
                                 : fmt::format("{} without sending it", inbox_.detail()));
    }
    close_now(Ending::server_fin);
  }

  // Every ACK still owed fails at the line of the frame that asked for it.
  void fail_missing(const std::string& observed) {
    for (const Owed& owed : book_.take_all_owed()) {
      report_.fail(owed.location, "ack owed", describe(owed.target),
                   owed.overtaken_by ? fmt::format("{}; the client answered later frames ({} first)", observed,
                                                   describe_client_frame(*owed.overtaken_by))
                                     : observed);
    }
  }

  // At the end of a run: under the strict policy, what was never answered, and the NACKs no
  // `expect ack` asked for. (After a failed write the run's failure says enough.)
  void settle_acks() {
    if (!book_.strict() || aborted_) return;
    fail_missing(inbox_.state() == Inbox::State::eof ? fmt::format("{} without sending it", inbox_.detail())
                                                     : std::string("the connection ended without it"));
    for (const auto& nack : book_.take_unclaimed_nacks()) {
      report_.fail(nack.owed.location, "ack owed", describe(nack.owed.target),
                   fmt::format("{}, which the scenario did not ask for (`allow nacks` or `expect ack status=` would)",
                               describe_client_frame(nack.header)));
    }
  }

  // The run took longer than its limit: fail once, and end it.
  void over_limit() {
    cut_off(fmt::format("the run to end within {} (the scenario's limit; `limit` or --limit sets it)",
                        describe_duration(limit_)),
            fmt::format("still running after {}, at this line ({})", describe_duration(limit_), last_step_),
            "limit");
  }

  // Ends the run where it is, failing once at the line it was on (a reset, so nothing waits).
  void cut_off(std::string expected, std::string observed, std::string_view step = "interrupted") {
    if (aborted_ && closed_) return;
    report_.fail(last_location_, step, std::move(expected), std::move(observed));
    report_.close_books();
    aborted_ = true;
    sleep_timer_.cancel();
    close_now(Ending::server_rst);
  }

  static std::string describe_duration(Duration d) {
    return d.count() % 1000 == 0 ? fmt::format("{}s", d.count() / 1000) : fmt::format("{}ms", d.count());
  }

  void close_now(Ending how) {
    if (closed_) return;
    closed_ = true;
    if (how == Ending::server_rst) {
      transport::reset(stream_);
    } else {
      transport::close(stream_);
    }
    inbox_.stop();  // every run ends here, so a reader paused for room never holds the session
    trace({.kind = TraceRecord::Kind::closed,
           .note = how == Ending::server_rst ? "server reset the connection (RST)" : "server closed the connection",
           .location = last_location_,
           .ending = how});
  }

  // One pause at a time (the run is one coroutine); the limit cuts it short.
  asio::awaitable<void> sleep(Duration d) {
    if (aborted_) co_return;
    sleep_timer_.expires_after(d);
    boost::system::error_code ec;
    co_await sleep_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  // ---- authentication ------------------------------------------------------------------

  enum class Authenticated { yes, refused, failed };

  // The scenario's `expect sasl_*` lines, in order, each answered as it says: `refused` when
  // a line refused on purpose, `failed` when one's expectation failed.
  asio::awaitable<Authenticated> authenticate() {
    bool refused_on_purpose = false;
    for (const scenario::ExpectSasl& sasl : scenario_->sasl) {
      const bool listing = sasl.what == scenario::ExpectSasl::What::list_mechs;
      last_location_ = sasl.location;
      last_step_ = listing ? "expect sasl_list_mechs" : "expect sasl_auth";
      const protocol::Opcode opcode = listing ? protocol::Opcode::sasl_list_mechs : protocol::Opcode::sasl_auth;
      const std::string expected = fmt::format("a {} request", protocol::name_of(opcode));
      co_await inbox_.wait(Clock::now() + scenario_->timeout);
      if (inbox_.empty()) {
        report_.fail(sasl.location, last_step_, expected, silence(scenario_->timeout));
        co_return Authenticated::failed;
      }
      const typename Inbox::Frame frame = inbox_.take();
      if (frame.header.magic != protocol::Magic::request || frame.header.opcode != opcode) {
        report_.fail(sasl.location, last_step_, expected, describe_client_frame(frame.header));
        co_return Authenticated::failed;
      }
      protocol::Bytes reply;
      if (listing) {
        protocol::encode_sasl_response(reply, opcode, frame.header.opaque, protocol::Status::success, sasl.mechs);
        report_.pass(sasl.location, last_step_);
      } else {
        const auto problem = judge_auth(sasl, frame);
        const bool refused = sasl.refuse || problem;
        protocol::encode_sasl_response(reply, opcode, frame.header.opaque,
                                       refused ? protocol::Status::auth_error : protocol::Status::success,
                                       refused ? "Auth failure" : "Authenticated");
        if (problem) {
          report_.fail(sasl.location, last_step_, describe_auth(sasl), *problem);
        } else {
          report_.pass(sasl.location, last_step_);
        }
        refused_on_purpose = sasl.refuse;
      }
      trace({.kind = TraceRecord::Kind::sent, .frame = reply, .chunks = {{0, reply.size(), Duration{0}}},
             .written = reply, .location = sasl.location});
      boost::system::error_code ec;
      const std::size_t written = co_await writer_.write(asio::buffer(reply), ec, this->shared_from_this());
      report_.bytes_sent += written;
      if (ec) {
        report_.fail(sasl.location, last_step_, "to write the answer", writer_.failure(ec, written));
        co_return Authenticated::failed;
      }
      ++report_.frames_sent;
      if (report_.has_failed_at(sasl.location)) co_return Authenticated::failed;
      if (refused_on_purpose) co_return Authenticated::refused;
    }
    co_return Authenticated::yes;
  }

  // Whether a SASL_AUTH frame says what the line expects: mechanism PLAIN, and the user and
  // password it names.
  static std::optional<std::string> judge_auth(const scenario::ExpectSasl& sasl, const typename Inbox::Frame& frame) {
    const protocol::Header& h = frame.header;
    const std::size_t key_at = protocol::kHeaderSize + h.extlen;
    const std::string_view bytes(reinterpret_cast<const char*>(frame.bytes.data()), frame.bytes.size());
    const std::string_view mechanism = bytes.substr(key_at, h.keylen);
    if (mechanism != "PLAIN") return fmt::format("mechanism {:?}, not PLAIN", mechanism);
    const auto body = protocol::ByteView(frame.bytes).subspan(key_at + h.keylen);
    const auto credentials = protocol::parse_sasl_plain(body);
    if (!credentials) return std::string("a PLAIN body that is not [authzid] NUL user NUL password");
    if (sasl.user && credentials->user != *sasl.user) return fmt::format("user {:?}", credentials->user);
    if (sasl.password && credentials->password != *sasl.password) {
      return fmt::format("user {:?} with another password", credentials->user);
    }
    return std::nullopt;
  }

  static std::string describe_auth(const scenario::ExpectSasl& sasl) {
    std::string out = "SASL_AUTH PLAIN";
    if (sasl.user) out += fmt::format(" user {:?}", *sasl.user);
    if (sasl.password) out += " with the scenario's password";
    return out;
  }

  // ---- NACKs answered with a retransmit ---------------------------------------------------

  // A NACK of a frame sent with `retransmit=`: the frame goes out again with a new opaque,
  // whose ACK is owed instead (to the book, or to the `expect ack` in `waiting` that claimed
  // the NACKed one). Any other answer to such a frame ends its retransmits.
  bool retransmitted(const protocol::Header& header, std::vector<Owed>* waiting) {
    if (header.magic != protocol::Magic::response) return false;
    const auto found = resendable_.find(header.opaque);
    if (found == resendable_.end()) return false;
    if (!is_nack(header.status())) {
      resendable_.erase(found);
      return false;
    }
    Owed* claimed = nullptr;
    if (waiting) {
      for (Owed& target : *waiting) {
        if (target.target.opaque == header.opaque) claimed = &target;
      }
    }
    if (!claimed && !book_.take_nacked(header)) return false;
    Resendable again = std::move(found->second);
    resendable_.erase(found);
    const std::uint32_t opaque = next_opaque_++;
    protocol::store_be32(again.frame.data() + 12, opaque);
    const auto opcode = static_cast<protocol::Opcode>(again.frame[1]);
    if (claimed) {
      claimed->target.opaque = opaque;
    } else {
      book_.owe(AckTarget{opaque, opcode, protocol::Status::success}, again.location);
    }
    --again.remaining;
    trace({.note = fmt::format("{} NACKs opaque {:#x}: the frame goes out again as opaque {:#x} ({} more "
                               "retransmits allowed)",
                               describe_client_frame(header), header.opaque, opaque, again.remaining),
           .location = again.location});
    if (again.remaining > 0) resendable_[opaque] = again;
    resends_.push_back(std::move(again));
    return true;
  }

  // Writes the retransmits that NACKs asked for.
  asio::awaitable<void> resend_nacked() {
    while (!resends_.empty() && !aborted_ && !closed_ && !half_closed_) {
      const Resendable again = std::move(resends_.front());
      resends_.pop_front();
      trace({.kind = TraceRecord::Kind::sent, .frame = again.frame, .chunks = {{0, again.frame.size(), Duration{0}}},
             .written = again.frame, .location = again.location});
      boost::system::error_code ec;
      const std::size_t written = co_await writer_.write(asio::buffer(again.frame), ec, this->shared_from_this());
      report_.bytes_sent += written;
      if (ec) {
        if (!ended_by_trigger_) {
          report_.fail(again.location, "retransmit", "to write the frame again", writer_.failure(ec, written));
        }
        aborted_ = true;
        co_return;
      }
      ++report_.frames_sent;
      report_.pass(again.location, "retransmit");
    }
  }

  // ---- the ACK window ------------------------------------------------------------------

  bool window_full() const {
    return scenario_->ack_window && book_.owed_count() >= scenario_->ack_window->size;
  }

  // While the window is full the producer sends nothing; each ACK renews the grace period,
  // and a window full for the whole of it drops the client (ep-engine's manageConnections).
  asio::awaitable<void> wait_for_window() {
    if (!window_full() || aborted_) co_return;
    const scenario::AckWindow& window = *scenario_->ack_window;
    trace({.note = fmt::format("the ACK window is full ({} ACK requests unanswered): the producer waits",
                               book_.owed_count()),
           .location = window.location});
    auto deadline = Clock::now() + window.grace;
    std::size_t owed = book_.owed_count();
    while (window_full() && !aborted_ && inbox_.open() && Clock::now() < deadline) {
      co_await inbox_.wait(deadline);
      drain(last_location_, "ack_window");
      if (book_.owed_count() < owed) deadline = Clock::now() + window.grace;
      owed = book_.owed_count();
    }
    if (!window_full() || aborted_) co_return;
    report_.fail(window.location, "ack_window",
                 fmt::format("the client to answer ACK requests while the window of {} is full", window.size),
                 inbox_.open() ? fmt::format("{} ACK requests unanswered for {}; the producer drops the connection",
                                             owed, describe_duration(window.grace))
                               : inbox_.detail());
    aborted_ = true;
    close_now(Ending::server_fin);
  }

  // ---- faults the client's ACKs trigger ------------------------------------------------

  asio::awaitable<void> perform(const scenario::Trigger& trigger, const SourceLocation& where,
                                std::optional<std::uint64_t>) {
    drain(where, "on ack");  // ACKs before the line do not count
    armed_.push_back(Armed{trigger, where});
    co_return;
  }

  // An ACK arrived and was judged: the armed faults it sets off end the connection now.
  void after_ack(const protocol::Header& header) {
    if (armed_.empty() || header.magic != protocol::Magic::response || header.status() != protocol::Status::success) {
      return;
    }
    for (Armed& armed : armed_) {
      if (armed.fired || ended_by_trigger_) continue;
      const bool hit = armed.trigger.when == scenario::Trigger::When::ack_of_opaque
                           ? header.opaque == armed.trigger.value
                           : ++armed.counted == armed.trigger.value;
      if (hit) fire(armed, header);
    }
  }

  void fire(Armed& armed, const protocol::Header& by) {
    armed.fired = true;
    const bool rst = armed.trigger.how == scenario::Close::How::rst;
    report_.pass(armed.location, "on ack");
    trace({.note = fmt::format("{} sets off 'on ack': the server {} the connection", describe_client_frame(by),
                               rst ? "resets" : "closes"),
           .location = armed.location});
    // What the client still owes can no longer arrive: forgiven, as after `close rst`.
    book_.take_all_owed();
    resendable_.clear();
    resends_.clear();
    ended_by_trigger_ = true;
    aborted_ = true;
    sleep_timer_.cancel();
    if (rst) {
      close_now(Ending::server_rst);
    } else {
      close_now(Ending::server_fin);
    }
  }

  // An armed fault the client never set off fails its line (unless the run failed first).
  void settle_triggers() {
    if (aborted_) return;
    for (const Armed& armed : armed_) {
      if (armed.fired) continue;
      const scenario::Trigger& t = armed.trigger;
      report_.fail(armed.location, "on ack",
                   t.when == scenario::Trigger::When::ack_of_opaque
                       ? fmt::format("the client's ACK for opaque {:#x}, which ends the connection", t.value)
                       : fmt::format("{} ACKs from the client after this line, which end the connection", t.value),
                   t.when == scenario::Trigger::When::ack_of_opaque
                       ? std::string("it never came")
                       : fmt::format("{} came", armed.counted));
    }
  }

  void trace(TraceRecord record) {
    if (!options_.trace) return;
    record.at = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_);
    options_.trace(record);
  }

  Stream stream_;
  std::shared_ptr<const Scenario> scenario_;
  EngineOptions options_;
  scenario::ScenarioRandom random_;
  scenario::FrameRenderer renderer_;
  protocol::Bytes frame_;  // the frame being sent (faults apply to it)
  protocol::Bytes gathered_frame_;  // a coalesced frame rendered in full, before it joins the write
  Inbox inbox_;
  FrameWriter<Stream> writer_;
  AckBook book_;
  Report report_;
  Clock::time_point started_;
  Duration limit_;
  Clock::time_point limit_at_;
  asio::steady_timer limit_timer_;
  asio::steady_timer sleep_timer_;

  ClientModel model_;              // decides which ACKs the client owes
  std::uint32_t next_opaque_ = 1;  // ep-engine's tap_ack_initial_sequence_number
  std::unordered_map<std::uint32_t, Resendable> resendable_;
  std::deque<Resendable> resends_;  // NACKed, to be written
  static constexpr std::size_t ScenarioRandomWindow = 2 * scenario::ScenarioRandom::kMaxWindow;
  std::unordered_map<const scenario::FrameSpec*, scenario::FrameSpec> heads_;  // large-value sends, valueless
  protocol::Bytes chunk_;  // a generated value's piece
  std::vector<Armed> armed_;
  bool ended_by_trigger_ = false;

  bool garbage_reported_ = false;
  bool half_closed_ = false;
  bool closed_ = false;
  bool aborted_ = false;
  SourceLocation last_location_;
  std::string last_step_ = "expect connect";
};

}  // namespace detail

}  // namespace tapharness::mockserver
