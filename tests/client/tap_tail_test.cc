// tap_tail as a user runs it: its command line, and the real binary against a loopback
// server, checking the JSON lines it prints and its exit status.
#include <cstdio>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "client/tail_options.hpp"
#include "tests/client/session_server.hpp"
#include "tests/protocol/golden_frames.hpp"
#include "tests/support/child_process.hpp"
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
                           "--max-key", "--defect", "reference", "skip_ack", "stay_connected_after_error",
                           "--user", "--password", "--reconnect", "--reconnect-backoff", "--nack", "--nack-status",
                           "{\"connection\":N}"}) {
    EXPECT_NE(usage.text.find(flag), std::string::npos) << flag;
  }
}

TEST(TailOptions, SessionFlagsMapToTheFeedsOptions) {
  auto parsed = parse({"--addr", "h:1", "--user", "replica", "--password", "s3cret", "--reconnect", "3",
                       "--reconnect-backoff", "0.25", "--nack", "a", "--nack", "b:2", "--nack-status", "ebusy"});
  ASSERT_TRUE(std::holds_alternative<TailOptions>(parsed)) << std::get<TailUsage>(parsed).text;
  const auto& o = std::get<TailOptions>(parsed);
  ASSERT_TRUE(o.feed.auth);
  EXPECT_EQ(o.feed.auth->user, "replica");
  EXPECT_EQ(o.feed.auth->password, "s3cret");
  EXPECT_EQ(o.feed.reconnect.attempts, 3u);
  EXPECT_EQ(o.feed.reconnect.backoff, std::chrono::milliseconds(250));
  EXPECT_EQ(o.feed.reconnect.max_backoff, std::chrono::milliseconds(5000));
  EXPECT_EQ(o.nack.keys, (std::vector<std::pair<std::string, std::uint32_t>>{{"a", 1}, {"b", 2}}));
  EXPECT_EQ(o.nack.status, protocol::Status::ebusy);
  ASSERT_TRUE(o.feed.ack_status);
  auto status = o.feed.ack_status;
  const protocol::TapEventView a{.key = "a"}, b{.key = "b"};
  EXPECT_EQ(status(a), protocol::Status::ebusy);
  EXPECT_EQ(status(a), protocol::Status::success);
  EXPECT_EQ(status(b), protocol::Status::ebusy);
  EXPECT_EQ(status(b), protocol::Status::ebusy);
  EXPECT_EQ(status(b), protocol::Status::success);
}

TEST(TailOptions, SessionDefaultsAreOff) {
  const auto o = std::get<TailOptions>(parse({"--addr", "h:1"}));
  EXPECT_FALSE(o.feed.auth);
  EXPECT_EQ(o.feed.reconnect.attempts, 0u);
  EXPECT_EQ(o.feed.reconnect.backoff, std::chrono::milliseconds(100));
  EXPECT_EQ(o.feed.reconnect.max_backoff, std::chrono::milliseconds(5000));
  EXPECT_TRUE(o.nack.keys.empty());
  EXPECT_FALSE(o.feed.ack_status) << "no --nack: every ACK is SUCCESS";
  const auto user_only = std::get<TailOptions>(parse({"--addr", "h:1", "--user", "u"}));
  ASSERT_TRUE(user_only.feed.auth);
  EXPECT_EQ(user_only.feed.auth->password, "");
  const auto nack = std::get<TailOptions>(parse({"--addr", "h:1", "--nack", "k"}));
  EXPECT_EQ(nack.nack.status, protocol::Status::etmpfail);
  EXPECT_EQ(std::get<TailOptions>(parse({"--addr", "h:1", "--nack", "k", "--nack-status", "0x20"})).nack.status,
            protocol::Status::auth_error);
  EXPECT_EQ(std::get<TailOptions>(parse({"--addr", "h:1", "--nack", "k", "--nack-status", "133"})).nack.status,
            protocol::Status::ebusy);
}

TEST(TailOptions, SessionFlagsRefuseMistakes) {
  auto error_text = [](std::vector<const char*> args) {
    args.insert(args.begin(), {"--addr", "h:1"});
    auto parsed = parse(std::move(args));
    if (!std::holds_alternative<TailUsage>(parsed)) return std::string("accepted");
    EXPECT_EQ(std::get<TailUsage>(parsed).status, 2);
    return std::get<TailUsage>(parsed).text.substr(0, std::get<TailUsage>(parsed).text.find('\n'));
  };
  EXPECT_EQ(error_text({"--password", "p"}), "tap_tail: --password needs --user");
  EXPECT_EQ(error_text({"--user", ""}), "tap_tail: --user needs a name: SASL PLAIN has no empty user");
  EXPECT_EQ(error_text({"--reconnect", "x"}), "tap_tail: --reconnect 'x' is not a whole number from 0 to 4294967295");
  EXPECT_EQ(error_text({"--reconnect", "-1"}),
            "tap_tail: --reconnect '-1' is not a whole number from 0 to 4294967295");
  EXPECT_EQ(error_text({"--reconnect-backoff", "1"}), "tap_tail: --reconnect-backoff needs --reconnect N above 0");
  EXPECT_EQ(error_text({"--reconnect", "0", "--reconnect-backoff", "1"}),
            "tap_tail: --reconnect-backoff needs --reconnect N above 0");
  EXPECT_EQ(error_text({"--reconnect", "2", "--reconnect-backoff", "6"}),
            "tap_tail: --reconnect-backoff 6 is over the longest wait between reconnects, 5 seconds");
  EXPECT_NE(error_text({"--reconnect", "2", "--reconnect-backoff", "0"}).find("--reconnect-backoff"), std::string::npos);
  EXPECT_EQ(error_text({"--nack", ":2"}), "tap_tail: --nack ':2': has no key (KEY[:N])");
  EXPECT_EQ(error_text({"--nack", "k:0"}),
            "tap_tail: --nack 'k:0': N '0' is not a whole number from 1 to 4294967295 (KEY[:N])");
  EXPECT_EQ(error_text({"--nack-status", "EBUSY"}), "tap_tail: --nack-status needs --nack KEY[:N]");
  EXPECT_EQ(error_text({"--nack", "k", "--nack-status", "BUSY"}),
            "tap_tail: --nack-status 'BUSY' is neither a status name (ETMPFAIL, EBUSY, ...) nor a number from 0 "
            "to 0xffff");
  EXPECT_NE(error_text({"--nack", "k", "--nack-status", "0x10000"}).find("neither a status name"), std::string::npos);
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

// The session flags through the real binary, every wait bounded: the child's (ChildProcess
// kills it after 10 s), the server's accepts and reads (SessionServer, read_bounded).
using tapharness::testing::ChildProcess;
using testing::SessionServer;

ChildProcess::Exit run_bounded(std::vector<std::string> args) {
  ChildProcess tail("client/tap_tail", args);
  return tail.wait(std::chrono::milliseconds(10000));
}

constexpr std::string_view kMutationLine =
    R"({"op":"mutation","vb":3,"key":"mykey","value_b64":"dmFsdWU=","flags":18,"expiry":300,"cas":4386,"datatype":0})";
constexpr std::string_view kDeletionLine = R"({"op":"deletion","vb":3,"key":"mykey","cas":7,"datatype":0})";

TEST(TapTailBinary, ReconnectMarksEachConnectionAndPrintsEachEnd) {
  protocol::Bytes connects[2];
  SessionServer server(2, [&](tcp::socket& s, int n) {
    connects[n - 1] = testing::read_frame(s);
    if (n == 1) {
      write_hex(s, golden::kMutation);
      testing::read_bounded(s, 24);  // its ACK: the client has it
      testing::reset(s);
    } else {
      write_hex(s, golden::kDeletion);
    }
  });
  const auto exit = run_bounded({"--addr", "127.0.0.1:" + server.port(), "--name", "r1", "--reconnect", "2",
                                 "--reconnect-backoff", "0.01"});
  server.join();
  EXPECT_EQ(exit.out, fmt::format("{{\"connection\":1}}\n{}\n"
                                  "{{\"end\":\"error\",\"error\":\"io_error: read: Connection reset by peer (at offset 59)\"}}\n"
                                  "{{\"connection\":2}}\n{}\n{{\"end\":\"eof\"}}\n",
                                  kMutationLine, kDeletionLine))
      << exit.err;
  EXPECT_EQ(exit.status, 0) << "the last end's: eof";
  EXPECT_EQ(protocol::to_hex(connects[0]), protocol::to_hex(connects[1])) << "the same TAP_CONNECT";
}

TEST(TapTailBinary, ReconnectExitStatusIsTheLastEnds) {
  SessionServer server(2, [&](tcp::socket& s, int n) {
    testing::read_frame(s);
    if (n == 1) {
      testing::reset(s);
    } else {
      write_hex(s, golden::kConnectRejected);  // a refusal: no reconnect after it
    }
  });
  const auto exit = run_bounded({"--addr", "127.0.0.1:" + server.port(), "--reconnect", "5",
                                 "--reconnect-backoff", "0.01"});
  server.join();
  EXPECT_EQ(exit.out,
            "{\"connection\":1}\n"
            "{\"end\":\"error\",\"error\":\"io_error: read: Connection reset by peer\"}\n"
            "{\"connection\":2}\n"
            "{\"end\":\"error\",\"error\":\"connect_rejected: the server refused TAP_CONNECT with status "
            "NOT_SUPPORTED: not supported\"}\n");
  EXPECT_EQ(exit.status, 1);
}

TEST(TapTailBinary, ReconnectGivesUpAfterNAttemptsInARow) {
  std::string port;
  {
    asio::io_context io;
    tcp::acceptor closed(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = std::to_string(closed.local_endpoint().port());
  }
  const auto exit = run_bounded({"--addr", "127.0.0.1:" + port, "--reconnect", "2", "--reconnect-backoff", "0.001"});
  const std::string refused = fmt::format(
      "{{\"end\":\"error\",\"error\":\"io_error: connect to 127.0.0.1:{}: Connection refused\"}}\n", port);
  EXPECT_EQ(exit.out, "{\"connection\":1}\n" + refused + "{\"connection\":2}\n" + refused +
                          "{\"connection\":3}\n" + refused);
  EXPECT_EQ(exit.status, 1);
}

TEST(TapTailBinary, CtrlCDuringTheBackoffEndsClosed) {
  std::string port;
  {
    asio::io_context io;
    tcp::acceptor closed(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = std::to_string(closed.local_endpoint().port());
  }
  ChildProcess tail("client/tap_tail", {"--addr", "127.0.0.1:" + port, "--reconnect", "3", "--reconnect-backoff", "5"});
  EXPECT_EQ(tail.read_line(), "{\"connection\":1}");
  const auto end = tail.read_line();
  ASSERT_TRUE(end);
  EXPECT_NE(end->find("Connection refused"), std::string::npos) << *end;
  const auto interrupted = std::chrono::steady_clock::now();
  tail.send_signal(SIGINT);
  const auto exit = tail.wait(std::chrono::milliseconds(10000));
  EXPECT_LT(std::chrono::steady_clock::now() - interrupted, std::chrono::seconds(3)) << "not after the 5 s wait";
  EXPECT_EQ(exit.out, "{\"end\":\"closed\"}\n");
  EXPECT_EQ(exit.status, 130);
}

TEST(TapTailBinary, TheNoReconnectDefectPrintsTheMarkerAndNeverComesBack) {
  SessionServer server(2, [&](tcp::socket& s, int n) {
    testing::read_frame(s);
    if (n == 1) {
      write_hex(s, golden::kMutation);
      testing::read_bounded(s, 24);
      testing::reset(s);
    }
  }, std::chrono::milliseconds(300));
  const auto exit = run_bounded({"--addr", "127.0.0.1:" + server.port(), "--reconnect", "2", "--reconnect-backoff",
                                 "0.01", "--defect", "no_reconnect"});
  server.join();
  EXPECT_EQ(exit.out, fmt::format("{{\"connection\":1}}\n{}\n"
                                  "{{\"end\":\"error\",\"error\":\"io_error: read: Connection reset by peer (at offset 59)\"}}\n",
                                  kMutationLine));
  EXPECT_EQ(exit.status, 1);
  EXPECT_EQ(server.accepted(), 1);
}

TEST(TapTailBinary, AuthenticatesWithUserAndPassword) {
  protocol::Bytes list, auth;
  SessionServer server(1, [&](tcp::socket& s, int) {
    list = testing::read_frame(s);
    write_hex(s, "81 20 0000 00 00 0000 0000000e 00000000 0000000000000000 4352414d2d4d443520504c41494e");
    auth = testing::read_frame(s);
    write_hex(s, "81 21 0000 00 00 0000 0000000d 00000000 0000000000000000 41757468656e74696361746564");
    testing::read_frame(s);  // TAP_CONNECT
    write_hex(s, golden::kDeletion);
  });
  const auto exit = run_bounded({"--addr", "127.0.0.1:" + server.port(), "--user", "u", "--password", "pw"});
  server.join();
  EXPECT_EQ(protocol::to_hex(list), "802000000000000000000000000000000000000000000000");
  EXPECT_EQ(protocol::to_hex(auth), "80210005000000000000000a000000000000000000000000504c41494e0075007077");
  EXPECT_EQ(exit.out, std::string(kDeletionLine) + "\n{\"end\":\"eof\"}\n");
  EXPECT_EQ(exit.status, 0);
}

TEST(TapTailBinary, ARefusedAuthIsAnErrorEnd) {
  SessionServer server(1, [&](tcp::socket& s, int) {
    testing::read_frame(s);
    write_hex(s, "81 20 0000 00 00 0000 00000005 00000000 0000000000000000 504c41494e");
    testing::read_frame(s);
    write_hex(s, "81 21 0000 00 00 0020 0000000c 00000000 0000000000000000 41757468206661696c757265");
    testing::read_bounded(s, 1);
  });
  const auto exit = run_bounded({"--addr", "127.0.0.1:" + server.port(), "--user", "u", "--reconnect", "3"});
  server.join();
  EXPECT_EQ(exit.out,
            "{\"connection\":1}\n{\"end\":\"error\",\"error\":\"auth_failed: the server refused SASL_AUTH PLAIN "
            "with status AUTH_ERROR: Auth failure\"}\n")
      << "and no reconnect after a refusal";
  EXPECT_EQ(exit.status, 1);
  EXPECT_EQ(server.accepted(), 1);
}

// --nack: the first N ACK requests of a key are NACKed with --nack-status; the retransmit
// after them is acknowledged.
std::vector<std::uint16_t> ack_statuses_for(std::vector<std::string> flags, int deliveries) {
  std::vector<std::uint16_t> statuses;
  SessionServer server(1, [&](tcp::socket& s, int) {
    testing::read_frame(s);
    for (int i = 0; i < deliveries; ++i) {
      write_hex(s, golden::kMutation);
      const auto ack = testing::read_bounded(s, 24);
      if (ack.size() == 24) statuses.push_back(protocol::read_header(ack.data()).vbucket_or_status);
    }
  });
  flags.insert(flags.begin(), {"--addr", "127.0.0.1:" + server.port()});
  const auto exit = run_bounded(flags);
  server.join();
  EXPECT_EQ(exit.status, 0) << exit.out << exit.err;
  return statuses;
}

TEST(TapTailBinary, NackAnswersTheFirstRequestsOfAKey) {
  EXPECT_EQ(ack_statuses_for({"--nack", "mykey"}, 2), (std::vector<std::uint16_t>{0x86, 0x00}));
  EXPECT_EQ(ack_statuses_for({"--nack", "mykey:2", "--nack-status", "EBUSY"}, 3),
            (std::vector<std::uint16_t>{0x85, 0x85, 0x00}));
  EXPECT_EQ(ack_statuses_for({"--nack", "other"}, 1), (std::vector<std::uint16_t>{0x00}));
  EXPECT_EQ(ack_statuses_for({"--nack", "mykey", "--reconnect", "1"}, 2), (std::vector<std::uint16_t>{0x86, 0x00}))
      << "the reconnecting path too";
}

}  // namespace
}  // namespace tapharness::client
