// The socket-free scenario engine: runs one parsed scenario over any stream (in memory in
// unit tests, TCP in tap_mockserver) and reports every step.
//
//   async_run_scenario(std::move(stream), scenario, {}, [](Report report) { ... });
//
// The engine reads the client's TAP_CONNECT, then performs the steps in order while a
// reader collects what the client sends by protocol framing. Each frame is written exactly
// as planned: one write per planned chunk, faults applied byte for byte. Every wait is
// bounded by the step's `within` or the scenario's `timeout`, and so is every write (a
// client that stops reading is cut off), so a run always ends.
//
// Client frames are judged as they are met:
// - an `expect ack` (or `unordered` group) takes the next frame, which must be its ACK;
//   ACKs for earlier sends that asked for one, and `optional` ACKs, may come before it;
// - between expectations, an ACK for any send that asked for one is accepted (in send
//   order under `acks auto`, which also requires them by the end); an `expect ack` that
//   later claims that send is judged on the ACK that came (a client may answer while the
//   server is still sending);
// - anything else fails the step during which it arrived, unless `allow unexpected`.
//
// Use one session per stream, from one thread (or a strand) at a time.
#pragma once

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <fmt/format.h>

#include "mockserver/expectations.hpp"
#include "mockserver/fault_plan.hpp"
#include "mockserver/frame_render.hpp"
#include "mockserver/report.hpp"
#include "mockserver/scenario.hpp"
#include "mockserver/transport.hpp"
#include "protocol/frame_buffer.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/tap_connect.hpp"
#include "third_party/asio.hpp"

namespace tapharness::mockserver {

// One thing that happened on the connection, for --trace transcripts.
struct TraceRecord {
  enum class Kind { sent, received, note };
  Kind kind = Kind::note;
  Duration at{0};                   // since the session started
  protocol::ByteView frame;         // sent: as planned (after lies); received: the whole frame
  std::vector<WriteChunk> chunks;   // sent: how the planned bytes went out
  protocol::ByteView written;       // sent: the bytes after corruption and truncation
  std::string note;
  SourceLocation location;
};

using TraceSink = std::function<void(const TraceRecord&)>;

struct EngineOptions {
  std::optional<std::uint64_t> seed;  // overrides the scenario's seed
  TraceSink trace;                    // may be empty
  std::size_t connection = 1;         // for the report
  // Mutation mode: the client may leave at any point, so a send to a departed client ends
  // the run without failing it (mutation.hpp).
  bool mutation = false;
  // What a client may send: a TAP_CONNECT with a long vbucket list fits easily.
  protocol::Limits client_limits{.max_body = 1 << 20, .max_key = 4096, .max_extras = 64};
};

namespace detail {

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream stream, std::shared_ptr<const Scenario> scenario, EngineOptions options)
      : stream_(std::move(stream)),
        scenario_(std::move(scenario)),
        options_(std::move(options)),
        random_(options_.seed.value_or(scenario_->seed)),
        renderer_(random_),
        decoder_(options_.client_limits),
        signal_(stream_.get_executor()),
        report_(scenario_->name, options_.connection),
        started_(std::chrono::steady_clock::now()),
        room_(stream_.get_executor()) {}

  asio::awaitable<Report> run(std::shared_ptr<Session> self) {
    asio::co_spawn(stream_.get_executor(), read_loop(self), asio::detached);
    if (co_await expect_connect()) {
      for (const Step& step : scenario_->steps) {
        if (aborted_) break;
        if (const auto* repeat = std::get_if<Repeat>(&step.action)) {
          for (std::uint64_t i = 0; i < repeat->count && !aborted_; ++i) {
            for (const Step& inner : repeat->body) {
              if (aborted_) break;
              if (runner_only(inner)) continue;
              // A coalesced frame is only rendered: no coroutine per frame of a volume run.
              if (coalescible(inner) && sendable(inner.location, std::get<Send>(inner.action), i)) {
                gather(std::get<Send>(inner.action), inner.location, i);
                if (coalesced_.size() >= kCoalesceLimit) co_await flush_coalesced();
                continue;
              }
              co_await run_step(inner, i);
            }
          }
        } else {
          co_await run_step(step, std::nullopt);
        }
      }
      co_await flush_coalesced();
      if (!closed_) co_await finish_and_close(last_location_);
    } else {
      close_now([](Stream& s) { transport::close(s); });
    }
    drain(last_location_, last_step_);
    co_return std::move(report_);
  }

 private:
  struct ClientFrame {
    protocol::Header header;
    protocol::Bytes bytes;
  };

  // A send that asked for an ACK and that no `expect ack` has claimed yet.
  struct Owed {
    std::uint64_t sequence = 0;  // send order
    AckTarget target;
    SourceLocation location;
  };

  // An ACK that came before any `expect ack` claimed its send (accept_unclaimed()).
  struct Arrived {
    Owed owed;
    protocol::Header header;
    std::uint64_t arrival = 0;  // its place among the arrived ACKs
  };

  enum class ClientState { open, eof, error, garbage };

  using Clock = std::chrono::steady_clock;

  // ---- reading -----------------------------------------------------------------------

  asio::awaitable<void> read_loop([[maybe_unused]] std::shared_ptr<Session> self) {
    protocol::FrameBuffer buffer(16 * 1024);
    std::size_t need = protocol::kHeaderSize;
    while (client_ == ClientState::open && !read_stopped_) {
      if (inbox_.size() >= kInboxLimit) {
        // A client that floods us while the script delays or stalls meets TCP backpressure,
        // the way a real server's would, instead of growing the inbox.
        co_await wait_for_room();
        continue;
      }
      auto space = buffer.prepare(need);
      boost::system::error_code ec;
      const std::size_t n = co_await stream_.async_read_some(
          asio::buffer(space.data(), space.size()), asio::redirect_error(asio::use_awaitable, ec));
      buffer.commit(n);
      for (;;) {
        auto result = decoder_.decode(buffer.data());
        if (auto* d = std::get_if<protocol::Decoded>(&result)) {
          ClientFrame frame{d->frame.header,
                            protocol::Bytes(buffer.data().begin(), buffer.data().begin() + d->consumed)};
          trace({.kind = TraceRecord::Kind::received, .frame = frame.bytes, .location = last_location_});
          inbox_.push_back(std::move(frame));
          ++report_.frames_received;
          buffer.consume(d->consumed);
        } else if (auto* more = std::get_if<protocol::NeedMore>(&result)) {
          need = more->bytes;
          break;
        } else {
          client_ = ClientState::garbage;
          client_detail_ = fmt::format("the client sent bytes that do not decode: {}",
                                       std::get<protocol::DecodeError>(result));
          break;
        }
      }
      if (ec && client_ == ClientState::open && !read_stopped_) {
        if (ec == asio::error::eof) {
          client_ = ClientState::eof;
          client_detail_ = buffer.empty()
                               ? "the client closed the connection"
                               : fmt::format("the client closed the connection inside a frame ({} bytes)",
                                             buffer.size());
        } else {
          client_ = ClientState::error;
          client_detail_ = fmt::format("the connection failed: {}", ec.message());
        }
      }
      if (client_ != ClientState::open) trace({.note = client_detail_, .location = last_location_});
      signal_.cancel();
    }
  }

  asio::awaitable<void> wait_for_room() {
    waiting_for_room_ = true;
    room_.expires_at(Clock::time_point::max());
    boost::system::error_code ec;
    co_await room_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    waiting_for_room_ = false;
  }

  // The oldest frame the client sent; the reader resumes if it had paused for room.
  ClientFrame take_frame() {
    ClientFrame frame = std::move(inbox_.front());
    inbox_.pop_front();
    if (waiting_for_room_) room_.cancel();
    return frame;
  }

  // Waits until the inbox holds a frame, the client is done, or `deadline`.
  asio::awaitable<void> wait_for_frame(Clock::time_point deadline) {
    while (inbox_.empty() && client_ == ClientState::open && !read_stopped_ && Clock::now() < deadline) {
      signal_.expires_at(deadline);
      boost::system::error_code ec;
      co_await signal_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  asio::awaitable<void> sleep(Duration d) {
    asio::steady_timer timer(stream_.get_executor(), d);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  // What a wait that found nothing saw. A failure that quotes the garbage has reported it, so
  // drain() does not report it again.
  std::string silence(Duration waited) {
    if (client_ == ClientState::garbage) garbage_reported_ = true;
    if (client_ != ClientState::open) return client_detail_;
    if (read_stopped_) return "nothing before the server stopped reading";
    return fmt::format("nothing within {}ms", waited.count());
  }

  // ---- the connect -------------------------------------------------------------------

  asio::awaitable<bool> expect_connect() {
    const SourceLocation& where = scenario_->connect_location.line > 0
                                      ? scenario_->connect_location
                                      : implicit_location();
    last_location_ = where;
    last_step_ = "expect connect";
    const std::string expected = describe(scenario_->connect);
    co_await wait_for_frame(Clock::now() + scenario_->timeout);
    if (inbox_.empty()) {
      report_.fail(where, last_step_, expected, silence(scenario_->timeout));
      co_return false;
    }
    ClientFrame frame = take_frame();
    if (frame.header.opcode != protocol::Opcode::tap_connect) {
      report_.fail(where, last_step_, expected, describe_client_frame(frame.header));
      co_return false;
    }
    protocol::FrameDecoder decoder;
    auto decoded = std::get<protocol::Decoded>(decoder.decode(frame.bytes));
    auto request = protocol::decode_tap_connect(decoded.frame);
    if (auto* error = std::get_if<protocol::DecodeError>(&request)) {
      report_.fail(where, last_step_, expected, fmt::format("a TAP_CONNECT that does not decode: {}", *error));
      co_return false;
    }
    const auto mismatch = match_connect(scenario_->connect, std::get<protocol::TapConnectRequest>(request));
    if (!mismatch.empty()) {
      report_.fail(where, last_step_, expected,
                   fmt::format("{} ({})", fmt::format("{}", std::get<protocol::TapConnectRequest>(request)), mismatch));
      co_return false;
    }
    report_.pass(where, last_step_);
    co_return true;
  }

  SourceLocation implicit_location() const { return SourceLocation{scenario_->path, 0, 0}; }

  // ---- steps -------------------------------------------------------------------------

  asio::awaitable<void> run_step(const Step& step, std::optional<std::uint64_t> index) {
    if (runner_only(step)) co_return;
    last_location_ = step.location;
    // Coalesced frames go out before anything that is not another coalesced frame.
    if (!coalescible(step)) co_await flush_coalesced();
    // perform() copies what it needs into its own frame; a coroutine lambda here would
    // outlive its captures.
    co_await std::visit([&](const auto& action) { return perform(action, step.location, index); },
                        step.action);
  }

  asio::awaitable<void> perform(const ExpectConnect&, const SourceLocation&, std::optional<std::uint64_t>) {
    co_return;  // handled before the steps
  }
  asio::awaitable<void> perform(const ClientEvent&, const SourceLocation&, std::optional<std::uint64_t>) {
    co_return;  // runner_only: never reached
  }
  asio::awaitable<void> perform(const Repeat&, const SourceLocation&, std::optional<std::uint64_t>) {
    co_return;  // expanded by run(); repeats do not nest
  }
  asio::awaitable<void> perform(const AllowUnexpected&, const SourceLocation& where,
                                std::optional<std::uint64_t>) {
    drain(where, "allow unexpected");
    allow_unexpected_ = true;
    report_.pass(where, "allow unexpected");
    co_return;
  }

  asio::awaitable<void> perform(const Delay& delay, const SourceLocation& where, std::optional<std::uint64_t>) {
    last_step_ = "delay";
    co_await sleep(delay.duration);
    drain(where, last_step_);
    report_.pass(where, last_step_);
  }

  asio::awaitable<void> perform(const Send& send, const SourceLocation& where,
                                std::optional<std::uint64_t> index) {
    if (!sendable(where, send, index)) co_return;
    if (coalescible(send)) {
      gather(send, where, index);
      if (coalesced_.size() >= kCoalesceLimit) co_await flush_coalesced();
      co_return;
    }
    frame_.clear();
    const FrameInfo& frame = renderer_.render(send.frame, index.value_or(0), next_opaque_, frame_);
    owe(frame, where);
    auto planned = plan_writes(frame_, send.fault);
    if (auto* problem = std::get_if<std::string>(&planned)) {
      report_.fail(where, last_step_, "a fault plan that fits the frame", *problem, index);
      co_return;
    }
    const auto& writes = std::get<PlannedWrites>(planned);
    trace({.kind = TraceRecord::Kind::sent, .frame = frame_, .chunks = writes.chunks, .written = writes.bytes,
           .location = where});
    for (const WriteChunk& chunk : writes.chunks) {
      if (chunk.delay_before.count() > 0) co_await sleep(chunk.delay_before);
      const std::size_t length = chunk.end - chunk.begin;
      boost::system::error_code ec;
      const std::size_t written =
          co_await write_bounded(asio::buffer(writes.bytes.data() + chunk.begin, length), ec);
      if (ec && options_.mutation) {
        trace({.note = fmt::format("the client is gone: {}", ec.message()), .location = where});
        aborted_ = true;
        co_return;
      }
      if (ec) {
        const std::string why =
            write_stalled_ ? fmt::format("not done within {}ms (the client is not reading)",
                                           scenario_->timeout.count())
                           : ec.message();
        report_.fail(where, last_step_, "to write the frame",
                     fmt::format("writing failed after {} of {} bytes: {}", chunk.begin + written,
                                 writes.bytes.size(), why),
                     index);
        aborted_ = true;
        co_return;
      }
      report_.bytes_sent += length;
    }
    ++report_.frames_sent;
    report_.pass(where, last_step_);
  }

  // Writes all of `bytes`. A client that stops reading (or vanishes without FIN or RST) would
  // hold the write forever, so a write that is not done within the scenario's timeout closes
  // the connection and fails with operation_aborted (write_stalled_ says why).
  asio::awaitable<std::size_t> write_bounded(asio::const_buffer bytes, boost::system::error_code& ec) {
    const std::uint64_t generation = ++write_generation_;
    asio::steady_timer guard(stream_.get_executor(), scenario_->timeout);
    guard.async_wait([self = this->shared_from_this(), generation](boost::system::error_code expired) {
      if (expired || self->write_generation_ != generation) return;  // the write finished first
      self->write_stalled_ = true;
      self->close_now([](Stream& s) { transport::close(s); });
    });
    const std::size_t written =
        co_await asio::async_write(stream_, bytes, asio::redirect_error(asio::use_awaitable, ec));
    ++write_generation_;
    co_return written;
  }

  // What an `expect ack` claims: a send that asked for an ACK, and the ACK itself when it
  // came before the claim (accepted between expectations, see accept_unclaimed()).
  struct Claim {
    Owed owed;
    std::optional<protocol::Header> arrived;
    std::uint64_t arrival = 0;  // when it arrived, in arrived_'s count
  };

  static constexpr std::size_t kCoalesceLimit = 64 * 1024;

  // "send mutation" and the like, made once rather than per frame.
  static const std::string& send_step_name(FrameKind kind) {
    static const auto names = [] {
      std::vector<std::string> out;
      for (const auto& entry : all_frame_kinds()) out.push_back(fmt::format("send {}", entry.name));
      return out;
    }();
    return names[static_cast<std::size_t>(kind)];
  }

  // A `client event` line says what the client must report; the runner checks it, and the
  // server does nothing for it (so it neither waits nor splits coalesced writes).
  static bool runner_only(const Step& step) { return std::holds_alternative<ClientEvent>(step.action); }

  bool coalescible(const Send& send) const { return scenario_->coalesce_writes && send.fault.empty(); }
  bool coalescible(const Step& step) const {
    const auto* send = std::get_if<Send>(&step.action);
    return send && coalescible(*send);
  }

  // Whether a send may go ahead: judges what arrived meanwhile, and fails the step when
  // either side has closed.
  bool sendable(const SourceLocation& where, const Send& send, std::optional<std::uint64_t> index) {
    last_step_ = send_step_name(send.frame.kind);
    drain(where, last_step_);
    if (half_closed_ || closed_) {
      report_.fail(where, last_step_, "to send a frame", "the server already closed its side", index);
      return false;
    }
    if (client_ == ClientState::eof || client_ == ClientState::error) {
      if (!options_.mutation) report_.fail(where, last_step_, "to send a frame", client_detail_, index);
      aborted_ = true;
      return false;
    }
    return true;
  }

  // Records the ACK a sent frame asked for, and advances the producer sequence.
  void owe(const FrameInfo& frame, const SourceLocation& where) {
    if (frame.uses_sequence) ++next_opaque_;
    if (frame.wants_ack) {
      owed_.push_back(Owed{sequence_++, AckTarget{frame.opaque, frame.opcode, protocol::Status::success}, where});
    }
  }

  // Renders a frame without faults straight into the pending coalesced write.
  void gather(const Send& send, const SourceLocation& where, std::optional<std::uint64_t> index = {}) {
    const std::size_t start = coalesced_.size();
    owe(renderer_.render(send.frame, index.value_or(0), next_opaque_, coalesced_), where);
    if (options_.trace) {
      const protocol::ByteView bytes(coalesced_.data() + start, coalesced_.size() - start);
      trace({.kind = TraceRecord::Kind::sent, .frame = bytes, .chunks = {{0, bytes.size(), Duration{0}}},
             .written = bytes, .location = where});
    }
    ++report_.frames_sent;
    report_.pass(where, last_step_);
  }

  // Writes the frames `writes coalesced` has gathered, in one write.
  asio::awaitable<void> flush_coalesced() {
    if (coalesced_.empty() || aborted_) co_return;
    boost::system::error_code ec;
    co_await write_bounded(asio::buffer(coalesced_), ec);
    if (ec && !options_.mutation) {
      report_.fail(last_location_, "send (coalesced)", "to write the frames",
                   fmt::format("writing {} bytes failed: {}", coalesced_.size(),
                               write_stalled_ ? fmt::format("not done within {}ms (the client is not reading)",
                                                            scenario_->timeout.count())
                                              : ec.message()));
    }
    if (ec) aborted_ = true;
    if (!ec) report_.bytes_sent += coalesced_.size();
    coalesced_.clear();
  }

  // The ACK an `expect ack` stands for: the named opaque, or the oldest unclaimed send,
  // whether its ACK is still owed or came already.
  std::optional<Claim> claim(const ExpectAck& expect) {
    auto named = [&](std::uint32_t opaque) {
      return [opaque](const Owed& o) { return o.target.opaque == opaque; };
    };
    // owed_ is in send order; arrived_ is in the order the ACKs came.
    auto owed_it = expect.opaque ? std::find_if(owed_.begin(), owed_.end(), named(*expect.opaque)) : owed_.begin();
    auto arrived_it = arrived_.end();
    for (auto it = arrived_.begin(); it != arrived_.end(); ++it) {
      if (expect.opaque && !named(*expect.opaque)(it->owed)) continue;
      if (arrived_it == arrived_.end() || it->owed.sequence < arrived_it->owed.sequence) arrived_it = it;
    }
    const bool take_arrived =
        arrived_it != arrived_.end() && (owed_it == owed_.end() || arrived_it->owed.sequence < owed_it->sequence);
    std::optional<Claim> claimed;
    if (take_arrived) {
      claimed = Claim{arrived_it->owed, arrived_it->header, arrived_it->arrival};
      arrived_.erase(arrived_it);
    } else if (owed_it != owed_.end()) {
      claimed = Claim{*owed_it, std::nullopt};
      owed_.erase(owed_it);
    } else if (expect.opaque) {
      claimed = Claim{Owed{sequence_++, AckTarget{*expect.opaque, std::nullopt, std::nullopt}, {}}, std::nullopt};
    }
    if (!claimed) return std::nullopt;
    if (expect.opcode) claimed->owed.target.opcode = expect.opcode;
    claimed->owed.target.status = expect.status;
    return claimed;
  }

  // Judges a claim whose ACK came before it, as await_acks() would have: an ACK for a send
  // after `newest` (the newest send the expectation waits for) must not have come first.
  void judge_arrived(const Claim& claimed, std::uint64_t newest, std::optional<std::uint64_t> index) {
    const Owed& owed = claimed.owed;
    if (const Arrived* jumped = jumped_ahead(newest, claimed.arrival)) {
      report_.fail(owed.location, "expect ack", describe(owed.target),
                   fmt::format("{} first (out of order)", describe_client_frame(jumped->header)), index);
      return;
    }
    judge_ack(owed, *claimed.arrived, index);
  }

  // An ACK that came before arrival number `before` for a send after `newest`: one that
  // jumped ahead of what an expectation waits for.
  const Arrived* jumped_ahead(std::uint64_t newest, std::uint64_t before) const {
    for (const Arrived& other : arrived_) {
      if (other.arrival < before && other.owed.sequence > newest) return &other;
    }
    return nullptr;
  }

  asio::awaitable<void> perform(const ExpectAck& expect, const SourceLocation& where,
                                std::optional<std::uint64_t> index) {
    last_step_ = "expect ack";
    auto claimed = claim(expect);
    if (!claimed) {
      report_.fail(where, last_step_, "a send with `ack` to acknowledge", "no such send", index);
      co_return;
    }
    claimed->owed.location = where;
    if (claimed->arrived) {
      judge_arrived(*claimed, claimed->owed.sequence, index);
      co_return;
    }
    std::vector<Owed> targets{claimed->owed};
    co_await await_acks(targets, expect.within.value_or(scenario_->timeout), claimed->owed.sequence, index);
  }

  asio::awaitable<void> perform(const ExpectGroup& group, const SourceLocation& where,
                                std::optional<std::uint64_t> index) {
    if (group.kind == ExpectGroup::Kind::optional) {
      for (const auto& item : group.items) {
        auto claimed = claim(item.ack);
        if (claimed && !claimed->arrived) tolerated_.push_back(claimed->owed);  // arrived: nothing to wait for
      }
      report_.pass(where, "optional");
      co_return;
    }
    last_step_ = "unordered";
    std::vector<Owed> targets;
    std::vector<Claim> arrived;
    std::uint64_t newest = 0;
    Duration within{0};
    for (const auto& item : group.items) {
      auto claimed = claim(item.ack);
      if (!claimed) {
        report_.fail(item.location, "expect ack", "a send with `ack` to acknowledge", "no such send", index);
        continue;
      }
      claimed->owed.location = item.location;
      newest = std::max(newest, claimed->owed.sequence);
      if (claimed->arrived) {
        arrived.push_back(*claimed);
        continue;
      }
      targets.push_back(claimed->owed);
      within = std::max(within, item.ack.within.value_or(scenario_->timeout));
    }
    for (const Claim& claimed : arrived) judge_arrived(claimed, newest, index);
    co_await await_acks(targets, within, newest, index);
  }

  // Waits for every target, in any order. Frames before them must be ACKs owed by earlier
  // sends or tolerated ones; anything else fails the wait.
  // `newest` is the newest send the expectation claims (a group's arrived members count).
  asio::awaitable<void> await_acks(std::vector<Owed> targets, Duration within, std::uint64_t newest,
                                   std::optional<std::uint64_t> index) {
    const auto deadline = Clock::now() + within;
    for (const auto& t : targets) newest = std::max(newest, t.sequence);
    while (!targets.empty()) {
      co_await wait_for_frame(deadline);
      if (inbox_.empty()) {
        for (const auto& t : targets) {
          report_.fail(t.location, "expect ack", describe(t.target), silence(within), index);
        }
        co_return;
      }
      ClientFrame frame = take_frame();
      auto hit = std::find_if(targets.begin(), targets.end(),
                              [&](const Owed& t) { return matches(t.target, frame.header); });
      if (hit != targets.end()) {
        if (const Arrived* jumped = jumped_ahead(newest, arrivals_)) {
          report_.fail(hit->location, "expect ack", describe(hit->target),
                       fmt::format("{} first (out of order)", describe_client_frame(jumped->header)), index);
        } else {
          report_.pass(hit->location, "expect ack");
        }
        targets.erase(hit);
        continue;
      }
      if (accept_unclaimed(frame.header, newest)) continue;
      // The closest target explains the miss.
      judge_ack(targets.front(), frame.header, index);
      targets.erase(targets.begin());
    }
  }

  // Passes `t` when `frame` is its ACK, or fails it showing the closest miss.
  void judge_ack(const Owed& t, const protocol::Header& frame, std::optional<std::uint64_t> index) {
    if (matches(t.target, frame)) {
      report_.pass(t.location, "expect ack");
      return;
    }
    const auto miss = near_miss(t.target, frame);
    report_.fail(t.location, "expect ack", describe(t.target),
                 fmt::format("{}{}", describe_client_frame(frame), miss.empty() ? "" : " (" + miss + ")"), index);
  }

  // An ACK for an earlier send that asked for one (sent before `before`, or any when
  // nothing is awaited), an `optional` one, or anything under `allow unexpected`. An
  // accepted ACK for a send is kept in arrived_: an `expect ack` that claims that send later
  // is judged on it instead of waiting for a second one.
  bool accept_unclaimed(const protocol::Header& h, std::optional<std::uint64_t> before) {
    for (auto it = tolerated_.begin(); it != tolerated_.end(); ++it) {
      if (matches(it->target, h)) {
        tolerated_.erase(it);
        return true;
      }
    }
    for (auto it = owed_.begin(); it != owed_.end(); ++it) {
      if (before && it->sequence >= *before) break;
      if (matches(it->target, h)) {
        if (scenario_->acks_auto && it != owed_.begin()) return false;  // out of send order
        // Kept for an `expect ack` that may claim it later (nothing to keep if none can).
        if (claims_acks_) arrived_.push_back(Arrived{*it, h, arrivals_++});
        owed_.erase(it);
        return true;
      }
    }
    return allow_unexpected_;
  }

  // Judges the frames that arrived while no expectation was waiting.
  void drain(const SourceLocation& where, std::string_view step) {
    while (!inbox_.empty()) {
      ClientFrame frame = take_frame();
      if (accept_unclaimed(frame.header, std::nullopt)) continue;
      std::string expected = "nothing from the client";
      if (scenario_->acks_auto && !owed_.empty()) expected = describe(owed_.front().target) + " (acks auto)";
      report_.fail(where, step, std::move(expected),
                   fmt::format("unexpected {}", describe_client_frame(frame.header)));
    }
    if (client_ == ClientState::garbage && !garbage_reported_) {
      garbage_reported_ = true;
      report_.fail(where, step, "frames that decode", client_detail_);
    }
  }

  // ---- endings -----------------------------------------------------------------------

  asio::awaitable<void> perform(const Close& close, const SourceLocation& where, std::optional<std::uint64_t>) {
    last_step_ = fmt::format("close {}", close_name(close.how));
    switch (close.how) {
      case Close::How::fin:
        co_await require_auto_acks(where);
        close_now([](Stream& s) { transport::close(s); });
        break;
      case Close::How::rst:
        close_now([](Stream& s) { transport::reset(s); });
        break;
      case Close::How::half_close:
        drain(where, last_step_);
        transport::half_close(stream_);
        half_closed_ = true;
        trace({.note = "server half-closed (FIN), still reading", .location = where});
        break;
      case Close::How::stall: {
        trace({.note = "server stalls: sends nothing more", .location = where});
        co_await wait_for_client_close(Clock::now() + scenario_->timeout, /*judge=*/false, where);
        close_now([](Stream& s) { transport::close(s); });
        break;
      }
      case Close::How::wait:
        co_await wait_for_client_close(Clock::now() + scenario_->timeout, /*judge=*/true, where);
        close_now([](Stream& s) { transport::close(s); });
        break;
    }
    drain(where, last_step_);
    if (!has_failed_at(where)) report_.pass(where, last_step_);
  }

  // Reads on until the client closes; under `judge`, not closing in time fails the step.
  asio::awaitable<void> wait_for_client_close(Clock::time_point deadline, bool judge, const SourceLocation& where) {
    while (client_ == ClientState::open && Clock::now() < deadline) {
      co_await wait_for_frame(deadline);
      drain(where, last_step_);
    }
    if (judge && client_ == ClientState::open) {
      report_.fail(where, last_step_, "the client to close the connection",
                   fmt::format("still open after {}ms", scenario_->timeout.count()));
    }
  }

  // The end of the steps without a `close`: owed `acks auto` ACKs, then FIN.
  asio::awaitable<void> finish_and_close(const SourceLocation& where) {
    last_step_ = half_closed_ ? "end of scenario (after half_close)" : "end of scenario (close fin)";
    co_await require_auto_acks(where);
    close_now([](Stream& s) { transport::close(s); });
  }

  // Under `acks auto`, every owed ACK must arrive, in order, before the connection closes.
  asio::awaitable<void> require_auto_acks(const SourceLocation& where) {
    if (!scenario_->acks_auto) co_return;
    const auto deadline = Clock::now() + scenario_->timeout;
    while (!owed_.empty()) {
      drain(where, last_step_);
      if (owed_.empty()) break;
      co_await wait_for_frame(deadline);
      if (inbox_.empty()) {
        report_.fail(owed_.front().location, "send (acks auto)", describe(owed_.front().target),
                     silence(scenario_->timeout));
        co_return;
      }
    }
  }

  template <class CloseFn>
  void close_now(CloseFn&& how) {
    if (closed_) return;
    closed_ = true;
    read_stopped_ = true;
    how(stream_);
    signal_.cancel();
    room_.cancel();  // every run ends here, so a reader paused for room never holds the session
    trace({.note = "server closed the connection", .location = last_location_});
  }

  bool has_failed_at(const SourceLocation& where) const {
    for (const auto& s : report_.steps()) {
      if (s.location.line == where.line && s.failed > 0) return true;
    }
    return false;
  }

  static bool has_ack_expectations(const Scenario& scenario) {
    auto expects = [](const Step& step) {
      return std::holds_alternative<ExpectAck>(step.action) || std::holds_alternative<ExpectGroup>(step.action);
    };
    for (const Step& step : scenario.steps) {
      if (expects(step)) return true;
      if (const auto* repeat = std::get_if<Repeat>(&step.action)) {
        if (std::any_of(repeat->body.begin(), repeat->body.end(), expects)) return true;
      }
    }
    return false;
  }

  static std::string_view close_name(Close::How how) {
    switch (how) {
      case Close::How::fin: return "fin";
      case Close::How::rst: return "rst";
      case Close::How::half_close: return "half_close";
      case Close::How::stall: return "stall";
      case Close::How::wait: return "wait";
    }
    return "?";
  }

  void trace(TraceRecord record) {
    if (!options_.trace) return;
    record.at = std::chrono::duration_cast<Duration>(Clock::now() - started_);
    options_.trace(record);
  }

  Stream stream_;
  std::shared_ptr<const Scenario> scenario_;
  EngineOptions options_;
  ScenarioRandom random_;
  FrameRenderer renderer_;
  protocol::Bytes frame_;  // the frame being sent (faults apply to it)
  protocol::FrameDecoder decoder_;
  asio::steady_timer signal_;  // cancelled whenever the inbox or the client's state changes
  Report report_;
  Clock::time_point started_;

  protocol::Bytes coalesced_;  // `writes coalesced`: frames waiting for one write

  // Frames the client sent that the script has not judged yet, at most kInboxLimit.
  static constexpr std::size_t kInboxLimit = 1024;
  std::deque<ClientFrame> inbox_;
  asio::steady_timer room_;  // the paused reader's wait, cancelled when a frame is taken
  bool waiting_for_room_ = false;
  ClientState client_ = ClientState::open;
  std::string client_detail_;
  bool garbage_reported_ = false;

  std::deque<Owed> owed_;
  std::deque<Arrived> arrived_;  // in the order they came
  std::uint64_t arrivals_ = 0;
  std::vector<Owed> tolerated_;
  const bool claims_acks_ = has_ack_expectations(*scenario_);
  std::uint64_t sequence_ = 0;
  std::uint32_t next_opaque_ = 1;  // ep-engine's tap_ack_initial_sequence_number
  bool allow_unexpected_ = false;

  std::uint64_t write_generation_ = 0;  // bumped as each write starts and ends
  bool write_stalled_ = false;

  bool half_closed_ = false;
  bool closed_ = false;
  bool read_stopped_ = false;
  bool aborted_ = false;
  SourceLocation last_location_;
  std::string last_step_ = "expect connect";
};

}  // namespace detail

// Runs `scenario` over `stream` and completes with the report: void(Report).
template <class Stream, class CompletionToken>
auto async_run_scenario(Stream stream, std::shared_ptr<const Scenario> scenario, EngineOptions options,
                        CompletionToken&& token) {
  auto executor = stream.get_executor();
  auto session = std::make_shared<detail::Session<Stream>>(std::move(stream), std::move(scenario),
                                                           std::move(options));
  return asio::async_initiate<CompletionToken, void(Report)>(
      [executor, session](auto handler) mutable {
        asio::co_spawn(executor, session->run(session),
                       [handler = std::move(handler)](std::exception_ptr error, Report report) mutable {
                         if (error) std::rethrow_exception(error);
                         handler(std::move(report));
                       });
      },
      token);
}

}  // namespace tapharness::mockserver
