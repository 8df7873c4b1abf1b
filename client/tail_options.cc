#include "client/tail_options.hpp"

#include <charconv>
#include <sstream>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "cli/conventions.hpp"
#include "cli/duration.hpp"

namespace tapharness::client {
namespace po = boost::program_options;

namespace {

constexpr std::string_view kUsage = "usage: tap_tail --addr HOST:PORT [options]";

constexpr std::string_view kAbout = R"(
Connects to a TAP server, starts a feed and prints one JSON object per event, then one for
how the feed ended:
  {"op":"mutation","vb":0,"key":"k1","value_b64":"aGk=","flags":18,"expiry":300,"cas":7}
  {"end":"eof"}   {"end":"end_stream"}   {"end":"error","error":"<message>"}
  {"end":"closed"}   (Ctrl-C or TERM: the feed was closed; exit status 130)
With --reconnect N above 0, {"connection":N} comes before each connection's events (from 1),
and each connection has its end line; after an error it connects again, at most N times in
a row (a connection with events resets the count).
Exit status (of the last end): 0 after eof or end_stream, 1 after an error, 2 for bad usage,
130 after Ctrl-C.
)";

// The wait before the first reconnect in a row doubles for each next one, up to this.
constexpr std::chrono::milliseconds kMaxReconnectBackoff{5000};

template <class T>
bool parse_number(std::string_view text, T& out) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

}  // namespace

Result<Address, InputError> split_address(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return InputError{fmt::format("'{}'", address), "is not HOST:PORT"};
  }
  Address out{address.substr(0, colon), address.substr(colon + 1)};
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  std::uint16_t number = 0;
  if (!parse_number(out.port, number) || number == 0) {
    return InputError{fmt::format("'{}'", address), "needs a port from 1 to 65535"};
  }
  return out;
}

std::variant<TailOptions, TailUsage> parse_tail_options(int argc, const char* const* argv) {
  po::options_description described("options");
  std::string addr, name, backfill = "none", vbuckets;
  double timeout_seconds = 0;
  const protocol::Limits defaults;
  std::uint64_t max_value = defaults.max_value, max_key = defaults.max_key;
  std::vector<std::string> defect_words;
  std::string user, password, reconnect = "0", nack_status = "ETMPFAIL";
  double backoff_seconds = 0.1;
  std::vector<std::string> nack_words;
  // clang-format off
  described.add_options()
      ("help,h", "print this help")
      ("version", "print the version")
      ("addr", po::value(&addr)->value_name("HOST:PORT"), "the TAP server (required)")
      ("name", po::value(&name)->value_name("N"), "client name: the TAP_CONNECT key (default: anonymous)")
      ("backfill", po::value(&backfill)->value_name("T|none"),
       "oldest item wanted, seconds since the epoch; 0 sends no BACKFILL flag (the server may "
       "send everything); 'none' (default) asks for no past items")
      ("dump", "ask for the existing items, then disconnect (DUMP)")
      ("vbuckets", po::value(&vbuckets)->value_name("0,3,7"), "only these vbuckets (LIST_VBUCKETS)")
      ("takeover", "take the listed vbuckets over (TAKEOVER_VBUCKETS)")
      ("ack", "support ACKs (SUPPORT_ACK); ACK requests are answered either way")
      ("keys-only", "ask for keys without values (REQUEST_KEYS_ONLY)")
      ("checkpoint", "ask for checkpoint messages (CHECKPOINT)")
      ("registered", "register the client by name (REGISTERED_CLIENT)")
      ("timeout", po::value(&timeout_seconds)->value_name("SECONDS"),
       "give up when connecting takes longer, or when no bytes arrive for this long (default: 5 s to "
       "connect, no idle limit)")
      ("max-value", po::value(&max_value)->value_name("BYTES"),
       "refuse a value longer than this (default 22020096, the reference client's MaxBodyLen); a "
       "frame is refused from its header only when even its largest engine-specific length leaves "
       "a longer value")
      ("max-key", po::value(&max_key)->value_name("BYTES"), "refuse a key longer than this (default 4096)")
      ("user", po::value(&user)->value_name("U"),
       "authenticate as U with SASL PLAIN before TAP_CONNECT (SASL_LIST_MECHS, then SASL_AUTH); a refusal "
       "ends with auth_failed")
      ("password", po::value(&password)->value_name("P"), "the password for --user (default: empty)")
      ("reconnect", po::value(&reconnect)->value_name("N"),
       "after a connection ends in an error (not after eof, end_stream, a refusal or Ctrl-C), connect "
       "again, at most N times in a row; a connection with events resets the count (default 0: never)")
      ("reconnect-backoff", po::value(&backoff_seconds)->value_name("SECONDS"),
       "wait this long before the first reconnect in a row, doubling for each next one, at most 5 s "
       "(default 0.1)")
      ("nack", po::value(&nack_words)->value_name("KEY[:N]")->composing(),
       "answer the first N ACK requests of an event with key KEY (default 1) with --nack-status: a NACK, "
       "and the producer sends it again (repeatable; counts carry across reconnects)")
      ("nack-status", po::value(&nack_status)->value_name("NAME|0xNN"),
       "the status --nack answers with (default ETMPFAIL; EBUSY is the other NACK; any status name or "
       "number)")
      ("defect", po::value(&defect_words)->value_name("NAME[:ARG]")->composing(),
       "misbehave on purpose, to prove a scenario catches it (repeatable; see below)");
  // clang-format on

  po::variables_map vm;
  try {
    // No positional arguments: a stray word is an error, not silently dropped.
    po::store(po::command_line_parser(argc, argv).options(described).positional({}).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return TailUsage{2, fmt::format("tap_tail: {}\n{}\n", e.what(), kUsage)};
  }
  if (vm.count("help")) {
    std::ostringstream help;
    help << described;
    std::string defects = "\ndefects (--defect; the library's feed has none):\n  reference  the reference Go client's "
                          "weaknesses together\n";
    for (const auto& info : all_defects()) defects += fmt::format("  {:<30} {}\n", info.name, info.what);
    return TailUsage{0, fmt::format("{}{}\n{}{}", kUsage, kAbout, help.str(), defects)};
  }

  if (vm.count("version")) return TailUsage{0, cli::version_text("tap_tail") + "\n"};
  TailOptions options;
  auto usage_error = [](std::string message) {
    return TailUsage{2, fmt::format("tap_tail: {}\n{}\n", message, kUsage)};
  };
  if (addr.empty()) return usage_error("--addr HOST:PORT is required");
  auto address = split_address(addr);
  if (!address) return usage_error("--addr " + address.error().message());
  options.host = address->host;
  options.port = address->port;
  auto& args = options.feed.args;
  args.client_name = name;
  if (backfill == "none") {
    args.backfill = protocol::kNoBackfill;
  } else if (!parse_number(backfill, args.backfill)) {
    return usage_error(fmt::format("--backfill '{}' is neither a number nor 'none'", backfill));
  }
  if (!vbuckets.empty()) {
    std::string_view rest = vbuckets;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      std::uint16_t vb = 0;
      if (!parse_number(item, vb)) {
        return usage_error(fmt::format("--vbuckets: '{}' is not a vbucket number (0-65535)", item));
      }
      args.vbuckets.push_back(vb);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
  args.dump = vm.count("dump") > 0;
  args.takeover = vm.count("takeover") > 0;
  args.support_ack = vm.count("ack") > 0;
  args.keys_only = vm.count("keys-only") > 0;
  args.checkpoint = vm.count("checkpoint") > 0;
  args.registered_client = vm.count("registered") > 0;
  if (max_value > std::numeric_limits<std::uint32_t>::max()) {
    return usage_error(fmt::format("--max-value {} is over the 4 GiB a frame can hold", max_value));
  }
  if (max_key > std::numeric_limits<std::uint16_t>::max()) {
    return usage_error(fmt::format("--max-key {} is over 65535, the most a frame's key length can say", max_key));
  }
  options.feed.limits.max_value = static_cast<std::uint32_t>(max_value);
  options.feed.limits.max_key = static_cast<std::uint16_t>(max_key);
  if (vm.count("timeout")) {
    const auto timeout = cli::seconds_option("--timeout", timeout_seconds);
    if (!timeout) return usage_error(timeout.error().message());
    options.feed.connect_timeout = *timeout;
    options.feed.idle_timeout = *timeout;
  }
  if (vm.count("password") && !vm.count("user")) return usage_error("--password needs --user");
  if (vm.count("user")) {
    if (user.empty()) return usage_error("--user needs a name: SASL PLAIN has no empty user");
    options.feed.auth = Credentials{user, password};
  }
  if (!parse_number(reconnect, options.feed.reconnect.attempts)) {
    return usage_error(fmt::format("--reconnect '{}' is not a whole number from 0 to 4294967295", reconnect));
  }
  if (vm.count("reconnect-backoff")) {
    if (options.feed.reconnect.attempts == 0) return usage_error("--reconnect-backoff needs --reconnect N above 0");
    const auto backoff = cli::seconds_option("--reconnect-backoff", backoff_seconds);
    if (!backoff) return usage_error(backoff.error().message());
    if (*backoff > kMaxReconnectBackoff) {
      return usage_error(fmt::format("--reconnect-backoff {} is over the longest wait between reconnects, 5 seconds",
                                     backoff_seconds));
    }
    options.feed.reconnect.backoff = *backoff;
  }
  options.feed.reconnect.max_backoff = kMaxReconnectBackoff;
  for (const std::string& word : nack_words) {
    auto key = parse_nack_word(word);
    if (!key) return usage_error("--nack " + key.error().message());
    options.nack.keys.push_back(std::move(*key));
  }
  if (vm.count("nack-status")) {
    if (nack_words.empty()) return usage_error("--nack-status needs --nack KEY[:N]");
    std::uint16_t number = 0;
    if (auto named = protocol::status_from_name(nack_status)) {
      options.nack.status = *named;
    } else if (parse_number(nack_status, number)) {
      options.nack.status = protocol::Status{number};
    } else {
      return usage_error(fmt::format(
          "--nack-status '{}' is neither a status name (ETMPFAIL, EBUSY, ...) nor a number from 0 to 0xffff",
          nack_status));
    }
  }
  if (!options.nack.keys.empty()) options.feed.ack_status = make_ack_status(options.nack);
  auto defects = parse_defects(defect_words);
  if (!defects) return usage_error("--defect " + defects.error().message());
  options.defects = *defects;
  return options;
}

}  // namespace tapharness::client
