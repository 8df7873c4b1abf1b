// The recording core on conversations built by hand: what each frame becomes, that the text
// parses, is in the canonical layout, and renders back to the very bytes that were sent.
#include "record/recorder.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "protocol/sasl.hpp"
#include "protocol/tap_connect.hpp"
#include "protocol/tap_message.hpp"
#include "scenario/formatter.hpp"
#include "scenario/parser.hpp"
#include "scenario/render.hpp"
#include "tests/support/temp_files.hpp"

namespace tapharness::record {
namespace {

using protocol::Bytes;
using protocol::Opcode;
using protocol::Status;
namespace ep = protocol::ep_engine;

// A conversation written as the two sides' bytes, in order, with a clock.
class Conversation {
 public:
  Conversation& client(const Bytes& b) { return add(Direction::client_to_server, b); }
  Conversation& server(const Bytes& b) {
    server_bytes_.insert(server_bytes_.end(), b.begin(), b.end());
    return add(Direction::server_to_client, b);
  }
  // Server bytes the mock server makes itself (SASL replies): not expected back from sends.
  Conversation& server_reply(const Bytes& b) { return add(Direction::server_to_client, b); }
  Conversation& server_end(Ending e) { return end(Direction::server_to_client, e); }
  Conversation& client_end(Ending e) { return end(Direction::client_to_server, e); }
  Conversation& wait_ms(std::uint64_t ms) {
    now_ += ms * 1000;
    return *this;
  }
  // Each byte of `b` its own chunk.
  Conversation& server_bytewise(const Bytes& b) {
    server_bytes_.insert(server_bytes_.end(), b.begin(), b.end());
    for (std::uint8_t byte : b) add(Direction::server_to_client, Bytes{byte});
    return *this;
  }

  const std::vector<std::pair<Chunk, Bytes>>& chunks() const { return chunks_; }
  const Bytes& server_bytes() const { return server_bytes_; }

 private:
  Conversation& add(Direction d, const Bytes& b) {
    chunks_.push_back({Chunk{d, now_, {}, Ending::none}, b});
    now_ += 10;
    return *this;
  }
  Conversation& end(Direction d, Ending e) {
    chunks_.push_back({Chunk{d, now_, {}, e}, {}});
    now_ += 10;
    return *this;
  }
  std::vector<std::pair<Chunk, Bytes>> chunks_;
  Bytes server_bytes_;
  std::uint64_t now_ = 1'000'000;
};

struct Recorded {
  Recording recording;
  std::string path;
  std::vector<std::string> side_files;
};

Recorded record(const Conversation& c, RecordOptions options = {}, std::string name = "recorded") {
  Recorded out;
  const auto dir = testing::temp_dir() / ("record_" + name);
  std::filesystem::create_directories(dir);
  out.path = (dir / (name + ".scenario")).string();
  if (options.scenario_path.empty()) options.scenario_path = out.path;
  Recorder recorder(options,
                    [&](runner::ScenarioUpdate::SideFile&& file) -> std::optional<std::string> {
                      std::ofstream(file.path, std::ios::binary)
                          .write(reinterpret_cast<const char*>(file.bytes.data()),
                                 static_cast<std::streamsize>(file.bytes.size()));
                      out.side_files.push_back(file.path);
                      return std::nullopt;
                    });
  for (const auto& [chunk, bytes] : c.chunks()) {
    Chunk with = chunk;
    with.bytes = bytes;
    if (recorder.feed(with)) break;
  }
  out.recording = recorder.finish();
  std::ofstream(out.path) << out.recording.text;
  return out;
}

// The frames the scenario's sends render to, in order.
Bytes rendered_sends(const scenario::Scenario& s) {
  Bytes out;
  scenario::ScenarioRandom random(s.seed);
  for (const auto& step : s.steps) {
    if (const auto* send = std::get_if<scenario::Send>(&step.action)) {
      const auto frame = scenario::render_frame(send->frame(), 0, random, 0);
      out.insert(out.end(), frame.bytes.begin(), frame.bytes.end());
    }
  }
  return out;
}

// The recording parses, is in the canonical layout, and sends what the server sent.
::testing::AssertionResult replays_exactly(const Recorded& r, const Conversation& c) {
  auto parsed = scenario::load_scenario(r.path);
  if (!parsed)
    return ::testing::AssertionFailure() << fmt::format("{}", parsed.error()) << "\n"
                                         << r.recording.text;
  if (scenario::format_scenario(r.recording.text) != r.recording.text) {
    return ::testing::AssertionFailure() << "not in the canonical layout:\n" << r.recording.text;
  }
  if (rendered_sends(*parsed) != c.server_bytes()) {
    return ::testing::AssertionFailure() << "the sends render other bytes than the server sent:\n"
                                         << r.recording.text;
  }
  return ::testing::AssertionSuccess();
}

bool has_line(const std::string& text, std::string_view line) {
  return text.find(fmt::format("\n{}\n", line)) != std::string::npos;
}

Bytes connect(const protocol::TapArguments& args) {
  Bytes out;
  protocol::encode_tap_connect(out, args);
  return out;
}

protocol::TapArguments replica_args() {
  protocol::TapArguments args;
  args.client_name = "replica-7";
  args.backfill = 1700000000;
  args.vbuckets = {0, 1, 3};
  args.support_ack = true;
  return args;
}

Bytes ack(Opcode opcode, std::uint32_t opaque, Status status = Status::success) {
  const auto a = protocol::tap_ack(opcode, opaque, status);
  return Bytes(a.begin(), a.end());
}

TEST(Recorder, EveryKindOfFrameBecomesItsExactSendLine) {
  Conversation c;
  c.client(connect(replica_args()));
  c.server(ep::opaque(0, protocol::TapOpaqueCode::enable_auto_nack, 1, 0x01));
  c.client(ack(Opcode::tap_opaque, 1));
  c.server(ep::opaque(3, protocol::TapOpaqueCode::initial_vbucket_stream, 3, 0x01));
  c.client(ack(Opcode::tap_opaque, 3));
  Bytes mutation = ep::mutation({.vbucket = 3,
                                 .key = "session:9f",
                                 .value = std::string_view("opaque\0\xff", 8),
                                 .flags = 0x02000006,
                                 .expiry = 1700086400,
                                 .cas = 0x16a2b3c4d5e60003,
                                 .opaque = 11,
                                 .rev_seqno = 12,
                                 .nru = 2});
  mutation[protocol::header_offset::datatype] = 1;
  c.server(mutation);
  c.server(ep::deletion({.vbucket = 1,
                         .key = "user::0999",
                         .cas = 4,
                         .opaque = 12,
                         .tap_flags = 0x01,
                         .rev_seqno = 7}));
  c.client(ack(Opcode::tap_delete, 12));
  c.server(ep::checkpoint_start(0, 0x1'0000'0002, 13));
  c.server(ep::checkpoint_end(0, 0x1'0000'0002, 14));
  c.server(ep::vbucket_set(5, protocol::VBucketState::pending, 15));
  c.server(ep::vbucket_set(5, static_cast<protocol::VBucketState>(7), 16));
  c.server(ep::flush(17));
  Bytes noop;
  protocol::encode_frame(noop, {.opcode = Opcode::noop});
  c.server(noop);
  c.server(ep::opaque(3, protocol::TapOpaqueCode::close_backfill, 18));
  c.server_end(Ending::fin).client_end(Ending::fin);

  const Recorded r = record(c);
  const std::string& t = r.recording.text;
  EXPECT_FALSE(r.recording.error) << r.recording.error->message();
  EXPECT_TRUE(replays_exactly(r, c));
  EXPECT_TRUE(has_line(t,
                       "expect connect name=\"replica-7\" flags=backfill,list_vbuckets,support_ack "
                       "backfill=1700000000 vbuckets=0,1,3"))
      << t;
  EXPECT_TRUE(has_line(t, "send opaque vb=0 code=ENABLE_AUTO_NACK opaque=1 ack")) << t;
  EXPECT_TRUE(has_line(t, "expect ack opaque=1")) << t;
  EXPECT_TRUE(
      has_line(t,
               "send mutation vb=3 key=\"session:9f\" value=\"opaque\\x00\\xff\" flags=33554438 "
               "expiry=1700086400 cas=1631063673045123075 datatype=1 rev_seqno=12 nru=2 opaque=11"))
      << t;
  EXPECT_TRUE(has_line(t, "send deletion vb=1 key=\"user::0999\" cas=4 rev_seqno=7 opaque=12 ack"))
      << t;
  EXPECT_TRUE(has_line(t, "send checkpoint_start vb=0 checkpoint=4294967298 opaque=13")) << t;
  EXPECT_TRUE(has_line(t, "send vbucket_set vb=5 state=7 opaque=16")) << t;
  EXPECT_TRUE(has_line(t, "send flush vb=0 opaque=17")) << t;
  EXPECT_TRUE(has_line(t, "send noop")) << t;
  EXPECT_TRUE(has_line(t, "close fin")) << t;
  EXPECT_TRUE(has_line(t, "client args name=\"replica-7\" backfill=1700000000 vbuckets=0,1,3 ack"))
      << t;
  EXPECT_TRUE(has_line(t, "client event begin_backfill vb=3")) << t;
  EXPECT_TRUE(has_line(
      t,
      "client event mutation vb=3 key=\"session:9f\" value=\"opaque\\x00\\xff\" flags=33554438 "
      "expiry=1700086400 cas=1631063673045123075 datatype=1"))
      << t;
  EXPECT_TRUE(
      has_line(t, "client event deletion vb=1 key=\"user::0999\" value=\"\" cas=4 datatype=0"))
      << t;
  EXPECT_TRUE(has_line(t, "client event checkpoint_start vb=0 checkpoint=4294967298")) << t;
  EXPECT_TRUE(has_line(t, "client event vbucket_set vb=5 state=pending")) << t;
  EXPECT_TRUE(has_line(t, "client event flush vb=0")) << t;
  EXPECT_TRUE(has_line(t, "client event end_backfill vb=3")) << t;
  EXPECT_TRUE(t.ends_with("\nclient end eof\n")) << t;
  EXPECT_TRUE(r.side_files.empty());
}

TEST(Recorder, EngineBytesTtlAndTapFlagsOutsideEpEngineShapeStayExact) {
  Conversation c;
  protocol::TapArguments args;
  args.client_name = "odd";
  c.client(connect(args));
  Bytes m = ep::mutation(
      {.vbucket = 0, .key = "k", .value = "v", .cas = 1, .opaque = 5, .tap_flags = 0x06});
  m[protocol::kHeaderSize + protocol::tap_extras_offset::ttl] = 7;
  c.server(m);
  // A TAP_OPAQUE whose sub-code sits in 8 engine-specific bytes.
  const Bytes engine{0, 0, 0, 0, 0, 0, 0, 1};
  c.server(protocol::encode(
      protocol::TapMessage{.opcode = Opcode::tap_opaque, .opaque = 6, .engine_specific = engine}));
  // Extras of 12 bytes: no kind of the language has them.
  Bytes odd;
  const Bytes extras(12, 0);
  protocol::encode_frame(odd, {.opcode = Opcode::tap_mutation,
                               .opaque = 7,
                               .extras = extras,
                               .key = protocol::as_bytes("x")});
  c.server(odd);
  c.server_end(Ending::fin);

  const Recorded r = record(c);
  const std::string& t = r.recording.text;
  EXPECT_TRUE(replays_exactly(r, c));
  EXPECT_TRUE(has_line(t,
                       "send mutation vb=0 key=\"k\" value=\"v\" flags=0 expiry=0 cas=1 ttl=7 "
                       "opaque=5 tap_flags=0x6"))
      << t;
  EXPECT_TRUE(has_line(t, "send opaque vb=0 engine=x\"0000000000000001\" opaque=6")) << t;
  EXPECT_NE(t.find("\nsend raw x\"80410001"), std::string::npos) << t;
  // The built-in client: the mutation, nothing for the opaque, then the bad extras' error.
  EXPECT_TRUE(t.ends_with("client end error match=\"protocol_error\"\n")) << t;
}

TEST(Recorder, LongValuesGoToOneFileBesideTheScenario) {
  Conversation c;
  protocol::TapArguments args;
  args.client_name = "big";
  c.client(connect(args));
  std::string value(5000, 'a');
  for (std::size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>('a' + i % 26);
  c.server(ep::mutation({.key = "k", .value = value, .opaque = 1}));
  c.server(ep::mutation({.key = "same", .value = std::string(3000, 'z'), .opaque = 2}));
  c.server_end(Ending::fin);

  const Recorded r = record(c, {}, "long");
  const std::string& t = r.recording.text;
  EXPECT_TRUE(replays_exactly(r, c));
  ASSERT_EQ(r.side_files.size(), 1u)
      << t;  // the send and its client event share it; the fill needs none
  EXPECT_EQ(testing::read_text_file(r.side_files[0]), value);
  EXPECT_NE(t.find("value=file(\"long.s0.value.bin\")"), std::string::npos) << t;
  EXPECT_NE(t.find("client event mutation vb=0 key=\"k\" value=file(\"long.s0.value.bin\")"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("value=fill(3000,0x7a)"), std::string::npos) << t;
}

TEST(Recorder, LongValueWithNowhereForItsFileIsAnError) {
  Conversation c;
  protocol::TapArguments args;
  c.client(connect(args));
  c.server(ep::mutation({.key = "k", .value = std::string(2000, 'a') + "b", .opaque = 1}));
  Recorder recorder({}, [](auto&&) -> std::optional<std::string> { return std::nullopt; });
  std::optional<RecordError> error;
  for (const auto& [chunk, bytes] : c.chunks()) {
    Chunk with = chunk;
    with.bytes = bytes;
    error = recorder.feed(with);
  }
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, RecordError::Code::needs_side_files);
  EXPECT_EQ(error->offset, 0u);
  EXPECT_NE(error->message().find("--out FILE or --dir DIR"), std::string::npos)
      << error->message();
}

TEST(Recorder, SaslBecomesItsExpectLinesAndClientArgs) {
  Conversation c;
  Bytes list, auth, list_reply, auth_reply;
  protocol::encode_sasl_list_mechs(list);
  protocol::encode_sasl_auth_plain(auth, "replicator", "s3cret");
  protocol::encode_sasl_response(list_reply, Opcode::sasl_list_mechs, 0, Status::success,
                                 "CRAM-MD5 PLAIN");
  protocol::encode_sasl_response(auth_reply, Opcode::sasl_auth, 0, Status::success,
                                 "Authenticated");
  protocol::TapArguments args;
  args.client_name = "authed";
  c.client(list)
      .server_reply(list_reply)
      .client(auth)
      .server_reply(auth_reply)
      .client(connect(args));
  c.server(ep::mutation({.key = "k", .value = "v", .cas = 1, .opaque = 1}));
  c.server_end(Ending::fin);

  const Recorded r = record(c);
  const std::string& t = r.recording.text;
  EXPECT_TRUE(replays_exactly(r, c));
  EXPECT_TRUE(has_line(t, "expect sasl_list_mechs mechs=\"CRAM-MD5 PLAIN\"")) << t;
  EXPECT_TRUE(has_line(t, "expect sasl_auth user=\"replicator\" password=\"s3cret\"")) << t;
  EXPECT_TRUE(has_line(t, "client args name=\"authed\" user=\"replicator\" password=\"s3cret\""))
      << t;
}

TEST(Recorder, RefusedSaslEndsWithAuthFailed) {
  Conversation c;
  Bytes list, auth, list_reply, auth_reply;
  protocol::encode_sasl_list_mechs(list);
  protocol::encode_sasl_auth_plain(auth, "u", "wrong");
  protocol::encode_sasl_response(list_reply, Opcode::sasl_list_mechs, 0, Status::success, "PLAIN");
  protocol::encode_sasl_response(auth_reply, Opcode::sasl_auth, 0, Status::auth_error,
                                 "Auth failure");
  c.client(list).server_reply(list_reply).client(auth).server_reply(auth_reply);
  c.client_end(Ending::fin).server_end(Ending::fin);

  const Recorded r = record(c);
  const std::string& t = r.recording.text;
  EXPECT_TRUE(replays_exactly(r, c));
  EXPECT_TRUE(has_line(t, "expect sasl_auth refuse")) << t;
  EXPECT_TRUE(has_line(t, "close wait")) << t;
  EXPECT_TRUE(t.ends_with("client end error match=\"auth_failed\"\n")) << t;
}

Conversation fragmented_with_pause() {
  Conversation c;
  protocol::TapArguments args;
  args.client_name = "r";
  c.client(connect(args));
  c.wait_ms(300);
  const Bytes m = ep::mutation({.key = "k", .value = "value", .opaque = 1});
  c.server(Bytes(m.begin(), m.begin() + 10)).server(Bytes(m.begin() + 10, m.end()));
  c.wait_ms(50);
  c.server_bytewise(ep::flush(2));
  c.wait_ms(400);
  c.server_end(Ending::fin);
  return c;
}

TEST(Recorder, SplitsAndDelaysOnlyWhenAsked) {
  const Conversation c = fragmented_with_pause();
  const Recorded plain = record(c, {}, "plain");
  EXPECT_TRUE(replays_exactly(plain, c));
  EXPECT_EQ(plain.recording.text.find("split="), std::string::npos) << plain.recording.text;
  EXPECT_EQ(plain.recording.text.find("bytewise"), std::string::npos) << plain.recording.text;
  EXPECT_EQ(plain.recording.text.find("delay"), std::string::npos) << plain.recording.text;

  const Recorded asked = record(c, {.splits = 4096, .pause_ms = 100}, "asked");
  const std::string& t = asked.recording.text;
  EXPECT_TRUE(replays_exactly(asked, c));
  EXPECT_TRUE(has_line(t, "delay 300ms")) << t;
  EXPECT_TRUE(has_line(
      t, "send mutation vb=0 key=\"k\" value=\"value\" flags=0 expiry=0 cas=0 opaque=1 split=10"))
      << t;
  EXPECT_TRUE(has_line(t, "send flush vb=0 opaque=2 bytewise")) << t;
  EXPECT_TRUE(has_line(t, "delay 400ms\nclose fin")) << t;
  EXPECT_EQ(t.find("delay 50ms"), std::string::npos) << t;  // under the threshold

  // A threshold below the frames' sizes keeps their boundaries out.
  const Recorded small = record(c, {.splits = 31}, "small");
  EXPECT_TRUE(replays_exactly(small, c));
  EXPECT_EQ(small.recording.text.find("opaque=1 split="), std::string::npos)
      << small.recording.text;
  EXPECT_EQ(small.recording.text.find("opaque=2 bytewise"), std::string::npos)
      << small.recording.text;
  const Recorded exact = record(c, {.splits = 32}, "exact");
  EXPECT_EQ(exact.recording.text.find("opaque=1 split="), std::string::npos)
      << exact.recording.text;
  EXPECT_NE(exact.recording.text.find("opaque=2 bytewise"), std::string::npos)
      << exact.recording.text;
}

TEST(Recorder, AStreamThatStopsDecodingIsAnErrorWithItsOffset) {
  Conversation c;
  protocol::TapArguments args;
  args.client_name = "r";
  c.client(connect(args));
  c.server(ep::flush(1));
  Bytes bad = ep::flush(2);
  bad[0] = 0x42;
  c.server(bad);
  c.server(ep::flush(3));
  c.server_end(Ending::fin);

  const Recorded r = record(c);
  ASSERT_TRUE(r.recording.error);
  EXPECT_EQ(r.recording.error->code, RecordError::Code::undecodable);
  EXPECT_EQ(r.recording.error->direction, Direction::server_to_client);
  EXPECT_EQ(r.recording.error->offset, 32u);
  EXPECT_NE(r.recording.text.find(
                "# tap_record stopped here: undecodable: the server's stream at offset 32"),
            std::string::npos)
      << r.recording.text;
  EXPECT_TRUE(scenario::load_scenario(r.path)) << r.recording.text;
  EXPECT_EQ(r.recording.text.find("opaque=2"), std::string::npos) << r.recording.text;
}

TEST(Recorder, EndingsBecomeCloseAndClientEndLines) {
  protocol::TapArguments args;
  args.client_name = "r";
  {
    Conversation c;
    c.client(connect(args)).server(ep::flush(1)).server_end(Ending::rst);
    const Recorded r = record(c, {}, "rst");
    EXPECT_TRUE(replays_exactly(r, c));
    EXPECT_TRUE(has_line(r.recording.text, "close rst")) << r.recording.text;
    EXPECT_TRUE(r.recording.text.ends_with("client end error match=\"io_error\"\n"))
        << r.recording.text;
  }
  {
    Conversation c;
    const Bytes f = ep::flush(2);
    c.client(connect(args))
        .server(ep::flush(1))
        .server(Bytes(f.begin(), f.begin() + 30))
        .server_end(Ending::fin);
    const Recorded r = record(c, {}, "cut");
    auto parsed = scenario::load_scenario(r.path);
    ASSERT_TRUE(parsed) << fmt::format("{}", parsed.error());
    EXPECT_NE(r.recording.text.find("send raw x\"80430000"), std::string::npos) << r.recording.text;
    EXPECT_TRUE(r.recording.text.ends_with("client end error match=\"truncated\"\n"))
        << r.recording.text;
  }
  {
    Conversation c;
    c.client(connect(args))
        .server(ep::flush(1))
        .wait_ms(300)
        .client_end(Ending::fin)
        .server_end(Ending::fin);
    const Recorded r = record(c, {}, "idle");
    EXPECT_TRUE(replays_exactly(r, c));
    EXPECT_TRUE(has_line(r.recording.text, "close wait")) << r.recording.text;
    EXPECT_TRUE(has_line(r.recording.text, "client args name=\"r\" idle_timeout=300ms"))
        << r.recording.text;
    EXPECT_TRUE(r.recording.text.ends_with("client end error match=\"idle_timeout\"\n"))
        << r.recording.text;
  }
}

TEST(Recorder, NacksBecomeTheirStatusAndTheClientsNackRule) {
  Conversation c;
  protocol::TapArguments args;
  args.client_name = "r";
  args.support_ack = true;
  c.client(connect(args));
  c.server(ep::mutation({.key = "busy", .value = "2", .opaque = 1, .tap_flags = 0x01}));
  c.client(ack(Opcode::tap_mutation, 1, Status::etmpfail));
  c.server(ep::mutation({.key = "busy", .value = "2", .opaque = 2, .tap_flags = 0x01}));
  c.client(ack(Opcode::tap_mutation, 2));
  c.server_end(Ending::fin);
  const Recorded r = record(c);
  const std::string& t = r.recording.text;
  EXPECT_TRUE(replays_exactly(r, c));
  EXPECT_TRUE(has_line(t, "expect ack opaque=1 status=ETMPFAIL")) << t;
  EXPECT_TRUE(has_line(t, "expect ack opaque=2")) << t;
  EXPECT_TRUE(has_line(t, "client args name=\"r\" ack nack=busy:1")) << t;
}

}  // namespace
}  // namespace tapharness::record
