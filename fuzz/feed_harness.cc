#include "fuzz/feed_harness.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "fuzz/fuzz_check.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/hex.hpp"
#include "protocol/tap_connect.hpp"
#include "protocol/tap_message.hpp"

namespace tapharness::fuzz {
namespace {

using client::EndReason;
using client::FeedEnd;

template <class T>
bool is_prefix(const std::vector<T>& prefix, const std::vector<T>& of) {
  return prefix.size() <= of.size() && std::equal(prefix.begin(), prefix.end(), of.begin());
}

// The ACKs in what the feed wrote, after checking that it is its TAP_CONNECT followed by
// nothing but well-formed ACKs.
std::vector<protocol::AckRequest> written_acks(protocol::ByteView written, const protocol::TapArguments& args) {
  protocol::Bytes connect;
  protocol::encode_tap_connect(connect, args);
  std::vector<protocol::AckRequest> acks;
  if (written.empty()) return acks;
  FUZZ_CHECK(written.size() >= connect.size() && std::equal(connect.begin(), connect.end(), written.begin()),
             "the feed's first write is not its TAP_CONNECT {}: {}", protocol::to_hex(connect),
             protocol::to_hex(written.first(std::min(written.size(), connect.size()))));
  protocol::FrameDecoder decoder;
  for (auto rest = written.subspan(connect.size()); !rest.empty();) {
    const auto result = decoder.decode(rest);
    const auto* decoded = std::get_if<protocol::Decoded>(&result);
    FUZZ_CHECK(decoded, "the feed wrote bytes that are not whole frames: {} ({})", protocol::to_hex(rest), result);
    const auto& h = decoded->frame.header;
    const auto ack = protocol::tap_ack(h.opcode, h.opaque);
    FUZZ_CHECK(std::equal(ack.begin(), ack.end(), rest.begin(), rest.begin() + decoded->consumed),
               "the feed wrote a frame that is not an ACK: {}", decoded->frame);
    acks.push_back({h.opcode, h.opaque});
    rest = rest.subspan(decoded->consumed);
  }
  return acks;
}

bool same_end(const FeedEnd& actual, const FeedEnd& expected) {
  return actual.reason == expected.reason && actual.offset == expected.offset &&
         actual.decode_error == expected.decode_error && actual.status == expected.status &&
         actual.body == expected.body;
}

// The end a feed must report after reading exactly the logged bytes, when nothing but its
// reads decides it; unset when it must not have ended by itself.
std::optional<FeedEnd> natural_end(const ExpectedFeed& expected, const StreamLog& log,
                                   const client::FeedOptions& options) {
  if (expected.terminal) return expected.terminal;
  if (!log.read_end) return std::nullopt;
  FeedEnd end;
  end.offset = expected.offset;
  if (*log.read_end == asio::error::eof) {
    end.reason = expected.leftover == 0 ? EndReason::eof : EndReason::truncated;
    end.partial_bytes = expected.leftover;
  } else if (*log.read_end == asio::error::operation_aborted && options.idle_timeout) {
    end.reason = EndReason::idle_timeout;
  } else {
    end.reason = EndReason::io_error;
  }
  return end;
}

}  // namespace

void Consumer::ask() {
  if (batch_ == 0) {
    feed_.async_next([this](client::FeedItem item) {
      if (take(std::move(item), observed_.closed_by_consumer)) ask();
    });
  } else {
    feed_.async_next_batch(batch_, [this](std::vector<client::FeedItem> items) { on_batch(std::move(items)); });
  }
}

void Consumer::on_batch(std::vector<client::FeedItem> items) {
  FUZZ_CHECK(!items.empty() && items.size() <= batch_, "a batch of {} items; at most {} were asked for",
             items.size(), batch_);
  // Events handed over in this batch were delivered before any close() made while taking them.
  const bool closed_before = observed_.closed_by_consumer;
  for (std::size_t i = 0; i + 1 < items.size(); ++i) {
    FUZZ_CHECK(!std::holds_alternative<FeedEnd>(items[i]), "item {} of a batch of {} is an end", i, items.size());
  }
  bool more = true;
  for (auto& item : items) more = take(std::move(item), closed_before);
  if (more) ask();
}

void Consumer::close() {
  if (!observed_.end) observed_.closed_by_consumer = true;
  feed_.close();
}

bool Consumer::take(client::FeedItem item, bool closed_before) {
  if (auto* end = std::get_if<FeedEnd>(&item)) {
    if (observed_.end) {
      FUZZ_CHECK(end->reason == observed_.end->reason, "a second, different end: {} after {}", *end, *observed_.end);
      return false;
    }
    observed_.end = std::move(*end);
    // The end is repeated to later calls; ask once more to see that it is the same one.
    return true;
  }
  auto& event = std::get<protocol::TapEvent>(item);
  FUZZ_CHECK(!observed_.end, "an event after the end ({}): {}", *observed_.end, event);
  FUZZ_CHECK(!closed_before, "an event after close(): {}", event);
  observed_.events.push_back(std::move(event));
  if (close_after_ && observed_.events.size() == *close_after_) close();
  return true;
}

ExpectedFeed expect_feed(protocol::ByteView read, const protocol::Limits& limits) {
  ExpectedFeed expected;
  protocol::FrameDecoder decoder(limits);
  auto end_here = [&](FeedEnd end) {
    end.offset = decoder.offset();
    expected.terminal = std::move(end);
    expected.offset = decoder.offset();
    return expected;
  };
  for (auto rest = read;;) {
    auto result = decoder.decode(rest);
    if (auto* error = std::get_if<protocol::DecodeError>(&result)) {
      return end_here(FeedEnd{.reason = EndReason::protocol_error, .decode_error = *error});
    }
    if (std::holds_alternative<protocol::NeedMore>(result)) {
      expected.offset = decoder.offset();
      expected.leftover = rest.size();
      return expected;
    }
    const auto& decoded = std::get<protocol::Decoded>(result);
    auto step = protocol::map_feed_frame(decoded.frame, protocol::position_of(decoded.frame));
    rest = rest.subspan(decoded.consumed);
    if (auto* deliver = std::get_if<protocol::Deliver>(&step)) {
      expected.events.push_back(std::move(deliver->event));
      if (deliver->ack) expected.acks.push_back(*deliver->ack);
    } else if (auto* ignore = std::get_if<protocol::Ignore>(&step)) {
      if (ignore->ack) expected.acks.push_back(*ignore->ack);
    } else if (std::holds_alternative<protocol::EndOfStream>(step)) {
      return end_here(FeedEnd{.reason = EndReason::end_stream});
    } else if (auto* rejected = std::get_if<protocol::ConnectRejected>(&step)) {
      return end_here(FeedEnd{.reason = EndReason::connect_rejected, .status = rejected->status,
                              .body = std::move(rejected->body)});
    } else {
      return end_here(FeedEnd{.reason = EndReason::protocol_error,
                              .decode_error = std::get<protocol::DecodeError>(step)});
    }
  }
}

void check_feed(const Observed& observed, const StreamLog& log, const client::FeedOptions& options) {
  FUZZ_CHECK(observed.end.has_value(), "the feed has not ended");
  const FeedEnd& end = *observed.end;
  const ExpectedFeed expected = expect_feed(log.read, options.limits);
  const auto acks = written_acks(log.written, options.args);
  const auto natural = natural_end(expected, log, options);

  // A failed write or close() may end the feed before the bytes it read are decoded; then
  // only a prefix of the events and ACKs is owed.
  const bool cut_short = log.write_failed || observed.closed_by_consumer;
  if (cut_short) {
    const bool allowed = (natural && same_end(end, *natural)) ||
                         (observed.closed_by_consumer && end.reason == EndReason::closed) ||
                         (log.write_failed && end.reason == EndReason::io_error);
    FUZZ_CHECK(allowed, "the feed ended with '{}'; expected '{}'{}{}", end, natural ? natural->message() : "no end",
               observed.closed_by_consumer ? " or closed" : "", log.write_failed ? " or a write error" : "");
    FUZZ_CHECK(is_prefix(observed.events, expected.events), "delivered {} events, not a prefix of the {} expected",
               observed.events.size(), expected.events.size());
    FUZZ_CHECK(is_prefix(acks, expected.acks), "wrote {} ACKs, not a prefix of the {} expected", acks.size(),
               expected.acks.size());
    return;
  }

  FUZZ_CHECK(natural.has_value(), "the feed ended with '{}' with nothing to end it ({} bytes read, no failed read)",
             end, log.read.size());
  FUZZ_CHECK(same_end(end, *natural), "the feed ended with '{}'; the {} bytes it read require '{}'", end,
             log.read.size(), natural->message());
  if (end.reason == EndReason::truncated) {
    FUZZ_CHECK(end.partial_bytes == natural->partial_bytes, "truncated with {} partial bytes, not {}",
               end.partial_bytes, natural->partial_bytes);
  }
  FUZZ_CHECK(observed.events == expected.events, "delivered {} events, expected {}", observed.events.size(),
             expected.events.size());
  // After a failed read the connection is gone: ACKs still queued are dropped, not sent.
  if (end.reason == EndReason::io_error) {
    FUZZ_CHECK(is_prefix(acks, expected.acks), "wrote {} ACKs, not a prefix of the {} expected", acks.size(),
               expected.acks.size());
  } else {
    FUZZ_CHECK(acks == expected.acks, "wrote {} ACKs, expected {} (the ACK requests of the delivered events and "
               "ignored frames, in order)", acks.size(), expected.acks.size());
  }
}

}  // namespace tapharness::fuzz
