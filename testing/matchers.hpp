// GoogleMock matchers for what a TAP feed delivers: events (protocol::TapEvent) and how the
// feed ended (client::FeedEnd). Arguments are values or matchers, and the matchers compose
// with gmock's own:
//
//   EXPECT_THAT(event, IsMutation("k1", "v1"));
//   EXPECT_THAT(event, IsMutation(StartsWith("user:"), _));
//   EXPECT_THAT(events, ElementsAre(IsBeginBackfill(0), IsMutation("k1", _), IsEndBackfill(0)));
//   EXPECT_THAT(event, AllOf(IsDeletion("k2"), Field(&TapEvent::cas, 8)));
//   EXPECT_THAT(end, EndedWith(EndReason::eof));
//   EXPECT_THAT(item, HoldsEvent(IsFlush()));          // a client::FeedItem
//
// A mismatch prints the event readably (testing/printers.hpp).
#pragma once

#include <gmock/gmock.h>

#include "client/feed_end.hpp"
#include "protocol/tap_event.hpp"
#include "testing/printers.hpp"

namespace tapharness::testing {

using protocol::TapEvent;
using protocol::TapEventKind;

inline auto IsKind(TapEventKind kind) { return ::testing::Field("kind", &TapEvent::kind, kind); }

template <class Key, class Value>
auto IsMutation(Key key, Value value) {
  return ::testing::AllOf(IsKind(TapEventKind::mutation), ::testing::Field("key", &TapEvent::key, key),
                          ::testing::Field("value", &TapEvent::value, value));
}
template <class Key>
auto IsMutation(Key key) {
  return IsMutation(key, ::testing::_);
}

template <class Key>
auto IsDeletion(Key key) {
  return ::testing::AllOf(IsKind(TapEventKind::deletion), ::testing::Field("key", &TapEvent::key, key));
}

template <class VBucket>
auto IsBeginBackfill(VBucket vb) {
  return ::testing::AllOf(IsKind(TapEventKind::begin_backfill), ::testing::Field("vbucket", &TapEvent::vbucket, vb));
}
template <class VBucket>
auto IsEndBackfill(VBucket vb) {
  return ::testing::AllOf(IsKind(TapEventKind::end_backfill), ::testing::Field("vbucket", &TapEvent::vbucket, vb));
}

template <class VBucket, class Checkpoint>
auto IsCheckpointStart(VBucket vb, Checkpoint id) {
  return ::testing::AllOf(IsKind(TapEventKind::checkpoint_start), ::testing::Field("vbucket", &TapEvent::vbucket, vb),
                          ::testing::Field("checkpoint_id", &TapEvent::checkpoint_id, id));
}
template <class VBucket, class Checkpoint>
auto IsCheckpointEnd(VBucket vb, Checkpoint id) {
  return ::testing::AllOf(IsKind(TapEventKind::checkpoint_end), ::testing::Field("vbucket", &TapEvent::vbucket, vb),
                          ::testing::Field("checkpoint_id", &TapEvent::checkpoint_id, id));
}

template <class VBucket, class State>
auto IsVBucketSet(VBucket vb, State state) {
  return ::testing::AllOf(IsKind(TapEventKind::vbucket_set), ::testing::Field("vbucket", &TapEvent::vbucket, vb),
                          ::testing::Field("state", &TapEvent::state, state));
}

inline auto IsFlush() { return IsKind(TapEventKind::flush); }

// How a feed ended: its reason, and optionally its message ("truncated: the stream ended ...").
template <class Reason>
auto EndedWith(Reason reason) {
  return ::testing::Field("reason", &client::FeedEnd::reason, reason);
}
template <class Reason, class Message>
auto EndedWith(Reason reason, Message message) {
  return ::testing::AllOf(EndedWith(reason), ::testing::Property("message", &client::FeedEnd::message, message));
}

// A client::FeedItem (event or end) that is an event / the end matching `m`.
template <class M>
auto HoldsEvent(M m) {
  return ::testing::VariantWith<TapEvent>(m);
}
template <class M>
auto HoldsEnd(M m) {
  return ::testing::VariantWith<client::FeedEnd>(m);
}

}  // namespace tapharness::testing
