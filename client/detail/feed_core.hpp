// The TAP feed's machinery, generic over the stream. Use it through BasicTapFeed
// (tap_feed.hpp) or BasicBlockingFeed (blocking_feed.hpp).
//
// All state lives on one strand. The reader coroutine decodes frames into a bounded queue
// and pauses when the queue is full; consumers take items from the front; ACKs are written
// in order, one write in flight, once the event they acknowledge has reached its consumer.
//
// The feed's life is one State, each transition one assignment:
//
//   connecting --(connected: TAP_CONNECT queued)--> streaming --(an end: finish())--> draining
//   connecting --(connected, FeedOptions::auth: SASL_LIST_MECHS queued)--> authenticating
//   authenticating --(SASL_AUTH answered SUCCESS: TAP_CONNECT queued)--> streaming
//   connecting, authenticating --(refusal, timeout, error, close())--------------------> draining
//   draining --(the queued events' ACKs written, or the stream failed)--> done (stream closed)
//
// Each ACK's status is decided when its frame is decoded (FeedOptions::ack_status, for an
// event) and travels with it through the queue to the writer.
//
// Which end the consumer sees is end_; close() before the consumer has seen it replaces it
// with `closed`.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "client/feed_end.hpp"
#include "client/feed_options.hpp"
#include "protocol/frame_buffer.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/sasl.hpp"
#include "protocol/tap_connect.hpp"
#include "protocol/tap_event.hpp"
#include "protocol/tap_message.hpp"
#include "third_party/asio.hpp"

namespace tapharness::client::detail {

template <class Stream>
class FeedCore : public std::enable_shared_from_this<FeedCore<Stream>> {
 public:
  using Strand = asio::strand<typename Stream::executor_type>;

  FeedCore(Stream stream, FeedOptions options)
      : stream_(std::move(stream)),
        strand_(asio::make_strand(stream_.get_executor())),
        options_(std::move(options)),
        decoder_(options_.limits),
        buffer_(options_.read_size),
        idle_timer_(strand_),
        space_timer_(strand_),
        connect_timer_(strand_) {}

  const Strand& strand() const { return strand_; }
  const FeedOptions& options() const { return options_; }

  // Sends TAP_CONNECT on the already connected stream and starts reading.
  void start() {
    asio::dispatch(strand_, [self = this->shared_from_this()] { self->begin(); });
  }

  // TCP: resolves and connects within the connect timeout, then start()s. A failure is
  // the feed's end (connect_timeout or io_error).
  void start_connect(std::string host, std::string port) {
    asio::co_spawn(strand_, connect_then_begin(this->shared_from_this(), std::move(host), std::move(port)),
                   asio::detached);
  }

  // Hands the next item (an event, or the end) to `handler`, on its associated executor.
  // Several calls queue up and are served in order.
  template <class Handler>
  void next(Handler handler) {
    wait_for_items(1, [handler = std::move(handler)](std::vector<FeedItem> items) mutable {
      handler(std::move(items.front()));
    });
  }

  // Hands up to `max` items in one call to `handler`: the queued events (at least one),
  // followed by the end if the stream ended right after them and there is room, or the end
  // alone. One handler per batch instead of per event: the fast way to pull.
  template <class Handler>
  void next_batch(std::size_t max, Handler handler) {
    wait_for_items(std::max<std::size_t>(max, 1), std::move(handler));
  }

  // What on_event returns: the status of the event's ACK, if it asked for one (combined with
  // FeedOptions::ack_status's: the first that is not SUCCESS wins, ack_status's first).
  using EventSink = std::function<protocol::Status(const protocol::TapEventView&)>;
  using EndSink = std::function<void(FeedEnd)>;

  // Push-style consumption instead of next(): `on_event` runs on the strand for each event
  // as soon as it is decoded (the view lives for the call); `on_end` comes once, last.
  void consume(EventSink on_event, EndSink on_end) {
    asio::dispatch(strand_, [self = this->shared_from_this(), on_event = std::move(on_event),
                             on_end = std::move(on_end)]() mutable {
      self->sink_ = std::move(on_event);
      self->end_sink_ = std::move(on_end);
      self->deliver();
    });
  }

  // Any thread, any time, any number of times: after it returns no event is handed to a
  // consumer; pending and later next() calls get the end (`closed` unless the feed had
  // already ended by itself). It waits for a handler that is being handed events (or a push
  // pass over a read) to return; it writes nothing more, ACKs included.
  void close() {
    {
      std::lock_guard lock(handout_mutex_);
      closed_.store(true);
    }
    asio::dispatch(strand_, [self = this->shared_from_this()] { self->do_close(); });
  }

  bool closing() const { return closed_.load(); }

  // An ACK owed: what the message asked for, and the status decided when it was decoded.
  struct Ack {
    protocol::AckRequest request;
    protocol::Status status = protocol::Status::success;
  };

  // What a consumer that hands events on itself holds (BlockingFeed: until next() returns):
  // take() acknowledges the events it was handed, leave() gives them up.
  class Handover {
   public:
    Handover() = default;
    Handover(std::shared_ptr<FeedCore> core, std::size_t events, std::vector<Ack> acks)
        : core_(std::move(core)), events_(events), acks_(std::move(acks)) {}
    void take() { settle(std::move(acks_)); }
    void leave() { settle({}); }

   private:
    void settle(std::vector<Ack> acks) {
      if (!core_) return;
      const Strand strand = core_->strand_;  // before core_ moves into the handler
      asio::dispatch(strand, [core = std::move(core_), events = events_, acks = std::move(acks)] {
        core->events_taken(events, acks);
      });
    }
    std::shared_ptr<FeedCore> core_;
    std::size_t events_ = 0;
    std::vector<Ack> acks_;
  };

  // Like next(), for a consumer that decides itself when it has taken the item:
  // handler(FeedItem, Handover); then hand_to_caller() settles it.
  template <class Handler>
  void next_held(Handler handler) {
    wait_for_items(1, std::move(handler));
  }

  // The last step of a held handover, in the consumer's thread: the event it holds is taken
  // unless close() came first, in which case it becomes the end and is left unacknowledged.
  void hand_to_caller(FeedItem& item, Handover& handover) {
    std::lock_guard lock(handout_mutex_);
    if (closed_.load() && std::holds_alternative<protocol::TapEvent>(item)) {
      handover.leave();
      item = FeedEnd{.reason = EndReason::closed};
      return;
    }
    handover.take();
  }

 private:
  enum class State : std::uint8_t {
    connecting,      // TCP: resolving and connecting; nothing is written yet
    authenticating,  // FeedOptions::auth: the SASL exchange, before TAP_CONNECT
    streaming,       // TAP_CONNECT is sent or queued; the reader decodes frames
    draining,    // the end is known; queued events and their ACKs still go out
    done,        // the stream is closed
  };

  // What a waiting consumer is handed: owned events (and perhaps the end), and the ACKs
  // owed once it has them, in queue order (an ignored frame's among the events').
  struct Handout {
    std::vector<FeedItem> items;
    std::vector<Ack> acks;
    std::size_t events = 0;
  };
  struct Waiter {
    std::size_t max = 1;
    std::function<void(Handout)> hand;
  };

  // `handler` takes the items (std::vector<FeedItem>), or one item and its Handover.
  template <class Handler>
  void wait_for_items(std::size_t max, Handler handler) {
    auto shared = std::make_shared<Handler>(std::move(handler));
    auto self = this->shared_from_this();
    Waiter waiter{max, [self, shared](Handout handout) {
                    auto ex = asio::get_associated_executor(*shared, self->strand_);
                    asio::post(ex, [self, shared, handout = std::move(handout)]() mutable {
                      if constexpr (std::is_invocable_v<Handler&, FeedItem, Handover>) {
                        self->hand_over_held(std::move(handout), *shared);
                      } else {
                        self->hand_over(std::move(handout), *shared);
                      }
                    });
                  }};
    asio::dispatch(strand_, [self, waiter = std::move(waiter)]() mutable {
      self->waiting_.push_back(std::move(waiter));
      self->deliver();
    });
  }

  struct Queued {
    std::optional<protocol::TapEvent> event;  // empty: an ignored frame that asked for an ACK
    std::optional<Ack> ack;
    std::size_t bytes = 0;
  };

  void begin() {
    if (state_ != State::connecting) return;  // ended (closed) before it began
    if (options_.auth) {
      state_ = State::authenticating;
      asio::co_spawn(strand_, authenticate(this->shared_from_this()), asio::detached);
      return;
    }
    begin_stream();
  }

  void begin_stream() {
    state_ = State::streaming;
    stream_start_ = decoder_.offset();
    protocol::Bytes connect;
    protocol::encode_tap_connect(connect, options_.args);
    enqueue_write(connect);
    maybe_write();
    asio::co_spawn(strand_, read_loop(this->shared_from_this()), asio::detached);
  }

  asio::awaitable<void> connect_then_begin(std::shared_ptr<FeedCore> self, std::string host,
                                           std::string port) {
    resolver_.emplace(strand_);
    connect_timer_.expires_after(std::clamp(options_.connect_timeout, Duration{0}, FeedOptions::kMaxTimeout));
    connect_timer_.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->state_ != State::connecting) return;
      FeedEnd end{.reason = EndReason::connect_timeout};
      end.timeout = self->options_.connect_timeout;
      self->finish(std::move(end));
      self->close_stream();
      self->deliver();
    });
    boost::system::error_code ec;
    auto endpoints =
        co_await resolver_->async_resolve(host, port, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && state_ == State::connecting) {
      co_await asio::async_connect(stream_, endpoints, asio::redirect_error(asio::use_awaitable, ec));
    }
    connect_timer_.cancel();
    if (state_ != State::connecting) co_return;  // timed out or closed meanwhile
    if (ec) {
      FeedEnd end{.reason = EndReason::io_error};
      end.io_error = ec;
      end.context = fmt::format("connect to {}:{}", host, port);
      finish(std::move(end));
      close_stream();
    } else {
      // ACKs are small and the producer may be waiting for them (its opaque gate): no Nagle.
      stream_.set_option(asio::ip::tcp::no_delay(true), ec);
      begin();
    }
    deliver();
  }

  // What the server answered to a SASL request.
  struct SaslReply {
    protocol::Status status = protocol::Status::success;
    std::string body;
  };

  // SASL PLAIN as gomemcached's Auth: SASL_LIST_MECHS, PLAIN among the mechanisms, SASL_AUTH
  // answered SUCCESS; then TAP_CONNECT and the stream. The exchange is bounded by the
  // connect timeout (from the connection on) and its replies by the frame limits.
  asio::awaitable<void> authenticate([[maybe_unused]] std::shared_ptr<FeedCore> self) {
    arm_auth_timer();
    protocol::Bytes request;
    protocol::encode_sasl_list_mechs(request);
    enqueue_write(request);
    maybe_write();
    const std::optional<SaslReply> mechs = co_await read_sasl_reply(protocol::Opcode::sasl_list_mechs);
    if (!mechs) co_return;
    if (mechs->status != protocol::Status::success || !protocol::sasl_mechs_include(mechs->body, protocol::kSaslPlain)) {
      co_return auth_failed("SASL_LIST_MECHS", *mechs);
    }
    request.clear();
    protocol::encode_sasl_auth_plain(request, options_.auth->user, options_.auth->password);
    enqueue_write(request);
    maybe_write();
    const std::optional<SaslReply> auth = co_await read_sasl_reply(protocol::Opcode::sasl_auth);
    if (!auth) co_return;
    if (auth->status != protocol::Status::success) co_return auth_failed("SASL_AUTH", *auth);
    connect_timer_.cancel();
    begin_stream();
  }

  void arm_auth_timer() {
    connect_timer_.expires_after(std::clamp(options_.connect_timeout, Duration{0}, FeedOptions::kMaxTimeout));
    connect_timer_.async_wait([self = this->shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->state_ != State::authenticating) return;
      FeedEnd end{.reason = EndReason::connect_timeout};
      end.timeout = self->options_.connect_timeout;
      end.context = std::string(self->sasl_step_);
      self->finish(std::move(end));
      self->close_stream();
      self->deliver();
    });
  }

  void auth_failed(std::string_view step, const SaslReply& reply) {
    FeedEnd end{.reason = EndReason::auth_failed};
    end.context = std::string(step);
    end.status = reply.status;
    end.body = reply.body;
    finish(std::move(end));
    deliver();
  }

  // The reply to the SASL request `request`, or nothing when the feed ended meanwhile (by an
  // error reading it, a frame that is not its reply, the timeout or close()).
  asio::awaitable<std::optional<SaslReply>> read_sasl_reply(protocol::Opcode request) {
    sasl_step_ = protocol::name_of(request);
    // Bounded: every pass decodes a reply, ends the feed, or reads at least one byte of a
    // frame the limits bound; a read that brings nothing ends the feed.
    while (state_ == State::authenticating) {
      auto result = decoder_.decode(buffer_.data());
      if (auto* decoded = std::get_if<protocol::Decoded>(&result)) {
        if (auto error = protocol::check_sasl_response(decoded->frame, request)) {
          FeedEnd end{.reason = EndReason::protocol_error};
          end.decode_error = *error;
          finish(std::move(end));
          break;
        }
        SaslReply reply{decoded->frame.header.status(), std::string(protocol::as_chars(decoded->frame.value))};
        buffer_.consume(decoded->consumed);
        co_return reply;
      }
      if (auto* error = std::get_if<protocol::DecodeError>(&result)) {
        FeedEnd end{.reason = EndReason::protocol_error};
        end.decode_error = *error;
        finish(std::move(end));
        break;
      }
      auto space = buffer_.prepare(std::get<protocol::NeedMore>(result).bytes);
      boost::system::error_code ec;
      const std::size_t n = co_await stream_.async_read_some(asio::buffer(space.data(), space.size()),
                                                             asio::redirect_error(asio::use_awaitable, ec));
      buffer_.commit(n);
      if (state_ != State::authenticating) break;  // timed out or closed meanwhile
      if (ec == asio::error::eof && !buffer_.empty()) {
        FeedEnd end{.reason = EndReason::truncated};
        end.partial_bytes = buffer_.size();
        finish(std::move(end));
      } else if (ec) {
        // A clean close before the reply is no clean end: the exchange did not finish.
        fail_io(ec, fmt::format("read the {} reply", sasl_step_));
      }
    }
    deliver();
    co_return std::nullopt;
  }

  // `self` keeps the core alive for as long as the coroutine runs.
  asio::awaitable<void> read_loop([[maybe_unused]] std::shared_ptr<FeedCore> self) {
    last_bytes_ = std::chrono::steady_clock::now();
    while (state_ == State::streaming) {
      const Pass pass = decode_buffered();
      if (pass == Pass::queue_full) {
        co_await wait_for_space();
        last_bytes_ = std::chrono::steady_clock::now();  // a paused reader measures no idleness
        continue;
      }
      if (state_ != State::streaming) break;

      auto space = buffer_.prepare(need_);
      arm_idle_timer();
      boost::system::error_code ec;
      const std::size_t n = co_await stream_.async_read_some(
          asio::buffer(space.data(), space.size()), asio::redirect_error(asio::use_awaitable, ec));
      idle_timer_.cancel();
      buffer_.commit(n);
      // Idle means no bytes at all: a large frame on a slow link is not idle. Once per read,
      // not per frame: a read brings hundreds of frames.
      if (n > 0) last_bytes_ = std::chrono::steady_clock::now();
      if (ec) on_read_error(ec);
    }
    deliver();
  }

  // How a pass over the buffered bytes ended: they hold no whole frame (need_ says how many
  // more bytes it takes), the queue is full and stays so, or the feed ended.
  enum class Pass : std::uint8_t { need_more, queue_full, ended };

  // Decodes what is buffered, as far as the queue allows, and delivers it. A push consumer
  // is handed these events under handout_mutex_ (close() waits for the pass), never across
  // a wait. (A plain function, not part of the coroutine: its locals stay in registers,
  // where in the coroutine's frame each frame's fields went through memory.)
  Pass decode_buffered() {
    std::unique_lock lock(handout_mutex_, std::defer_lock);
    Pass ended_by = Pass::ended;
    while (state_ == State::streaming) {
      if (sink_ && !lock.owns_lock()) lock.lock();
      if (queue_full()) {
        if (lock.owns_lock()) lock.unlock();
        deliver();  // waiting consumers first, or nobody would ever make room
        if (queue_full()) return Pass::queue_full;
        continue;
      }
      auto result = decoder_.decode(buffer_.data());
      if (auto* decoded = std::get_if<protocol::Decoded>(&result)) {
        handle_frame(decoded->frame);
        buffer_.consume(decoded->consumed);
      } else if (auto* more = std::get_if<protocol::NeedMore>(&result)) {
        need_ = more->bytes;
        ended_by = Pass::need_more;
        break;
      } else {
        FeedEnd end{.reason = EndReason::protocol_error};
        end.decode_error = std::get<protocol::DecodeError>(result);
        finish(std::move(end));
      }
    }
    if (lock.owns_lock()) lock.unlock();
    deliver();
    return ended_by;
  }

  void on_read_error(const boost::system::error_code& ec) {
    if (state_ != State::streaming) return;
    // Only a read the idle timer cancelled ended by idleness. Its cancel misses a read that
    // had already completed, leaving idle_expired_ set while the feed reads on; a later EOF
    // or reset is then what it is, not an idle timeout.
    if (idle_expired_ && ec == asio::error::operation_aborted) {
      FeedEnd end{.reason = EndReason::idle_timeout};
      end.timeout = *options_.idle_timeout;
      end.partial_bytes = buffer_.size();
      finish(std::move(end));
    } else if (ec == asio::error::eof) {
      if (buffer_.empty()) {
        finish(FeedEnd{.reason = EndReason::eof});
      } else {
        FeedEnd end{.reason = EndReason::truncated};
        end.partial_bytes = buffer_.size();
        finish(std::move(end));
      }
    } else {
      fail_io(ec, "read");
    }
  }

  // For a push consumer this runs under decode_buffered's lock, so close() cannot slip in
  // between the check and the call. The common case (nothing queued, an event that asks for
  // no ACK) is here, inlined into the pass; every other is handle_step's.
  [[gnu::always_inline]] void handle_frame(const protocol::Frame& frame) {
    // Only the stream's first frame may refuse the connect (after SASL it is not at 0).
    const auto position = frame.offset == stream_start_ ? protocol::StreamPosition::first
                                                        : protocol::StreamPosition::later;
    const auto step = protocol::map_feed_frame_view(frame, position);
    if (const auto* deliver = std::get_if<protocol::DeliverView>(&step);
        deliver && !deliver->ack && sink_ && queue_.empty()) [[likely]] {
      // Push: the consumer takes the event now, straight from the read buffer.
      if (!closed_.load()) sink_(deliver->event);
      return;
    }
    handle_step(step);
  }

  // Every frame but the common one: queued for a pulling consumer, pushed with its ACK,
  // ignored (its ACK still owed), or the feed's end.
  [[gnu::noinline]] void handle_step(const protocol::FeedStepView& step) {
    if (const auto* deliver = std::get_if<protocol::DeliverView>(&step)) {
      if (sink_ && queue_.empty()) {
        // Push, an event that asks for an ACK (handle_frame pushed the others).
        if (closed_.load()) return;
        const Ack ack = decided_ack(*deliver->ack, deliver->event);
        enqueue_ack(pushed(ack, sink_(deliver->event)));
        return;
      }
      const std::size_t bytes = deliver->event.key.size() + deliver->event.value.size();
      queued_bytes_ += bytes;
      std::optional<Ack> ack;
      if (deliver->ack) ack = decided_ack(*deliver->ack, deliver->event);
      queue_.push_back(Queued{deliver->event.to_owned(), ack, bytes});
    } else if (auto* ignore = std::get_if<protocol::Ignore>(&step)) {
      if (!ignore->ack) return;
      // No event to ask ack_status about: SUCCESS.
      if (sink_ && queue_.empty()) {
        enqueue_ack(Ack{*ignore->ack});
      } else {
        queue_.push_back(Queued{std::nullopt, Ack{*ignore->ack}, 0});
      }
    } else if (std::holds_alternative<protocol::EndOfStream>(step)) {
      finish(FeedEnd{.reason = EndReason::end_stream});
    } else if (auto* rejected = std::get_if<protocol::ConnectRejectedView>(&step)) {
      FeedEnd end{.reason = EndReason::connect_rejected};
      end.status = rejected->status;
      end.body = std::string(rejected->body);
      finish(std::move(end));
    } else {
      FeedEnd end{.reason = EndReason::protocol_error};
      end.decode_error = std::get<protocol::DecodeError>(step);
      finish(std::move(end));
    }
  }

  // FeedOptions::ack_status's answer for an event that asked for an ACK, asked now, once.
  Ack decided_ack(const protocol::AckRequest& request, const protocol::TapEventView& event) const {
    return Ack{request, options_.ack_status ? options_.ack_status(event) : protocol::Status::success};
  }

  // A push consumer's status for the event: it counts unless ack_status already refused.
  static Ack pushed(Ack ack, protocol::Status consumer) {
    if (ack.status == protocol::Status::success) ack.status = consumer;
    return ack;
  }

  // The bounds hold what the feed keeps for the consumer and for the server: queued events'
  // keys and values, and ACKs not yet written (a server that asks for ACKs and never reads
  // them pauses the reader instead of growing the write queue).
  bool queue_full() const {
    // Bytes first: a push consumer's queue is empty, and a deque's size() is arithmetic on
    // its map, per frame.
    return queued_bytes_ + write_queue_.size() + write_inflight_.size() >= options_.max_queued_bytes ||
           (!queue_.empty() && queue_.size() >= options_.max_queued_events);
  }

  asio::awaitable<void> wait_for_space() {
    waiting_for_space_ = true;
    space_timer_.expires_at(std::chrono::steady_clock::time_point::max());
    boost::system::error_code ec;
    co_await space_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    waiting_for_space_ = false;
  }

  void arm_idle_timer() {
    if (!options_.idle_timeout) return;
    idle_timer_.expires_at(last_bytes_ + std::clamp(*options_.idle_timeout, Duration{0}, FeedOptions::kMaxTimeout));
    idle_timer_.async_wait([self = this->shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->state_ != State::streaming) return;
      self->idle_expired_ = true;
      boost::system::error_code ignored;
      self->stream_.cancel(ignored);
    });
  }

  bool ended() const { return state_ == State::draining || state_ == State::done; }

  // Records the end (the first one wins) and stops the reader.
  void finish(FeedEnd end) {
    if (ended()) return;
    state_ = State::draining;
    end.offset = decoder_.offset();
    end_ = std::move(end);
    idle_timer_.cancel();
    space_timer_.cancel();
  }

  void fail_io(const boost::system::error_code& ec, std::string_view context) {
    FeedEnd end{.reason = EndReason::io_error};
    end.io_error = ec;
    end.context = std::string(context);
    finish(std::move(end));
    close_stream();
  }

  void do_close() {
    // A natural end nobody has seen yet gives way: after close() the consumer sees `closed`.
    if (!ended()) {
      finish(FeedEnd{.reason = EndReason::closed});
    } else if (!end_delivered_) {
      end_ = FeedEnd{.reason = EndReason::closed, .offset = end_->offset};
    }
    queue_.clear();
    queued_bytes_ = 0;
    close_stream();
    deliver();
  }

  void close_stream() {
    state_ = State::done;
    connect_timer_.cancel();
    if (resolver_) resolver_->cancel();
    boost::system::error_code ignored;
    stream_.close(ignored);
  }

  // Moves items to waiting consumers and ACKs to the writer, in queue order.
  void deliver() {
    if (sink_) push_queued();
    for (;;) {
      // An ignored frame's ACK goes out once every event before it has been taken.
      while (!queue_.empty() && !queue_.front().event && events_in_flight_ == 0) {
        enqueue_ack(*queue_.front().ack);
        queue_.pop_front();
      }
      if (waiting_.empty()) break;
      // The events from the front (ignored frames' ACKs among them), then the end if the
      // stream has ended and there is room; nothing yet: wait.
      const std::size_t max = waiting_.front().max;
      Handout handout;
      if (!queue_.empty() && queue_.front().event) {
        while (!queue_.empty() && handout.items.size() < max) {
          Queued& item = queue_.front();
          if (item.event) {
            handout.items.emplace_back(std::move(*item.event));
            ++handout.events;
            queued_bytes_ -= item.bytes;
          }
          if (item.ack) handout.acks.push_back(*item.ack);
          queue_.pop_front();
        }
      }
      if (queue_.empty() && ended() && handout.items.size() < max) {
        end_delivered_ = true;
        handout.items.emplace_back(*end_);
      }
      if (handout.items.empty()) break;
      events_in_flight_ += handout.events;
      take_waiter().hand(std::move(handout));
    }
    maybe_write();
    if (waiting_for_space_ && !queue_full()) space_timer_.cancel();
    close_when_done();
  }

  // Push consumption: whatever was queued before the sink arrived goes first, then the
  // end (posted, so a consumer that closes from inside on_event is not re-entered).
  void push_queued() {
    std::lock_guard lock(handout_mutex_);
    while (!queue_.empty()) {
      Queued item = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= item.bytes;
      protocol::Status consumer = protocol::Status::success;
      if (item.event) {
        if (closed_.load()) continue;
        consumer = sink_(protocol::view_of(*item.event));
      }
      if (item.ack && !closed_.load()) enqueue_ack(pushed(*item.ack, consumer));
    }
    if (ended() && end_sink_ && !end_delivered_) {
      end_delivered_ = true;
      asio::post(strand_, [sink = std::move(end_sink_), end = *end_] { sink(end); });
    }
  }

  Waiter take_waiter() {
    Waiter w = std::move(waiting_.front());
    waiting_.pop_front();
    return w;
  }

  // Runs on the consumer's executor: events become the end if close() came first, and the
  // ACKs of the events handed over are queued. Under handout_mutex_ until the handler
  // returns, so that close() either comes first or waits for it.
  template <class Handler>
  void hand_over(Handout handout, Handler& handler) {
    std::lock_guard lock(handout_mutex_);
    Handover settled = hand_over_checked(handout);
    settled.take();
    handler(std::move(handout.items));
  }

  template <class Handler>
  void hand_over_held(Handout handout, Handler& handler) {
    std::lock_guard lock(handout_mutex_);
    Handover held = hand_over_checked(handout);
    handler(std::move(handout.items.front()), std::move(held));
  }

  Handover hand_over_checked(Handout& handout) {
    if (handout.events == 0) return {};
    if (closed_.load()) {
      handout.items.assign(1, FeedEnd{.reason = EndReason::closed});
      handout.acks.clear();
    }
    return Handover(this->shared_from_this(), handout.events, std::move(handout.acks));
  }

  void events_taken(std::size_t events, const std::vector<Ack>& acks) {
    events_in_flight_ -= events;
    if (!closed_.load()) {
      for (const auto& ack : acks) enqueue_ack(ack);
    }
    deliver();
  }

  void enqueue_ack(const Ack& ack) {
    const auto frame = protocol::tap_ack(ack.request.opcode, ack.request.opaque, ack.status);
    enqueue_write(frame);
  }

  void enqueue_write(protocol::ByteView bytes) {
    if (state_ == State::done) return;
    protocol::append(write_queue_, bytes);
  }

  // One write in flight; everything queued meanwhile goes out in the next one.
  void maybe_write() {
    if (writing_ || write_queue_.empty() || state_ == State::connecting || state_ == State::done) return;
    writing_ = true;
    std::swap(write_queue_, write_inflight_);
    write_queue_.clear();
    asio::async_write(stream_, asio::buffer(write_inflight_),
                      asio::bind_executor(strand_, [self = this->shared_from_this()](
                                                       const boost::system::error_code& ec, std::size_t) {
                        self->on_written(ec);
                      }));
  }

  void on_written(const boost::system::error_code& ec) {
    writing_ = false;
    write_inflight_.clear();
    if (ec) {
      fail_io(ec, "write");  // the first end wins: after an end this only closes the stream
      write_queue_.clear();
    }
    deliver();
  }

  // After the end, the stream stays open only until the queued events' ACKs are written.
  void close_when_done() {
    if (state_ == State::draining && queue_.empty() && events_in_flight_ == 0 && !writing_ &&
        write_queue_.empty()) {
      close_stream();
    }
  }

  Stream stream_;
  Strand strand_;
  FeedOptions options_;
  protocol::FrameDecoder decoder_;
  protocol::FrameBuffer buffer_;

  std::deque<Queued> queue_;
  std::size_t queued_bytes_ = 0;
  std::size_t events_in_flight_ = 0;
  std::deque<Waiter> waiting_;
  EventSink sink_;
  EndSink end_sink_;

  std::vector<std::uint8_t> write_queue_;
  std::vector<std::uint8_t> write_inflight_;
  bool writing_ = false;

  asio::steady_timer idle_timer_;
  asio::steady_timer space_timer_;
  asio::steady_timer connect_timer_;
  std::optional<asio::ip::tcp::resolver> resolver_;
  std::size_t need_ = protocol::kHeaderSize;  // what the next read must bring at least
  std::chrono::steady_clock::time_point last_bytes_;  // when the last bytes arrived
  bool waiting_for_space_ = false;
  bool idle_expired_ = false;  // the idle timer cancelled the read: its abort is the idle timeout

  State state_ = State::connecting;  // start() or the TCP connect moves it on
  std::uint64_t stream_start_ = 0;    // the offset of the stream's first frame (after SASL)
  std::string_view sasl_step_;        // authenticating: the request whose reply is awaited
  bool end_delivered_ = false;
  std::optional<FeedEnd> end_;
  std::atomic<bool> closed_{false};
  // Held while events are handed to a consumer, and by close() to set closed_: a handover
  // either sees the close or finishes before it (recursive: a handler may call close()).
  std::recursive_mutex handout_mutex_;
};

}  // namespace tapharness::client::detail
