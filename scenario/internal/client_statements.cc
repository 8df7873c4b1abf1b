// What the client must report (scenarios/README.md): `client event KIND fields` and
// `client end eof|end_stream|error [match="..."] [message="..."]`.
#include <array>

#include "scenario/internal/fields.hpp"
#include "scenario/internal/statements.hpp"
#include "protocol/tap_event.hpp"

namespace tapharness::scenario {
namespace {

using E = protocol::TapEventKind;
constexpr std::uint32_t kItemEvents = kind_bits(E::mutation, E::deletion);
constexpr std::uint32_t kCheckpointEvents = kind_bits(E::checkpoint_start, E::checkpoint_end);

bool read_state(ValueReader& values, const Field& field, ClientEvent& event) {
  event.state = values.name(*field.value, "vbucket state", protocol::all_vbucket_states(), Spelling::lower,
                            kMaxU32);
  return event.state.has_value();
}

// The fields each event carries (protocol::TapEvent).
constexpr FieldRule<ClientEvent> kClientEventRules[] = {
    {"vb", kEveryKind, Arity::value, &number_field<kMaxU16, &ClientEvent::vbucket>},
    {"vbucket", kEveryKind, Arity::value, &number_field<kMaxU16, &ClientEvent::vbucket>, "vb"},
    {"key", kItemEvents, Arity::value, &bytes_field<&ClientEvent::key>},
    {"value", kItemEvents, Arity::value, &bytes_field<&ClientEvent::value>},
    {"flags", kind_bits(E::mutation), Arity::value, &number_field<kMaxU32, &ClientEvent::flags>},
    {"expiry", kind_bits(E::mutation), Arity::value, &number_field<kMaxU32, &ClientEvent::expiry>},
    {"cas", kItemEvents, Arity::value, &number_field<kMaxU64, &ClientEvent::cas>},
    {"datatype", kItemEvents, Arity::value, &number_field<kMaxU8, &ClientEvent::datatype>},
    {"checkpoint", kCheckpointEvents, Arity::value, &number_field<kMaxU64, &ClientEvent::checkpoint>},
    {"state", kind_bits(E::vbucket_set), Arity::value, &read_state},
};

using How = ClientEnd::How;
constexpr std::array kEndings{
    protocol::NamedValue<How>{How::eof, "eof"},
    protocol::NamedValue<How>{How::end_stream, "end_stream"},
    protocol::NamedValue<How>{How::error, "error"},
};

constexpr FieldRule<ClientEnd> kClientEndRules[] = {
    {"match", kind_bits(How::error), Arity::value, &string_field<&ClientEnd::match>},
    {"message", kind_bits(How::error), Arity::value, &string_field<&ClientEnd::message>},
};

// The kind word after `client event` / `client end`, from `table`.
template <class Kind>
std::optional<Kind> statement_kind(ValueReader& values, std::span<const Word> words,
                                   std::span<const protocol::NamedValue<Kind>> table, std::string_view what) {
  if (words.size() < 3) {
    return values.errors().fail(words[1].line, words[1].end_column(),
                                fmt::format("'client {}' is missing its {}; expected one of {}", words[1].text,
                                            what, word_list(names_of(table))));
  }
  return values.name(words[2], what, table, Spelling::as_is);
}

}  // namespace

std::optional<ClientEvent> parse_client_event(ValueReader& values, std::span<const Word> words) {
  const auto kind = statement_kind(values, words, protocol::all_tap_event_kinds(), "event kind");
  if (!kind) return std::nullopt;
  ClientEvent event{.kind = *kind};
  const auto kind_names = names_of(protocol::all_tap_event_kinds());
  const std::string statement = fmt::format("client event {}", name_of(*kind));
  const StatementShape shape{statement, kind_bits(*kind), "client event", kind_names};
  if (!parse_fields(values, words.subspan(3), kClientEventRules, shape, event)) return std::nullopt;
  return event;
}

std::optional<ClientEnd> parse_client_end(ValueReader& values, std::span<const Word> words) {
  const std::span<const protocol::NamedValue<How>> endings = kEndings;
  const auto how = statement_kind(values, words, endings, "ending");
  if (!how) return std::nullopt;
  ClientEnd end{.how = *how};
  const auto how_names = names_of(endings);
  const std::string statement = fmt::format("client end {}", protocol::find_name(endings, *how));
  const StatementShape shape{statement, kind_bits(*how), "client end", how_names};
  if (!parse_fields(values, words.subspan(3), kClientEndRules, shape, end)) return std::nullopt;
  return end;
}

}  // namespace tapharness::scenario
