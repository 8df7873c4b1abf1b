// The two sides of TAP_CONNECT (scenarios/README.md): `expect connect`, what the mock server
// accepts, and `client args`, what the built-in client sends. They share flag names, the
// backfill forms and vbucket lists.
#include <array>

#include "scenario/internal/fields.hpp"
#include "scenario/internal/statements.hpp"
#include "protocol/tap_connect.hpp"

namespace tapharness::scenario {
namespace {

using protocol::NamedValue;
using protocol::TapConnectFlag;

// The README's short names, beside the codec's spec names.
constexpr std::array kConnectFlagAliases{
    NamedValue<TapConnectFlag>{TapConnectFlag::takeover_vbuckets, "takeover"},
    NamedValue<TapConnectFlag>{TapConnectFlag::support_ack, "ack"},
    NamedValue<TapConnectFlag>{TapConnectFlag::request_keys_only, "keys_only"},
    NamedValue<TapConnectFlag>{TapConnectFlag::registered_client, "registered"},
};

// `backfill,support_ack` (spec names or aliases, any case; numbers are raw bits), OR'ed.
std::optional<std::uint32_t> connect_flags(ValueReader& values, const Field& field) {
  std::uint32_t bits = 0;
  const bool ok = values.each_item(*field.value, field.name.text, [&](const Word& item) {
    if (starts_with_digit(item.text) || values.is_index_word(item.text)) {
      const auto n = values.number(item, field.name.text, kMaxU32);
      if (n) bits |= static_cast<std::uint32_t>(*n);
      return n.has_value();
    }
    auto flag = protocol::tap_connect_flag_from_name(item.text);
    if (!flag) flag = protocol::find_value<TapConnectFlag>(kConnectFlagAliases, item.text);
    if (!flag) {
      auto names = names_of(protocol::all_tap_connect_flags());
      for (const auto& alias : kConnectFlagAliases) names.push_back(alias.name);
      fail_unknown(values.errors(), item, "connect flag", names, Spelling::lower, " or a number");
      return false;
    }
    bits |= static_cast<std::uint32_t>(*flag);
    return true;
  });
  if (!ok) return std::nullopt;
  return bits;
}

// True when the value is the word `word` (any case).
bool is_word(const Field& field, std::string_view word) { return protocol::iequals(field.value->text, word); }

// A backfill timestamp; `none` is the seed's "no backfill". `others` are the statement's
// further words, for the error message.
std::optional<std::uint64_t> backfill_number(ValueReader& values, const Field& field,
                                             std::span<const std::string_view> words) {
  if (is_word(field, "none")) return protocol::kNoBackfill;
  if (!starts_with_digit(field.value->text)) {
    return fail_unknown(values.errors(), *field.value, "backfill", words, Spelling::as_is, " or a number");
  }
  return values.number(*field.value, field.name.text, kMaxU64);
}

// `0,3,7` and ranges `0..1023` (both ends included), mixed: `0..3,8,10..12`.
std::optional<std::vector<std::uint16_t>> vbucket_list(ValueReader& values, const Field& field) {
  std::vector<std::uint16_t> list;
  const bool ok = values.each_item(*field.value, field.name.text, [&](const Word& item) {
    const std::size_t dots = item.text.find("..");
    if (dots == std::string_view::npos) {
      const auto vb = values.number(item, field.name.text, kMaxU16);
      if (vb) list.push_back(static_cast<std::uint16_t>(*vb));
      return vb.has_value();
    }
    const auto first = values.number(item.part(0, dots), field.name.text, kMaxU16);
    if (!first) return false;
    const auto last = values.number(item.part(dots + 2), field.name.text, kMaxU16);
    if (!last) return false;
    if (*last < *first) {
      values.errors().fail(item, fmt::format("the range {} runs backwards; write {}..{}", item.text, *last, *first));
      return false;
    }
    for (std::uint64_t vb = *first; vb <= *last; ++vb) list.push_back(static_cast<std::uint16_t>(vb));
    return true;
  });
  if (!ok) return std::nullopt;
  return list;
}

// --- expect connect ---

bool read_connect_name(ValueReader& values, const Field& field, ExpectConnect& connect) {
  if (is_word(field, "any")) {
    connect.name = {};
    return true;
  }
  if (!field.value->text.starts_with('"')) {
    values.errors().fail(*field.value, fmt::format("expected a quoted name or 'any' for 'name', got {}",
                                                   quoted(field.value->text)));
    return false;
  }
  auto name = values.string(*field.value, "name");
  if (!name) return false;
  connect.name = {FieldMatcher<std::string>::Kind::exact, std::move(*name)};
  return true;
}

// `has=` and `lacks=` naming one flag is a line that can never match.
bool check_has_lacks(ValueReader& values, const Field& field, const ExpectConnect& connect) {
  const std::uint32_t both = connect.flags_present & connect.flags_absent;
  if (both == 0) return true;
  values.errors().fail(*field.value, fmt::format("{} is in both has= and lacks=",
                                                 protocol::tap_connect_flags_text(both)));
  return false;
}

template <auto Member>
bool read_connect_flags(ValueReader& values, const Field& field, ExpectConnect& connect) {
  const auto bits = connect_flags(values, field);
  if (!bits) return false;
  connect.*Member = *bits;
  return check_has_lacks(values, field, connect);
}

bool read_connect_backfill(ValueReader& values, const Field& field, ExpectConnect& connect) {
  using Kind = FieldMatcher<std::uint64_t>::Kind;
  if (is_word(field, "absent")) {
    connect.backfill = {Kind::absent, 0};
    return true;
  }
  constexpr std::array<std::string_view, 2> kWords{"none", "absent"};
  const auto backfill = backfill_number(values, field, kWords);
  if (backfill) connect.backfill = {Kind::exact, *backfill};
  return backfill.has_value();
}

bool read_connect_vbuckets(ValueReader& values, const Field& field, ExpectConnect& connect) {
  using Kind = FieldMatcher<std::vector<std::uint16_t>>::Kind;
  if (is_word(field, "absent")) {
    connect.vbuckets = {Kind::absent, {}};
    return true;
  }
  auto list = vbucket_list(values, field);
  if (list) connect.vbuckets = {Kind::exact, std::move(*list)};
  return list.has_value();
}

constexpr FieldRule<ExpectConnect> kExpectConnectRules[] = {
    {"name", kEveryKind, Arity::value, &read_connect_name},
    {"flags", kEveryKind, Arity::value, &read_connect_flags<&ExpectConnect::flags_exact>},
    {"has", kEveryKind, Arity::value, &read_connect_flags<&ExpectConnect::flags_present>},
    {"lacks", kEveryKind, Arity::value, &read_connect_flags<&ExpectConnect::flags_absent>},
    {"backfill", kEveryKind, Arity::value, &read_connect_backfill},
    {"vbuckets", kEveryKind, Arity::value, &read_connect_vbuckets},
};

// --- client args ---

bool read_args_backfill(ValueReader& values, const Field& field, ClientArgs& args) {
  constexpr std::array<std::string_view, 1> kWords{"none"};
  const auto backfill = backfill_number(values, field, kWords);
  if (backfill) args.args.backfill = *backfill;
  return backfill.has_value();
}

bool read_args_vbuckets(ValueReader& values, const Field& field, ClientArgs& args) {
  auto list = vbucket_list(values, field);
  if (list) args.args.vbuckets = std::move(*list);
  return list.has_value();
}

template <auto Member>
bool args_flag(ValueReader& values, const Field& field, ClientArgs& args) {
  return flag_field<&ClientArgs::args, Member>(values, field, args);
}

// `nack=k1,k2:3`: KEY[:N], the first N (1 unless said) ACK requests of that key's event.
bool read_args_nack(ValueReader& values, const Field& field, ClientArgs& args) {
  return values.each_item(*field.value, "nack", [&](const Word& item) {
    const std::size_t colon = item.text.rfind(':');
    std::uint64_t times = 1;
    Word key = item;
    if (colon != std::string_view::npos) {
      const auto n = values.number(item.part(colon + 1), "nack count", kMaxU32);
      if (!n) return false;
      if (*n == 0) {
        values.errors().fail(item.part(colon + 1), "a nack count is at least 1 (KEY:N NACKs the first N ACK requests)");
        return false;
      }
      times = *n;
      key = item.part(0, colon);
    }
    if (key.text.empty()) {
      values.errors().fail(item, "expected KEY[:N] in 'nack', got an empty key");
      return false;
    }
    args.nack.emplace_back(std::string(key.text), static_cast<std::uint32_t>(times));
    return true;
  });
}

bool read_args_reconnect(ValueReader& values, const Field& field, ClientArgs& args) {
  const auto n = values.number(*field.value, "reconnect", 1000);
  if (n) args.reconnect = static_cast<std::uint32_t>(*n);
  return n.has_value();
}

bool read_args_nack_status(ValueReader& values, const Field& field, ClientArgs& args) {
  const auto status = values.name(*field.value, "status", protocol::all_statuses(), Spelling::as_is, kMaxU16);
  if (status) args.nack_status = *status;
  return status.has_value();
}

constexpr FieldRule<ClientArgs> kClientArgsRules[] = {
    {"name", kEveryKind, Arity::value, &string_field<&ClientArgs::args, &protocol::TapArguments::client_name>},
    {"backfill", kEveryKind, Arity::value, &read_args_backfill},
    {"dump", kEveryKind, Arity::bare, &args_flag<&protocol::TapArguments::dump>},
    {"vbuckets", kEveryKind, Arity::value, &read_args_vbuckets},
    {"takeover", kEveryKind, Arity::bare, &args_flag<&protocol::TapArguments::takeover>},
    {"ack", kEveryKind, Arity::bare, &args_flag<&protocol::TapArguments::support_ack>},
    {"keys_only", kEveryKind, Arity::bare, &args_flag<&protocol::TapArguments::keys_only>},
    {"checkpoint", kEveryKind, Arity::bare, &args_flag<&protocol::TapArguments::checkpoint>},
    {"registered", kEveryKind, Arity::bare, &args_flag<&protocol::TapArguments::registered_client>},
    {"idle_timeout", kEveryKind, Arity::value, &duration_field<true, &ClientArgs::idle_timeout>},
    {"user", kEveryKind, Arity::value, &string_field<&ClientArgs::user>},
    {"password", kEveryKind, Arity::value, &string_field<&ClientArgs::password>},
    {"reconnect", kEveryKind, Arity::value, &read_args_reconnect},
    {"backoff", kEveryKind, Arity::value, &duration_field<false, &ClientArgs::backoff>},
    {"nack", kEveryKind, Arity::value, &read_args_nack},
    {"nack_status", kEveryKind, Arity::value, &read_args_nack_status},
};

// --- authentication ---

constexpr std::uint32_t kListMechs = kind_bits(ExpectSasl::What::list_mechs);
constexpr std::uint32_t kAuth = kind_bits(ExpectSasl::What::auth);

constexpr FieldRule<ExpectSasl> kExpectSaslRules[] = {
    {"mechs", kListMechs, Arity::value, &string_field<&ExpectSasl::mechs>},
    {"user", kAuth, Arity::value, &string_field<&ExpectSasl::user>},
    {"password", kAuth, Arity::value, &string_field<&ExpectSasl::password>},
    {"refuse", kAuth, Arity::bare, &flag_field<&ExpectSasl::refuse>},
};

constexpr std::string_view kSaslNames[] = {"sasl_list_mechs", "sasl_auth"};

}  // namespace

std::optional<ExpectSasl> parse_expect_sasl(ValueReader& values, std::span<const Word> words, ExpectSasl::What what) {
  ExpectSasl sasl;
  sasl.what = what;
  const std::string statement = fmt::format("expect {}", kSaslNames[static_cast<std::size_t>(what)]);
  const StatementShape shape{statement, kind_bits(what), "expect", kSaslNames};
  if (!parse_fields(values, words.subspan(2), kExpectSaslRules, shape, sasl)) return std::nullopt;
  if (sasl.refuse && (sasl.user || sasl.password)) {
    return values.errors().fail(words[0], "'refuse' answers AUTH_ERROR whatever comes; drop user= and password=, "
                                          "or drop 'refuse' to refuse only other credentials");
  }
  return sasl;
}

std::optional<ExpectConnect> parse_expect_connect(ValueReader& values, std::span<const Word> words) {
  return parse_field_statement<ExpectConnect>(values, words.subspan(2), kExpectConnectRules, "expect connect");
}

std::optional<ClientArgs> parse_client_args(ValueReader& values, std::span<const Word> words) {
  auto args = parse_field_statement<ClientArgs>(values, words.subspan(2), kClientArgsRules, "client args");
  if (args && args->password && !args->user) {
    return values.errors().fail(words[0], "'password=' needs 'user=': SASL PLAIN sends both");
  }
  if (args && args->backoff && args->reconnect == 0) {
    return values.errors().fail(words[0], "'backoff=' is the wait before a reconnect; it needs 'reconnect=N'");
  }
  if (args && args->backoff && *args->backoff > Duration(5000)) {
    return values.errors().fail(words[0], "'backoff=' is at most 5s (it doubles per attempt, up to 5s)");
  }
  if (args && args->nack_status && args->nack.empty()) {
    return values.errors().fail(words[0], "'nack_status=' is the status of the NACKs 'nack=KEY' asks for; it needs 'nack='");
  }
  return args;
}

}  // namespace tapharness::scenario
