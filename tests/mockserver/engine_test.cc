// The engine over an in-memory pipe, with the test playing the client byte by byte: what
// it sends (exactly, chunk by chunk), how it judges what comes back, and how it ends.
#include "mockserver/engine.hpp"

#include <gtest/gtest.h>

#include "tests/mockserver/engine_test_support.hpp"
#include "tests/protocol/golden_frames.hpp"

namespace tapharness::mockserver {
namespace {

using protocol::Bytes;
using protocol::ByteView;
using protocol::parse_hex;
using protocol::to_hex;
using testing::EngineHarness;
namespace golden = tapharness::golden;

constexpr std::size_t kConnectDefault = 36;  // the seed's default TAP_CONNECT

std::string ack(std::string_view opcode_hex, std::string_view opaque_hex, std::string_view status = "0000") {
  return fmt::format("81 {} 0000 00 00 {} 00000000 {} 0000000000000000", opcode_hex, status, opaque_hex);
}

TEST(Engine, SendsFramesShapedLikeEpEngine) {
  EngineHarness h(R"(acks unchecked
send opaque vb=2 code=INITIAL_VBUCKET_STREAM ack opaque=0x20
send mutation vb=3 key="mykey" value="value" flags=0x12 expiry=300 cas=0x1122 ack opaque=0x10
send deletion vb=3 key="mykey" cas=7 opaque=0x11 rev_seqno=5
send checkpoint_start vb=1 checkpoint=42 ack opaque=0x22
send checkpoint_end vb=1 checkpoint=42 ack opaque=0x23
send vbucket_set vb=5 state=pending ack opaque=0x21
send flush opaque=0x24
send noop
send connect_error status=NOT_SUPPORTED body="not supported"
allow unexpected
)");
  h.send_connect();
  Bytes expected;
  for (auto frame : {golden::kOpaqueInitialVBucketStream, golden::kMutation, golden::kDeletion,
                     golden::kCheckpointStart, golden::kCheckpointEnd, golden::kVBucketSetPending,
                     golden::kFlush, golden::kNoop, golden::kConnectRejected}) {
    protocol::append(expected, parse_hex(frame).value());
  }
  EXPECT_EQ(to_hex(h.receive(expected.size())), to_hex(expected));
  EXPECT_TRUE(h.report().passed()) << testing::failures(h.report());
  EXPECT_EQ(h.report().frames_sent, 9u);
}

TEST(Engine, OpaqueDefaultsToTheProducerSequence) {
  EngineHarness h(R"(
send mutation key="a"
send noop
send deletion key="b"
send opaque code=CLOSE_BACKFILL opaque=0x99
send flush
)");
  h.send_connect();
  const Bytes bytes = h.receive(24 + 16 + 9 + 1 + 24 + 24 + 8 + 8 + 1 + 24 + 12 + 24 + 8);
  auto opaque_at = [&](std::size_t frame_start) { return protocol::load_be32(bytes.data() + frame_start + 12); };
  EXPECT_EQ(opaque_at(0), 1u);
  EXPECT_EQ(opaque_at(50), 0u);          // NOOP: 0, as ep-engine sends it
  EXPECT_EQ(opaque_at(74), 2u);
  EXPECT_EQ(opaque_at(115), 0x99u);      // named: the sequence does not move
  EXPECT_EQ(opaque_at(151), 3u);
}

TEST(Engine, EveryPlannedChunkIsItsOwnWrite) {
  EngineHarness h(R"(
send mutation key="k" value="v" split=3,24,30
send noop bytewise gap=1ms
send mutation key="k" value="v" truncate=30
close fin
)");
  h.send_connect();
  const Bytes bytes = h.receive(51 + 24 + 30);
  EXPECT_EQ(bytes.size(), 105u);
  std::vector<std::size_t> expected{3, 21, 6, 21};
  expected.insert(expected.end(), 24, 1);
  expected.push_back(30);
  EXPECT_EQ(h.client().peer_write_sizes(), expected);
  EXPECT_EQ(h.server_end(), asio::error::eof);
  EXPECT_TRUE(h.report().passed()) << testing::failures(h.report());
}

TEST(Engine, ChunksWriteSoManyBytesAtATimeWithTheirGap) {
  EngineHarness h(R"(
send mutation key="k" value="v" chunks=20 gap=2ms
close fin
)");
  h.send_connect();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(h.receive(51).size(), 51u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(4)) << "two gaps of 2ms";
  EXPECT_EQ(h.client().peer_write_sizes(), (std::vector<std::size_t>{20, 20, 11}));
  EXPECT_TRUE(h.report().passed()) << testing::failures(h.report());
}

TEST(Engine, CoalescedWritesShareOneWriteUntilSomethingWaits) {
  EngineHarness h(R"(writes coalesced
repeat 3 send noop
send noop split=10
send noop
delay 10ms
send noop
)");
  h.send_connect();
  h.receive(6 * 24);
  // Three NOOPs in one write; the faulted one as planned; the next alone because the
  // delay after it waits; the last one at the end.
  EXPECT_EQ(h.client().peer_write_sizes(), (std::vector<std::size_t>{72, 10, 14, 24, 24}));
  EXPECT_TRUE(h.report().passed()) << testing::failures(h.report());
  EXPECT_EQ(h.report().frames_sent, 6u);
}

TEST(Engine, ClientEventLinesNeitherWaitNorSplitCoalescedWrites) {
  EngineHarness h(R"(writes coalesced
repeat 3 {
  send noop
  client event flush vb=0
}
client event flush vb=0
send noop
)");
  h.send_connect();
  h.receive(4 * 24);
  EXPECT_EQ(h.client().peer_write_sizes(), (std::vector<std::size_t>{96}));
  EXPECT_TRUE(h.report().passed()) << testing::failures(h.report());
}

TEST(Engine, CorruptionAndLiesAreWrittenOverTheFrame) {
  EngineHarness h(R"(
send noop corrupt=0:0x42,23:0x07
send mutation key="k" value="v" bodylen=0xffffffff
send opaque code=1 engine_length=0x100 magic=0x81 opcode=TAP_MUTATION
send deletion key="k" keylen=9 extlen=2
)");
  h.send_connect();
  const Bytes b = h.receive(24 + 51 + 36 + 41);
  EXPECT_EQ(to_hex(ByteView(b).subspan(0, 24)), "420a00000000000000000000000000000000000000000007");
  EXPECT_EQ(protocol::load_be32(b.data() + 24 + 8), 0xffffffffu);
  EXPECT_EQ(b[75], 0x81);
  EXPECT_EQ(b[76], 0x41);
  EXPECT_EQ(protocol::load_be16(b.data() + 75 + 24), 0x100);
  EXPECT_EQ(protocol::load_be16(b.data() + 111 + 2), 9);
  EXPECT_EQ(b[111 + 4], 2);
}

TEST(Engine, SameSeedSameBytesOtherSeedOtherBytes) {
  auto bytes_for = [](std::optional<std::uint64_t> seed) {
    EngineOptions options;
    options.seed = seed;
    EngineHarness h("seed 7\nsend mutation key=random(8) value=random(32)\n", options);
    h.send_connect();
    return h.receive(24 + 16 + 9 + 8 + 32);
  };
  EXPECT_EQ(bytes_for(std::nullopt), bytes_for(std::nullopt));
  EXPECT_EQ(bytes_for(std::nullopt), bytes_for(7));
  EXPECT_NE(bytes_for(std::nullopt), bytes_for(8));
}

TEST(Engine, RepeatRendersTheIndex) {
  EngineHarness h("repeat 3 send mutation key=\"key-{n}\" cas={n}\n");
  h.send_connect();
  const Bytes b = h.receive(3 * 54);  // 24 + 16 extras + 9 engine + 5 key
  for (int i = 0; i < 3; ++i) {
    const std::size_t at = static_cast<std::size_t>(i) * 54;
    EXPECT_EQ(protocol::as_chars(ByteView(b).subspan(at + 49, 5)), fmt::format("key-{}", i));
    EXPECT_EQ(protocol::load_be64(b.data() + at + 16), static_cast<std::uint64_t>(i));
  }
  EXPECT_TRUE(h.report().passed());
  EXPECT_EQ(h.report().steps().back().passed, 3u);
}

TEST(Engine, ConnectMatchersPassAndFailFieldByField) {
  const char* scenario = R"(expect connect name="r1" has=support_ack lacks=dump backfill=0x5 vbuckets=0,1
send noop
)";
  {
    EngineHarness h(scenario);
    h.send_connect({.backfill = 5, .vbuckets = {0, 1}, .support_ack = true, .client_name = "r1"});
    EXPECT_TRUE(h.report().passed()) << testing::failures(h.report());
  }
  {
    EngineHarness h(scenario);
    h.send_connect({.backfill = 6, .dump = true, .vbuckets = {0}, .client_name = "r2"});
    const auto& r = h.report();
    ASSERT_FALSE(r.passed());
    const auto* f = r.first_failure();
    EXPECT_EQ(f->location.line, 1);
    EXPECT_EQ(f->step, "expect connect");
    EXPECT_EQ(f->failure->expected,
              "TAP_CONNECT name=\"r1\" has=SUPPORT_ACK lacks=DUMP backfill=0x5 vbuckets=0,1");
    EXPECT_NE(f->failure->observed.find("name: expected \"r1\", got \"r2\""), std::string::npos) << f->failure->observed;
    EXPECT_NE(f->failure->observed.find("flags: SUPPORT_ACK missing"), std::string::npos) << f->failure->observed;
    EXPECT_NE(f->failure->observed.find("flags: DUMP present but ruled out"), std::string::npos);
    EXPECT_NE(f->failure->observed.find("backfill: expected 0x5, got 0x6"), std::string::npos);
    EXPECT_NE(f->failure->observed.find("vbuckets: expected [0, 1], got [0]"), std::string::npos);
  }
}

TEST(Engine, ConnectThatContradictsItsFlagsFails) {
  EngineHarness h("send noop\n");
  h.send_hex("80 40 0000 04 00 0000 00000008 00000000 0000000000000000 00000001 00000000");
  const auto& r = h.report();
  ASSERT_FALSE(r.passed());
  EXPECT_NE(r.first_failure()->failure->observed.find("connect_body_too_short"), std::string::npos)
      << testing::failures(r);
}

TEST(Engine, NoConnectWithinTheTimeoutFails) {
  EngineHarness h("timeout 50ms\nsend noop\n");
  const auto& r = h.report();
  ASSERT_FALSE(r.passed());
  EXPECT_EQ(r.first_failure()->failure->observed, "nothing within 50ms");
  EXPECT_EQ(h.server_end(), asio::error::eof);
}

TEST(Engine, ExpectAckPassesOnTheRightAck) {
  EngineHarness h("send mutation key=\"k\" ack opaque=5\nexpect ack\nsend noop\n");
  h.send_connect();
  h.receive(50);
  h.send_hex(ack("41", "00000005"));
  EXPECT_TRUE(h.report().passed()) << testing::failures(h.report());
}

TEST(Engine, ExpectAckReportsANearMiss) {
  EngineHarness h("send mutation key=\"k\" ack opaque=5\nexpect ack\n");
  h.send_connect();
  h.receive(50);
  h.send_hex(ack("41", "00000005", "0086"));  // a NACK
  const auto& r = h.report();
  ASSERT_FALSE(r.passed());
  const auto* f = r.first_failure();
  EXPECT_EQ(f->location.line, 2);
  EXPECT_EQ(f->failure->expected, "ACK (response) TAP_MUTATION opaque=0x00000005 status=SUCCESS");
  EXPECT_EQ(f->failure->observed, "response TAP_MUTATION opaque=0x00000005 status=ETMPFAIL (status differs: ETMPFAIL)");
}

TEST(Engine, ANackCanBeExpected) {
  EngineHarness h("send mutation key=\"k\" ack opaque=5\nexpect ack opaque=5 status=ETMPFAIL\n");
  h.send_connect();
  h.receive(50);
  h.send_hex(ack("41", "00000005", "0086"));
  EXPECT_TRUE(h.report().passed()) << testing::failures(h.report());
}

TEST(Engine, MissingAckFailsAfterWithin) {
  EngineHarness h("send opaque code=1 ack\nexpect ack within=30ms\n");
  h.send_connect();
  const auto& r = h.report();
  ASSERT_FALSE(r.passed());
  EXPECT_EQ(r.first_failure()->failure->observed, "nothing within 30ms");
}

TEST(Engine, EarlierOwedAcksMayComeFirstButNotLaterOnes) {
  {
    EngineHarness h("send opaque code=0 ack\nsend opaque code=1 ack\nexpect ack opaque=2\n");
    h.send_connect();
    h.receive(72);
    h.send_hex(ack("44", "00000001") + ack("44", "00000002"));
    EXPECT_TRUE(h.report().passed()) << testing::failures(h.report());
  }
  {
    EngineHarness h("send opaque code=0 ack\nsend opaque code=1 ack\nexpect ack\n");
    h.send_connect();
    h.receive(72);
    h.send_hex(ack("44", "00000002"));  // the later one, where the earlier one is expected
    const auto& r = h.report();
    ASSERT_FALSE(r.passed());
    EXPECT_NE(r.first_failure()->failure->observed.find("opaque differs"), std::string::npos) << testing::failures(r);
  }
}

TEST(Engine, AnAckThatCameBeforeItsExpectAckStillCountsForIt) {
  // A client answers while the server is still sending: the ACK is drained between steps,
  // and the `expect ack` that claims it later is judged on it (a regression: it used to be
  // dropped there, and the expectation then waited in vain).
  {
    EngineHarness h("timeout 200ms\nsend opaque code=0 ack\ndelay 20ms\nsend opaque code=1 ack\n"
                    "expect ack opaque=1\nexpect ack opaque=2\n");
    h.send_connect();
    h.receive(36);
    h.send_hex(ack("44", "00000001"));  // during the delay
    h.receive(36);
    h.send_hex(ack("44", "00000002"));
    EXPECT_TRUE(h.report().passed()) << testing::failures(h.report());
  }
  {
    EngineHarness h("timeout 200ms\nsend opaque code=0 ack\ndelay 20ms\nexpect ack status=ETMPFAIL\n");
    h.send_connect();
    h.receive(36);
    h.send_hex(ack("44", "00000001"));
    const auto& r = h.report();
    ASSERT_FALSE(r.passed());
    EXPECT_EQ(r.first_failure()->location.line, 4);
    EXPECT_EQ(r.first_failure()->failure->observed,
              "response TAP_OPAQUE opaque=0x00000001 status=SUCCESS (status differs: SUCCESS)");
  }
}

TEST(Engine, UnorderedGroupsTakeAnyOrderOptionalOnesAreNotRequired) {
  EngineHarness h(R"(
send opaque code=0 ack
send opaque code=1 ack
send opaque code=2 ack
unordered {
  expect ack opaque=1
  expect ack opaque=2
}
optional {
  expect ack opaque=3
}
send noop
)");
  h.send_connect();
  h.receive(3 * 36);
  h.send_hex(ack("44", "00000002") + ack("44", "00000001"));
  h.receive(24);
  EXPECT_TRUE(h.report().passed()) << testing::failures(h.report());
}

TEST(Engine, UnexpectedFramesFailUnlessAllowed) {
  {
    EngineHarness h("send noop\ndelay 20ms\nsend noop\n");
    h.send_connect();
    h.receive(24);
    h.send_hex(ack("0a", "00000000"));  // nobody asked for it
    const auto& r = h.report();
    ASSERT_FALSE(r.passed());
    EXPECT_EQ(r.first_failure()->location.line, 2);  // it arrived during the delay
    EXPECT_EQ(r.first_failure()->failure->observed, "unexpected response NOOP opaque=0x00000000 status=SUCCESS");
  }
  {
    EngineHarness h("allow unexpected\nsend noop\ndelay 20ms\nsend noop\n");
    h.send_connect();
    h.receive(24);
    h.send_hex(ack("0a", "00000000"));
    EXPECT_TRUE(h.report().passed()) << testing::failures(h.report());
  }
}

TEST(Engine, AClientThatFloodsDuringADelayMeetsBackpressureAndLosesNothing) {
  EngineHarness h("allow unexpected\nsend noop\ndelay 300ms\nsend noop\nclose wait\n");
  h.send_connect();
  h.receive(24);
  protocol::Bytes flood;
  const std::size_t bound = ClientInbox<tapharness::testing::MemoryStream>::kMaxBytes;
  const std::size_t frames = 2 * bound / 24;
  const protocol::Bytes one = protocol::parse_hex(ack("0a", "00000000")).value();
  for (std::size_t i = 0; i < frames; ++i) protocol::append(flood, one);
  h.send(flood);
  h.run_until([] { return false; }, std::chrono::milliseconds(100));
  // The engine read its inbox bound (in bytes: every ACK of the largest window) plus at most
  // one more read, then stopped.
  const std::size_t read = flood.size() - h.client().bytes_unread_by_peer();
  EXPECT_GE(read, bound);
  EXPECT_LT(read, bound + 64 * 1024) << "the inbox grows while the script delays";

  h.receive(24);  // the second noop: the script has moved on and drained the inbox
  h.client().close();
  const auto& r = h.report();
  EXPECT_TRUE(r.passed()) << testing::failures(r);
  EXPECT_EQ(r.frames_received, frames + 1) << "every flooded frame is still read, once there is room";
}

// After its TAP_CONNECT a client sends ACKs: a large frame is refused at its header, and
// nothing of it is buffered.
TEST(Engine, ALargeFrameAfterTheConnectIsGarbageAtOnce) {
  EngineHarness h("send noop\ndelay 100ms\nsend noop\n");
  h.send_connect();
  h.receive(24);
  protocol::Bytes big = protocol::parse_hex(ack("41", "00000001")).value();
  protocol::store_be32(big.data() + protocol::header_offset::bodylen, 1 << 20);
  big.resize(big.size() + (1 << 20), 0);
  h.send(big);
  const auto& r = h.report();
  EXPECT_FALSE(r.passed());
  EXPECT_NE(testing::failures(r).find("body_too_long at stream offset 44, field bodylen = 1048576: exceeds the limit "
                                      "1024"),
            std::string::npos)
      << testing::failures(r);
}

// A volume repeat is judged once per coalesced write, not per frame: every frame still goes
// out as rendered, in writes of at most 256 KiB, and the line passes once per iteration; a
// trace (which sees each frame) gives the same bytes.
TEST(Engine, AVolumeRepeatPassesEachIterationAndWritesEveryFrame) {
  constexpr std::string_view kVolume =
      "writes coalesced\nrepeat 20000 send mutation vb={n%7} key=\"key-{n}\" value=random(20) cas={n}\n";
  std::vector<protocol::Bytes> received;
  for (const bool traced : {false, true}) {
    EngineOptions options;
    if (traced) options.trace = [](const TraceRecord&) {};
    EngineHarness h(kVolume, std::move(options));
    h.send_connect();
    protocol::Bytes bytes;
    for (int i = 0; i < 200 && (h.report().bytes_sent == 0 || bytes.size() < h.report().bytes_sent); ++i) {
      const protocol::Bytes more = h.receive(64 * 1024);
      bytes.insert(bytes.end(), more.begin(), more.end());
    }
    const auto& r = h.report();
    EXPECT_TRUE(r.passed()) << testing::failures(r);
    EXPECT_EQ(r.frames_sent, 20000u);
    const auto repeat = std::find_if(r.steps().begin(), r.steps().end(),
                                     [](const StepOutcome& o) { return o.location.line == 2; });
    ASSERT_NE(repeat, r.steps().end());
    EXPECT_EQ(repeat->passed, 20000u);
    EXPECT_EQ(r.bytes_sent, bytes.size());
    const auto sizes = h.client().peer_write_sizes();
    EXPECT_GT(sizes.size(), 3u);
    EXPECT_LE(*std::max_element(sizes.begin(), sizes.end()), 256u * 1024 + 256);
    // Each gathered write is offered whole (one system call on a socket), not in 64 KiB pieces.
    for (std::size_t w = 0; w + 1 < sizes.size(); ++w) EXPECT_GE(sizes[w], 256u * 1024) << "write " << w;
    received.push_back(std::move(bytes));
  }
  EXPECT_EQ(received[0], received[1]);
}

// A coalesced send that finds the client gone fails once, not once for each way of sending.
TEST(Engine, ACoalescedSendToADepartedClientFailsOnce) {
  EngineHarness h("writes coalesced\ndelay 20ms\nrepeat 10 send noop\n");
  h.send_connect();
  h.client().close();
  const auto& r = h.report();
  ASSERT_FALSE(r.passed());
  ASSERT_NE(r.first_failure(), nullptr);
  EXPECT_EQ(r.first_failure()->failed, 1u) << testing::failures(r);
  EXPECT_EQ(r.frames_sent, 0u);
}

// Frames rendered into a write that failed did not leave: they are not counted as sent.
TEST(Engine, FramesOfAFailedCoalescedWriteAreNotCountedAsSent) {
  EngineHarness h("writes coalesced\nsend noop\nrepeat 100 send mutation key=\"k\"\n",
                  {}, [](tapharness::testing::MemoryStream& server) { server.fail_operation(2, asio::error::broken_pipe); });
  h.send_connect();
  const auto& r = h.report();
  EXPECT_FALSE(r.passed());
  EXPECT_EQ(r.frames_sent, 0u) << testing::failures(r);
  EXPECT_EQ(r.bytes_sent, 0u);
  EXPECT_NE(testing::failures(r).find("writing 5024 bytes failed after 0: Broken pipe"), std::string::npos)
      << testing::failures(r);
}

// An expectation that meets part of a frame says how much came.
TEST(Engine, APartialFrameIsNotNothing) {
  EngineHarness h("send flush ack\nexpect ack within=100ms\n");
  h.send_connect();
  h.receive(24 + 8);
  h.send(protocol::Bytes(10, 0x81));
  const auto& r = h.report();
  EXPECT_NE(testing::failures(r).find("observed: no whole frame within 100ms: 10 bytes of one arrived"),
            std::string::npos)
      << testing::failures(r);
}

TEST(Engine, AcksForSendsThatAskedAreAcceptedWithoutAnExpectation) {
  EngineHarness h("send mutation key=\"k\" ack\ndelay 20ms\nsend noop\n");
  h.send_connect();
  h.receive(50);
  h.send_hex(ack("41", "00000001"));
  EXPECT_TRUE(h.report().passed()) << testing::failures(h.report());
}

TEST(Engine, EveryAckIsRequiredInOrderByDefault) {
  {
    EngineHarness h("timeout 100ms\nsend opaque code=0 ack\nsend opaque code=1 ack\n");
    h.send_connect();
    h.receive(72);
    h.send_hex(ack("44", "00000001"));
    const auto& r = h.report();
    ASSERT_FALSE(r.passed());
    EXPECT_EQ(r.first_failure()->location.line, 3) << "the line of the frame whose ACK is missing";
    EXPECT_EQ(r.first_failure()->step, "ack owed");
    EXPECT_EQ(r.first_failure()->failure->expected, "ACK (response) TAP_OPAQUE opaque=0x00000002 status=SUCCESS");
    EXPECT_EQ(r.first_failure()->failure->observed, "not sent within 100ms of the server's FIN");
  }
  {
    EngineHarness h("timeout 100ms\nsend opaque code=0 ack\nsend opaque code=1 ack\n");
    h.send_connect();
    h.receive(72);
    h.send_hex(ack("44", "00000002") + ack("44", "00000001"));
    const auto& r = h.report();
    ASSERT_FALSE(r.passed()) << "out of send order";
    EXPECT_EQ(r.first_failure()->location.line, 2);
    EXPECT_NE(r.first_failure()->failure->observed.find("opaque=0x00000002 status=SUCCESS came first (out of order"),
              std::string::npos)
        << testing::failures(r);
  }
  {
    EngineHarness h("timeout 100ms\nsend opaque code=0 ack\nsend opaque code=1 ack\n");
    h.send_connect();
    h.receive(72);
    h.send_hex(ack("44", "00000001") + ack("44", "00000002"));
    EXPECT_TRUE(h.report().passed()) << testing::failures(h.report());
  }
  {
    EngineHarness h("timeout 100ms\nacks unchecked\nsend opaque code=0 ack\nsend opaque code=1 ack\n");
    h.send_connect();
    h.receive(72);
    EXPECT_TRUE(h.report().passed()) << "acks unchecked requires none: " << testing::failures(h.report());
  }
}

// The last frames' ACKs come after the server's FIN: it reads on for them.
TEST(Engine, AcksAfterTheServersFinAreRead) {
  EngineHarness h("send mutation key=\"k\" ack\n");
  h.send_connect();
  h.receive(50);
  EXPECT_EQ(h.server_end(), asio::error::eof);
  EXPECT_FALSE(h.finished()) << "the ACK is still owed";
  h.send_hex(ack("41", "00000001"));
  EXPECT_TRUE(h.report().passed()) << testing::failures(h.report());
}

// A client that leaves out one ACK gets one failure, at that frame's line, and the ACKs
// after it in order pass.
TEST(Engine, OneMissingAckIsOneFailureNamingWhatCame) {
  EngineHarness h("timeout 100ms\nrepeat 5 send mutation key=\"k{n}\" ack\nsend noop\n");
  h.send_connect();
  h.receive(5 * 51 + 24);
  h.send_hex(ack("41", "00000001") + ack("41", "00000003") + ack("41", "00000004") + ack("41", "00000005"));
  const auto& r = h.report();
  ASSERT_FALSE(r.passed());
  const auto failed = std::count_if(r.steps().begin(), r.steps().end(), [](const StepOutcome& o) { return o.failed; });
  EXPECT_EQ(failed, 1) << testing::failures(r);
  EXPECT_EQ(r.first_failure()->failed, 1u) << testing::failures(r);
  EXPECT_EQ(r.first_failure()->failure->expected, "ACK (response) TAP_MUTATION opaque=0x00000002 status=SUCCESS");
  EXPECT_NE(r.first_failure()->failure->observed.find("the client answered later frames (response TAP_MUTATION "
                                                      "opaque=0x00000003"),
            std::string::npos)
      << testing::failures(r);
}

// An ACK with the wrong opaque is judged against the ACK it stands in for: one failure,
// saying what came.
TEST(Engine, AWrongAckIsJudgedAgainstTheOldestOwed) {
  EngineHarness h("timeout 100ms\nsend mutation key=\"k\" ack\ndelay 30ms\nsend noop\n");
  h.send_connect();
  h.receive(50);
  h.send_hex(ack("41", "00000009"));
  const auto& r = h.report();
  ASSERT_FALSE(r.passed());
  EXPECT_EQ(r.first_failure()->location.line, 2);
  EXPECT_EQ(r.first_failure()->failure->observed,
            "response TAP_MUTATION opaque=0x00000009 status=SUCCESS (opaque differs: 0x00000009)");
  EXPECT_EQ(std::count_if(r.steps().begin(), r.steps().end(), [](const StepOutcome& o) { return o.failed; }), 1)
      << testing::failures(r);
}

TEST(Engine, ANackFailsUnlessTheScenarioAllowsIt) {
  {
    EngineHarness h("timeout 100ms\nsend mutation key=\"k\" ack\ndelay 30ms\nsend noop\n");
    h.send_connect();
    h.receive(50);
    h.send_hex(ack("41", "00000001", "0086"));
    const auto& r = h.report();
    ASSERT_FALSE(r.passed());
    EXPECT_NE(r.first_failure()->failure->observed.find("status differs: ETMPFAIL"), std::string::npos)
        << testing::failures(r);
  }
  {
    EngineHarness h("timeout 100ms\nallow nacks\nsend mutation key=\"k\" ack\ndelay 30ms\nsend noop\n");
    h.send_connect();
    h.receive(50);
    h.send_hex(ack("41", "00000001", "0086"));
    EXPECT_TRUE(h.report().passed()) << testing::failures(h.report());
  }
}

// Only what a correct client ACKs is owed: not a frame it refuses, nothing after it, nothing
// after CLOSE_TAP_STREAM, nor a frame a fault cut short.
TEST(Engine, NoAckIsOwedForFramesACorrectClientDoesNotAck) {
  for (const char* text : {
           "timeout 100ms\nsend mutation key=\"k\" ack extlen=8\nsend flush ack\n",  // refused, and after it
           "timeout 100ms\nsend opaque code=CLOSE_TAP_STREAM ack\nsend flush ack\n",
           "timeout 100ms\nsend mutation key=\"k\" ack truncate=30\nsend flush ack\n",
           "timeout 100ms\nsend connect_error\nsend flush ack\n",
       }) {
    EngineHarness h(text);
    h.send_connect();
    EXPECT_TRUE(h.report().passed()) << text << "\n" << testing::failures(h.report());
  }
}

TEST(Engine, GarbageFromTheClientFails) {
  EngineHarness h("send noop\ndelay 20ms\nsend noop\n");
  h.send_connect();
  h.send_hex("ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff");
  const auto& r = h.report();
  ASSERT_FALSE(r.passed());
  EXPECT_NE(r.first_failure()->failure->observed.find("bad_magic"), std::string::npos) << testing::failures(r);
}

TEST(Engine, ClosingForms) {
  {
    EngineHarness h("send noop\nclose rst\n");
    h.send_connect();
    h.receive(24);
    EXPECT_EQ(h.server_end(), asio::error::connection_reset);
    EXPECT_TRUE(h.report().passed());
  }
  {
    EngineHarness h("send mutation key=\"k\" ack\nclose half_close\nexpect ack\n");
    h.send_connect();
    h.receive(50);
    EXPECT_EQ(h.server_end(), asio::error::eof);  // FIN from the server...
    EXPECT_FALSE(h.finished());                    // ...which still waits for the ACK
    h.send_hex(ack("41", "00000001"));
    EXPECT_TRUE(h.report().passed()) << testing::failures(h.report());
  }
  {
    EngineHarness h("timeout 2s\nsend noop\nclose wait\n");
    h.send_connect();
    h.receive(24);
    EXPECT_FALSE(h.finished());
    h.client().close();
    EXPECT_TRUE(h.report().passed()) << testing::failures(h.report());
  }
  {
    EngineHarness h("timeout 50ms\nclose wait\n");
    h.send_connect();
    const auto& r = h.report();
    ASSERT_FALSE(r.passed());
    EXPECT_EQ(r.first_failure()->failure->observed, "still open after 50ms");
  }
  {
    EngineHarness h("timeout 50ms\nsend noop\nclose stall\n");
    h.send_connect();
    h.receive(24);
    const auto& r = h.report();
    ASSERT_FALSE(r.passed()) << "a client that never gives up on a silent server fails";
    EXPECT_EQ(r.first_failure()->failure->observed, "still open after 50ms");
  }
  {
    EngineHarness h("timeout 2s\nsend noop\nclose stall\n");
    h.send_connect();
    h.receive(24);
    h.client().close();
    EXPECT_TRUE(h.report().passed()) << testing::failures(h.report());
  }
}

// A run has a time limit, wherever it is: in a delay, in a volume repeat, in steps that
// never wait.
TEST(Engine, ARunEndsAtItsLimitWithOneFailure) {
  for (const char* text : {"limit 100ms\ndelay 1h\n", "limit 100ms\nrepeat 100000000 send noop\n",
                           "limit 100ms\nrepeat 100000000 allow unexpected\n"}) {
    const auto start = std::chrono::steady_clock::now();
    EngineHarness h(text);
    h.send_connect();
    h.drain_in_background();
    const auto& r = h.report();
    ASSERT_FALSE(r.passed()) << text;
    EXPECT_EQ(r.first_failure()->step, "limit") << text;
    EXPECT_EQ(r.first_failure()->failure->expected,
              "the run to end within 100ms (the scenario's limit; `limit` or --limit sets it)");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5)) << text;
    EXPECT_EQ(std::count_if(r.steps().begin(), r.steps().end(), [](const StepOutcome& o) { return o.failed; }), 1)
        << testing::failures(r);
  }
}

TEST(Engine, AClientThatVanishesFailsTheNextSendAndEndsTheRun) {
  EngineHarness h("send noop\ndelay 30ms\nsend noop\nsend noop\n");
  h.send_connect();
  h.receive(24);
  h.client().reset();
  const auto& r = h.report();
  ASSERT_FALSE(r.passed());
  EXPECT_EQ(r.first_failure()->location.line, 3);
  EXPECT_EQ(r.first_failure()->failure->observed, "the connection failed: Connection reset by peer");
}

TEST(Engine, TraceRecordsEveryFrameBothWays) {
  std::vector<TraceRecord::Kind> kinds;
  EngineOptions options;
  options.trace = [&](const TraceRecord& record) { kinds.push_back(record.kind); };
  EngineHarness h("send mutation key=\"k\" ack split=10\nexpect ack\n", options);
  h.send_connect();
  h.receive(50);
  h.send_hex(ack("41", "00000001"));
  EXPECT_TRUE(h.report().passed());
  using K = TraceRecord::Kind;
  ASSERT_GE(kinds.size(), 3u);
  EXPECT_EQ(kinds[0], K::received);  // the TAP_CONNECT
  EXPECT_EQ(kinds[1], K::sent);
  EXPECT_EQ(kinds[2], K::received);
}

}  // namespace
}  // namespace tapharness::mockserver
