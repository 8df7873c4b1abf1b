// The JSON-lines format: the exact lines of the issue's examples, escaping of binary keys,
// and parsing back what tap_tail prints (the contract with external clients).
#include "client/json_lines.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/client/feed_test_support.hpp"

namespace tapharness::client {
namespace {

using protocol::TapEvent;
using protocol::TapEventKind;

TapEvent mutation() {
  TapEvent e;
  e.kind = TapEventKind::mutation;
  e.key = "k1";
  e.value = "hi";
  e.flags = 18;
  e.expiry = 300;
  e.cas = 7;
  return e;
}

TEST(JsonLines, MutationAsDocumented) {
  EXPECT_EQ(event_json(mutation()),
            R"({"op":"mutation","vb":0,"key":"k1","value_b64":"aGk=","flags":18,"expiry":300,"cas":7,"datatype":0})");
}

TEST(JsonLines, EveryOtherEventKind) {
  TapEvent e;
  e.vbucket = 3;
  e.kind = TapEventKind::begin_backfill;
  EXPECT_EQ(event_json(e), R"({"op":"begin_backfill","vb":3})");
  e.kind = TapEventKind::end_backfill;
  EXPECT_EQ(event_json(e), R"({"op":"end_backfill","vb":3})");
  e.kind = TapEventKind::flush;
  EXPECT_EQ(event_json(e), R"({"op":"flush","vb":3})");
  e.kind = TapEventKind::checkpoint_start;
  e.checkpoint_id = 42;
  EXPECT_EQ(event_json(e), R"({"op":"checkpoint_start","vb":3,"checkpoint":42})");
  e.kind = TapEventKind::checkpoint_end;
  EXPECT_EQ(event_json(e), R"({"op":"checkpoint_end","vb":3,"checkpoint":42})");
  e.kind = TapEventKind::vbucket_set;
  for (auto [state, name] : {std::pair{protocol::VBucketState::active, "active"},
                             std::pair{protocol::VBucketState::replica, "replica"},
                             std::pair{protocol::VBucketState::pending, "pending"},
                             std::pair{protocol::VBucketState::dead, "dead"}}) {
    e.state = state;
    EXPECT_EQ(event_json(e), fmt::format(R"({{"op":"vbucket_set","vb":3,"state":"{}"}})", name));
  }
  // A state without a name is its number, and reads back as it.
  e.state = protocol::VBucketState{5};
  EXPECT_EQ(event_json(e), R"({"op":"vbucket_set","vb":3,"state":5})");
  auto unnamed = parse_json_line(event_json(e));
  ASSERT_TRUE(unnamed) << unnamed.error().message();
  EXPECT_EQ(std::get<TapEvent>(*unnamed).state, protocol::VBucketState{5});
  e.kind = TapEventKind::deletion;
  e.key = "gone";
  e.cas = 9;
  EXPECT_EQ(event_json(e), R"({"op":"deletion","vb":3,"key":"gone","cas":9,"datatype":0})");
  e.value = "was";
  e.datatype = 1;
  EXPECT_EQ(event_json(e), R"({"op":"deletion","vb":3,"key":"gone","value_b64":"d2Fz","cas":9,"datatype":1})");
}

TEST(JsonLines, KeysEscapeEveryByteOutsidePrintableAscii) {
  TapEvent e = mutation();
  e.key = std::string("a\x00\xff\n\"\\~\x7f", 8);
  const std::string line = event_json(e);
  EXPECT_NE(line.find(R"("key":"a\u0000\u00ff\u000a\"\\~\u007f")"), std::string::npos) << line;
  auto parsed = parse_json_line(line);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(std::get<TapEvent>(*parsed).key, e.key);
}

TEST(JsonLines, OlderLinesWithoutDatatypeReadAsZero) {
  auto parsed = parse_json_line(R"({"op":"deletion","vb":1,"key":"k","cas":2})");
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(std::get<TapEvent>(*parsed).datatype, 0);
  EXPECT_EQ(std::get<TapEvent>(*parsed).value, "");
}

// A refusal's body goes into the JSON line byte for byte, escaped once (it used to be
// escaped twice: \u0000 came back as the six characters "\u0000").
TEST(JsonLines, ABinaryRefusalBodyIsEscapedOnce) {
  FeedEnd refused{.reason = EndReason::connect_rejected};
  refused.status = protocol::Status::eaccess;
  refused.body = std::string("no\x00\xff", 4);
  const std::string line = end_json(report_of(refused));
  EXPECT_EQ(line, R"({"end":"error","error":"connect_rejected: the server refused TAP_CONNECT with status EACCESS: no\u0000\u00ff"})");
  auto parsed = parse_json_line(line);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(std::get<ReportedEnd>(*parsed).error, refused.message());
  EXPECT_EQ(FeedEnd{.reason = EndReason::connect_rejected}.message(),
            "connect_rejected: the server refused TAP_CONNECT with status SUCCESS");
}

TEST(JsonLines, Ends) {
  EXPECT_EQ(end_json({ReportedEnd::How::eof, {}}), R"({"end":"eof"})");
  EXPECT_EQ(end_json({ReportedEnd::How::end_stream, {}}), R"({"end":"end_stream"})");
  EXPECT_EQ(end_json({ReportedEnd::How::error, "io_error: \"x\""}),
            R"({"end":"error","error":"io_error: \"x\""})");
  FeedEnd truncated{.reason = EndReason::truncated};
  EXPECT_EQ(report_of(truncated).how, ReportedEnd::How::error);
  EXPECT_EQ(report_of(truncated).error, truncated.message());
  EXPECT_EQ(report_of(FeedEnd{.reason = EndReason::end_stream}).how, ReportedEnd::How::end_stream);
}

TEST(JsonLines, ParsesBackEverythingItPrints) {
  std::vector<TapEvent> events;
  events.push_back(mutation());
  for (auto kind : {TapEventKind::begin_backfill, TapEventKind::end_backfill, TapEventKind::flush,
                    TapEventKind::checkpoint_start, TapEventKind::checkpoint_end,
                    TapEventKind::vbucket_set, TapEventKind::deletion}) {
    TapEvent e;
    e.kind = kind;
    e.vbucket = 1023;
    if (kind == TapEventKind::deletion) {
      e.key = "d";
      e.cas = 1;
    }
    if (kind == TapEventKind::checkpoint_start || kind == TapEventKind::checkpoint_end) {
      e.checkpoint_id = 0xffffffffffffffff;
    }
    if (kind == TapEventKind::vbucket_set) e.state = protocol::VBucketState::dead;
    events.push_back(e);
  }
  for (const auto& e : events) {
    auto parsed = parse_json_line(event_json(e));
    ASSERT_TRUE(parsed) << parsed.error().message();
    EXPECT_EQ(std::get<TapEvent>(*parsed), e);
  }
  auto end = parse_json_line(R"({"end":"error","error":"truncated: x"})");
  ASSERT_TRUE(end);
  EXPECT_EQ(std::get<ReportedEnd>(*end), (ReportedEnd{ReportedEnd::How::error, "truncated: x"}));
}

TEST(JsonLines, RejectsMalformedLinesWithAReason) {
  auto reason = [](std::string_view line) {
    auto parsed = parse_json_line(line);
    return parsed ? std::string() : parsed.error().message();
  };
  EXPECT_EQ(reason("not json"), "not a JSON object");
  EXPECT_EQ(reason("[1]"), "not a JSON object");
  EXPECT_EQ(reason(R"({"op":"mutaton","vb":0})"), R"("op": is unknown: "mutaton")");
  EXPECT_EQ(reason(R"({"op":"flush"})"), R"("vb": must be an unsigned number)");
  EXPECT_EQ(reason(R"({"op":"flush","vb":70000})"), R"("vb": is out of range)");
  EXPECT_EQ(reason(R"({"op":"mutation","vb":0,"key":"k","value_b64":"a","flags":0,"expiry":0,"cas":0})"),
            R"("value_b64": is not base64: its length 1 is not a multiple of 4)");
  EXPECT_EQ(reason(R"({"op":"deletion","vb":0,"key":"\u0100","cas":0})"),
            R"("key": has a character above \u00ff)");
  EXPECT_EQ(reason(R"({"end":"later"})"), R"("end": is "later", not eof, end_stream, error or closed)");
}

TEST(JsonLines, ConnectionMarkersAreExactlyOneNumber) {
  EXPECT_EQ(connection_json(ReportedConnection{1}), R"({"connection":1})");
  EXPECT_EQ(connection_json(ReportedConnection{4294967295u}), R"({"connection":4294967295})");
  EXPECT_EQ(fmt::format("{}", ReportedConnection{7}), R"({"connection":7})");
  for (std::uint32_t n : {1u, 2u, 4294967295u}) {
    auto parsed = parse_json_line(connection_json(ReportedConnection{n}));
    ASSERT_TRUE(parsed) << parsed.error().message();
    EXPECT_EQ(std::get<ReportedConnection>(*parsed), ReportedConnection{n});
  }
  auto spaced = parse_json_line(R"({ "connection" : 3 })");
  ASSERT_TRUE(spaced) << spaced.error().message();
  EXPECT_EQ(std::get<ReportedConnection>(*spaced), ReportedConnection{3});
}

TEST(JsonLines, BadConnectionMarkersAreRefusedWithAReason) {
  auto reason = [](std::string_view line) {
    auto parsed = parse_json_line(line);
    return parsed ? std::string("accepted") : parsed.error().message();
  };
  EXPECT_EQ(reason(R"({"connection":0})"), R"("connection": must be at least 1: connections count from 1)");
  EXPECT_EQ(reason(R"({"connection":-1})"), R"("connection": must be an unsigned number)");
  EXPECT_EQ(reason(R"({"connection":"1"})"), R"("connection": must be an unsigned number)");
  EXPECT_EQ(reason(R"({"connection":1.5})"), R"("connection": must be an unsigned number)");
  EXPECT_EQ(reason(R"({"connection":4294967296})"), R"("connection": is out of range)");
  EXPECT_EQ(reason(R"({"connection":1)"), "not a JSON object");
}

TEST(JsonLines, AuthFailedIsReportedAsAnError) {
  FeedEnd end{.reason = EndReason::auth_failed, .context = "SASL_AUTH", .status = protocol::Status::auth_error};
  end.body = "Auth failure";
  const ReportedEnd reported = report_of(end);
  EXPECT_EQ(reported, (ReportedEnd{ReportedEnd::How::error,
                                   "auth_failed: the server refused SASL_AUTH PLAIN with status AUTH_ERROR: Auth failure"}));
  EXPECT_EQ(end_json(reported),
            R"({"end":"error","error":"auth_failed: the server refused SASL_AUTH PLAIN with status AUTH_ERROR: Auth failure"})");
}

// Base64 and key escaping on every path the CPU has, against plain encoders:
// json_text_test.cc.

// Every number prints as its decimal digits, at each digit-count boundary up to 2^64-1.
TEST(JsonLines, NumbersOfEveryLengthPrintTheirDigits) {
  std::vector<std::uint64_t> numbers{0, 9, 10, 99, 100, UINT64_MAX, UINT64_MAX - 1, 10'000'000'000'000'000'000u};
  for (std::uint64_t p = 10; p <= 1'000'000'000'000'000'000u; p *= 10) {
    numbers.push_back(p - 1);
    numbers.push_back(p);
    numbers.push_back(p + 1);
  }
  for (const std::uint64_t n : numbers) {
    TapEvent e = mutation();
    e.cas = n;
    EXPECT_NE(event_json(e).find(",\"cas\":" + std::to_string(n) + ","), std::string::npos) << n;
  }
}

// How a JSON line writes one byte of a key that needs escaping.
std::string escaped(char byte) {
  if (byte == '"' || byte == '\\') return std::string("\\") + byte;
  return fmt::format("\\u00{:02x}", static_cast<unsigned char>(byte));
}

TapEvent deletion_of(std::string key) {
  TapEvent e;
  e.kind = TapEventKind::deletion;
  e.key = std::move(key);
  return e;
}

TEST(JsonLines, KeysOfEveryLengthEscapeOnlyWhatMustBe) {
  // Each byte that needs escaping at every position of keys up to 40 bytes long, where the
  // eight-at-a-time scan meets it in every lane.
  for (const char special : {'"', '\\', '\x00', '\x1f', '\x7f', '\x80', '\xff'}) {
    for (std::size_t length = 1; length <= 40; ++length) {
      for (std::size_t at = 0; at < length; ++at) {
        std::string key(length, 'k');
        key[at] = special;
        const std::string line = event_json(deletion_of(key));
        std::string expected = std::string(at, 'k') + escaped(special) + std::string(length - at - 1, 'k');
        ASSERT_NE(line.find("\"key\":\"" + expected + "\""), std::string::npos) << line;
      }
    }
  }
  // Printable ASCII, with space and '~' at the ends of the range, stands as it is.
  std::string plain;
  for (char c = ' '; c <= '~'; ++c) {
    if (c != '"' && c != '\\') plain += c;
  }
  EXPECT_NE(event_json(deletion_of(plain)).find("\"key\":\"" + plain + "\""), std::string::npos);
}

TEST(Base64, RoundTripsEveryLengthAndRejectsGarbage) {
  std::string bytes;
  for (int n = 0; n < 20; ++n) {
    auto back = base64_decode(base64_encode(bytes));
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back, bytes);
    bytes += static_cast<char>(n * 37);
  }
  EXPECT_EQ(base64_encode("hi"), "aGk=");
  // RFC 4648 section 10, and lengths across the encoder's six-bytes-at-a-time path.
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("foobarfo"), "Zm9vYmFyZm8=");
  EXPECT_EQ(base64_encode(std::string_view("foobarfoobarfoobarfoobar\xff\xfe\x00\x01", 28)), "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFy//4AAQ==");
  EXPECT_EQ(base64_encode("hello"), "aGVsbG8=");
  EXPECT_EQ(base64_decode("aGk").error().message(), "its length 3 is not a multiple of 4");
  EXPECT_EQ(base64_decode("a=Gk").error().message(), "character 2: padding '=' before the last two characters");
  EXPECT_EQ(base64_decode("aG!=").error().message(), "character 3: '!' is outside the base64 alphabet");
}

// The fast writer escapes exactly as the codec's escape_bytes does, every byte value.
TEST(JsonLines, KeysAreEscapedByteForByteAsTheCodecDoes) {
  protocol::TapEvent e;
  e.kind = protocol::TapEventKind::deletion;
  for (int b = 0; b < 256; ++b) e.key += static_cast<char>(b);
  EXPECT_NE(event_json(e).find("\"key\":\"" + protocol::escape_bytes(e.key) + "\""), std::string::npos);
  std::string appended = "prefix";
  append_event_json(appended, protocol::view_of(e));
  EXPECT_EQ(appended, "prefix" + event_json(e));
}

// The runner reads tap_tail's own lines on a fast path; any other spelling of the same
// object (spaces, another key order) reads the same through the general parser.
TEST(JsonLines, TheCanonicalAndAnyOtherSpellingReadTheSame) {
  const auto canonical = parse_json_line(
      R"({"op":"mutation","vb":3,"key":"k\u00ff\"","value_b64":"aGk=","flags":18,"expiry":300,"cas":7,"datatype":1})");
  const auto spaced = parse_json_line(
      R"({ "vb": 3, "op": "mutation", "key": "k\u00ff\"", "value_b64": "aGk=", "flags": 18, "expiry": 300, "cas": 7, "datatype": 1 })");
  ASSERT_TRUE(canonical);
  ASSERT_TRUE(spaced);
  EXPECT_EQ(*canonical, *spaced);
  EXPECT_EQ(std::get<protocol::TapEvent>(*canonical).key, "k\xff\"");
}

}  // namespace
}  // namespace tapharness::client
