// A parsed scenario: the mock server's script and what a client must report
// (the language: scenarios/README.md). Produced by parse_scenario() (scenario_parser.hpp),
// run by the engine (engine.hpp) and checked against a client by the runner.
//
// Steps keep their source location so every report line can point at `file:line`. Values
// that depend on a repeat index (`{n}`) stay templates and are rendered per iteration, so a
// 100,000-mutation scenario costs one step in memory, not 100,000.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "protocol/bytes.hpp"
#include "protocol/opcode.hpp"
#include "protocol/tap_connect.hpp"
#include "protocol/tap_event.hpp"

namespace tapharness::mockserver {

using Duration = std::chrono::milliseconds;

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based

  friend bool operator==(const SourceLocation&, const SourceLocation&) = default;
};

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
  protocol::Bytes hex;          // hex
  std::size_t length = 0;       // random, fill
  std::uint8_t fill_byte = 'x'; // fill

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

// One frame to send. Unset fields take ep-engine's defaults (scenarios/README.md).
struct FrameSpec {
  FrameKind kind = FrameKind::mutation;

  std::optional<NumberValue> vbucket;
  std::optional<NumberValue> opaque;    // unset: the next producer sequence number
  std::optional<NumberValue> cas;
  std::optional<NumberValue> datatype;
  std::optional<NumberValue> ttl;
  std::optional<std::uint16_t> tap_flags;  // `tap_flags=` and the bare words ack / no_value, OR'ed
  std::optional<BytesValue> engine;     // replaces the engine-specific bytes

  // mutation / deletion
  std::optional<BytesValue> key;
  std::optional<BytesValue> value;
  std::optional<NumberValue> flags;
  std::optional<NumberValue> expiry;
  std::optional<NumberValue> rev_seqno;
  std::optional<NumberValue> nru;

  std::optional<std::uint32_t> code;        // opaque
  std::optional<std::uint32_t> state;       // vbucket_set
  std::optional<NumberValue> checkpoint;    // checkpoint_start / checkpoint_end
  std::optional<protocol::Status> status;   // connect_error
  std::optional<BytesValue> body;           // connect_error

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
  std::optional<std::size_t> truncate;   // write only the first N bytes
  std::vector<std::size_t> split;        // ascending offsets: separate writes
  bool bytewise = false;                 // one write per byte...
  Duration gap{1};                       // ...with this pause between bytes

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
  FieldMatcher<std::string> name;                  // absent is not used
  std::optional<std::uint32_t> flags_exact;        // flags=
  std::uint32_t flags_present = 0;                 // has=
  std::uint32_t flags_absent = 0;                  // lacks=
  FieldMatcher<std::uint64_t> backfill;
  FieldMatcher<std::vector<std::uint16_t>> vbuckets;
};

struct Send {
  FrameSpec frame;
  FaultPlan fault;
};

struct ExpectAck {
  std::optional<std::uint32_t> opaque;          // unset: the oldest unclaimed `ack` send
  std::optional<protocol::Opcode> opcode;       // unset: that send's opcode
  std::optional<protocol::Status> status = protocol::Status::success;  // unset: any
  std::optional<Duration> within;               // unset: the scenario timeout
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

// `allow unexpected`: from here on, unmatched client frames are ignored.
struct AllowUnexpected {};

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
  std::optional<NumberValue> checkpoint;
  std::optional<protocol::VBucketState> state;
};

// `client end ...`
struct ClientEnd {
  enum class How { eof, end_stream, error };
  How how = How::eof;
  std::string match;  // error: the message must contain it (empty: any error)
};

struct Step;

struct Repeat {
  std::uint64_t count = 0;
  std::vector<Step> body;  // no Repeat inside
};

struct Step {
  std::variant<ExpectConnect, Send, ExpectAck, ExpectGroup, Delay, Close, AllowUnexpected,
               ClientEvent, Repeat>
      action;
  SourceLocation location;
};

struct Scenario {
  std::string name;   // the file name without directory and extension
  std::string path;   // as given to the parser
  std::uint64_t seed = 1;
  Duration timeout{5000};
  bool acks_auto = false;
  // `writes coalesced`: consecutive sends without faults may share one write.
  bool coalesce_writes = false;

  // The server's TAP_CONNECT check: the `expect connect` line, or an any-matcher.
  ExpectConnect connect;
  SourceLocation connect_location;

  // Every other step in file order (client events included, so `repeat` bodies can mix them).
  std::vector<Step> steps;

  std::optional<ClientArgs> client_args;
  SourceLocation client_args_location;
  std::optional<ClientEnd> client_end;
  SourceLocation client_end_location;
  bool has_client_events = false;
};

}  // namespace tapharness::mockserver

template <>
struct fmt::formatter<tapharness::mockserver::SourceLocation> : fmt::formatter<std::string_view> {
  auto format(const tapharness::mockserver::SourceLocation& l, fmt::format_context& ctx) const
      -> decltype(ctx.out()) {
    return fmt::format_to(ctx.out(), "{}:{}:{}", l.file, l.line, l.column);
  }
};

template <>
struct fmt::formatter<tapharness::mockserver::FrameKind> : fmt::formatter<std::string_view> {
  auto format(tapharness::mockserver::FrameKind k, fmt::format_context& ctx) const
      -> decltype(ctx.out()) {
    return fmt::formatter<std::string_view>::format(tapharness::mockserver::name_of(k), ctx);
  }
};
