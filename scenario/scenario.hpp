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
#include <memory>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/bytes.hpp"
#include "protocol/format.hpp"
#include "protocol/opcode.hpp"
#include "protocol/tap_connect.hpp"
#include "protocol/tap_event.hpp"
#include "scenario/index_expr.hpp"

namespace tapharness::scenario {

using Duration = std::chrono::milliseconds;

// The most ACK requests a scenario may leave unanswered at once (its ACK window): a mock
// server holds this many ACKs from a client, and no more.
inline constexpr std::size_t kMaxAckWindow = 65536;

// Where something is written: a file, a line and a column. The file's path is held once
// for the whole process (a step carries a pointer, not a copy of the path).
struct SourceLocation {
  SourceLocation() = default;
  SourceLocation(std::string_view file, int line, int column);

  const std::string& file() const { return *file_; }
  // The same file at another place (no lookup of the path).
  SourceLocation at(int at_line, int at_column) const {
    SourceLocation out = *this;
    out.line = at_line;
    out.column = at_column;
    return out;
  }

  int line = 0;    // 1-based; 0 stands for the file as a whole
  int column = 0;  // 1-based

  friend bool operator==(const SourceLocation& a, const SourceLocation& b) {
    return a.file_ == b.file_ && a.line == b.line && a.column == b.column;
  }

 private:
  const std::string* file_ = &kNoFile;
  static const std::string kNoFile;
};

// "file:line:col"
inline FormatOut describe_to(FormatOut out, const SourceLocation& l) {
  return fmt::format_to(out, "{}:{}:{}", l.file(), l.line, l.column);
}

// A number, or the repeat index `{n}`, or arithmetic on it (`{n*2+1}`).
struct NumberValue {
  std::uint64_t value = 0;
  bool is_index = false;
  std::optional<IndexExpr> expr;  // with is_index: the arithmetic; unset: the index itself

  std::uint64_t render(std::uint64_t index) const { return !is_index ? value : expr ? expr->eval(index) : index; }
  friend bool operator==(const NumberValue&, const NumberValue&) = default;
};

// A bytes value as written: a string (possibly with `{n}`), hex, random(N) or fill(N, b).
struct BytesValue {
  enum class Kind { text, hex, random, fill };
  Kind kind = Kind::text;
  // text: the literal pieces around each `{n}`; pieces.size() == placeholders + 1.
  std::vector<std::string> pieces;
  // text: each placeholder's arithmetic (`{n*2}`), one per placeholder; empty when all are `{n}`.
  std::vector<IndexExpr> placeholders;
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

// The numbers a `send` line may set. Unset, each takes ep-engine's default when the frame is
// rendered (scenarios/README.md); the last six are lies written over the encoded frame.
enum class SendField : std::uint8_t {
  vbucket,
  opaque,  // unset: the next producer sequence number
  cas,
  datatype,
  ttl,
  tap_flags,  // `tap_flags=` and the bare words ack / no_value, OR'ed
  flags,      // mutation
  expiry,     // mutation
  rev_seqno,  // mutation / deletion
  nru,        // mutation
  code,       // opaque
  state,      // vbucket_set
  checkpoint,  // checkpoint_start / checkpoint_end
  status,      // connect_error
  magic,
  opcode,
  keylen,
  extlen,
  bodylen,
  engine_length,
};
inline constexpr std::size_t kSendFields = static_cast<std::size_t>(SendField::engine_length) + 1;

// The bytes a `send` line may set.
enum class SendBytes : std::uint8_t {
  engine,  // replaces the engine-specific bytes
  key,     // mutation / deletion
  value,   // mutation / deletion
  body,    // connect_error
  raw,     // raw: the exact bytes
};
inline constexpr std::size_t kSendBytes = static_cast<std::size_t>(SendBytes::raw) + 1;

// One frame to send: its kind and only the fields its line sets (a bitmask says which), so a
// step costs what its line says, not a whole frame's worth of defaults.
class FrameSpec {
 public:
  FrameKind kind = FrameKind::mutation;

  // The field, or nullptr when the line leaves it to its default.
  const NumberValue* find(SendField field) const;
  const BytesValue* find(SendBytes field) const;
  std::optional<NumberValue> get(SendField field) const;
  std::optional<BytesValue> get(SendBytes field) const;
  // The field rendered for repeat index `index`, or `otherwise`.
  template <class T>
  T number_or(SendField field, std::uint64_t index, T otherwise) const {
    const NumberValue* v = find(field);
    return v ? static_cast<T>(v->render(index)) : otherwise;
  }

  void set(SendField field, NumberValue value);
  void set(SendBytes field, BytesValue value);

  bool wants_ack() const;
  // The encoded frame's size in bytes (lies overwrite bytes, they add none), when no bytes
  // value depends on the repeat index.
  std::optional<std::size_t> fixed_length() const;

  friend bool operator==(const FrameSpec&, const FrameSpec&) = default;

 private:
  std::uint32_t numbers_set_ = 0;      // bit per SendField
  std::uint8_t bytes_set_ = 0;         // bit per SendBytes
  std::vector<NumberValue> numbers_;   // the set ones, in SendField order
  std::vector<BytesValue> bytes_;      // the set ones, in SendBytes order
};

// How one frame's bytes go on the wire. Applied in order: corrupt, truncate, then
// split, bytewise or chunks.
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
  std::size_t chunk = 0;                // ...or `chunks=SIZE`: one write per SIZE bytes...
  Duration gap{1};                      // ...with this pause between writes

  // The size of each paced write: 1 for bytewise, the chunk size, or 0 (not paced).
  std::size_t paced_size() const { return bytewise ? 1 : chunk; }
  bool empty() const { return corrupt.empty() && !truncate && split.empty() && !bytewise && chunk == 0; }
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

// A `send` line: the frame and how it goes on the wire. Lines that say the same thing share
// one copy (a file of a million `send noop` lines holds one frame spec).
class Send {
 public:
  Send() : spec_(std::make_shared<Spec>()) {}
  Send(FrameSpec frame, FaultPlan fault, std::uint32_t retransmit = 0)
      : spec_(std::make_shared<Spec>(Spec{std::move(frame), std::move(fault), retransmit})) {}

  const FrameSpec& frame() const { return spec_->frame; }
  const FaultPlan& fault() const { return spec_->fault; }
  // `retransmit=N`: a NACK (ETMPFAIL, EBUSY) of this frame's ACK makes the server send it
  // again with a new opaque, up to N times, as ep-engine reschedules a NACKed item.
  std::uint32_t retransmit() const { return spec_->retransmit; }
  // Copies the spec if another step shares it (mutation changes one send, not its twins).
  FrameSpec& edit_frame() { return own().frame; }
  FaultPlan& edit_fault() { return own().fault; }

  // Whether `other` says the same; `share(other)` then drops this copy for other's.
  bool same_as(const Send& other) const {
    return spec_ == other.spec_ ||
           (frame() == other.frame() && fault() == other.fault() && retransmit() == other.retransmit());
  }
  void share(const Send& other) { spec_ = other.spec_; }

 private:
  struct Spec {
    FrameSpec frame;
    FaultPlan fault;
    std::uint32_t retransmit = 0;
  };
  Spec& own() {
    if (spec_.use_count() > 1) spec_ = std::make_shared<Spec>(*spec_);
    return *spec_;
  }
  std::shared_ptr<Spec> spec_;
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

// `allow unexpected`: from here on, unmatched client frames are ignored; `allow nacks`: from
// here on, a NACK (ETMPFAIL, EBUSY) may answer any owed ACK.
struct Allow {
  enum class What { unexpected, nacks };
  What what = What::unexpected;
};

// `on ack opaque=N close rst` / `on acks N close rst`: from this line on, the client's ACK
// for that opaque (or its Nth ACK since the line) ends the connection at once, the way a
// protocol-aware proxy would cut it.
struct Trigger {
  enum class When { ack_of_opaque, acks_counted };
  When when = When::ack_of_opaque;
  std::uint64_t value = 0;  // the opaque, or the count
  Close::How how = Close::How::rst;  // rst or fin
};

struct Step;

struct Repeat {
  std::uint64_t count = 0;
  std::vector<Step> body;  // no Repeat inside
};

// One line of the server's script.
struct Step {
  std::variant<Send, ExpectAck, ExpectGroup, Delay, Close, Allow, Repeat, Trigger> action;
  SourceLocation location;
};

// `expect sasl_list_mechs` / `expect sasl_auth`: authentication the server expects, in
// order, before TAP_CONNECT.
struct ExpectSasl {
  enum class What { list_mechs, auth };
  What what = What::list_mechs;
  std::string mechs = "PLAIN";               // list_mechs: the reply
  std::optional<std::string> user;           // auth: must be this (unset: any)
  std::optional<std::string> password;       // auth: must be this (unset: any)
  bool refuse = false;                       // auth: answer AUTH_ERROR whatever comes
  SourceLocation location;
};

// `ack_window N grace=DUR`: the producer sends nothing while N ACK requests are unanswered
// (ep-engine's tap_ack_window_size) and drops a client that leaves it full for the grace
// period (tap_ack_grace_period), which each ACK renews.
struct AckWindow {
  std::size_t size = 0;
  Duration grace{5000};
  SourceLocation location;
};

// ---- what the client must report: the runner's side, never the server's ----------------

// What the built-in client connects with (`client args`).
struct ClientArgs {
  protocol::TapArguments args;
  std::optional<Duration> idle_timeout;
  // user= / password=: SASL PLAIN before TAP_CONNECT.
  std::optional<std::string> user;
  std::optional<std::string> password;
  // reconnect=N backoff=DUR: reconnect after a connection ends in an error.
  std::uint32_t reconnect = 0;
  std::optional<Duration> backoff;
  // nack=KEY[:N],...: NACK the first N ACK requests of the event with that key.
  std::vector<std::pair<std::string, std::uint32_t>> nack;
  std::optional<protocol::Status> nack_status;  // nack_status=: ETMPFAIL unless set
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

  // `client events any`: the events are not checked.
  bool events_any = false;
  SourceLocation events_any_location;

  // Whether the client's events are checked: once a scenario says anything about the client
  // (`client args`, `client event`, `client end`), exactly its `client event` lines, and no
  // lines means no events; `client events any` opts out.
  bool checks_events() const { return !events_any && (!events.empty() || args || end); }
};

// How long a run may take unless the scenario says (`limit`): a Bazel `small` test's 60 s
// holds it three times over, room for a sanitizer's slowdown.
inline constexpr Duration kDefaultLimit{20'000};

enum class AckPolicy {
  strict,     // every ACK a correct client sends, in order, by the end (the default)
  unchecked,  // `acks unchecked`: ACKs that come are accepted, none is required
};

struct Scenario;

// `connection LABEL [after LABEL within DUR] { ... }`: one of several connections a
// scenario plans. Connections without `after` are separate clients, concurrently; one with
// `after` is the client of the connection it names coming back once that one has ended.
struct Connection {
  std::string label;
  SourceLocation location;
  std::optional<std::size_t> after;  // the index of the connection this one reconnects
  Duration within{0};                // after: how soon after that one's end it must arrive
  std::shared_ptr<const Scenario> script;  // its steps and expectations, with the file's directives
};

struct Scenario {
  std::string name;  // the file name without directory and extension
  std::string path;  // as given to the parser
  std::uint64_t seed = 1;
  Duration timeout{5000};
  // Which ACKs the client must send: under `strict` (the default) one for every frame a
  // correct client must ACK, in order; `acks unchecked` requires none.
  AckPolicy acks = AckPolicy::strict;
  // How long the whole run may take (`limit`); unset: kDefaultLimit.
  std::optional<Duration> limit;
  // `writes coalesced`: consecutive sends without faults may share one write.
  bool coalesce_writes = false;
  std::optional<AckWindow> ack_window;

  // Authentication expected before TAP_CONNECT, in order.
  std::vector<ExpectSasl> sasl;

  // The server's TAP_CONNECT check: the `expect connect` line, or an any-matcher.
  ExpectConnect connect;
  SourceLocation connect_location;

  // The server's steps in file order.
  std::vector<Step> steps;

  ClientSide client;

  // Connection blocks: empty for a file that is one connection (its steps above); otherwise
  // the steps, expectations and client lines above are empty and each block has its own.
  std::vector<Connection> connections;
  // The label a block's script carries ("" for a file that is one connection).
  std::string label;
  // The table row this case is (scenario/table.hpp); "" for a file without a table.
  std::string row;
};

}  // namespace tapharness::scenario
