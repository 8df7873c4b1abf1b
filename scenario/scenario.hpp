// A parsed scenario (the language: scenarios/README.md): the mock server's script, and apart
// from it what a client must report. Produced by parse_scenario() (scenario/parser.hpp), run by
// the engine (mockserver/engine.hpp) and checked against a client by the runner.
//
//   Scenario s = ...;
//   for (const Step& step : s.steps) ...            // the server's steps, in file order
//   for (const ClientEventItem& e : s.client.events) ...   // what the client must report
//
// Steps keep their source location so every report line can point at `file:line`. Values
// that depend on a repeat index (`{n}`) stay templates and are rendered per iteration, so a
// 100,000-mutation scenario costs one step in memory, not 100,000.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "protocol/bytes.hpp"
#include "protocol/format.hpp"
#include "protocol/opcode.hpp"
#include "protocol/tap_connect.hpp"
#include "protocol/tap_event.hpp"

namespace tapharness::scenario {

using Duration = std::chrono::milliseconds;

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 stands for the file as a whole
  int column = 0;  // 1-based

  friend bool operator==(const SourceLocation&, const SourceLocation&) = default;
};

// "file:line:col"
inline FormatOut describe_to(FormatOut out, const SourceLocation& l) {
  return fmt::format_to(out, "{}:{}:{}", l.file, l.line, l.column);
}

// A number, or the repeat index `{n}`.
struct NumberValue {
  std::uint64_t value = 0;
  bool is_index = false;

  std::uint64_t render(std::uint64_t index) const { return is_index ? index : value; }
  friend bool operator==(const NumberValue&, const NumberValue&) = default;
};

// A bytes value as written: a string (possibly with `{n}`), hex, random(N) or fill(N, b).
struct BytesValue {
  enum class Kind { text, hex, random, fill };
  Kind kind = Kind::text;
  // text: the literal pieces around each `{n}`; pieces.size() == placeholders + 1.
  std::vector<std::string> pieces;
  protocol::Bytes hex;           // hex
  std::size_t length = 0;        // random, fill
  std::uint8_t fill_byte = 'x';  // fill

  bool has_index() const { return kind == Kind::text && pieces.size() > 1; }
  // The length of the rendered value when it does not depend on the index.
  std::optional<std::size_t> fixed_length() const;
  friend bool operator==(const BytesValue&, const BytesValue&) = default;
};

enum class FrameKind {
  mutation,
  deletion,
  flush,
  opaque,
  vbucket_set,
  checkpoint_start,
  checkpoint_end,
  noop,
  connect_error,
  raw,
};

std::string_view name_of(FrameKind kind);                          // "mutation", "raw", ...
std::span<const protocol::NamedValue<FrameKind>> all_frame_kinds();  // in enum order
std::string_view send_statement(FrameKind kind);                   // "send mutation", ...

// One frame to send. Unset fields take ep-engine's defaults (scenarios/README.md).
struct FrameSpec {
  FrameKind kind = FrameKind::mutation;

  std::optional<NumberValue> vbucket;
  std::optional<NumberValue> opaque;  // unset: the next producer sequence number
  std::optional<NumberValue> cas;
  std::optional<NumberValue> datatype;
  std::optional<NumberValue> ttl;
  std::optional<std::uint16_t> tap_flags;  // `tap_flags=` and the bare words ack / no_value, OR'ed
  std::optional<BytesValue> engine;        // replaces the engine-specific bytes

  // mutation / deletion
  std::optional<BytesValue> key;
  std::optional<BytesValue> value;
  std::optional<NumberValue> flags;
  std::optional<NumberValue> expiry;
  std::optional<NumberValue> rev_seqno;
  std::optional<NumberValue> nru;

  std::optional<std::uint32_t> code;       // opaque
  std::optional<std::uint32_t> state;      // vbucket_set
  std::optional<NumberValue> checkpoint;   // checkpoint_start / checkpoint_end
  std::optional<protocol::Status> status;  // connect_error
  std::optional<BytesValue> body;          // connect_error

  BytesValue raw;  // raw: the exact bytes

  // Lies written over the encoded frame.
  std::optional<std::uint8_t> magic;
  std::optional<std::uint8_t> opcode;
  std::optional<std::uint16_t> keylen;
  std::optional<std::uint8_t> extlen;
  std::optional<std::uint32_t> bodylen;
  std::optional<std::uint16_t> engine_length;

  bool wants_ack() const;
  // The encoded frame's size in bytes (lies overwrite bytes, they add none), when no bytes
  // value depends on the repeat index.
  std::optional<std::size_t> fixed_length() const;
};

// How one frame's bytes go on the wire. Applied in order: corrupt, truncate, split/bytewise.
struct FaultPlan {
  struct Corruption {
    std::size_t offset = 0;
    std::uint8_t byte = 0;
    friend bool operator==(const Corruption&, const Corruption&) = default;
  };
  std::vector<Corruption> corrupt;
  std::optional<std::size_t> truncate;  // write only the first N bytes
  std::vector<std::size_t> split;       // ascending offsets: separate writes
  bool bytewise = false;                // one write per byte...
  Duration gap{1};                      // ...with this pause between bytes

  bool empty() const { return corrupt.empty() && !truncate && split.empty() && !bytewise; }
  friend bool operator==(const FaultPlan&, const FaultPlan&) = default;
};

// A matcher for one TAP_CONNECT field: anything, or an exact value, or "absent".
template <class T>
struct FieldMatcher {
  enum class Kind { any, exact, absent };
  Kind kind = Kind::any;
  T value{};
  friend bool operator==(const FieldMatcher&, const FieldMatcher&) = default;
};

struct ExpectConnect {
  FieldMatcher<std::string> name;            // absent is not used
  std::optional<std::uint32_t> flags_exact;  // flags=
  std::uint32_t flags_present = 0;           // has=
  std::uint32_t flags_absent = 0;            // lacks=
  FieldMatcher<std::uint64_t> backfill;
  FieldMatcher<std::vector<std::uint16_t>> vbuckets;
};

struct Send {
  FrameSpec frame;
  FaultPlan fault;
};

struct ExpectAck {
  std::optional<std::uint32_t> opaque;                                 // unset: the oldest unclaimed `ack` send
  std::optional<protocol::Opcode> opcode;                              // unset: that send's opcode
  std::optional<protocol::Status> status = protocol::Status::success;  // unset: any
  std::optional<Duration> within;                                      // unset: the scenario timeout
};

// `unordered { ... }` or `optional { ... }`: a group of ACK expectations.
struct ExpectGroup {
  enum class Kind { unordered, optional };
  Kind kind = Kind::unordered;
  struct Item {
    ExpectAck ack;
    SourceLocation location;
  };
  std::vector<Item> items;
};

struct Delay {
  Duration duration{0};
};

struct Close {
  enum class How { fin, rst, half_close, stall, wait };
  How how = How::fin;
};

// "fin", "rst", "half_close", "stall", "wait": the word after `close`.
std::string_view name_of(Close::How how);
std::span<const protocol::NamedValue<Close::How>> all_close_forms();

// `allow unexpected`: from here on, unmatched client frames are ignored.
struct AllowUnexpected {};

struct Step;

struct Repeat {
  std::uint64_t count = 0;
  std::vector<Step> body;  // no Repeat inside
};

// One line of the server's script.
struct Step {
  std::variant<Send, ExpectAck, ExpectGroup, Delay, Close, AllowUnexpected, Repeat> action;
  SourceLocation location;
};

// ---- what the client must report: the runner's side, never the server's ----------------

// What the built-in client connects with (`client args`).
struct ClientArgs {
  protocol::TapArguments args;
  std::optional<Duration> idle_timeout;
};

// `client event KIND ...`: fields that are set must match.
struct ClientEvent {
  protocol::TapEventKind kind = protocol::TapEventKind::mutation;
  std::optional<NumberValue> vbucket;
  std::optional<BytesValue> key;
  std::optional<BytesValue> value;
  std::optional<NumberValue> flags;
  std::optional<NumberValue> expiry;
  std::optional<NumberValue> cas;
  std::optional<NumberValue> datatype;
  std::optional<NumberValue> checkpoint;
  std::optional<protocol::VBucketState> state;
};

// A `client event` line.
struct EventLine {
  ClientEvent event;
  SourceLocation location;
};

// The `client event` lines of a repeat body, expected once per iteration.
struct EventRepeat {
  std::uint64_t count = 0;
  std::vector<EventLine> body;
};

using ClientEventItem = std::variant<EventLine, EventRepeat>;

// `client end ...`
struct ClientEnd {
  enum class How { eof, end_stream, error };
  How how = How::eof;
  std::string match;                   // error: the message must contain it (empty: any error)
  std::optional<std::string> message;  // error: the message must be exactly this
};

struct ClientSide {
  std::optional<ClientArgs> args;
  SourceLocation args_location;
  // The events in the order the client must report them (repeat bodies as EventRepeat).
  std::vector<ClientEventItem> events;
  std::optional<ClientEnd> end;
  SourceLocation end_location;

  // Whether the scenario says which events the client reports at all.
  bool checks_events() const { return !events.empty(); }
};

struct Scenario {
  std::string name;  // the file name without directory and extension
  std::string path;  // as given to the parser
  std::uint64_t seed = 1;
  Duration timeout{5000};
  bool acks_auto = false;
  // `writes coalesced`: consecutive sends without faults may share one write.
  bool coalesce_writes = false;

  // The server's TAP_CONNECT check: the `expect connect` line, or an any-matcher.
  ExpectConnect connect;
  SourceLocation connect_location;

  // The server's steps in file order.
  std::vector<Step> steps;

  ClientSide client;
};

}  // namespace tapharness::scenario
