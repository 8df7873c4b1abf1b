// MockServer in-process on 127.0.0.1 and an ephemeral port, with real sockets: clients (a
// raw socket played byte by byte, and the real feed) get the scenario; several at once each
// get it afresh; clients that reset, half-close, send garbage, vanish, dribble one byte at a
// time or stop reading are reported for what they did while the others are still served;
// stop(), traces, address().
#include "mockserver/server.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "client/blocking_feed.hpp"
#include "protocol/hex.hpp"
#include "tests/mockserver/engine_test_support.hpp"
#include "tests/mockserver/loopback_client.hpp"
#include "tests/support/temp_files.hpp"
#include "tests/protocol/golden_frames.hpp"

namespace tapharness::mockserver {
namespace {

using protocol::Bytes;
using protocol::Opcode;
using protocol::parse_hex;
using protocol::to_hex;
using testing::kWait;
using testing::LoopbackClient;
namespace golden = tapharness::golden;

// A MockServer run on its own thread (its own io_context, kept running until the harness
// goes), while the test thread plays the clients. Reports and on_done are collected under a
// lock; every wait for them is bounded.
class ServerThread {
 public:
  explicit ServerThread(std::string_view scenario_text, ServerOptions options = {}) {
    auto listening = MockServer::listen(io_, testing::parse(scenario_text), std::move(options));
    if (!listening) {
      ADD_FAILURE() << listening.error().message();
      return;
    }
    server_ = std::move(*listening);
    port_ = server_->endpoint().port();
    server_->start(
        [this](const Report& report) {
          std::lock_guard lock(mutex_);
          reports_.push_back(report);
          changed_.notify_all();
        },
        [this] {
          std::lock_guard lock(mutex_);
          ++done_calls_;
          changed_.notify_all();
        });
    thread_ = std::thread([this] { io_.run(); });
  }

  ~ServerThread() {
    if (!server_) return;
    stop();
    if (!wait_done()) io_.stop();  // a session that never ends: the test has failed already
    work_.reset();
    thread_.join();
  }

  std::uint16_t port() const { return port_; }
  MockServer& server() { return *server_; }

  // MockServer::stop() on the server's thread; returns once it ran.
  void stop() {
    std::promise<void> ran;
    asio::post(io_, [&] {
      server_->stop();
      ran.set_value();
    });
    if (ran.get_future().wait_for(kWait) != std::future_status::ready) ADD_FAILURE() << "stop() did not run";
  }

  ::testing::AssertionResult wait_for_reports(std::size_t n, std::chrono::milliseconds timeout = kWait) {
    std::unique_lock lock(mutex_);
    if (changed_.wait_for(lock, timeout, [&] { return reports_.size() >= n; })) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << reports_.size() << " of " << n << " reports within "
                                         << timeout.count() << "ms";
  }

  ::testing::AssertionResult wait_done(std::chrono::milliseconds timeout = kWait) {
    std::unique_lock lock(mutex_);
    if (changed_.wait_for(lock, timeout, [&] { return done_calls_ > 0; })) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "no on_done within " << timeout.count() << "ms";
  }

  // The one report of a single-connection run (an empty, passing one after a failure).
  Report only_report() {
    if (!wait_for_reports(1)) {
      ADD_FAILURE() << "no report within " << kWait.count() << "ms";
      return Report{};
    }
    return reports()[0];
  }

  int done_calls() {
    std::lock_guard lock(mutex_);
    return done_calls_;
  }

  // The reports so far, by connection number.
  std::vector<Report> reports() {
    std::lock_guard lock(mutex_);
    std::vector<Report> sorted = reports_;
    std::sort(sorted.begin(), sorted.end(),
              [](const Report& a, const Report& b) { return a.connection() < b.connection(); });
    return sorted;
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::unique_ptr<MockServer> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Report> reports_;
  int done_calls_ = 0;
};

std::string hex_of(std::string_view golden_frame) { return to_hex(parse_hex(golden_frame).value()); }

std::string observed(const Report& r) {
  return r.first_failure() ? r.first_failure()->failure->observed : "(the report passed)";
}

::testing::AssertionResult Passes(const Report& r) {
  if (r.passed()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << format_report(r);
}

// The report's first failure is on `line` and what it observed contains `observed_part`.
::testing::AssertionResult FailsAt(const Report& r, int line, std::string_view observed_part) {
  const StepOutcome* f = r.first_failure();
  if (f && f->location.line == line && f->failure->observed.find(observed_part) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "expected the first failure on line " << line << ", observing \""
                                       << observed_part << "\"; the report:\n" << format_report(r);
}

// The README's backfill, shaped so its frames are golden ones byte for byte.
constexpr std::string_view kBackfill = R"(expect connect name="replica-1" has=support_ack
send opaque vb=2 code=INITIAL_VBUCKET_STREAM ack opaque=0x20
expect ack
send mutation vb=3 key="mykey" value="value" flags=0x12 expiry=300 cas=0x1122 ack opaque=0x10
send deletion vb=3 key="mykey" cas=7 opaque=0x11 rev_seqno=5
send opaque vb=2 code=CLOSE_BACKFILL ack opaque=0x25
expect ack opaque=0x10
expect ack opaque=0x25
close fin
)";

TEST(MockServer, AddressIsTheEphemeralPortOnLoopbackAndOutlivesListening) {
  ServerThread s("send noop\n");
  ASSERT_NE(s.port(), 0);
  const std::string address = s.server().address();
  EXPECT_EQ(address, fmt::format("127.0.0.1:{}", s.port()));

  LoopbackClient client;
  ASSERT_TRUE(client.open_tap(s.port()));
  EXPECT_EQ(to_hex(client.read_to_end().bytes), hex_of(golden::kNoop));
  ASSERT_TRUE(s.wait_done());
  EXPECT_EQ(s.server().address(), address) << "the acceptor is closed once every connection came";
}

TEST(MockServer, ARawClientGetsEveryFrameByteForByteAndItsAcksAreChecked) {
  ServerThread s(kBackfill);
  LoopbackClient client;
  ASSERT_TRUE(client.open_tap(s.port(), {.support_ack = true, .client_name = "replica-1"}));
  EXPECT_EQ(to_hex(client.receive(36)), hex_of(golden::kOpaqueInitialVBucketStream));
  client.send_ack(Opcode::tap_opaque, 0x20);
  const std::string rest = hex_of(golden::kMutation) + hex_of(golden::kDeletion) + hex_of(golden::kOpaqueCloseBackfill);
  EXPECT_EQ(to_hex(client.receive(rest.size() / 2)), rest);
  client.send_ack(Opcode::tap_mutation, 0x10);
  client.send_ack(Opcode::tap_opaque, 0x25);
  const auto ending = client.read_to_end();
  EXPECT_TRUE(ending.bytes.empty());
  EXPECT_EQ(ending.error, asio::error::eof) << ending.error.message();

  const Report r = s.only_report();
  EXPECT_TRUE(Passes(r));
  EXPECT_EQ(r.connection(), 1u);
  EXPECT_EQ(r.frames_sent, 4u);
  EXPECT_EQ(r.frames_received, 4u);  // the TAP_CONNECT and three ACKs
  EXPECT_TRUE(s.wait_done());
}

TEST(MockServer, AWrongAckFromARawClientFailsWithExpectedAgainstObserved) {
  ServerThread s(kBackfill);
  LoopbackClient client;
  ASSERT_TRUE(client.open_tap(s.port(), {.support_ack = true, .client_name = "replica-1"}));
  client.receive(36);
  client.send_ack(Opcode::tap_opaque, 0x21);  // the wrong opaque
  client.close();                              // the rest fails at once
  const Report r = s.only_report();
  ASSERT_TRUE(FailsAt(r, 3, "response TAP_OPAQUE opaque=0x00000021 status=SUCCESS"));
  EXPECT_EQ(r.first_failure()->failure->expected, "ACK (response) TAP_OPAQUE opaque=0x00000020 status=SUCCESS");
}

TEST(MockServer, TheRealFeedGetsTheScenarioAndAcksWhatAsksForIt) {
  // The feed ACKs the mutation at once, usually while the server is still sending the frames
  // after it: `expect ack opaque=0x10` must still count that ACK (it once did not).
  ServerThread s(kBackfill);
  client::FeedOptions options;
  options.args.client_name = "replica-1";
  options.args.support_ack = true;
  client::BlockingFeed feed(options);
  feed.connect("127.0.0.1", std::to_string(s.port()));

  std::vector<std::string> seen;
  for (;;) {
    auto item = feed.next(kWait);
    ASSERT_TRUE(item) << "no event within the wait; " << (s.reports().empty() ? "" : format_report(s.reports()[0]));
    if (auto* end = std::get_if<client::FeedEnd>(&*item)) {
      EXPECT_EQ(end->reason, client::EndReason::eof) << end->message();
      break;
    }
    const auto& event = std::get<protocol::TapEvent>(*item);
    seen.push_back(fmt::format("{} vb={} key={}", protocol::name_of(event.kind), event.vbucket, event.key));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"begin_backfill vb=2 key=", "mutation vb=3 key=mykey",
                                            "deletion vb=3 key=mykey", "end_backfill vb=2 key="}));
  EXPECT_TRUE(Passes(s.only_report()));
}

TEST(MockServer, ThreeClientsAtOnceEachGetTheWholeScenarioAfresh) {
  // Default opaques and random values restart on every connection; `close wait` keeps all
  // three open at once, so a server that served them one after another would starve two.
  ServerThread s("send mutation key=\"k\" value=random(16) ack\nexpect ack\nsend noop\nclose wait\n",
                 {.connections = 3});
  LoopbackClient clients[3];
  for (auto& c : clients) ASSERT_TRUE(c.open_tap(s.port()));
  std::vector<std::string> received;
  for (auto& c : clients) received.push_back(to_hex(c.receive(24 + 16 + 9 + 1 + 16)));
  EXPECT_EQ(received[0].size(), 2u * 66);
  EXPECT_EQ(received[1], received[0]);
  EXPECT_EQ(received[2], received[0]);
  EXPECT_EQ(received[0].substr(24, 8), "00000001") << "the first default opaque on every connection";
  for (auto& c : clients) c.send_ack(Opcode::tap_mutation, 1);
  for (auto& c : clients) EXPECT_EQ(to_hex(c.receive(24)), hex_of(golden::kNoop));
  EXPECT_EQ(s.reports().size(), 0u) << "every connection is still open";
  for (auto& c : clients) c.close();

  ASSERT_TRUE(s.wait_for_reports(3));
  const auto reports = s.reports();
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(reports[i].connection(), i + 1);
    EXPECT_TRUE(Passes(reports[i]));
    EXPECT_EQ(reports[i].frames_sent, 2u);
  }
  EXPECT_TRUE(s.wait_done());
}

TEST(MockServer, AClientThatResetsMidScenarioFailsAloneWhileTheOtherIsServed) {
  ServerThread s("send opaque code=INITIAL_VBUCKET_STREAM ack\nexpect ack\nsend mutation key=\"a\"\n",
                 {.connections = 2});
  LoopbackClient resetting, steady;
  ASSERT_TRUE(resetting.open_tap(s.port()));
  ASSERT_TRUE(steady.open_tap(s.port()));
  EXPECT_EQ(resetting.receive(36).size(), 36u);
  EXPECT_EQ(steady.receive(36).size(), 36u);
  resetting.reset();
  ASSERT_TRUE(s.wait_for_reports(1)) << "the reset is reported while the other connection waits";

  steady.send_ack(Opcode::tap_opaque, 1);
  EXPECT_EQ(steady.read_to_end().bytes.size(), 24u + 16 + 9 + 1);
  ASSERT_TRUE(s.wait_for_reports(2));
  const auto reports = s.reports();
  const Report& reset = reports[0].passed() ? reports[1] : reports[0];
  const Report& served = reports[0].passed() ? reports[0] : reports[1];
  EXPECT_TRUE(Passes(served));
  EXPECT_TRUE(FailsAt(reset, 2, "the connection failed: Connection reset by peer"));
}

// ---- planned connections (connection blocks) ----------------------------------------------

constexpr std::string_view kTwoByName = R"(connection a {
  expect connect name="ra"
  send noop
  close wait
}
connection b {
  expect connect name="rb"
  send noop
  send noop
  close wait
}
)";

TEST(MockServer, ConcurrentPlannedConnectionsAreToldApartByTheirNames) {
  ServerThread s(kTwoByName);
  LoopbackClient b, a;
  ASSERT_TRUE(b.open_tap(s.port(), {.client_name = "rb"}));  // b first: the name decides, not the order
  ASSERT_TRUE(a.open_tap(s.port(), {.client_name = "ra"}));
  EXPECT_EQ(b.receive(48).size(), 48u) << "b's block sends two NOOPs";
  EXPECT_EQ(a.receive(24).size(), 24u);
  a.close();
  b.close();
  ASSERT_TRUE(s.wait_for_reports(2));
  const auto reports = s.reports();
  EXPECT_TRUE(Passes(reports[0]));
  EXPECT_TRUE(Passes(reports[1]));
  EXPECT_EQ(reports[0].scenario(), "t.a");
  EXPECT_EQ(reports[1].scenario(), "t.b");
  EXPECT_TRUE(s.wait_done());
}

constexpr std::string_view kReconnect = R"(connection first {
  expect connect name="r"
  send noop
  close rst
}
connection again after first within 300ms {
  expect connect name="r"
  send noop
}
)";

TEST(MockServer, AReconnectWithinItsBoundRunsTheNextBlock) {
  ServerThread s(kReconnect);
  LoopbackClient first;
  ASSERT_TRUE(first.open_tap(s.port(), {.client_name = "r"}));
  EXPECT_EQ(first.receive(24).size(), 24u);
  ASSERT_TRUE(s.wait_for_reports(1));
  LoopbackClient again;
  ASSERT_TRUE(again.open_tap(s.port(), {.client_name = "r"}));
  EXPECT_EQ(again.read_to_end().bytes.size(), 24u);
  ASSERT_TRUE(s.wait_for_reports(2));
  for (const Report& r : s.reports()) EXPECT_TRUE(Passes(r));
  EXPECT_TRUE(s.wait_done());
}

TEST(MockServer, AClientThatDoesNotComeBackFailsTheReconnectsLine) {
  ServerThread s(kReconnect);
  LoopbackClient first;
  ASSERT_TRUE(first.open_tap(s.port(), {.client_name = "r"}));
  EXPECT_EQ(first.receive(24).size(), 24u);
  ASSERT_TRUE(s.wait_for_reports(2, std::chrono::seconds(3)));
  const auto reports = s.reports();
  EXPECT_TRUE(Passes(reports[0]));
  EXPECT_TRUE(FailsAt(reports[1], 6, "no connection came"));
  EXPECT_NE(reports[1].first_failure()->failure->expected.find("within 300ms"), std::string::npos);
  EXPECT_TRUE(s.wait_done());
}

TEST(MockServer, AConnectionBeyondThePlanIsReportedAsUnexpected) {
  ServerThread s("connection only {\n  expect connect\n  send noop\n  close wait\n}\n");
  LoopbackClient planned, extra;
  ASSERT_TRUE(planned.open_tap(s.port()));
  EXPECT_EQ(planned.receive(24).size(), 24u);
  ASSERT_TRUE(extra.open_tap(s.port()));
  ASSERT_TRUE(s.wait_for_reports(1));
  const Report unexpected = s.reports()[0];
  EXPECT_TRUE(FailsAt(unexpected, 0, "another connection came"));
  planned.close();
  ASSERT_TRUE(s.wait_for_reports(2));
}

TEST(MockServer, AClientThatHalfClosesCanStillReadButOwesNothingMore) {
  ServerThread s("send noop\nclose wait\n", {.connections = 2});
  {
    // Half-closing is how a client closes first; it still gets the server's FIN.
    LoopbackClient client;
    ASSERT_TRUE(client.open_tap(s.port()));
    EXPECT_EQ(to_hex(client.receive(24)), hex_of(golden::kNoop));
    client.half_close();
    EXPECT_EQ(client.read_to_end().error, asio::error::eof);
  }
  EXPECT_TRUE(Passes(s.only_report()));
  ServerThread t("send opaque code=1 ack\nexpect ack\nsend noop\n");
  {
    // A client that half-closes before its ACK can never send it: the wait ends at once,
    // and the server sends nothing more to a client that has left.
    LoopbackClient client;
    ASSERT_TRUE(client.open_tap(t.port()));
    EXPECT_EQ(client.receive(36).size(), 36u);
    client.half_close();
    const auto ending = client.read_to_end();
    EXPECT_TRUE(ending.bytes.empty());
    EXPECT_EQ(ending.error, asio::error::eof);
  }
  const Report r = t.only_report();
  EXPECT_TRUE(FailsAt(r, 2, "the client closed the connection"));
  EXPECT_EQ(observed(r), "the client closed the connection");
}

TEST(MockServer, GarbageFailsOnlyTheConnectionThatSentItAndIsReportedOnce) {
  ServerThread s("timeout 5s\nsend opaque code=1 ack\nexpect ack\n", {.connections = 3});
  LoopbackClient before_connect, instead_of_ack, good;
  ASSERT_TRUE(before_connect.connect(s.port()));
  ASSERT_TRUE(instead_of_ack.open_tap(s.port()));
  ASSERT_TRUE(good.open_tap(s.port()));
  before_connect.send_hex("ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff");
  EXPECT_EQ(instead_of_ack.receive(36).size(), 36u);
  EXPECT_EQ(good.receive(36).size(), 36u);
  instead_of_ack.send_hex("42 44 0000 00 00");  // magic 0x42, in two writes
  instead_of_ack.send_hex("0000 00000000 00000001 0000000000000000");
  ASSERT_TRUE(s.wait_for_reports(2)) << "both garbage connections end while the good one waits";
  good.send_ack(Opcode::tap_opaque, 1);
  ASSERT_TRUE(s.wait_for_reports(3));

  const auto reports = s.reports();
  EXPECT_TRUE(Passes(reports[2]));
  for (const Report* r : {&reports[0], &reports[1]}) {
    ASSERT_FALSE(r->passed()) << format_report(*r);
    const StepOutcome& failure = *r->first_failure();
    EXPECT_NE(failure.failure->observed.find("the client sent bytes that do not decode: bad_magic"), std::string::npos)
        << format_report(*r);
    const auto failing = std::count_if(r->steps().begin(), r->steps().end(),
                                       [](const StepOutcome& o) { return o.failed > 0; });
    EXPECT_EQ(failing, 1) << "one bad frame is one failure:\n" << format_report(*r);
    EXPECT_EQ(failure.failed, 1u) << format_report(*r);
  }
  EXPECT_EQ(reports[0].first_failure()->step, "expect connect");
  EXPECT_EQ(reports[1].first_failure()->step, "expect ack");
  EXPECT_NE(observed(reports[1]).find("stream offset 36"), std::string::npos) << observed(reports[1]);
}

TEST(MockServer, ClientsThatVanishBeforeTheirConnectAreReportedAndTheOthersServed) {
  ServerThread s("timeout 300ms\nsend noop\n", {.connections = 3});
  LoopbackClient gone, silent, good;
  ASSERT_TRUE(gone.connect(s.port()));
  ASSERT_TRUE(silent.connect(s.port()));
  ASSERT_TRUE(good.open_tap(s.port()));
  gone.close();  // no TAP_CONNECT, FIN at once
  EXPECT_EQ(to_hex(good.read_to_end().bytes), hex_of(golden::kNoop));
  // `silent` stays connected and says nothing: its report comes when the timeout runs out.
  ASSERT_TRUE(s.wait_for_reports(3));
  silent.close();

  std::map<std::string, int> verdicts;
  for (const Report& r : s.reports()) verdicts[observed(r)]++;
  EXPECT_EQ(verdicts, (std::map<std::string, int>{{"(the report passed)", 1},
                                                   {"the client closed the connection", 1},
                                                   {"nothing within 300ms", 1}}));
  EXPECT_TRUE(s.wait_done());
}

TEST(MockServer, FramesAreReadByFramingNotOneMessagePerRead) {
  ServerThread s(
      "expect connect name=\"dribble\" vbuckets=0,1,2\n"
      "send opaque code=1 ack\nsend opaque code=8 ack\nsend mutation key=\"k\" ack\n"
      "expect ack\nexpect ack\nexpect ack\n");
  LoopbackClient client;
  ASSERT_TRUE(client.connect(s.port()));
  Bytes connect;
  protocol::encode_tap_connect(connect, {.vbuckets = {0, 1, 2}, .client_name = "dribble"});
  client.send_bytewise(connect);
  client.receive(36 + 36 + 24 + 16 + 9 + 1);
  // Three ACKs cut across frame boundaries: all of one and a byte of the next in one write,
  // then the rest of that one and most of the last, then its final byte.
  Bytes acks;
  for (auto [opcode, opaque] : {std::pair{Opcode::tap_opaque, 1u}, {Opcode::tap_opaque, 2u}, {Opcode::tap_mutation, 3u}}) {
    const auto ack = protocol::tap_ack(opcode, opaque);
    acks.insert(acks.end(), ack.begin(), ack.end());
  }
  const protocol::ByteView all(acks);
  client.send(all.subspan(0, 25));
  client.send(all.subspan(25, 46));
  client.send_bytewise(all.subspan(71));
  EXPECT_EQ(client.read_to_end().error, asio::error::eof);
  const Report r = s.only_report();
  EXPECT_TRUE(Passes(r));
  EXPECT_EQ(r.frames_received, 4u);
}

// A client that reads, but too slowly for one large frame: the report says how much left.
TEST(MockServer, ASlowReaderIsToldApartFromOneThatDoesNotRead) {
  ServerThread s("timeout 300ms\nsend mutation key=\"k\" value=fill(20000000)\n");
  LoopbackClient client;
  ASSERT_TRUE(client.open_tap(s.port()));
  std::size_t read = 0;
  for (int i = 0; i < 300 && !s.wait_for_reports(1, std::chrono::milliseconds(1)); ++i) {
    read += client.receive(4096, std::chrono::milliseconds(10)).size();
  }
  ASSERT_TRUE(s.wait_for_reports(1));
  EXPECT_GT(read, 0u);
  EXPECT_TRUE(FailsAt(s.only_report(), 2, "(the client reads too slowly, or stopped)"));
}

TEST(MockServer, AClientThatStopsReadingIsCutOffAfterTheTimeout) {
  // ~100 MB for a client that reads none of it: far beyond what loopback socket buffers hold,
  // so a write stalls, and must not stall the run for longer than the scenario's timeout.
  ServerThread s("timeout 300ms\nrepeat 1000 send mutation key=\"k\" value=fill(100000)\n");
  LoopbackClient client;
  ASSERT_TRUE(client.open_tap(s.port()));
  ASSERT_TRUE(s.wait_for_reports(1)) << "the server waits forever on a client that does not read";
  EXPECT_TRUE(FailsAt(s.only_report(), 2, "not done within 300ms: "));
  EXPECT_NE(client.read_to_end().error, asio::error::timed_out) << "the server closed the connection";
}

// Holds every free descriptor of the process (under a lowered limit), until release().
class DescriptorHog {
 public:
  DescriptorHog() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit low = saved_;
    low.rlim_cur = std::min<rlim_t>(saved_.rlim_cur, 256);  // bounded work, whatever the limit
    ::setrlimit(RLIMIT_NOFILE, &low);
    for (int fd; (fd = ::open("/dev/null", O_RDONLY)) >= 0;) held_.push_back(fd);
  }
  ~DescriptorHog() {
    release();
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }
  void release() {
    for (int fd : held_) ::close(fd);
    held_.clear();
  }
  std::size_t held() const { return held_.size(); }

 private:
  rlimit saved_{};
  std::vector<int> held_;
};

TEST(MockServer, OutOfDescriptorsItPausesInsteadOfSpinningAndServesOnceSomeAreFree) {
  ServerThread s("send noop\n");
  LoopbackClient client;
  ASSERT_FALSE(client.open());
  DescriptorHog hog;
  ASSERT_GT(hog.held(), 0u);
  ASSERT_TRUE(client.connect(s.port())) << "the kernel completes the handshake; accept() is what fails";
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const std::size_t failures = s.server().accept_failures();
  EXPECT_GE(failures, 1u) << "accept() should have met EMFILE";
  EXPECT_LE(failures, 10u) << "a server retrying at once spins through thousands of failed accepts";

  hog.release();
  ASSERT_FALSE(client.send_connect());
  EXPECT_EQ(to_hex(client.read_to_end().bytes), hex_of(golden::kNoop));
  EXPECT_TRUE(Passes(s.only_report()));
}

TEST(MockServer, StopEndsAcceptingAndOnDoneComesOnceAfterTheLastSession) {
  ServerThread s("timeout 5s\nsend noop\nclose wait\n", {.connections = 3});
  LoopbackClient client;
  ASSERT_TRUE(client.open_tap(s.port()));
  EXPECT_EQ(client.receive(24).size(), 24u);
  s.stop();
  EXPECT_FALSE(s.wait_done(std::chrono::milliseconds(100))) << "a session is still running";
  LoopbackClient late;
  EXPECT_FALSE(late.connect(s.port())) << "nothing listens after stop()";
  client.close();
  ASSERT_TRUE(s.wait_done());
  s.stop();
  EXPECT_EQ(s.done_calls(), 1);
  ASSERT_EQ(s.reports().size(), 1u);
  EXPECT_TRUE(Passes(s.reports()[0]));
}

TEST(MockServer, StopWithNothingRunningIsDoneAtOnceAndOnceOnly) {
  ServerThread idle("send noop\n", {.connections = 2});
  idle.stop();
  EXPECT_TRUE(idle.wait_done());
  ServerThread served("send noop\n");
  LoopbackClient client;
  ASSERT_TRUE(client.open_tap(served.port()));
  client.read_to_end();
  ASSERT_TRUE(served.wait_done());
  served.stop();  // after every connection was served: nothing more to report
  EXPECT_EQ(served.done_calls(), 1);
  EXPECT_EQ(idle.done_calls(), 1);
}

TEST(MockServer, TracesHoldEveryFrameDecodedAndInHexPerConnection) {
  const auto dir = tapharness::testing::fresh_temp_dir("server_test_traces") / "not-yet-made";
  ServerThread s("send mutation vb=3 key=\"mykey\" value=\"value\" flags=0x12 expiry=300 cas=0x1122 ack "
                 "opaque=0x10 split=10\nexpect ack\n",
                 {.connections = 2, .trace_dir = dir.string()});
  for (int i = 0; i < 2; ++i) {
    LoopbackClient client;
    ASSERT_TRUE(client.open_tap(s.port(), {.client_name = "peer1"}));
    EXPECT_EQ(to_hex(client.receive(59)), hex_of(golden::kMutation));
    client.send_ack(Opcode::tap_mutation, 0x10);
    client.read_to_end();
  }
  ASSERT_TRUE(s.wait_done());
  for (const char* file : {"t.1.trace", "t.2.trace"}) {
    const std::string trace = tapharness::testing::read_text_file(dir / file);
    SCOPED_TRACE(fmt::format("{}:\n{}", file, trace));
    // The TAP_CONNECT, decoded and in hex.
    EXPECT_NE(trace.find("<- client, 41 bytes"), std::string::npos);
    EXPECT_NE(trace.find("TAP_CONNECT {name=\"peer1\""), std::string::npos);
    EXPECT_NE(trace.find("804000050400000000000011"), std::string::npos);
    // The mutation: header fields, TAP fields, hex rows, and how it was cut.
    EXPECT_NE(trace.find("line 1    -> server, 59 bytes planned"), std::string::npos);
    EXPECT_NE(trace.find("opcode=TAP_MUTATION keylen=5 extlen=16"), std::string::npos);
    EXPECT_NE(trace.find("TAP_MUTATION vb=3 opaque=0x00000010 cas=4386 tap_flags=ACK"), std::string::npos);
    EXPECT_NE(trace.find(hex_of(golden::kMutation).substr(0, 64)), std::string::npos);
    EXPECT_NE(trace.find("in 2 writes: [0,10) [10,59)"), std::string::npos);
    // The ACK, and the end.
    EXPECT_NE(trace.find("magic=RESPONSE opcode=TAP_MUTATION"), std::string::npos);
    EXPECT_NE(trace.find("-- server closed the connection"), std::string::npos);
  }
}

// What a capture or a report is built from: each connection's endpoints as it is taken, then
// every frame both ways in order and how each side ended.
TEST(MockServer, ObserversSeeEachConnectionsEndpointsFramesAndEndings) {
  struct Seen {
    ObservedConnection connection;
    std::vector<TraceRecord::Kind> kinds;
    std::vector<Ending> endings;
  };
  auto seen = std::make_shared<std::vector<Seen>>();  // touched on the server's thread only
  auto done = std::make_shared<std::promise<std::vector<Seen>>>();
  ServerThread s("send mutation vb=3 key=\"mykey\" value=\"value\" ack opaque=0x10\nexpect ack\nclose rst\n",
                 {.observe = [seen, done](const ObservedConnection& c) -> TraceSink {
                   seen->push_back({c, {}, {}});
                   return [seen, done, i = seen->size() - 1](const TraceRecord& r) {
                     (*seen)[i].kinds.push_back(r.kind);
                     if (r.kind == TraceRecord::Kind::closed) {
                       (*seen)[i].endings.push_back(r.ending);
                       done->set_value(*seen);
                     }
                   };
                 }});
  LoopbackClient client;
  ASSERT_TRUE(client.open_tap(s.port(), {.client_name = "peer1"}));
  EXPECT_EQ(client.receive(59).size(), 59u);
  client.send_ack(Opcode::tap_mutation, 0x10);
  client.read_to_end();
  ASSERT_TRUE(s.wait_done());
  auto future = done->get_future();
  ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
  const auto observed = future.get();
  ASSERT_EQ(observed.size(), 1u);
  EXPECT_EQ(observed[0].connection.connection, 1u);
  EXPECT_EQ(observed[0].connection.server.port(), s.port());
  EXPECT_NE(observed[0].connection.client.port(), 0);
  using K = TraceRecord::Kind;
  std::vector<K> frames = observed[0].kinds;
  frames.erase(std::remove(frames.begin(), frames.end(), K::note), frames.end());
  EXPECT_EQ(frames, (std::vector<K>{K::received, K::sent, K::received, K::closed}));
  EXPECT_EQ(observed[0].endings, std::vector<Ending>{Ending::server_rst});
}

TEST(MockServer, ListenFailuresNameTheAddressOrDirectory) {
  asio::io_context io;
  auto scenario = testing::parse("send noop\n");
  ServerThread holder("send noop\n");
  auto taken = MockServer::listen(io, scenario, {.port = std::to_string(holder.port())});
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().message(),
            fmt::format("127.0.0.1:{}: cannot listen: Address already in use", holder.port()));

  const std::string file = tapharness::testing::write_temp_file("server_test_trace_is_a_file", "not a directory");
  auto untraceable = MockServer::listen(io, scenario, {.trace_dir = file});
  ASSERT_FALSE(untraceable.ok());
  EXPECT_EQ(untraceable.error().message(), fmt::format("{}: cannot write traces: Not a directory", file));
}

}  // namespace
}  // namespace tapharness::mockserver
