// The parser under hostile input: for anything at all it returns a Scenario or an error at a
// real position, promptly, allocating no more than the input's size suggests (never what the
// input claims). A deterministic mutation fuzzer over the README's examples, every prefix of
// them, and worst cases made by hand. A hang shows up as the test's timeout.
#include "scenario/parser.hpp"

#include <algorithm>
#include <random>
#include <set>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/scenario/parse_helpers.hpp"

namespace tapharness::scenario::testing {
namespace {

constexpr std::string_view kSeeds[] = {
    kReadmeFirstExample,
    R"(seed 7
timeout 2s
acks auto
expect connect name=any backfill=none vbuckets=absent flags=0x5 lacks=dump
send mutation key="k" value="v" bodylen=0xffffffff split=3,24,30 corrupt=0:0x42,5:0
send opaque code=INITIAL_VBUCKET_STREAM magic=0x42 tap_flags=ack,no_value bytewise gap=5ms
send raw x"80 0a 00 00" truncate=2
send connect_error status=etmpfail body=fill(3,0xab)
unordered {
  expect ack opaque=1 within=2s
  expect ack opaque=2 status=any opcode=TAP_OPAQUE
}
allow unexpected
delay 200ms
close half_close
expect ack opaque=7 status=ETMPFAIL
)",
    R"(repeat 100000 send mutation vb=0 key="key-{n}" value=random(100) cas={n}

repeat 1000 {
  send mutation vb={n} key="k\x00{n}\"" ack engine=x"01"
  expect ack
  optional {
    expect ack opaque=3
  }
  client event mutation vb={n} key="k{n}"
}
client args name="r1" backfill=0 vbuckets=0,1 ack checkpoint idle_timeout=2s
client event checkpoint_start vb=0 checkpoint=42
client event vbucket_set vb=5 state=pending
client end error match="connect_rejected"
)",
};

// Words and characters that steer mutations into the parser's deeper paths.
constexpr std::string_view kTokens[] = {
    "{n}", "{", "}", "\"", "\\", "\\x", "x\"", "=", ",", ":", "(", ")", "#", "\n", " ", "0x", "0", "65536",
    "18446744073709551616", "repeat 2 ", "repeat 0 {", "send ", "mutation", "raw", "expect ack", "close fin",
    "unordered {", "random(", "fill(", "ms", "split=", "truncate=", "corrupt=", "ack", "client ", "\r", "\t",
};

int line_count(std::string_view text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1; }

// Whether `result`, from parsing `text`, is a Scenario or an error at a real place; adds a
// failure when it is not.
bool well_formed(std::string_view text, const Result<Scenario, Diagnostic>& result) {
  if (result) return true;
  const Diagnostic* error = &result.error();
  // Line 0 is the file as a whole: only an empty file is wrong as a whole.
  const bool whole_file = error->location.line == 0 && error->location.column == 0 &&
                          error->message.starts_with("the scenario is empty");
  const bool sane = error->location.file() == kPath &&
                    (whole_file || (error->location.line >= 1 && error->location.line <= line_count(text) &&
                                    error->location.column >= 1 && error->location.column <= 65537)) &&
                    !error->message.empty();
  EXPECT_TRUE(sane) << error->text() << "\ninput:\n" << text;
  return sane;
}

bool parses_or_fails_cleanly(std::string_view text) { return well_formed(text, parse(text)); }

std::string mutate(std::string text, std::mt19937& random) {
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(random); };
  const std::size_t edits = 1 + pick(4);
  for (std::size_t e = 0; e < edits; ++e) {
    const std::size_t at = text.empty() ? 0 : pick(text.size() + 1);
    switch (pick(5)) {
      case 0: text.insert(at, 1, static_cast<char>(pick(256))); break;
      case 1: text.insert(at, kTokens[pick(std::size(kTokens))]); break;
      case 2:
        if (!text.empty()) text.erase(std::min(at, text.size() - 1), 1 + pick(8));
        break;
      case 3:
        if (at < text.size()) text[at] = static_cast<char>(pick(256));
        break;
      case 4: {  // copy a stretch elsewhere: repeats lines and blocks
        if (text.empty()) break;
        const std::size_t from = pick(text.size());
        text.insert(at, text.substr(from, 1 + pick(64)));
        break;
      }
    }
  }
  return text;
}

TEST(ScenarioParserRobustness, TheSeedsParse) {
  for (std::string_view seed : kSeeds) EXPECT_TRUE(parse(seed).ok()) << seed;
}

TEST(ScenarioParserRobustness, EveryPrefixOfEverySeedParsesOrFailsCleanly) {
  for (std::string_view seed : kSeeds) {
    for (std::size_t cut = 0; cut <= seed.size(); ++cut) {
      if (!parses_or_fails_cleanly(seed.substr(0, cut))) return;
    }
  }
}

TEST(ScenarioParserRobustness, MutatedSeedsParseOrFailCleanly) {
  std::mt19937 random(20240611);
  int parsed_count = 0;
  std::set<std::string> messages;  // their kinds: the text up to the first quote or digit
  for (int i = 0; i < 30'000; ++i) {
    std::string text(kSeeds[static_cast<std::size_t>(i) % std::size(kSeeds)]);
    for (int generation = i % 4; generation >= 0; --generation) text = mutate(std::move(text), random);
    const auto result = parse(text);
    if (!well_formed(text, result)) return;
    if (!result) {
      const std::string& message = result.error().message;
      messages.insert(message.substr(0, message.find_first_of("'0123456789")));
    } else {
      ++parsed_count;
    }
  }
  // A floor against a degenerate fuzzer (about 170 parse and 40 kinds of error show up):
  // some inputs still parse, and the errors come from all over the parser.
  EXPECT_GT(parsed_count, 100);
  EXPECT_GE(messages.size(), 30u);
}

TEST(ScenarioParserRobustness, EveryByteValue) {
  std::string text;
  for (int round = 0; round < 4; ++round) {
    for (int b = 0; b < 256; ++b) text += static_cast<char>((b * 7 + round) % 256);
  }
  EXPECT_TRUE(parses_or_fails_cleanly(text));
  EXPECT_TRUE(parses_or_fails_cleanly(std::string(1000, '\0')));
  EXPECT_TRUE(parses_or_fails_cleanly(std::string(100'000, '\n')));
}

TEST(ScenarioParserRobustness, DeepBlocksStopAtTheirBound) {
  std::string text;
  for (int i = 0; i < 100'000; ++i) text += "repeat 2 {\n";
  EXPECT_TRUE(fails_at(text, 100'000, 1, "'repeat' block is never closed; expected '}'"));
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += fmt::format("repeat 2 as i{} {{\n", i);
  deep += "send noop\n";
  for (int i = 0; i < 100; ++i) deep += "}\n";
  EXPECT_TRUE(fails_at(deep, 9, 1, "repeats nest at most 8 deep"));
  std::string braces(200'000, '}');
  EXPECT_TRUE(parses_or_fails_cleanly(braces));  // one line, too long
  std::string closers;
  for (int i = 0; i < 100'000; ++i) closers += "}\n";
  EXPECT_TRUE(fails_at(closers, 1, 1, "'}' without an open block"));
}

TEST(ScenarioParserRobustness, ClaimsOfHugeSizesCostNothing) {
  // 10,000 lines each claiming 16 MiB of generated bytes and a 4 GiB body, in a huge repeat:
  // the AST stores lengths, not bytes.
  std::string text = "repeat 100000000 {\n";
  for (int i = 0; i < 10'000; ++i) {
    text += "send mutation key=random(65535) value=fill(16777216,0xff) bodylen=0xffffffff ack\n";
  }
  text += "}\n";
  const Scenario s = parsed(text);
  ASSERT_EQ(s.steps.size(), 1u);
  EXPECT_EQ(std::get<Repeat>(s.steps[0].action).body.size(), 10'000u);
}

TEST(ScenarioParserRobustness, ManyPiecesAndListItemsAreBoundedByTheLine) {
  std::string placeholders = "repeat 2 send mutation key=\"";
  while (placeholders.size() < 65'000) placeholders += "{n}";
  placeholders += "\"";
  const Repeat r = only_step<Repeat>(placeholders);
  EXPECT_GT(std::get<Send>(r.body[0].action).frame().get(B::key)->pieces.size(), 21'000u);

  std::string splits = "send mutation value=fill(16777216) split=1";
  for (int offset = 2; splits.size() < 65'000; ++offset) splits += "," + std::to_string(offset);
  EXPECT_TRUE(parse(splits).ok());

  std::string quotes = "send mutation key=";
  quotes += std::string(65'000, '"');  // an even number: empty strings back to back
  EXPECT_TRUE(parses_or_fails_cleanly(quotes));
}

TEST(ScenarioParserRobustness, AHugeMisspeltWordIsQuickToReject) {
  EXPECT_TRUE(parses_or_fails_cleanly("send " + std::string(65'000, 'm')));
  EXPECT_TRUE(parses_or_fails_cleanly(std::string(65'000, 'x')));
  EXPECT_TRUE(parses_or_fails_cleanly("send mutation " + std::string(65'000, 'k') + "=1"));
}

}  // namespace
}  // namespace tapharness::scenario::testing
