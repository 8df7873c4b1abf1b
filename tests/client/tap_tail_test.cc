// tap_tail as a user runs it: its command line, and the real binary against a loopback
// server, checking the JSON lines it prints and its exit status.
#include <cstdio>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "client/tail_options.hpp"
#include "tests/protocol/golden_frames.hpp"
#include "tests/support/loopback_server.hpp"

namespace tapharness::client {
namespace {

using tcp = asio::ip::tcp;
using tapharness::testing::LoopbackServer;
using tapharness::testing::read_exactly;
using tapharness::testing::write_hex;

std::variant<TailOptions, TailUsage> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "tap_tail");
  return parse_tail_options(static_cast<int>(args.size()), args.data());
}

TEST(TailOptions, EveryFlagMapsToTheSeedsArguments) {
  auto parsed = parse({"--addr", "127.0.0.1:11210", "--name", "n", "--backfill", "0x10", "--dump",
                       "--vbuckets", "0,3,7", "--takeover", "--ack", "--keys-only", "--checkpoint",
                       "--registered", "--timeout", "2.5"});
  ASSERT_TRUE(std::holds_alternative<TailOptions>(parsed)) << std::get<TailUsage>(parsed).text;
  const auto& o = std::get<TailOptions>(parsed);
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, "11210");
  const protocol::TapArguments expected{.backfill = 16, .dump = true, .vbuckets = {0, 3, 7},
                                        .takeover = true, .support_ack = true, .keys_only = true,
                                        .checkpoint = true, .client_name = "n",
                                        .registered_client = true};
  EXPECT_EQ(o.feed.args, expected);
  EXPECT_EQ(o.feed.connect_timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(o.feed.idle_timeout, std::chrono::milliseconds(2500));
}

TEST(TailOptions, DefaultsAreTheSeedsDefaults) {
  auto parsed = parse({"--addr", "localhost:1"});
  const auto& o = std::get<TailOptions>(parsed);
  EXPECT_EQ(o.feed.args, protocol::TapArguments{});
  EXPECT_FALSE(o.feed.idle_timeout);
  EXPECT_EQ(o.feed.limits.max_value, 22'020'096u) << "the reference's MaxBodyLen, on the value";
  EXPECT_EQ(o.feed.limits.max_key, 4096u);
}

TEST(TailOptions, TheLimitsAreOptions) {
  auto parsed = parse({"--addr", "h:1", "--max-value", "1048576", "--max-key", "250"});
  ASSERT_TRUE(std::holds_alternative<TailOptions>(parsed)) << std::get<TailUsage>(parsed).text;
  EXPECT_EQ(std::get<TailOptions>(parsed).feed.limits.max_value, 1048576u);
  EXPECT_EQ(std::get<TailOptions>(parsed).feed.limits.max_key, 250u);
  auto too_big = parse({"--addr", "h:1", "--max-key", "70000"});
  ASSERT_TRUE(std::holds_alternative<TailUsage>(too_big));
  EXPECT_NE(std::get<TailUsage>(too_big).text.find("--max-key 70000 is over 65535"), std::string::npos);
}

TEST(TailOptions, BadUsageIsStatusTwoWithAReason) {
  auto error_text = [](std::vector<const char*> args) {
    auto parsed = parse(std::move(args));
    if (!std::holds_alternative<TailUsage>(parsed)) return std::string("accepted");
    EXPECT_EQ(std::get<TailUsage>(parsed).status, 2);
    return std::get<TailUsage>(parsed).text;
  };
  EXPECT_NE(error_text({}).find("--addr HOST:PORT is required"), std::string::npos);
  EXPECT_NE(error_text({"--addr", "nohostport"}).find("is not HOST:PORT"), std::string::npos);
  EXPECT_NE(error_text({"--addr", "h:0"}).find("--addr 'h:0': needs a port from 1 to 65535"), std::string::npos);
  EXPECT_NE(error_text({"--addr", "h:1", "--backfill", "soon"}).find("neither a number nor 'none'"),
            std::string::npos);
  EXPECT_NE(error_text({"--addr", "h:1", "--vbuckets", "1,x"}).find("'x' is not a vbucket"),
            std::string::npos);
  EXPECT_NE(error_text({"--addr", "h:1", "--vbuckets", "70000"}).find("'70000'"), std::string::npos);
  EXPECT_NE(error_text({"--addr", "h:1", "--bogus"}).find("unrecognised option"), std::string::npos);
  EXPECT_NE(error_text({"--addr", "h:1", "--timeout", "0"}).find("positive"), std::string::npos);
  // Huge, infinite or rounding to nothing: refused, not turned into a false timeout.
  EXPECT_NE(error_text({"--addr", "h:1", "--timeout", "1e10"})
                .find("--timeout: 10000000000 seconds is over the longest wait, 86400 seconds (24 hours)"),
            std::string::npos);
  EXPECT_NE(error_text({"--addr", "h:1", "--timeout", "1e16"}).find("over the longest wait"), std::string::npos);
  EXPECT_NE(error_text({"--addr", "h:1", "--timeout", "inf"}).find("--timeout: inf is not a number of seconds"),
            std::string::npos);
  EXPECT_NE(error_text({"--addr", "h:1", "--timeout", "nan"}).find("is not a number of seconds"), std::string::npos);
  EXPECT_NE(error_text({"--addr", "h:1", "--timeout", "0.0004"})
                .find("--timeout: 0.0004 seconds rounds to 0 milliseconds; the shortest wait is 0.001"),
            std::string::npos);
  EXPECT_TRUE(std::holds_alternative<TailOptions>(parse({"--addr", "h:1", "--timeout", "86400"})));
}

TEST(TailOptions, HelpExplainsEveryFlag) {
  auto parsed = parse({"--help"});
  const auto& usage = std::get<TailUsage>(parsed);
  EXPECT_EQ(usage.status, 0);
  for (const char* flag : {"--addr", "--name", "--backfill", "--dump", "--vbuckets", "--takeover",
                           "--ack", "--keys-only", "--checkpoint", "--registered", "--timeout", "--max-value",
                           "--max-key", "--defect", "reference", "skip_ack", "stay_connected_after_error"}) {
    EXPECT_NE(usage.text.find(flag), std::string::npos) << flag;
  }
}

// Runs the real binary; returns its stdout and exit status.
std::pair<std::string, int> run_tap_tail(const std::string& args) {
  FILE* pipe = popen(("client/tap_tail " + args + " 2>&1").c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  std::string out;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  const int status = pclose(pipe);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

TEST(TapTailBinary, PrintsEventsAndTheEndAsJsonLines) {
  protocol::Bytes connect;
  LoopbackServer server([&](tcp::socket& s) {
    connect = read_exactly(s, 24 + 4 + 1 + 2 + 4);  // name "n", 2 vbuckets, no backfill
    write_hex(s, golden::kOpaqueInitialVBucketStream);
    write_hex(s, golden::kMutation);
    write_hex(s, golden::kCheckpointStart);
    write_hex(s, golden::kVBucketSetPending);
    read_exactly(s, 4 * 24);  // the four ACKs
  });
  auto [out, status] =
      run_tap_tail(fmt::format("--addr 127.0.0.1:{} --name n --backfill 0 --vbuckets 2,3 --ack",
                               server.port()));
  server.join();
  // Flags LIST_VBUCKETS | SUPPORT_ACK; no backfill; name "n"; vbuckets {2, 3}.
  EXPECT_EQ(connect, protocol::parse_hex("80 40 0001 04 00 0000 0000000b 00000000 0000000000000000"
                                         "00000014 6e 0002 0002 0003")
                         .value());
  EXPECT_EQ(out,
            "{\"op\":\"begin_backfill\",\"vb\":2}\n"
            "{\"op\":\"mutation\",\"vb\":3,\"key\":\"mykey\",\"value_b64\":\"dmFsdWU=\",\"flags\":18,"
            "\"expiry\":300,\"cas\":4386,\"datatype\":0}\n"
            "{\"op\":\"checkpoint_start\",\"vb\":1,\"checkpoint\":42}\n"
            "{\"op\":\"vbucket_set\",\"vb\":5,\"state\":\"pending\"}\n"
            "{\"end\":\"eof\"}\n");
  EXPECT_EQ(status, 0);
}

TEST(TailOptions, DefectsAreNamedAndRefusedWithTheList) {
  auto parsed = parse({"--addr", "h:1", "--defect", "skip_ack:3", "--defect", "drop_flush"});
  const auto& options = std::get<TailOptions>(parsed);
  EXPECT_TRUE(options.defects.has(Defect::skip_ack));
  EXPECT_EQ(options.defects.skip_ack_n, 3u);
  EXPECT_TRUE(options.defects.has(Defect::drop_flush));
  EXPECT_TRUE(std::get<TailOptions>(parse({"--addr", "h:1"})).defects.empty()) << "off by default";

  const auto bad = std::get<TailUsage>(parse({"--addr", "h:1", "--defect", "skip_acks"}));
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.text.find("--defect 'skip_acks' is not a defect; the defects are reference, skip_ack,"),
            std::string::npos)
      << bad.text;
  const auto arg = std::get<TailUsage>(parse({"--addr", "h:1", "--defect", "never_ack:2"}));
  EXPECT_NE(arg.text.find("'never_ack:2' takes no argument"), std::string::npos) << arg.text;
}

// One defect, end to end through the real binary: the server asks for ACKs on two frames,
// and a client that skips the first sends only the second.
TEST(TapTailBinary, ADefectShowsOnTheWire) {
  protocol::Bytes acks;
  LoopbackServer server([&](tcp::socket& s) {
    read_exactly(s, 36);
    write_hex(s, golden::kOpaqueInitialVBucketStream);  // asks for an ACK, opaque 0x20
    write_hex(s, golden::kMutation);                    // asks for an ACK, opaque 0x10
    acks = read_exactly(s, 24);
  });
  auto [out, status] = run_tap_tail(fmt::format("--addr 127.0.0.1:{} --defect skip_ack:1", server.port()));
  server.join();
  ASSERT_EQ(acks.size(), 24u);
  EXPECT_EQ(acks[1], 0x41) << "the mutation's ACK came first: the first was skipped";
  EXPECT_NE(out.find("\"op\":\"mutation\""), std::string::npos) << out;
}

TEST(TapTailBinary, ErrorsEndWithStatusOne) {
  LoopbackServer server([&](tcp::socket& s) {
    read_exactly(s, 36);
    write_hex(s, golden::kConnectRejected);
  });
  auto [out, status] = run_tap_tail(fmt::format("--addr 127.0.0.1:{}", server.port()));
  EXPECT_EQ(out,
            "{\"end\":\"error\",\"error\":\"connect_rejected: the server refused TAP_CONNECT with "
            "status NOT_SUPPORTED: not supported\"}\n");
  EXPECT_EQ(status, 1);
}

TEST(TapTailBinary, EndStreamIsStatusZeroAndBadUsageTwo) {
  LoopbackServer server([&](tcp::socket& s) {
    read_exactly(s, 36);
    write_hex(s, golden::kOpaqueCloseTapStream);
    read_exactly(s, 1);
  });
  auto [out, status] = run_tap_tail(fmt::format("--addr 127.0.0.1:{}", server.port()));
  EXPECT_EQ(out, "{\"end\":\"end_stream\"}\n");
  EXPECT_EQ(status, 0);
  EXPECT_EQ(run_tap_tail("--vbuckets 1").second, 2);
}

}  // namespace
}  // namespace tapharness::client
