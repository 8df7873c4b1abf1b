// Every error the scenario parser reports, at its exact line and column, with its message and
// "did you mean" suggestion. Each row reads: input, where, what.
#include "scenario/parser.hpp"

#include <string>

#include <gtest/gtest.h>

#include "tests/scenario/parse_helpers.hpp"

namespace tapharness::scenario::testing {
namespace {

TEST(ScenarioParserErrors, TheReadmesExampleReadsExactlyLikeTheReadme) {
  const auto result = parse_scenario("seed 1\ntimeout 2s\nacks auto\nsend mutaton vb=0\n", "scenarios/x.scenario");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().text(),
            "scenarios/x.scenario:4:6: unknown frame kind 'mutaton'; expected one of mutation, deletion, flush, "
            "opaque, vbucket_set, checkpoint_start, checkpoint_end, noop, connect_error, raw; did you mean "
            "'mutation'?");
}

struct ErrorCase {
  const char* name;
  std::string_view text;
  int line;
  int column;
  std::string_view message;
  std::string_view suggestion = {};
};

class ScenarioParserError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ScenarioParserError, At) {
  const ErrorCase& c = GetParam();
  EXPECT_TRUE(fails_at(c.text, c.line, c.column, c.message, c.suggestion)) << "input:\n" << c.text;
}

std::string case_name(const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; }

// --- unknown words, with suggestions ---
const ErrorCase kUnknownWords[] = {
    {"Keyword", "sned noop", 1, 1,
     "unknown keyword 'sned'; expected one of seed, timeout, acks, writes, allow, expect, send, delay, unordered, "
     "optional, close, repeat, client, limit, ack_window, on, connection, include, table",
     "send"},
    {"KeywordsAreLowerCase", "SEND noop", 1, 1,
     "unknown keyword 'SEND'; expected one of seed, timeout, acks, writes, allow, expect, send, delay, unordered, "
     "optional, close, repeat, client, limit, ack_window, on, connection, include, table",
     "send"},
    {"Field", "send opaque cod=1", 1, 13,
     "unknown field 'cod' for send opaque; expected one of vb, vbucket, opaque, cas, datatype, ttl, tap_flags, "
     "ack, no_value, engine, code, magic, opcode, keylen, extlen, bodylen, engine_length, split, bytewise, chunks, gap, "
     "truncate, corrupt, retransmit",
     "code"},
    {"FieldOfAnotherKind", "send mutation code=1", 1, 15,
     "'code' is not a field of send mutation; it belongs to send opaque"},
    {"FieldOfOtherKinds", "send noop ack", 1, 11,
     "'ack' is not a field of send noop; it belongs to send mutation, deletion, flush, opaque, vbucket_set, "
     "checkpoint_start, checkpoint_end"},
    {"RawHasNoHeaderFields", "send raw x\"00\" vb=1", 1, 16,
     "'vb' is not a field of send raw; it belongs to send mutation, deletion, flush, opaque, vbucket_set, "
     "checkpoint_start, checkpoint_end, noop"},
    {"EventFieldOfAnotherKind", "client event flush key=\"a\"", 1, 20,
     "'key' is not a field of client event flush; it belongs to client event mutation, deletion"},
    {"MatchIsOnlyForErrors", "client end eof match=\"x\"", 1, 16,
     "'match' is not a field of client end eof; it belongs to client end error"},
    {"ConnectFlag", "expect connect has=backfill,suport_ack", 1, 29,
     "unknown connect flag 'suport_ack'; expected one of backfill, dump, list_vbuckets, takeover_vbuckets, "
     "support_ack, request_keys_only, checkpoint, registered_client, fix_flag_byteorder, takeover, ack, "
     "keys_only, registered or a number",
     "support_ack"},
    {"OpaqueCode", "send opaque code=CLOSE_BACKFIL", 1, 18,
     "unknown opaque code 'CLOSE_BACKFIL'; expected one of ENABLE_AUTO_NACK, INITIAL_VBUCKET_STREAM, "
     "ENABLE_CHECKPOINT_SYNC, OPEN_CHECKPOINT, COMPLETE_VB_FILTER_CHANGE, STOP_ONLINEUPDATE, "
     "REVERT_ONLINEUPDATE, CLOSE_TAP_STREAM, CLOSE_BACKFILL or a number",
     "CLOSE_BACKFILL"},
    {"VBucketState", "send vbucket_set state=activ", 1, 24,
     "unknown vbucket state 'activ'; expected one of active, replica, pending, dead or a number", "active"},
    {"EventState", "client event vbucket_set state=replika", 1, 32,
     "unknown vbucket state 'replika'; expected one of active, replica, pending, dead or a number", "replica"},
    {"EventKind", "client event mutaton", 1, 14,
     "unknown event kind 'mutaton'; expected one of begin_backfill, end_backfill, mutation, deletion, "
     "checkpoint_start, checkpoint_end, vbucket_set, flush",
     "mutation"},
    {"TapFlag", "send flush tap_flags=ack,no_valu", 1, 26,
     "unknown TAP flag 'no_valu'; expected one of ack, no_value, network_byte_order or a number", "no_value"},
    {"CloseForm", "close fn", 1, 7, "unexpected 'fn' after 'close'; expected one of fin, rst, half_close, stall, wait",
     "fin"},
    {"ExpectWhat", "expect acks", 1, 8, "unexpected 'acks' after 'expect'; expected one of connect, ack, sasl_list_mechs, sasl_auth", "ack"},
    {"ClientWhat", "client arg", 1, 8, "unexpected 'arg' after 'client'; expected one of args, event, end, events", "args"},
    {"ClientEnding", "client end oef", 1, 12, "unknown ending 'oef'; expected one of eof, end_stream, error", "eof"},
    {"ClientEventsWhat", "client events all", 1, 15, "unexpected 'all' after 'events'; expected one of any"},
    {"ClientEventsAfterEvent", "client event flush\nclient events any", 2, 1,
     "'client events any' contradicts the 'client event' lines before it"},
    {"AcksMode", "acks manual", 1, 6, "unexpected 'manual' after 'acks'; expected one of strict, unchecked, auto"},
    {"WritesMode", "writes batched", 1, 8, "unexpected 'batched' after 'writes'; expected one of coalesced"},
    {"AllowWhat", "allow unexpectd", 1, 7, "unexpected 'unexpectd' after 'allow'; expected one of unexpected, nacks",
     "unexpected"},
    {"ConnectBackfillWord", "expect connect backfill=nonee", 1, 25,
     "unknown backfill 'nonee'; expected one of none, absent or a number", "none"},
    {"ArgsBackfillWord", "client args backfill=absent", 1, 22,
     "unknown backfill 'absent'; expected one of none or a number"},
    {"ClientArgsOption", "client args suport_ack", 1, 13,
     "unknown field 'suport_ack' for client args; expected one of name, backfill, dump, vbuckets, takeover, ack, "
     "keys_only, checkpoint, registered, idle_timeout, user, password, reconnect, backoff, nack, nack_status"},
    {"ExpectAckField", "expect ack opaqe=1", 1, 12,
     "unknown field 'opaqe' for expect ack; expected one of opaque, opcode, status, within", "opaque"},
};
INSTANTIATE_TEST_SUITE_P(UnknownWords, ScenarioParserError, ::testing::ValuesIn(kUnknownWords), case_name);

TEST(ScenarioParserErrors, LongListsOfNamesStillSuggest) {
  const Diagnostic status = parse_error("send flush ack\nexpect ack status=ETMPFIAL");
  EXPECT_EQ(status.location, (SourceLocation{"x.scenario", 2, 19}));
  EXPECT_TRUE(status.message.starts_with("unknown status 'ETMPFIAL'; expected one of SUCCESS, KEY_ENOENT, "))
      << status.message;
  EXPECT_TRUE(status.message.ends_with("EBUSY, ETMPFAIL or a number")) << status.message;
  EXPECT_EQ(status.suggestion, "ETMPFAIL");

  // 45 opcodes: the list is cut, the suggestion is not.
  const Diagnostic opcode = parse_error("send noop opcode=TAP_MUTATON");
  EXPECT_EQ(opcode.location, (SourceLocation{"x.scenario", 1, 18}));
  EXPECT_TRUE(opcode.message.starts_with("unknown opcode 'TAP_MUTATON'; expected one of GET, SET, ")) << opcode.message;
  EXPECT_TRUE(opcode.message.ends_with(", ... or a number")) << opcode.message;
  EXPECT_EQ(opcode.suggestion, "TAP_MUTATION");
}

TEST(ScenarioParserErrors, AWordFarFromEveryCandidateGetsNoSuggestion) {
  EXPECT_EQ(parse_error("send zzzzzz").suggestion, "");
  EXPECT_EQ(parse_error("frobnicate").suggestion, "");
}

TEST(ScenarioParserErrors, UnprintableAndHugeWordsAreQuotedSafely) {
  const Diagnostic error = parse_error(std::string("send \x01\xff") + std::string(100, 'a'));
  EXPECT_TRUE(error.message.starts_with("unknown frame kind '\\x01\\xffaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...';"))
      << error.message;
}

// --- values ---
const ErrorCase kValues[] = {
    {"NumberTooWideForItsField", "send mutation vb=70000", 1, 18, "'vb' is at most 65535, got 70000"},
    {"NumberBeyond64Bits", "send mutation cas=18446744073709551616", 1, 19,
     "'cas' is at most 18446744073709551615, got '18446744073709551616'"},
    {"NotANumber", "send mutation vb=abc", 1, 18, "expected a number for 'vb' (decimal or 0x hex), got 'abc'"},
    {"NoNegativeNumbers", "send mutation vb=-1", 1, 18, "expected a number for 'vb' (decimal or 0x hex), got '-1'"},
    {"HexWithoutDigits", "send mutation vb=0x", 1, 18, "expected a number for 'vb' (decimal or 0x hex), got '0x'"},
    {"NumberWithJunk", "seed 12ab", 1, 6, "expected a number for 'seed' (decimal or 0x hex), got '12ab'"},
    {"LieTooWide", "send noop magic=0x100", 1, 17, "'magic' is at most 255, got 256"},
    {"VbucketListItem", "expect connect vbuckets=0,70000", 1, 27, "'vbuckets' is at most 65535, got 70000"},
    {"EmptyListItem", "send noop split=1,,3", 1, 19, "empty item in the list for 'split'; write items as a,b,c"},
    {"TrailingComma", "send noop split=1,", 1, 19, "empty item in the list for 'split'; write items as a,b,c"},
    {"UnterminatedString", "send mutation key=\"abc", 1, 19,
     "unterminated string; expected a closing '\"' on the same line"},
    {"EscapedFinalQuote", "send mutation key=\"a\\\"", 1, 19,
     "unterminated string; expected a closing '\"' on the same line"},
    {"UnknownEscape", "send mutation key=\"a\\q\"", 1, 21,
     "unknown escape '\\q'; expected one of \\\\ \\\" \\n \\r \\t \\xHH"},
    {"ShortHexEscape", "send mutation key=\"\\x4\"", 1, 20, "'\\x' needs two hex digits, as in \\x0a"},
    {"JunkAfterString", "send mutation key=\"a\"b", 1, 22, "unexpected 'b' after the closing quote"},
    {"BadHexDigit", "send mutation key=x\"8g\"", 1, 22, "bad hex in 'key': 'g' is not a hex digit"},
    {"OddHex", "send mutation key=x\"ab c\"", 1, 24, "bad hex in 'key': odd number of hex digits"},
    {"JunkAfterHex", "send raw x\"00\"1", 1, 15, "unexpected '1' after the hex string"},
    {"NotBytes", "send mutation key=abc", 1, 19,
     "expected bytes for 'key': a \"string\", x\"hex\", random(N), fill(N) / fill(N,BYTE) or file(\"PATH\"); got 'abc'"},
    {"RandomCap", "send mutation value=random(22020097)", 1, 28, "'random length' is at most 22020096, got 22020097"},
    {"FillCap", "send mutation value=fill(0x1500001)", 1, 26, "'fill length' is at most 22020096, got 22020097"},
    {"FillByte", "send mutation value=fill(4,256)", 1, 28, "'fill byte' is at most 255, got 256"},
    {"RandomUnclosed", "send mutation value=random(4", 1, 29, "expected ')' to close 'random(' for 'value'"},
    {"RandomTakesOneArgument", "send mutation value=random(1,2)", 1, 29, "random(N) takes one argument, the length"},
    {"KeyTooLong", "send mutation key=random(70000)", 1, 19, "'key' is at most 65535 bytes, got 70000"},
    {"EngineTooLong", "send flush engine=fill(65536)", 1, 19, "'engine' is at most 65535 bytes, got 65536"},
    {"DurationWithoutUnit", "delay 200", 1, 10, "a duration for 'delay' needs a unit: ms, s, m or h; got '200'"},
    {"DurationUnknownUnit", "delay 5d", 1, 8, "a duration for 'delay' needs a unit: ms, s, m or h; got 'd'"},
    {"DurationWithAFraction", "timeout 0.1ms", 1, 9,
     "a duration for 'timeout' is a whole number of ms, s, m or h (1500ms, not 1.5s); got '0.1ms'"},
    {"DurationWithoutNumber", "delay ms", 1, 7,
     "expected a duration for 'delay' such as 250ms, 2s, 1m or 1h, got 'ms'"},
    // Over a day: a typo, and far over it the clock's arithmetic would overflow.
    {"DurationOverflow", "delay 999999999999999999m", 1, 7, "'delay' is at most 24h (86400000ms), got '999999999999999999m'"},
    {"DurationOverADay", "timeout 10000000000000ms", 1, 9,
     "'timeout' is at most 24h (86400000ms), got '10000000000000ms'"},
    {"DurationJustOverADay", "delay 86400001ms", 1, 7, "'delay' is at most 24h (86400000ms), got '86400001ms'"},
    {"DurationMaxInt64", "delay 9223372036854775807ms", 1, 7,
     "'delay' is at most 24h (86400000ms), got '9223372036854775807ms'"},
    {"WithinOverADay", "send flush ack\nexpect ack within=25h", 2, 19, "'within' is at most 24h (86400000ms), got '25h'"},
    {"ZeroTimeout", "timeout 0s", 1, 9, "'timeout' must be more than 0"},
    {"ZeroWithin", "expect ack opaque=1 within=0ms", 1, 28, "'within' must be more than 0"},
    {"ZeroIdleTimeout", "client args idle_timeout=0s", 1, 26, "'idle_timeout' must be more than 0"},
    {"UnquotedConnectName", "expect connect name=replica", 1, 21,
     "expected a quoted name or 'any' for 'name', got 'replica'"},
    {"UnquotedArgsName", "client args name=r1", 1, 18, "expected a quoted string for 'name', got 'r1'"},
    {"HasAndLacksTheSameFlag", "expect connect has=dump lacks=backfill,dump", 1, 31, "DUMP is in both has= and lacks="},
    {"CorruptWithoutByte", "send noop corrupt=5", 1, 19, "expected OFFSET:BYTE in 'corrupt', got '5'"},
    {"CorruptByteTooWide", "send noop corrupt=5:256", 1, 21, "'corrupt byte' is at most 255, got 256"},
};
INSTANTIATE_TEST_SUITE_P(Values, ScenarioParserError, ::testing::ValuesIn(kValues), case_name);

// --- the repeat index ---
const ErrorCase kIndex[] = {
    {"NumberOutsideRepeat", "send mutation cas={n}", 1, 19,
     "'{n}' is the repeat index; it is allowed only inside a repeat body"},
    {"StringOutsideRepeat", "send mutation key=\"k{n}\"", 1, 21,
     "'{n}' is the repeat index; it is allowed only inside a repeat body"},
    {"PlainStringOutsideRepeat", "client args name=\"r{n}\"", 1, 20,
     "'{n}' is the repeat index; it is allowed only inside a repeat body"},
    {"FieldWithoutIndexSupport", "repeat 2 expect ack opaque={n}", 1, 28,
     "'opaque' needs a fixed number; '{n}' is not allowed here"},
    {"IndexBeyondTheFieldsWidth", "repeat 70000 send mutation vb={n}", 1, 31,
     "'vb' is at most 65535, but '{n}' reaches 69999 in this repeat"},
    {"IndexAfterTheRepeatEnds", "repeat 2 {\n send noop\n}\nsend mutation cas={n}", 4, 19,
     "'{n}' is the repeat index; it is allowed only inside a repeat body"},
};
INSTANTIATE_TEST_SUITE_P(Index, ScenarioParserError, ::testing::ValuesIn(kIndex), case_name);

// --- missing values, duplicates, stray words ---
const ErrorCase kShape[] = {
    {"SendWithoutKind", "send", 1, 5,
     "'send' needs a frame kind; expected one of mutation, deletion, flush, opaque, vbucket_set, "
     "checkpoint_start, checkpoint_end, noop, connect_error, raw"},
    {"SendRawWithoutBytes", "send raw", 1, 9,
     "'send raw' needs the bytes to send, as in send raw x\"80 0a 00 00 ...\""},
    {"RawBytesMustComeFirst", "send raw truncate=1", 1, 10,
     "expected bytes for 'raw': a \"string\", x\"hex\", random(N), fill(N) / fill(N,BYTE) or file(\"PATH\"); got 'truncate=1'"},
    {"RepeatWithoutCount", "repeat", 1, 7, "'repeat' needs a count: repeat N STEP, or repeat N { ... }"},
    {"RepeatWithoutStep", "repeat 3", 1, 9, "expected a step or '{' after 'repeat N'"},
    {"DelayWithoutDuration", "delay", 1, 6, "'delay' needs a duration, as in delay 200ms"},
    {"SeedWithoutNumber", "seed", 1, 5, "'seed' needs a number, as in seed 42"},
    {"TimeoutWithoutDuration", "timeout", 1, 8, "'timeout' needs a duration, as in timeout 5s"},
    {"CloseWithoutForm", "close", 1, 6, "'close' must be followed by one of fin, rst, half_close, stall, wait"},
    {"ExpectAlone", "expect", 1, 7, "'expect' must be followed by one of connect, ack, sasl_list_mechs, sasl_auth"},
    {"ClientEventWithoutKind", "client event", 1, 13,
     "'client event' is missing its event kind; expected one of begin_backfill, end_backfill, mutation, "
     "deletion, checkpoint_start, checkpoint_end, vbucket_set, flush"},
    {"ClientEndWithoutEnding", "client end", 1, 11,
     "'client end' is missing its ending; expected one of eof, end_stream, error"},
    {"FieldWithoutValue", "send mutation vb", 1, 17, "'vb' needs a value: vb=..."},
    {"FieldWithEmptyValue", "send mutation vb=", 1, 18, "missing value after 'vb='"},
    {"BareWordWithValue", "send mutation ack=1", 1, 15, "'ack' is a bare word and takes no value"},
    {"DuplicateField", "send mutation cas=1 cas=2", 1, 21, "duplicate field 'cas'; already set at column 15"},
    {"DuplicateByAlias", "send mutation vb=1 vbucket=2", 1, 20,
     "duplicate field 'vbucket'; 'vb' already set it at column 15"},
    {"DuplicateBareWord", "send mutation ack ack", 1, 19, "duplicate field 'ack'; already set at column 15"},
    {"DuplicateExpectAckField", "expect ack opaque=1 status=any status=ebusy", 1, 32,
     "duplicate field 'status'; already set at column 21"},
    {"DuplicateSeed", "seed 1\nseed 2", 2, 1, "duplicate 'seed'; it is set at line 1 already"},
    {"DuplicateTimeout", "timeout 1s\n\ntimeout 2s", 3, 1, "duplicate 'timeout'; it is set at line 1 already"},
    {"DuplicateAcksAuto", "acks auto\nacks auto", 2, 1, "duplicate 'acks'; it is set at line 1 already"},
    {"DuplicateWrites", "writes coalesced\nwrites coalesced", 2, 1, "duplicate 'writes'; it is set at line 1 already"},
    {"DuplicateClientArgs", "client args\nclient args ack", 2, 1, "duplicate 'client args'; the first is at line 1"},
    {"DuplicateClientEnd", "client end eof\nclient end error", 2, 1, "duplicate 'client end'; the first is at line 1"},
    {"DuplicateExpectConnect", "expect connect\nexpect connect", 2, 1,
     "duplicate 'expect connect'; the first is at line 1"},
    {"ExpectConnectAfterSend", "send noop\nexpect connect", 2, 1,
     "'expect connect' must come before the first send (line 1)"},
    {"TrailingWord", "seed 1 2", 1, 8, "unexpected '2'; expected the end of the line"},
    {"TrailingWordAfterClose", "close fin now", 1, 11, "unexpected 'now'; expected the end of the line"},
};
INSTANTIATE_TEST_SUITE_P(Shape, ScenarioParserError, ::testing::ValuesIn(kShape), case_name);

// --- blocks ---
const ErrorCase kBlocks[] = {
    {"CloseBraceWithoutBlock", "send noop\n}", 2, 1, "'}' without an open block"},
    {"RepeatNeverClosed", "repeat 2 {\n send noop\n", 1, 1, "'repeat' block is never closed; expected '}'"},
    {"GroupNeverClosed", "send noop\n  unordered {\n expect ack opaque=1\n", 2, 3,
     "'unordered' block is never closed; expected '}'"},
    {"GroupInRepeatNeverClosed", "repeat 2 {\n optional {\n  expect ack opaque=1\n", 2, 2,
     "'optional' block is never closed; expected '}'"},
    {"NestedRepeatsWithOneIndexName", "repeat 2 {\n repeat 3 send noop\n}", 2, 2,
     "this repeat's index 'n' would hide the one of the repeat at line 1; name it another way: repeat N as NAME"},
    {"NestedOneLineRepeat", "repeat 2 repeat 3 send noop", 1, 10,
     "a one-line repeat cannot hold another repeat; write 'repeat N {' blocks to nest them"},
    {"RepeatIndexNameNotAName", "repeat 2 as 9x send noop", 1, 13,
     "'9x' is not an index name: lower-case letters, digits and '_', starting with a letter"},
    {"RepeatAsWithoutAName", "repeat 2 as", 1, 12, "'as' needs an index name, as in repeat 4 as vb {"},
    {"IndexOfAnotherName", "repeat 2 as i send mutation cas={n}", 1, 34,
     "in '{n}': unknown name 'n'; this repeat's index is 'i'"},
    {"OuterIndexOutOfRangeForOneIteration", "repeat 70 as v {\n repeat 2 as i send mutation vb={v*1000+i}\n}", 2,
     33, "'vb' is at most 65535, but '{v*1000+i}' reaches 66000 in this repeat (v=66)"},
    {"OuterIndexOutOfRangeOutsideTheInnerRepeat",
     "repeat 70 as v {\n send mutation vb={v*1000}\n repeat 2 send noop\n}", 2, 19,
     "'vb' is at most 65535, but '{v*1000}' is 66000 (v=66)"},
    {"UnrolledTooFar", "repeat 2000000 as v {\n repeat 2 send noop\n}", 1, 1,
     "nested repeats write out more than 1000000 lines: only the innermost repeat of a nest runs as a loop, the outer "
     "ones are copied once per iteration; put the largest count innermost"},
    {"RepeatZero", "repeat 0 send noop", 1, 8, "'repeat 0' repeats nothing; the count must be at least 1"},
    {"RepeatTooMany", "repeat 100000001 send noop", 1, 8, "'repeat count' is at most 100000000, got 100000001"},
    {"EmptyRepeat", "repeat 2 {\n}", 1, 1, "empty repeat block; it needs at least one step"},
    {"EmptyGroup", "optional {\n}", 1, 1, "empty 'optional' block; it needs at least one 'expect ack'"},
    {"OnlyExpectAckInGroups", "unordered {\n send noop\n}", 2, 2,
     "only 'expect ack' lines may be inside 'unordered' (line 1); close it with '}' first"},
    {"OnlyExpectAckInGroupsNotConnect", "optional {\n expect connect\n}", 2, 2,
     "only 'expect ack' lines may be inside 'optional' (line 1); close it with '}' first"},
    {"GroupInOneLineRepeat", "repeat 2 unordered {", 1, 10,
     "a one-line repeat takes a single step; write 'repeat N {' for a block"},
    {"BraceInOneLineRepeat", "repeat 2 }", 1, 10, "a one-line repeat takes a single step; write 'repeat N {' for a block"},
    {"GroupWithoutBrace", "unordered", 1, 10, "expected '{' after 'unordered'"},
    {"GroupWithOtherBrace", "unordered (", 1, 11, "expected '{' after 'unordered'"},
    {"StepAfterOpeningBrace", "repeat 2 { send noop", 1, 12, "unexpected 'send'; expected the end of the line"},
    {"WordsAfterClosingBrace", "repeat 2 {\n send noop\n} x", 3, 3, "unexpected 'x'; expected the end of the line"},
    {"DirectiveInRepeat", "repeat 2 seed 1", 1, 10, "'seed' sets the whole scenario; it cannot be inside a repeat"},
    {"DirectiveInRepeatBlock", "repeat 2 {\n acks auto\n}", 2, 2,
     "'acks' sets the whole scenario; it cannot be inside a repeat"},
    {"ClientArgsInRepeat", "repeat 2 client args", 1, 10, "'client args' cannot be inside a repeat"},
    {"ClientEndInRepeat", "repeat 2 {\n client end eof\n}", 2, 2, "'client end' cannot be inside a repeat"},
    {"ExpectConnectInRepeat", "repeat 2 expect connect", 1, 10,
     "'expect connect' cannot be inside a repeat: a client connects once"},
    {"CloseInRepeat", "repeat 2 close fin", 1, 10, "'close' cannot be inside a repeat: a connection closes once"},
};
INSTANTIATE_TEST_SUITE_P(Blocks, ScenarioParserError, ::testing::ValuesIn(kBlocks), case_name);

// --- sessions: connections, authentication, retransmits, the window, triggers ---
const ErrorCase kSessions[] = {
    {"StepOutsideConnections", "connection a {\n expect connect\n}\nsend noop", 4, 1,
     "every step of a file with connection blocks belongs inside one; this line follows the block at line 1"},
    {"StepBeforeConnections", "send noop\nconnection a {\n}", 2, 1,
     "a file with connection blocks keeps every step inside them; line 1 is outside any"},
    {"NestedConnections", "connection a {\n connection b {", 2, 2,
     "connection blocks do not nest; this one is inside the block at line 1"},
    {"ConnectionNeverClosed", "connection a {\n send noop\n", 1, 1, "'connection' block is never closed; expected '}'"},
    {"EmptyConnection", "connection a {\n}", 1, 1, "empty connection block; it needs at least one statement"},
    {"DuplicateLabel", "connection a {\n send noop\n}\nconnection a {", 4, 12,
     "duplicate connection label 'a'; the first is at line 1"},
    {"AfterUnknownLabel", "connection a {\n send noop\n}\nconnection b after x {", 4, 20,
     "no earlier connection is labelled 'x'; expected one of a", "a"},
    {"TwoReconnectsOfOne", "connection a {\n send noop\n}\nconnection b after a {\n send noop\n}\nconnection c after a {",
     7, 20, "connection 'a' is already followed by 'b' (line 4); a client comes back once per connection"},
    {"ClientArgsInAReconnect", "connection a {\n send noop\n}\nconnection b after a {\n client args name=x", 5, 2,
     "a reconnect is the same client coming back: it connects with the 'client args' of connection 'a' (line 1)"},
    {"DirectiveInConnection", "connection a {\n seed 3", 2, 2,
     "'seed' sets the whole scenario, every connection; write it outside the connection block (line 1)"},
    {"ConnectionWithoutBrace", "connection a after", 1, 19, "'after' needs the label of an earlier connection"},
    {"SaslAfterConnect", "expect connect\nexpect sasl_auth", 2, 1,
     "'expect sasl_auth' must come before 'expect connect' (line 1): a client authenticates before it sends "
     "TAP_CONNECT"},
    {"SaslRefuseWithUser", "expect sasl_auth refuse user=\"u\"", 1, 1,
     "'refuse' answers AUTH_ERROR whatever comes; drop user= and password=, or drop 'refuse' to refuse only other "
     "credentials"},
    {"ConnectAfterRefusal", "expect sasl_auth refuse\nexpect connect", 2, 1,
     "'expect connect' cannot follow 'expect sasl_auth refuse' (line 1): a refused client sends no TAP_CONNECT"},
    {"MechsOnAuth", "expect sasl_auth mechs=PLAIN", 1, 18,
     "'mechs' is not a field of expect sasl_auth; it belongs to expect sasl_list_mechs"},
    {"RetransmitWithoutAck", "send mutation retransmit=2", 1, 15,
     "'retransmit' answers a NACK of the frame's ACK; the send needs 'ack'"},
    {"RetransmitWithAFault", "send mutation ack retransmit=1 split=3", 1, 19,
     "'retransmit' re-sends a whole frame; it cannot go with a fault"},
    {"WindowOfZero", "ack_window 0", 1, 12, "'ack_window' must be at least 1: a window of 0 would never send"},
    {"WindowWithOtherWord", "ack_window 4 patience=1s", 1, 14,
     "unexpected 'patience=1s' after 'ack_window N'; expected grace=DUR"},
    {"OnAckWithoutOpaque", "on ack 5 close rst", 1, 8, "expected opaque=N after 'on ack', got '5'"},
    {"OnAcksZero", "on acks 0 close rst", 1, 9, "'on acks' counts from 1: the Nth ACK after this line"},
    {"OnAckInRepeat", "repeat 2 on acks 1 close rst", 1, 10,
     "'on' cannot be inside a repeat: it arms its fault once, from its line on"},
    {"OnAckHalfClose", "on acks 1 close half_close", 1, 17,
     "unexpected 'half_close' after 'close'; expected one of rst, fin"},
    {"PasswordWithoutUser", "client args password=\"p\"", 1, 1, "'password=' needs 'user=': SASL PLAIN sends both"},
    {"BackwardsRange", "expect connect vbuckets=9..3", 1, 25, "the range 9..3 runs backwards; write 3..9"},
    {"RangeBeyondVbuckets", "client args vbuckets=0..65536", 1, 25, "'vbuckets' is at most 65535, got 65536"},
    {"BackoffWithoutReconnect", "client args backoff=1s", 1, 1,
     "'backoff=' is the wait before a reconnect; it needs 'reconnect=N'"},
    {"BackoffTooLong", "client args reconnect=2 backoff=6s", 1, 1,
     "'backoff=' is at most 5s (it doubles per attempt, up to 5s)"},
    {"NackStatusWithoutNack", "client args nack_status=EBUSY", 1, 1,
     "'nack_status=' is the status of the NACKs 'nack=KEY' asks for; it needs 'nack='"},
    {"NackCountZero", "client args nack=k:0", 1, 20,
     "a nack count is at least 1 (KEY:N NACKs the first N ACK requests)"},
};
INSTANTIATE_TEST_SUITE_P(Sessions, ScenarioParserError, ::testing::ValuesIn(kSessions), case_name);

// --- what may follow a close ---
const ErrorCase kAfterClose[] = {
    {"SendAfterFin", "close fin\nsend noop", 2, 1,
     "no send may follow a close; the scenario closed at line 1 with 'close fin'"},
    {"SendAfterHalfClose", "close half_close\n\nsend noop", 3, 1,
     "no send may follow a close; the scenario closed at line 1 with 'close half_close'"},
    {"SendInRepeatAfterClose", "close stall\nrepeat 2 send noop", 2, 10,
     "no send may follow a close; the scenario closed at line 1 with 'close stall'"},
    {"ExpectAckAfterFin", "send flush ack\nclose fin\nexpect ack", 3, 1,
     "'expect ack' may follow only 'close half_close', not 'close fin' (line 2)"},
    {"DelayAfterRst", "close rst\ndelay 1ms", 2, 1, "'delay' may follow only 'close half_close', not 'close rst' (line 1)"},
    {"GroupAfterWait", "close wait\nunordered {", 2, 1,
     "'unordered' may follow only 'close half_close', not 'close wait' (line 1)"},
    {"AllowUnexpectedAfterHalfClose", "close half_close\nallow unexpected", 2, 1,
     "'allow unexpected' may not follow 'close half_close' (line 1); only expect ack, unordered and optional "
     "blocks, delay and client lines may"},
    {"CloseAfterHalfClose", "close half_close\nclose fin", 2, 1,
     "'close' may not follow 'close half_close' (line 1); only expect ack, unordered and optional blocks, delay "
     "and client lines may"},
    {"CloseAfterStall", "close stall\nclose fin", 2, 1, "'close' may not follow 'close stall' (line 1); only client lines may"},
    {"ExpectConnectAfterClose", "close fin\nexpect connect", 2, 1,
     "'expect connect' may not follow 'close fin' (line 1); only client lines may"},
};
INSTANTIATE_TEST_SUITE_P(AfterClose, ScenarioParserError, ::testing::ValuesIn(kAfterClose), case_name);

// --- ACK claims ---
constexpr std::string_view kNoClaim =
    "'expect ack' without opaque= has no earlier send with 'ack' left to claim; add 'ack' to a send or name "
    "the opaque=";
const ErrorCase kAckClaims[] = {
    {"NoSendWithAck", "send mutation\nexpect ack", 2, 1, kNoClaim},
    {"AllClaimed", "send flush ack\nexpect ack\n  expect ack", 3, 3, kNoClaim},
    {"InAGroup", "unordered {\n expect ack\n}", 2, 2, kNoClaim},
    {"ClaimsBeforeTheSend", "expect ack\nsend flush ack", 1, 1, kNoClaim},
    {"SecondIteration", "send flush ack\nrepeat 3 expect ack", 2, 10,
     "'expect ack' without opaque= has no send with 'ack' left to claim in iteration {n}=1 of the repeat at "
     "line 2; add 'ack' to a send or name the opaque="},
    {"ThirdIteration", "send flush ack\nsend flush ack\nrepeat 3 {\n  delay 1ms\n  expect ack\n}", 5, 3,
     "'expect ack' without opaque= has no send with 'ack' left to claim in iteration {n}=2 of the repeat at "
     "line 3; add 'ack' to a send or name the opaque="},
    {"TheClaimThatRunsShortFirst", "send flush ack\nrepeat 4 {\n send flush ack\n expect ack\n expect ack\n}", 5, 2,
     "'expect ack' without opaque= has no send with 'ack' left to claim in iteration {n}=1 of the repeat at "
     "line 2; add 'ack' to a send or name the opaque="},
    {"FirstIterationOfTheRepeat", "repeat 2 {\n expect ack\n send flush ack\n}", 2, 2, kNoClaim},
};
INSTANTIATE_TEST_SUITE_P(AckClaims, ScenarioParserError, ::testing::ValuesIn(kAckClaims), case_name);

// --- faults ---
const ErrorCase kFaults[] = {
    {"SplitNotAscending", "send noop split=5,3", 1, 19, "split offsets must ascend; 3 follows 5"},
    {"SplitRepeated", "send noop split=5,5", 1, 19, "split offsets must ascend; 5 follows 5"},
    {"SplitAtZero", "send noop split=0", 1, 17, "split offsets start at 1: a write of 0 bytes is no write"},
    {"SplitBeyondTheFrame", "send noop split=24", 1, 17, "split offset 24 is not inside the 24 bytes written"},
    {"SplitBeyondTheTruncation", "send noop truncate=10 split=10", 1, 29,
     "split offset 10 is not inside the 10 bytes written (truncate)"},
    {"CorruptBeyondTheFrame", "send mutation key=\"k\" value=\"v\" corrupt=0:1,51:2", 1, 45,
     "corrupt offset 51 is beyond the frame, which is 51 bytes"},
    {"CorruptBeyondARawFrame", "send raw x\"8000\" corrupt=2:0", 1, 26,
     "corrupt offset 2 is beyond the frame, which is 2 bytes"},
    {"TruncateBeyondTheFrame", "send noop truncate=25", 1, 20, "truncate=25 is beyond the frame, which is 24 bytes"},
    {"TruncateBeyondAnEngineOverride", "send opaque engine=x\"\" truncate=33", 1, 33,
     "truncate=33 is beyond the frame, which is 32 bytes"},
    {"GapWithoutBytewise", "send noop gap=5ms", 1, 11,
     "'gap' is the pause of 'bytewise' or 'chunks='; add one or drop 'gap'"},
    {"SplitThenBytewise", "send noop split=3 bytewise", 1, 19,
     "'split' and 'bytewise' exclude each other: a frame is written one way"},
    {"BytewiseThenSplit", "send noop bytewise split=3", 1, 20,
     "'bytewise' and 'split' exclude each other: a frame is written one way"},
    {"ChunksThenBytewise", "send noop chunks=4 bytewise", 1, 20,
     "'chunks' and 'bytewise' exclude each other: a frame is written one way"},
    {"ChunksOfZero", "send noop chunks=0", 1, 18, "'chunks' is the size of each write, at least 1 byte"},
};
INSTANTIATE_TEST_SUITE_P(Faults, ScenarioParserError, ::testing::ValuesIn(kFaults), case_name);

TEST(ScenarioParserErrors, ALineLongerThanTheLimitIsAnError) {
  const std::string text = "send noop\nsend noop # " + std::string(65536, 'x') + "\nsend noop";
  EXPECT_TRUE(fails_at(text, 2, 65537, "line is longer than 65536 bytes"));
}

TEST(ScenarioParserErrors, ALineOfExactlyTheLimitIsFine) {
  const std::string line = "send noop # " + std::string(65536 - 12, 'x');
  ASSERT_EQ(line.size(), 65536u);
  EXPECT_TRUE(parse(line).ok());
}

TEST(ScenarioParserErrors, TheFirstErrorWins) {
  const Diagnostic error = parse_error("send noop\nsend mutaton\nsned\n}");
  EXPECT_EQ(error.location.line, 2);
}

// --- --check: every error, and warnings ---

std::vector<std::string> texts(const std::vector<Diagnostic>& diagnostics) {
  std::vector<std::string> out;
  for (const auto& d : diagnostics) out.push_back(d.text());
  return out;
}

TEST(ScenarioCheck, ReportsTheFirstErrorOfEveryLine) {
  const auto check = check_scenario("sned noop\nsend noop vb=x\nsend noop\ndelay 5\n", "x.scenario");
  ASSERT_EQ(check.errors.size(), 3u) << ::testing::PrintToString(texts(check.errors));
  EXPECT_EQ(check.errors[0].location.line, 1);
  EXPECT_EQ(check.errors[1].location.line, 2);
  EXPECT_EQ(check.errors[2].location.line, 4);
  EXPECT_FALSE(check.valid());
}

TEST(ScenarioCheck, ABlockThatFailsToOpenIsSkippedNotReportedLineByLine) {
  const auto check = check_scenario("repeat 1x {\n  send noop\n  sned\n}\nsend noop vb=x\n", "x.scenario");
  ASSERT_EQ(check.errors.size(), 2u) << ::testing::PrintToString(texts(check.errors));
  EXPECT_EQ(check.errors[0].location.line, 1);
  EXPECT_EQ(check.errors[1].location.line, 5);
}

TEST(ScenarioCheck, StopsAtTheCapAndCountsTheRest) {
  std::string text;
  for (int i = 0; i < 30; ++i) text += "sned noop\n";
  const auto check = check_scenario(text, "x.scenario");
  EXPECT_EQ(check.errors.size(), kMaxErrors);
  EXPECT_GE(check.more_errors, 1u);
}

TEST(ScenarioCheck, WarnsAboutLinesThatProbablyMeanSomethingElse) {
  const auto check = check_scenario(R"(send mutation key="k" ack
send flush opaque=0x40 ack
expect ack
expect ack opaque=0x40
expect ack opaque=0x99
repeat 100000000 send mutation value=fill(20) opaque=7
close wait
client end eof
client event flush
)",
                                    "x.scenario");
  ASSERT_TRUE(check.valid()) << ::testing::PrintToString(texts(check.errors));
  const auto warnings = texts(check.warnings);
  ASSERT_EQ(warnings.size(), 4u) << ::testing::PrintToString(warnings);
  EXPECT_EQ(warnings[0].rfind("x.scenario:6:1: warning: this repeat sends about 6 GiB (100000000 times 69 bytes)", 0), 0u)
      << warnings[0];
  EXPECT_EQ(warnings[1].rfind("x.scenario:5:1: warning: no send uses opaque 0x99", 0), 0u) << warnings[1];
  EXPECT_EQ(warnings[2].rfind("x.scenario:9:1: warning: 'client event' after 'client end' (line 8)", 0), 0u)
      << warnings[2];
  EXPECT_EQ(warnings[3].rfind("x.scenario:7:1: warning: 'close wait' waits for the client to close first", 0), 0u)
      << warnings[3];
}

TEST(ScenarioCheck, TheProducerSequenceAndRepeatIndicesCoverOpaques) {
  const auto check = check_scenario(
      "repeat 3 send mutation key=\"k{n}\" ack\nrepeat 9 send flush opaque={n}\nexpect ack opaque=3\nexpect ack "
      "opaque=8\n",
      "x.scenario");
  ASSERT_TRUE(check.valid());
  EXPECT_TRUE(check.warnings.empty()) << ::testing::PrintToString(texts(check.warnings));
}

}  // namespace
}  // namespace tapharness::scenario::testing
