// The scenario parser's driver: reads lines, dispatches on each line's keyword, keeps blocks
// (`repeat N {`, `unordered {`, `optional {`) and checks what depends on more than one line:
// directive and client-line duplicates, `expect connect` before the first send, what may
// follow a `close`, and `expect ack` claims (scenarios/README.md). Statements with fields are
// parsed in *_statement(s).cc.
#include "scenario/parser.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "scenario/internal/ack_ledger.hpp"
#include "scenario/internal/diagnostics.hpp"
#include "scenario/internal/fields.hpp"
#include "scenario/internal/lexer.hpp"
#include "scenario/internal/lint.hpp"
#include "scenario/internal/statements.hpp"
#include "scenario/internal/values.hpp"
#include "scenario/internal/suggest.hpp"
#include "scenario/table.hpp"

namespace tapharness::scenario {
namespace {

constexpr std::uint64_t kMaxRepeatCount = 100'000'000;

// Of a nest of repeats only the innermost runs as a loop; the outer ones are written out, one
// copy of their lines per iteration, and all the copies of a file together stay under this
// (each copy is a step in memory: some 100 bytes).
constexpr std::size_t kMaxUnrolledLines = 1'000'000;
// How deep repeats nest: each level is a pass over the lines of the one around it.
constexpr std::size_t kMaxRepeatDepth = 8;

// An index name: lower-case letters, digits and '_', not starting with a digit.
bool is_index_name(std::string_view text) {
  if (text.empty() || text.size() > 32 || (text[0] >= '0' && text[0] <= '9')) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

// The file name without directory and extension: "scenarios/backfill.scenario" -> "backfill".
// "-" is standard input.
std::string name_from_path(const std::string& path) {
  return path == "-" ? "stdin" : std::filesystem::path(path).stem().string();
}

// What a step is to the rules about `close`.
enum class AfterClose {
  never,            // send
  after_half_close, // expect ack, groups, delay
  before_only,      // every other step
};

// How deep `include`s may nest, and how many bytes a file and all it includes may hold.
constexpr std::size_t kMaxIncludeDepth = 16;
constexpr std::size_t kMaxIncludedBytes = kMaxFileSize;

class Parser {
 public:
  Parser(std::string_view text, std::string path, std::size_t max_errors = 1)
      : errors_(path, max_errors), values_(errors_) {
    std::error_code ignored;
    sources_.push_back(Source{path, LineReader(text, errors_), SourceLocation(path, 0, 0),
                              path == "-" ? path : std::filesystem::weakly_canonical(path, ignored).string()});
    current_file_ = sources_.back().file;
    scenario_.name = name_from_path(path);
    scenario_.path = std::move(path);
  }

  Result<Scenario, Diagnostic> run() {
    parse_all();
    if (errors_.failed()) return errors_.take();
    return std::move(scenario_);
  }

  // Every error (up to the sink's cap) and, for a valid file, the warnings.
  ScenarioCheck check() {
    parse_all();
    if (!errors_.failed()) lint(scenario_, errors_);
    return ScenarioCheck{errors_.take_errors(), errors_.take_warnings(), errors_.dropped()};
  }

 private:
  struct OpenBlock {
    Step step;
    Word keyword;
  };

  // A repeat block's lines, kept until its '}' with the file each came from, to be read
  // again per iteration of a repeat that holds another.
  struct HeldLine {
    Line line;
    SourceLocation file;
  };
  struct Replay {
    const std::vector<HeldLine>* lines;
    std::size_t next = 0;
  };

  void parse_all() {
    Line line;
    while (!errors_.done() && next_line(line)) {
      if (!statement(line.words)) skip_block(line);
    }
    errors_.next_statement();
    if (errors_.failed()) return;
    finish();
    if (errors_.failed()) return;
    const ClientSide& client = scenario_.client;
    if (scenario_.steps.empty() && scenario_.connect_location.line == 0 && !client.args && !client.end &&
        client.events.empty() && !client.events_any && scenario_.connections.empty() && scenario_.sasl.empty()) {
      errors_.fail(0, 0, "the scenario is empty: it needs at least one statement (a step, 'expect connect' or a "
                         "client line; scenarios/README.md)");
    }
  }

  // After a line that failed to open a block, its body is skipped: its lines would only
  // repeat the error, out of place.
  void skip_block(const Line& failed) {
    if (failed.words.back().text != "{" || group_ || repeat_) return;
    int depth = 1;
    Line line;
    while (depth > 0 && next_line(line)) {
      if (line.words[0].text == "}") --depth;
      if (line.words.back().text == "{") ++depth;
    }
  }

  bool statement(std::span<const Word> words) {
    if (group_) return group_line(words);
    if (words[0].text == "}") return close_brace(words);
    if (!connection_ && !scenario_.connections.empty() && !is_directive(words[0].text) &&
        words[0].text != "connection") {
      return fail(words[0], fmt::format("every step of a file with connection blocks belongs inside one; this line "
                                        "follows the block at line {}",
                                        scenario_.connections.back().location.line));
    }
    using Handler = bool (Parser::*)(std::span<const Word>);
    static constexpr std::pair<std::string_view, Handler> kStatements[] = {
        {"seed", &Parser::seed},     {"timeout", &Parser::timeout}, {"acks", &Parser::acks},
        {"writes", &Parser::writes}, {"allow", &Parser::allow},     {"expect", &Parser::expect},
        {"send", &Parser::send},     {"delay", &Parser::delay},     {"unordered", &Parser::unordered},
        {"optional", &Parser::optional}, {"close", &Parser::close}, {"repeat", &Parser::repeat},
        {"client", &Parser::client}, {"limit", &Parser::limit},
        {"ack_window", &Parser::ack_window}, {"on", &Parser::on},
        {"connection", &Parser::connection}, {"include", &Parser::include},
        {"table", &Parser::table},
    };
    for (const auto& [keyword, handler] : kStatements) {
      if (keyword == words[0].text) return (this->*handler)(words);
    }
    std::vector<std::string_view> keywords;
    for (const auto& statement : kStatements) keywords.push_back(statement.first);
    fail_unknown(errors_, words[0], "keyword", keywords);
    return false;
  }

  // --- directives ---

  bool seed(std::span<const Word> words) {
    if (!directive_once(words[0]) || !has_word(words, 1, "'seed' needs a number, as in seed 42")) {
      return false;
    }
    const auto seed = values_.number(words[1], "seed", kMaxU64);
    if (!seed) return false;
    scenario_.seed = *seed;
    return no_more_words(words, 2);
  }

  bool timeout(std::span<const Word> words) {
    if (!directive_once(words[0]) ||
        !has_word(words, 1, "'timeout' needs a duration, as in timeout 5s")) {
      return false;
    }
    const auto timeout = values_.duration(words[1], "timeout");
    if (!timeout) return false;
    if (timeout->count() == 0) return fail(words[1], "'timeout' must be more than 0");
    scenario_.timeout = *timeout;
    return no_more_words(words, 2);
  }

  bool limit(std::span<const Word> words) {
    if (!directive_once(words[0]) ||
        !has_word(words, 1, "'limit' needs a duration, as in limit 2m")) {
      return false;
    }
    const auto limit = values_.duration(words[1], "limit");
    if (!limit) return false;
    if (limit->count() == 0) return fail(words[1], "'limit' must be more than 0");
    scenario_.limit = *limit;
    return no_more_words(words, 2);
  }

  // `acks strict` is the default; `acks auto` is its older name.
  bool acks(std::span<const Word> words) {
    constexpr std::array<std::string_view, 3> kModes{"strict", "unchecked", "auto"};
    if (!directive_once(words[0])) return false;
    const auto mode = choice(words, 1, kModes);
    if (!mode) return false;
    scenario_.acks = *mode == 1 ? AckPolicy::unchecked : AckPolicy::strict;
    return no_more_words(words, 2);
  }

  bool writes(std::span<const Word> words) {
    constexpr std::array<std::string_view, 1> kModes{"coalesced"};
    if (!directive_once(words[0]) || !choice(words, 1, kModes)) return false;
    scenario_.coalesce_writes = true;
    return no_more_words(words, 2);
  }

  bool allow(std::span<const Word> words) {
    constexpr std::array<std::string_view, 2> kWhat{"unexpected", "nacks"};
    const auto what = choice(words, 1, kWhat);
    if (!what) return false;
    const std::string statement = fmt::format("allow {}", kWhat[*what]);
    if (!may_follow_close(words[0], statement, AfterClose::before_only)) return false;
    add_step(words[0], Allow{*what == 0 ? Allow::What::unexpected : Allow::What::nacks});
    return no_more_words(words, 2);
  }

  // `ack_window N [grace=DUR]`
  bool ack_window(std::span<const Word> words) {
    if (!directive_once(words[0]) ||
        !has_word(words, 1, "'ack_window' needs a size, as in ack_window 10 grace=2s")) {
      return false;
    }
    const auto size = values_.number(words[1], "ack_window", kMaxAckWindow);
    if (!size) return false;
    if (*size == 0) return fail(words[1], "'ack_window' must be at least 1: a window of 0 would never send");
    AckWindow window{.size = static_cast<std::size_t>(*size), .location = location(words[0])};
    for (std::size_t i = 2; i < words.size(); ++i) {
      const Field field = split_field(words[i]);
      if (field.name.text != "grace" || !field.value) {
        return fail(words[i], fmt::format("unexpected {} after 'ack_window N'; expected grace=DUR", quoted(words[i].text)));
      }
      const auto grace = values_.duration(*field.value, "grace");
      if (!grace) return false;
      if (grace->count() == 0) return fail(*field.value, "'grace' must be more than 0");
      window.grace = *grace;
      if (i + 1 < words.size()) return no_more_words(words, i + 1);
    }
    scenario_.ack_window = window;
    return true;
  }

  static bool is_directive(std::string_view keyword) {
    constexpr std::string_view kDirectives[] = {"seed", "timeout", "acks", "writes", "limit", "ack_window"};
    return std::find(std::begin(kDirectives), std::end(kDirectives), keyword) != std::end(kDirectives);
  }

  // Directives set the whole scenario, once.
  bool directive_once(const Word& keyword) {
    if (inside_repeat()) {
      return fail(keyword, fmt::format("'{}' sets the whole scenario; it cannot be inside a repeat", keyword.text));
    }
    if (connection_) {
      return fail(keyword, fmt::format("'{}' sets the whole scenario, every connection; write it outside the "
                                       "connection block (line {})",
                                       keyword.text, connection_->keyword.line));
    }
    const auto [first, inserted] = directive_lines_.try_emplace(keyword.text, keyword.line);
    if (!inserted) {
      return fail(keyword, fmt::format("duplicate '{}'; it is set at line {} already", keyword.text, first->second));
    }
    return true;
  }

  // --- the server's steps ---

  bool expect(std::span<const Word> words) {
    constexpr std::array<std::string_view, 4> kWhat{"connect", "ack", "sasl_list_mechs", "sasl_auth"};
    const auto what = choice(words, 1, kWhat);
    if (!what) return false;
    if (*what >= 2) return expect_sasl(words, *what == 2 ? ExpectSasl::What::list_mechs : ExpectSasl::What::auth);
    return *what == 0 ? expect_connect(words) : expect_ack(words);
  }

  // Authentication comes before TAP_CONNECT, so before `expect connect` and every send.
  bool expect_sasl(std::span<const Word> words, ExpectSasl::What what) {
    const Word& keyword = words[0];
    const std::string statement = fmt::format("expect {}", words[1].text);
    if (inside_repeat()) return fail(keyword, fmt::format("'{}' cannot be inside a repeat: a client authenticates once", statement));
    if (scenario_.connect_location.line != 0) {
      return fail(keyword, fmt::format("'{}' must come before 'expect connect' (line {}): a client authenticates "
                                       "before it sends TAP_CONNECT",
                                       statement, scenario_.connect_location.line));
    }
    if (first_send_line_) {
      return fail(keyword, fmt::format("'{}' must come before the first send (line {})", statement, *first_send_line_));
    }
    auto sasl = parse_expect_sasl(values_, words, what);
    if (!sasl) return false;
    sasl->location = location(keyword);
    scenario_.sasl.push_back(std::move(*sasl));
    return true;
  }

  bool expect_connect(std::span<const Word> words) {
    const Word& keyword = words[0];
    if (inside_repeat()) return fail(keyword, "'expect connect' cannot be inside a repeat: a client connects once");
    if (scenario_.connect_location.line != 0) {
      return fail(keyword, fmt::format("duplicate 'expect connect'; the first is at line {}",
                                       scenario_.connect_location.line));
    }
    if (first_send_line_) {
      return fail(keyword, fmt::format("'expect connect' must come before the first send (line {})",
                                       *first_send_line_));
    }
    if (!may_follow_close(keyword, "expect connect", AfterClose::before_only)) return false;
    for (const ExpectSasl& sasl : scenario_.sasl) {
      if (sasl.refuse) {
        return fail(keyword, fmt::format("'expect connect' cannot follow 'expect sasl_auth refuse' (line {}): a "
                                         "refused client sends no TAP_CONNECT",
                                         sasl.location.line));
      }
    }
    auto connect = parse_expect_connect(values_, words);
    if (!connect) return false;
    scenario_.connect = std::move(*connect);
    scenario_.connect_location = location(keyword);
    return true;
  }

  bool expect_ack(std::span<const Word> words) {
    if (!may_follow_close(words[0], "expect ack", AfterClose::after_half_close)) return false;
    const auto ack = parse_expect_ack(values_, words);
    if (!ack || !claim(*ack, words[0])) return false;
    add_step(words[0], *ack);
    return true;
  }

  // An `expect ack` without opaque= claims the oldest unclaimed send with `ack`.
  bool claim(const ExpectAck& ack, const Word& keyword) {
    if (ack.opaque || ledger_.claim(location(keyword))) return true;
    return fail(keyword, "'expect ack' without opaque= has no earlier send with 'ack' left to claim; "
                         "add 'ack' to a send or name the opaque=");
  }

  bool send(std::span<const Word> words) {
    if (!may_follow_close(words[0], "send", AfterClose::never)) return false;
    auto send = parse_send(values_, words);
    if (!send) return false;
    if (send->frame().wants_ack()) ledger_.add_send();
    share_if_seen(*send);
    if (!first_send_line_) first_send_line_ = words[0].line;
    add_step(words[0], std::move(*send));
    return true;
  }

  // `on ack opaque=N close rst|fin`, `on acks N close rst|fin`
  bool on(std::span<const Word> words) {
    const Word& keyword = words[0];
    constexpr std::array<std::string_view, 2> kWhat{"ack", "acks"};
    if (inside_repeat()) return fail(keyword, "'on' cannot be inside a repeat: it arms its fault once, from its line on");
    if (!may_follow_close(keyword, "on", AfterClose::before_only)) return false;
    const auto what = choice(words, 1, kWhat);
    if (!what) return false;
    Trigger trigger;
    if (*what == 0) {
      if (!has_word(words, 2, "'on ack' needs the opaque, as in on ack opaque=5 close rst")) return false;
      const Field field = split_field(words[2]);
      if (field.name.text != "opaque" || !field.value) {
        return fail(words[2], fmt::format("expected opaque=N after 'on ack', got {}", quoted(words[2].text)));
      }
      const auto opaque = values_.number(*field.value, "opaque", kMaxU32);
      if (!opaque) return false;
      trigger = Trigger{Trigger::When::ack_of_opaque, *opaque};
    } else {
      if (!has_word(words, 2, "'on acks' needs a count, as in on acks 10 close rst")) return false;
      const auto count = values_.number(words[2], "on acks", kMaxU64);
      if (!count) return false;
      if (*count == 0) return fail(words[2], "'on acks' counts from 1: the Nth ACK after this line");
      trigger = Trigger{Trigger::When::acks_counted, *count};
    }
    constexpr std::array<std::string_view, 1> kClose{"close"};
    constexpr std::array<std::string_view, 2> kForms{"rst", "fin"};
    if (!choice(words, 3, kClose)) return false;
    const auto form = choice(words, 4, kForms);
    if (!form) return false;
    trigger.how = *form == 0 ? Close::How::rst : Close::How::fin;
    add_step(keyword, trigger);
    return no_more_words(words, 5);
  }

  bool delay(std::span<const Word> words) {
    if (!may_follow_close(words[0], "delay", AfterClose::after_half_close) ||
        !has_word(words, 1, "'delay' needs a duration, as in delay 200ms")) {
      return false;
    }
    const auto duration = values_.duration(words[1], "delay");
    if (!duration) return false;
    add_step(words[0], Delay{*duration});
    return no_more_words(words, 2);
  }

  bool close(std::span<const Word> words) {
    const Word& keyword = words[0];
    if (inside_repeat()) return fail(keyword, "'close' cannot be inside a repeat: a connection closes once");
    if (!may_follow_close(keyword, "close", AfterClose::before_only)) return false;
    const std::span<const protocol::NamedValue<Close::How>> forms = all_close_forms();
    const auto form = choice(words, 1, names_of(forms));
    if (!form) return false;
    const Close::How how = forms[*form].value;
    closed_ = ClosedAt{how, keyword.line};
    add_step(keyword, Close{how});
    return no_more_words(words, 2);
  }

  // No send may follow a close; after `close half_close`, expectations, delays and client
  // lines may (scenarios/README.md, "Timing and endings").
  bool may_follow_close(const Word& keyword, std::string_view step, AfterClose rule) {
    if (!closed_) return true;
    const std::string_view how = name_of(closed_->how);
    const bool half = closed_->how == Close::How::half_close;
    if (rule == AfterClose::never) {
      return fail(keyword, fmt::format("no send may follow a close; the scenario closed at line {} with 'close {}'",
                                       closed_->line, how));
    }
    if (half && rule == AfterClose::after_half_close) return true;
    if (half) {
      return fail(keyword, fmt::format("'{}' may not follow 'close half_close' (line {}); only expect ack, "
                                       "unordered and optional blocks, delay and client lines may",
                                       step, closed_->line));
    }
    if (rule == AfterClose::after_half_close) {
      return fail(keyword, fmt::format("'{}' may follow only 'close half_close', not 'close {}' (line {})", step,
                                       how, closed_->line));
    }
    return fail(keyword, fmt::format("'{}' may not follow 'close {}' (line {}); only client lines may", step, how,
                                     closed_->line));
  }

  // --- blocks ---

  bool unordered(std::span<const Word> words) { return open_group(words, ExpectGroup::Kind::unordered); }
  bool optional(std::span<const Word> words) { return open_group(words, ExpectGroup::Kind::optional); }

  bool open_group(std::span<const Word> words, ExpectGroup::Kind kind) {
    const Word& keyword = words[0];
    if (one_line_repeat_) return fail_one_line_repeat(keyword);
    if (!may_follow_close(keyword, keyword.text, AfterClose::after_half_close) ||
        !has_word(words, 1, fmt::format("expected '{{' after '{}'", keyword.text))) {
      return false;
    }
    if (words[1].text != "{") return fail(words[1], fmt::format("expected '{{' after '{}'", keyword.text));
    if (!no_more_words(words, 2)) return false;
    group_ = OpenBlock{Step{ExpectGroup{.kind = kind}, location(keyword)}, keyword};
    return true;
  }

  // Inside `unordered {` / `optional {`: only `expect ack` lines, then `}`.
  bool group_line(std::span<const Word> words) {
    const Word& keyword = words[0];
    auto& group = std::get<ExpectGroup>(group_->step.action);
    if (keyword.text == "}") {
      if (!no_more_words(words, 1)) return false;
      if (group.items.empty()) {
        return fail(group_->keyword, fmt::format("empty '{}' block; it needs at least one 'expect ack'",
                                                 group_->keyword.text));
      }
      add_step(std::move(group_->step));
      group_.reset();
      return true;
    }
    if (keyword.text != "expect" || words.size() < 2 || words[1].text != "ack") {
      return fail(keyword, fmt::format("only 'expect ack' lines may be inside '{}' (line {}); close it with '}}' "
                                       "first",
                                       group_->keyword.text, group_->keyword.line));
    }
    const auto ack = parse_expect_ack(values_, words);
    if (!ack || !claim(*ack, keyword)) return false;
    group.items.push_back({*ack, location(keyword)});
    return true;
  }

  // `repeat N [as NAME] STEP` or `repeat N [as NAME] {`. A block is held until its '}': one
  // without a repeat inside runs as a loop (a Repeat step); one with is written out, its
  // lines read again for each iteration with its index bound to that iteration's number.
  bool repeat(std::span<const Word> words) {
    const Word& keyword = words[0];
    if (repeat_) {
      return fail(keyword, "a one-line repeat cannot hold another repeat; write 'repeat N {' blocks to nest them");
    }
    if (open_indexes_.size() >= kMaxRepeatDepth) {
      return fail(keyword, fmt::format("repeats nest at most {} deep", kMaxRepeatDepth));
    }
    if (!has_word(words, 1, "'repeat' needs a count: repeat N STEP, or repeat N { ... }")) return false;
    const bool computed = values_.is_index_word(words[1].text);
    const auto count = values_.number(words[1], "repeat count", kMaxRepeatCount);
    if (!count) return false;
    if (*count == 0 && !computed) return fail(words[1], "'repeat 0' repeats nothing; the count must be at least 1");
    std::size_t at = 2;
    std::string_view name = "n";
    if (at < words.size() && words[at].text == "as") {
      if (!has_word(words, at + 1, "'as' needs an index name, as in repeat 4 as vb {")) return false;
      const Word& named = words[at + 1];
      if (!is_index_name(named.text)) {
        return fail(named, fmt::format("{} is not an index name: lower-case letters, digits and '_', starting with a "
                                       "letter",
                                       quoted(named.text)));
      }
      name = named.text;
      at += 2;
    }
    for (const auto& open : open_indexes_) {
      if (open.name == name) {
        return fail(keyword, fmt::format("this repeat's index '{}' would hide the one of the repeat at line {}; name "
                                         "it another way: repeat N as NAME",
                                         name, open.line));
      }
    }
    if (!has_word(words, at, "expected a step or '{' after 'repeat N'")) return false;
    if (words[at].text != "{") {
      if (*count == 0) return true;  // a computed count of 0: the step is not there this time
      open_repeat(keyword, *count, name);
      one_line_repeat_ = true;
      if (!statement(words.subspan(at))) return false;
      one_line_repeat_ = false;
      return end_repeat();
    }
    if (!no_more_words(words, at + 1)) return false;
    auto held = std::make_unique<std::vector<HeldLine>>();
    if (const auto unclosed = hold_block(keyword, *held)) {
      if (errors_.failed()) return true;
      return fail(*unclosed, held->size() > kMaxUnrolledLines
                                 ? fmt::format("a repeat block of more than {} lines", kMaxUnrolledLines)
                                 : fmt::format("'{}' block is never closed; expected '}}'", unclosed->text));
    }
    const bool nested = std::any_of(held->begin(), held->end(),
                                    [](const HeldLine& h) { return h.line.words[0].text == "repeat"; });
    if (!nested) {  // a loop
      if (*count == 0) return true;
      open_repeat(keyword, *count, name);
      replay(*held);
      return true;
    }
    held->pop_back();  // its '}'
    if (held->empty()) return fail(keyword, "empty repeat block; it needs at least one step");
    unrolled_lines_ += *count * held->size();
    if (unrolled_lines_ > kMaxUnrolledLines) {
      return fail(keyword, fmt::format("nested repeats write out more than {} lines: only the innermost repeat of a "
                                       "nest runs as a loop, the outer ones are copied once per iteration; put the "
                                       "largest count innermost",
                                       kMaxUnrolledLines));
    }
    open_indexes_.push_back({std::string(name), keyword.line});
    for (std::uint64_t i = 0; i < *count && !errors_.failed(); ++i) {
      values_.bind_index(name, i);
      replay(*held);
      values_.unbind_index();
    }
    open_indexes_.pop_back();
    return true;
  }

  // Inside a repeat's body: one that loops, or an outer one being written out.
  bool inside_repeat() const { return repeat_.has_value() || !open_indexes_.empty(); }

  void open_repeat(const Word& keyword, std::uint64_t count, std::string_view name) {
    repeat_ = OpenBlock{Step{Repeat{.count = count}, location(keyword)}, keyword};
    repeat_events_ = EventRepeat{.count = count};
    repeat_index_ = std::string(name);
    values_.enter_repeat(count, repeat_index_);
    ledger_.begin_repeat();
  }

  // The lines of the block `opened` opens, up to and with its '}' (blocks inside it included,
  // `include`s read as they come). At the end of the file without it, or past
  // kMaxUnrolledLines, the innermost block still open.
  std::optional<Word> hold_block(const Word& opened, std::vector<HeldLine>& held) {
    std::vector<Word> open{opened};
    Line line;
    while (held.size() <= kMaxUnrolledLines && next_line(line)) {
      if (line.words[0].text == "include") {
        include(line.words);
        continue;
      }
      if (line.words[0].text == "}") open.pop_back();
      if (line.words.back().text == "{") open.push_back(line.words[0]);
      held.push_back({line, current_file_});
      if (open.empty()) return std::nullopt;
    }
    return open.back();
  }

  // Reads held lines as if they came again from their files.
  void replay(const std::vector<HeldLine>& lines) {
    replays_.push_back({&lines, 0});
    Line line;
    while (!errors_.done() && next_line(line)) {
      if (!statement(line.words)) skip_block(line);
    }
    replays_.pop_back();
  }

  bool end_repeat() {
    const Repeat& repeat = std::get<Repeat>(repeat_->step.action);
    if (repeat.body.empty() && repeat_events_.body.empty()) {
      return fail(repeat_->keyword, "empty repeat block; it needs at least one step");
    }
    if (const auto shortfall = ledger_.end_repeat(repeat.count)) {
      errors_.fail(shortfall->location.line, shortfall->location.column,
                   fmt::format("'expect ack' without opaque= has no send with 'ack' left to claim in iteration "
                               "{{{}}}={} of the repeat at line {}; add 'ack' to a send or name the opaque=",
                               repeat_index_, shortfall->iteration, repeat_->keyword.line));
      return false;
    }
    values_.leave_repeat();
    // The server repeats its steps and the client its events, each side only what it has.
    if (!repeat.body.empty()) scenario_.steps.push_back(std::move(repeat_->step));
    if (!repeat_events_.body.empty()) scenario_.client.events.emplace_back(std::move(repeat_events_));
    repeat_.reset();
    return true;
  }

  bool close_brace(std::span<const Word> words) {
    if (one_line_repeat_) return fail_one_line_repeat(words[0]);
    if (!repeat_ && connection_) return no_more_words(words, 1) && end_connection();
    if (!repeat_) return fail(words[0], "'}' without an open block");
    return no_more_words(words, 1) && end_repeat();
  }

  // `connection LABEL [after LABEL [within DUR]] {`
  bool connection(std::span<const Word> words) {
    const Word& keyword = words[0];
    if (inside_repeat()) return fail(keyword, "a connection block cannot be inside a repeat");
    if (connection_) {
      return fail(keyword, fmt::format("connection blocks do not nest; this one is inside the block at line {}",
                                       connection_->keyword.line));
    }
    if (const auto outside = first_step_line(scenario_)) {
      return fail(keyword, fmt::format("a file with connection blocks keeps every step inside them; line {} is "
                                       "outside any",
                                       *outside));
    }
    if (!has_word(words, 1, "'connection' needs a label, as in connection replica_a {")) return false;
    const Word& label = words[1];
    if (!is_label(label.text)) {
      return fail(label, fmt::format("a connection label is letters, digits, '_' and '-', got {}", quoted(label.text)));
    }
    Connection planned{.label = std::string(label.text), .location = location(keyword)};
    for (std::size_t i = 0; i < scenario_.connections.size(); ++i) {
      if (scenario_.connections[i].label == label.text) {
        return fail(label, fmt::format("duplicate connection label {}; the first is at line {}", quoted(label.text),
                                       scenario_.connections[i].location.line));
      }
    }
    std::size_t next = 2;
    if (next < words.size() && words[next].text == "after") {
      if (!has_word(words, next + 1, "'after' needs the label of an earlier connection")) return false;
      const Word& earlier = words[next + 1];
      std::optional<std::size_t> found;
      std::vector<std::string_view> labels;
      for (std::size_t i = 0; i < scenario_.connections.size(); ++i) {
        labels.push_back(scenario_.connections[i].label);
        if (scenario_.connections[i].label == earlier.text) found = i;
      }
      if (!found) {
        errors_.fail(earlier, fmt::format("no earlier connection is labelled {}; expected one of {}",
                                          quoted(earlier.text), word_list(labels)),
                     std::string(closest_word(earlier.text, labels)));
        return false;
      }
      for (const Connection& other : scenario_.connections) {
        if (other.after == found) {
          return fail(earlier, fmt::format("connection {} is already followed by {} (line {}); a client comes back "
                                           "once per connection",
                                           quoted(earlier.text), quoted(std::string_view(other.label)), other.location.line));
        }
      }
      planned.after = found;
      next += 2;
      if (next < words.size() && words[next].text == "within") {
        if (!has_word(words, next + 1, "'within' needs a duration, as in within 1s")) return false;
        const auto within = values_.duration(words[next + 1], "within");
        if (!within) return false;
        if (within->count() == 0) return fail(words[next + 1], "'within' must be more than 0");
        planned.within = *within;
        next += 2;
      }
    }
    if (!has_word(words, next, "expected '{' at the end of the connection line")) return false;
    if (words[next].text != "{") {
      return fail(words[next], fmt::format("unexpected {}; expected 'after LABEL', 'within DUR' or '{{'",
                                           quoted(words[next].text)));
    }
    if (!no_more_words(words, next + 1)) return false;
    connection_ = OpenConnection{keyword, std::move(planned)};
    // The block collects a script of its own; the file's directives wait in top_.
    top_ = std::move(scenario_);
    scenario_ = Scenario{};
    scenario_.path = top_.path;
    scenario_.name = top_.name;
    ledger_ = AckLedger{};
    closed_.reset();
    first_send_line_.reset();
    return true;
  }

  bool end_connection() {
    if (!first_step_line(scenario_) && scenario_.steps.empty()) {
      return fail(connection_->keyword, "empty connection block; it needs at least one statement");
    }
    Connection planned = std::move(connection_->planned);
    planned.script = std::make_shared<const Scenario>(std::move(scenario_));
    connection_.reset();
    scenario_ = std::move(top_);
    scenario_.connections.push_back(std::move(planned));
    closed_.reset();
    first_send_line_.reset();
    return true;
  }

  // The first line that is more than a directive, if any.
  static std::optional<int> first_step_line(const Scenario& s) {
    std::optional<int> first;
    auto consider = [&](int line) {
      if (line > 0 && (!first || line < *first)) first = line;
    };
    if (!s.steps.empty()) consider(s.steps.front().location.line);
    consider(s.connect_location.line);
    if (!s.sasl.empty()) consider(s.sasl.front().location.line);
    consider(s.client.args_location.line);
    consider(s.client.end_location.line);
    consider(s.client.events_any_location.line);
    if (!s.client.events.empty()) {
      std::visit(
          [&](const auto& item) {
            if constexpr (std::is_same_v<std::decay_t<decltype(item)>, EventLine>) {
              consider(item.location.line);
            } else {
              consider(item.body.front().location.line);
            }
          },
          s.client.events.front());
    }
    return first;
  }

  // The file's directives hold in every connection; a reconnect waits the scenario's
  // timeout unless it says `within`.
  void finish_connections() {
    for (Connection& planned : scenario_.connections) {
      auto script = std::make_shared<Scenario>(*planned.script);
      script->seed = scenario_.seed;
      script->timeout = scenario_.timeout;
      script->acks = scenario_.acks;
      script->limit = scenario_.limit;
      script->coalesce_writes = scenario_.coalesce_writes;
      script->ack_window = scenario_.ack_window;
      script->label = planned.label;
      script->name = fmt::format("{}.{}", scenario_.name, planned.label);
      if (planned.after && planned.within.count() == 0) planned.within = scenario_.timeout;
      planned.script = std::move(script);
    }
  }

  bool fail_one_line_repeat(const Word& at) {
    return fail(at, "a one-line repeat takes a single step; write 'repeat N {' for a block");
  }

  // A block still open at the end of the file.
  void finish() {
    for (const auto* block : {&group_, &repeat_}) {
      if (*block) {
        fail((*block)->keyword, fmt::format("'{}' block is never closed; expected '}}'", (*block)->keyword.text));
        return;
      }
    }
    if (connection_) {
      fail(connection_->keyword, "'connection' block is never closed; expected '}'");
      return;
    }
    finish_connections();
  }

  // --- what the client must report ---

  bool client(std::span<const Word> words) {
    constexpr std::array<std::string_view, 4> kWhat{"args", "event", "end", "events"};
    const auto what = choice(words, 1, kWhat);
    if (!what) return false;
    if (*what == 3) return client_events_any(words);
    if (*what == 1) {
      if (scenario_.client.events_any) {
        return fail(words[0], fmt::format("'client event' contradicts 'client events any' (line {}), which checks no "
                                          "events",
                                          scenario_.client.events_any_location.line));
      }
      auto event = parse_client_event(values_, words);
      if (!event) return false;
      EventLine line{std::move(*event), location(words[0])};
      if (repeat_) {
        repeat_events_.body.push_back(std::move(line));
      } else {
        scenario_.client.events.emplace_back(std::move(line));
      }
      return true;
    }
    const std::string_view name = *what == 0 ? "client args" : "client end";
    SourceLocation& first = *what == 0 ? scenario_.client.args_location : scenario_.client.end_location;
    if (inside_repeat()) return fail(words[0], fmt::format("'{}' cannot be inside a repeat", name));
    if (*what == 0 && connection_ && connection_->planned.after) {
      const Connection& earlier = top_.connections[*connection_->planned.after];
      return fail(words[0], fmt::format("a reconnect is the same client coming back: it connects with the 'client "
                                        "args' of connection {} (line {})",
                                        quoted(std::string_view(earlier.label)), earlier.location.line));
    }
    if (first.line != 0) {
      return fail(words[0], fmt::format("duplicate '{}'; the first is at line {}", name, first.line));
    }
    first = location(words[0]);
    if (*what == 0) {
      scenario_.client.args = parse_client_args(values_, words);
      return scenario_.client.args.has_value();
    }
    scenario_.client.end = parse_client_end(values_, words);
    return scenario_.client.end.has_value();
  }

  // `client events any`: the client's events are not checked.
  bool client_events_any(std::span<const Word> words) {
    constexpr std::array<std::string_view, 1> kAny{"any"};
    if (!choice(words, 2, kAny)) return false;
    if (inside_repeat()) return fail(words[0], "'client events any' cannot be inside a repeat");
    if (scenario_.client.events_any) {
      return fail(words[0], fmt::format("duplicate 'client events any'; the first is at line {}",
                                        scenario_.client.events_any_location.line));
    }
    if (!scenario_.client.events.empty()) {
      return fail(words[0], "'client events any' contradicts the 'client event' lines before it");
    }
    scenario_.client.events_any = true;
    scenario_.client.events_any_location = location(words[0]);
    return no_more_words(words, 3);
  }

  // A table the file-level expansion (scenario/table.hpp) did not take: one in an
  // included file.
  bool table(std::span<const Word> words) {
    return fail(words[0], "a table belongs in the scenario file itself, not in an included one (rows may come "
                          "from a file beside it: table COLUMNS... from \"FILE\")");
  }

  // --- include ---

  // The next line of the innermost file; at the end of an included file, back to the one
  // that included it.
  // The next line: from the held lines being read again, else from the files.
  bool next_line(Line& line) {
    if (!replays_.empty()) {
      Replay& replay = replays_.back();
      if (replay.next == replay.lines->size()) return false;
      const HeldLine& held = (*replay.lines)[replay.next++];
      line = held.line;
      read_from(held.file);
      errors_.next_statement();
      return true;
    }
    while (true) {
      if (sources_.back().lines.next(line)) {
        read_from(sources_.back().file);
        return true;
      }
      if (sources_.size() == 1 || errors_.done()) return false;
      sources_.pop_back();
      errors_.set_path(sources_.back().path);
    }
  }

  void read_from(const SourceLocation& file) {
    if (&file.file() == &current_file_.file()) return;
    current_file_ = file;
    errors_.set_path(file.file());
  }

  // `include "path"`: the file's lines as if written here; the path is relative to the
  // including file's directory.
  bool include(std::span<const Word> words) {
    const Word& keyword = words[0];
    if (one_line_repeat_) return fail_one_line_repeat(keyword);
    if (!has_word(words, 1, "'include' needs a quoted path, as in include \"prologue.inc\"")) return false;
    if (!words[1].text.starts_with('"')) {
      return fail(words[1], fmt::format("expected a quoted path after 'include', got {}", quoted(words[1].text)));
    }
    const auto relative = values_.string(words[1], "include");
    if (!relative || !no_more_words(words, 2)) return false;
    const std::string& including = sources_.back().path;
    const std::filesystem::path base =
        including == "-" ? std::filesystem::path() : std::filesystem::path(including).parent_path();
    const std::string path = (base / *relative).lexically_normal().string();
    std::error_code ignored;
    const std::string identity = std::filesystem::weakly_canonical(path, ignored).string();
    for (const Source& open : sources_) {
      if (open.identity == identity) {
        std::string chain;
        for (const Source& s : sources_) chain += fmt::format("{} includes ", s.path);
        return fail(words[1], fmt::format("include cycle: {}{}", chain, path));
      }
    }
    if (sources_.size() >= kMaxIncludeDepth) {
      return fail(keyword, fmt::format("includes nest more than {} deep", kMaxIncludeDepth));
    }
    auto text = read_scenario_file(path);
    if (!text) return fail(words[1], fmt::format("cannot include {}: {}", quoted(std::string_view(path)), text.error().message));
    included_bytes_ += text->size();
    if (included_bytes_ > kMaxIncludedBytes) {
      return fail(words[1], fmt::format("the file and what it includes are over {} bytes", kMaxIncludedBytes));
    }
    // Words and block keywords are views into the text: it stays until parsing ends.
    texts_.push_back(std::make_unique<std::string>(std::move(*text)));
    sources_.push_back(Source{path, LineReader(*texts_.back(), errors_), SourceLocation(path, 0, 0), identity});
    errors_.set_path(path);
    return true;
  }

  // --- helpers ---

  bool fail(const Word& at, std::string message) {
    errors_.fail(at, std::move(message));
    return false;
  }

  // Fails just past the last word when words[index] is missing.
  bool has_word(std::span<const Word> words, std::size_t index, std::string message) {
    if (index < words.size()) return true;
    errors_.fail(words.back().line, words.back().end_column(), std::move(message));
    return false;
  }

  bool no_more_words(std::span<const Word> words, std::size_t used) {
    if (words.size() <= used) return true;
    return fail(words[used], fmt::format("unexpected {}; expected the end of the line", quoted(words[used].text)));
  }

  // words[index] as one of `choices` (exactly), by its position in them.
  std::optional<std::size_t> choice(std::span<const Word> words, std::size_t index,
                                    std::span<const std::string_view> choices) {
    const Word& before = words[index - 1];
    if (!has_word(words, index, fmt::format("'{}' must be followed by one of {}", before.text, word_list(choices)))) {
      return std::nullopt;
    }
    const Word& word = words[index];
    for (std::size_t i = 0; i < choices.size(); ++i) {
      if (choices[i] == word.text) return i;
    }
    return errors_.fail(word,
                        fmt::format("unexpected {} after '{}'; expected one of {}", quoted(word.text), before.text,
                                    word_list(choices)),
                        std::string(closest_word(word.text, choices)));
  }

  SourceLocation location(const Word& word) const { return current_file_.at(word.line, word.column); }

  // A send that says what one of the last few said shares its spec: generated files repeat
  // a handful of lines millions of times.
  void share_if_seen(Send& send) {
    for (const Send& seen : recent_sends_) {
      if (send.same_as(seen)) {
        send.share(seen);
        return;
      }
    }
    recent_sends_[next_recent_++ % recent_sends_.size()] = send;
  }

  template <class Action>
  void add_step(const Word& keyword, Action action) {
    add_step(Step{std::move(action), location(keyword)});
  }

  void add_step(Step step) {
    auto& steps = repeat_ ? std::get<Repeat>(repeat_->step.action).body : scenario_.steps;
    steps.push_back(std::move(step));
  }

  ErrorSink errors_;
  ValueReader values_;
  // The files being read: the scenario, then each `include` inside the one before.
  struct Source {
    std::string path;
    LineReader lines;
    SourceLocation file;      // for location()
    std::string identity = {};  // the canonical path, to find cycles
  };
  std::vector<Source> sources_;
  std::vector<std::unique_ptr<std::string>> texts_;  // included files' text
  std::size_t included_bytes_ = 0;
  Scenario scenario_;
  AckLedger ledger_;

  std::optional<OpenBlock> repeat_;  // the repeat being read...
  EventRepeat repeat_events_;        // ...and the client events of its body
  std::string repeat_index_;         // ...and its index's name
  bool one_line_repeat_ = false;     // `repeat N STEP`: one step, no blocks

  std::vector<Replay> replays_;        // innermost last
  SourceLocation current_file_;        // the file of the line being read
  std::size_t unrolled_lines_ = 0;     // lines written out by nested repeats so far
  struct OpenIndex {
    std::string name;
    int line;
  };
  std::vector<OpenIndex> open_indexes_;  // the outer repeats being written out
  std::optional<OpenBlock> group_;   // the unordered / optional block being read

  struct OpenConnection {
    Word keyword;
    Connection planned;
  };
  std::optional<OpenConnection> connection_;  // the connection block being read...
  Scenario top_;                              // ...while the file's own part waits here

  struct ClosedAt {
    Close::How how;
    int line;
  };
  std::optional<ClosedAt> closed_;
  std::optional<int> first_send_line_;
  std::map<std::string_view, int> directive_lines_;  // where each directive was set
  std::array<Send, 8> recent_sends_;
  std::size_t next_recent_ = 0;
};

}  // namespace

Result<Scenario, Diagnostic> parse_scenario(std::string_view text, std::string path) {
  return Parser(text, std::move(path)).run();
}

ScenarioCheck check_scenario(std::string_view text, std::string path) {
  return Parser(text, std::move(path), kMaxErrors).check();
}

Result<std::string, Diagnostic> read_scenario_file(const std::string& path) {
  auto unreadable = [&](std::string_view why) {
    return Diagnostic{SourceLocation{path, 0, 0}, fmt::format("cannot read the file ({})", why), {}};
  };
  std::ifstream file;
  if (path != "-") file.open(path, std::ios::binary);
  std::istream& in = path == "-" ? std::cin : file;
  if (!in) return unreadable(std::strerror(errno));
  std::string text;
  std::array<char, 64 * 1024> buffer;
  while (in.read(buffer.data(), buffer.size()) || in.gcount() > 0) {
    if (text.size() + static_cast<std::size_t>(in.gcount()) > kMaxFileSize) {
      return unreadable(fmt::format("larger than {} bytes", kMaxFileSize));
    }
    text.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return unreadable(std::strerror(errno));
  return text;
}

Result<Scenario, Diagnostic> load_scenario(const std::string& path) {
  auto text = read_scenario_file(path);
  if (!text) return text.error();
  auto cases = expand_table(*text, path);
  if (!cases) return cases.error();
  if (cases->size() == 1 && cases->front().row.empty()) return parse_scenario(*text, path);
  std::vector<std::string_view> rows;
  for (const ScenarioCase& c : *cases) rows.push_back(c.row);
  return Diagnostic{SourceLocation(path, 0, 0),
                    fmt::format("the file is a table of {} cases ({}); tap_scenario runs each", cases->size(),
                                word_list(rows)),
                    {}};
}

namespace {

// A case's diagnostic says which row it is about.
Diagnostic in_row(Diagnostic d, const std::string& row) {
  if (!row.empty()) d.message = fmt::format("in row '{}': {}", row, d.message);
  return d;
}

}  // namespace

Result<std::vector<Scenario>, Diagnostic> load_scenario_cases(const std::string& path) {
  auto text = read_scenario_file(path);
  if (!text) return text.error();
  return parse_scenario_cases(*text, path);
}

Result<std::vector<Scenario>, Diagnostic> parse_scenario_cases(std::string_view text, const std::string& path) {
  auto cases = expand_table(text, path);
  if (!cases) return cases.error();
  std::vector<Scenario> out;
  for (ScenarioCase& c : *cases) {
    auto parsed = parse_scenario(c.text, path);
    if (!parsed) return in_row(parsed.error(), c.row);
    if (!c.row.empty()) {
      parsed->row = c.row;
      parsed->name = fmt::format("{}/{}", parsed->name, c.row);
    }
    out.push_back(std::move(parsed).value());
  }
  return out;
}

ScenarioCheck check_scenario_file(const std::string& path) {
  auto text = read_scenario_file(path);
  if (!text) return ScenarioCheck{{text.error()}, {}, 0};
  auto cases = expand_table(*text, path);
  if (!cases) return ScenarioCheck{{cases.error()}, {}, 0};
  ScenarioCheck all;
  for (const ScenarioCase& c : *cases) {
    ScenarioCheck one = check_scenario(c.text, path);
    for (auto& d : one.errors) all.errors.push_back(in_row(std::move(d), c.row));
    for (auto& d : one.warnings) {
      // A warning about a line outside the table's words reads the same in every row: once.
      Diagnostic w = in_row(std::move(d), c.row);
      const bool seen = std::any_of(all.warnings.begin(), all.warnings.end(), [&](const Diagnostic& x) {
        return x.location == w.location;
      });
      if (!seen) all.warnings.push_back(std::move(w));
    }
    all.more_errors += one.more_errors;
    if (all.errors.size() >= kMaxErrors) break;
  }
  return all;
}

}  // namespace tapharness::scenario
