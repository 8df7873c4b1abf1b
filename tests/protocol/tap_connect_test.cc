// TAP_CONNECT: our encoder against the frames captured from the seed's own socket
// (testdata/seed-connect-vectors.txt, a copy of shared/seed-connect-vectors.txt), and the
// server-side decoder against them and against bodies that contradict their flags.
#include "protocol/tap_connect.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "protocol/frame_decoder.hpp"
#include "protocol/hex.hpp"
#include "tests/protocol/golden_frames.hpp"
#include "tests/support/decode_stream.hpp"
#include "testing/printers.hpp"

namespace tapharness::protocol {
namespace {

struct SeedVector {
  std::string args_line;
  TapArguments args;
  std::string hex;
};

// Reads the seed's options in their CLI form ("-backfill 0 -name peer1 -dump ...").
TapArguments parse_seed_args(const std::string& line) {
  TapArguments args;
  std::istringstream in(line);
  std::string word;
  while (in >> word) {
    if (word == "-backfill") {
      std::string v;
      in >> v;
      args.backfill = std::stoull(v, nullptr, 0);
    } else if (word == "-name") {
      in >> args.client_name;
    } else if (word == "-vbuckets") {
      std::string list;
      in >> list;
      std::istringstream items(list);
      std::string item;
      while (std::getline(items, item, ',')) args.vbuckets.push_back(std::stoi(item));
    } else if (word == "-dump") {
      args.dump = true;
    } else if (word == "-takeover") {
      args.takeover = true;
    } else if (word == "-ack") {
      args.support_ack = true;
    } else if (word == "-keysonly") {
      args.keys_only = true;
    } else if (word == "-checkpoint") {
      args.checkpoint = true;
    } else if (word == "-registered") {
      args.registered_client = true;
    } else {
      ADD_FAILURE() << "unknown seed option " << word;
    }
  }
  return args;
}

std::vector<SeedVector> load_seed_vectors() {
  std::ifstream in("tests/protocol/testdata/seed-connect-vectors.txt");
  EXPECT_TRUE(in.good()) << "testdata missing";
  std::vector<SeedVector> vectors;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("args:", 0) == 0) {
      vectors.push_back({line.substr(5), parse_seed_args(line.substr(5)), ""});
    } else if (line.rfind("hex:", 0) == 0) {
      EXPECT_FALSE(vectors.empty());
      std::string hex = line.substr(4);
      hex.erase(0, hex.find_first_not_of(' '));
      vectors.back().hex = hex;
    }
  }
  return vectors;
}

TEST(TapConnect, EncodesEverySeedVectorByteForByte) {
  const auto vectors = load_seed_vectors();
  ASSERT_EQ(vectors.size(), 14u);
  for (const auto& v : vectors) {
    Bytes out;
    ASSERT_GT(encode_tap_connect(out, v.args), 0u) << v.args_line;
    EXPECT_EQ(to_hex(out), v.hex) << "args:" << v.args_line;
  }
}

TEST(TapConnect, DecodesEverySeedVectorBackToItsArguments) {
  for (const auto& v : load_seed_vectors()) {
    const Bytes frame = parse_hex(v.hex).value();
    testing::StreamOutcome outcome;
    ASSERT_TRUE(testing::same_at_every_split(frame, &outcome)) << v.args_line;
    ASSERT_EQ(outcome.frames.size(), 1u);
    FrameDecoder decoder;
    auto decoded = std::get<Decoded>(decoder.decode(frame));
    auto result = decode_tap_connect(decoded.frame);
    ASSERT_TRUE(result) << v.args_line << ": " << result.error().message();
    const auto& request = *result;
    EXPECT_EQ(request.flags, connect_flags(v.args)) << v.args_line;
    EXPECT_EQ(request.name, v.args.client_name);
    if (v.args.backfill != 0) {
      EXPECT_EQ(request.backfill, v.args.backfill);
    } else {
      EXPECT_FALSE(request.backfill);
    }
    if (!v.args.vbuckets.empty()) {
      EXPECT_EQ(request.vbuckets, v.args.vbuckets);
    } else {
      EXPECT_FALSE(request.vbuckets);
    }
    EXPECT_TRUE(request.checkpoints.empty());
  }
}

TEST(TapConnect, DefaultArgumentsAreTheSeedsDefault) {
  TapArguments args;
  EXPECT_EQ(args.backfill, kNoBackfill);
  EXPECT_EQ(connect_flags(args), 0x01u);
}

TEST(TapConnect, DecodesTapMdWorkedExample) {
  const Bytes frame = parse_hex(golden::kConnectNode1).value();
  FrameDecoder decoder;
  auto decoded = std::get<Decoded>(decoder.decode(frame));
  auto request = decode_tap_connect(decoded.frame).value();
  EXPECT_EQ(request.name, "node1");
  EXPECT_EQ(request.flags, 0x35u);
  EXPECT_TRUE(request.has(TapConnectFlag::support_ack));
  EXPECT_TRUE(request.has(TapConnectFlag::request_keys_only));
  EXPECT_FALSE(request.has(TapConnectFlag::dump));
  EXPECT_EQ(request.backfill, 5u);
  EXPECT_EQ(request.vbuckets, (std::vector<std::uint16_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(fmt::format("{}", request),
            "{name=\"node1\" flags=BACKFILL|LIST_VBUCKETS|SUPPORT_ACK|REQUEST_KEYS_ONLY "
            "backfill=5 vbuckets=[0, 1, 2, 3, 4]}");
}

TEST(TapConnect, DecodesACheckpointMapAndTheOldRegisteredByte) {
  // flags CHECKPOINT|REGISTERED_CLIENT (0xc0), name "r", map {vb 7 @ 9}, then the byte 1.
  const Bytes frame = parse_hex(
                          "80 40 0001 04 00 0000 00000012 00000000 0000000000000000"
                          "000000c0 72 0001 0007 0000000000000009 01")
                          .value();
  FrameDecoder decoder;
  auto decoded = std::get<Decoded>(decoder.decode(frame));
  auto request = decode_tap_connect(decoded.frame).value();
  ASSERT_EQ(request.checkpoints.size(), 1u);
  EXPECT_EQ(request.checkpoints[0], (CheckpointPosition{7, 9}));
  EXPECT_EQ(request.closed_checkpoints_only, 1);
}

struct ConnectErrorCase {
  friend void PrintTo(const ConnectErrorCase& c, std::ostream* os) { *os << c.name; }
  std::string name;
  std::string hex;
  DecodeErrorCode code;
  std::uint64_t offset;
  std::string_view field;
  std::uint64_t value;
};

class TapConnectErrors : public ::testing::TestWithParam<ConnectErrorCase> {};

TEST_P(TapConnectErrors, RejectsBodiesThatContradictTheFlags) {
  const auto& c = GetParam();
  const Bytes frame = parse_hex(c.hex).value();
  FrameDecoder decoder;
  auto decoded = decoder.decode(frame);
  ASSERT_TRUE(std::holds_alternative<Decoded>(decoded)) << fmt::format("{}", decoded);
  auto result = decode_tap_connect(std::get<Decoded>(decoded).frame);
  ASSERT_FALSE(result) << fmt::format("{}", *result);
  const auto& error = result.error();
  EXPECT_EQ(error.code, c.code) << error.message();
  EXPECT_EQ(error.offset, c.offset) << error.message();
  EXPECT_EQ(error.field, c.field) << error.message();
  EXPECT_EQ(error.value, c.value) << error.message();
}

INSTANTIATE_TEST_SUITE_P(
    Vectors, TapConnectErrors,
    ::testing::Values(
        // BACKFILL set, but only 4 body bytes follow the 4 extras (body starts at 28).
        ConnectErrorCase{"backfill_short",
                         "80 40 0000 04 00 0000 00000008 00000000 0000000000000000"
                         "00000001 00000000",
                         DecodeErrorCode::connect_body_too_short, 28, "backfill", 4},
        // LIST_VBUCKETS with no count at all.
        ConnectErrorCase{"vbucket_count_missing",
                         "80 40 0000 04 00 0000 00000004 00000000 0000000000000000 00000004",
                         DecodeErrorCode::connect_body_too_short, 28, "vbucket_count", 0},
        // LIST_VBUCKETS says 3 but lists 2 (ep-engine answers NOT_SUPPORTED).
        ConnectErrorCase{"vbucket_list_short",
                         "80 40 0000 04 00 0000 0000000a 00000000 0000000000000000"
                         "00000004 0003 0001 0002",
                         DecodeErrorCode::connect_body_too_short, 30, "vbucket_list", 4},
        // CHECKPOINT says 2 entries but holds 1 (10 of 20 bytes).
        ConnectErrorCase{"checkpoint_map_short",
                         "80 40 0000 04 00 0000 00000010 00000000 0000000000000000"
                         "00000040 0002 0007 0000000000000009",
                         DecodeErrorCode::connect_body_too_short, 30, "checkpoint_map", 10},
        // No flags, yet 2 body bytes.
        ConnectErrorCase{"trailing_bytes",
                         "80 40 0002 04 00 0000 00000008 00000000 0000000000000000"
                         "00000000 6e6e abcd",
                         DecodeErrorCode::connect_body_trailing, 30, "body", 2},
        // Backfill 0 body sent with the flag off: 8 bytes nobody asked for.
        ConnectErrorCase{"backfill_without_flag",
                         "80 40 0000 04 00 0000 0000000c 00000000 0000000000000000"
                         "00000000 0000000000000000",
                         DecodeErrorCode::connect_body_trailing, 28, "body", 8},
        ConnectErrorCase{"extras_not_four",
                         "80 40 0000 08 00 0000 00000008 00000000 0000000000000000"
                         "00000000 00000000",
                         DecodeErrorCode::connect_extras_length, 4, "extlen", 8},
        ConnectErrorCase{"response_magic",
                         "81 40 0000 04 00 0000 00000004 00000000 0000000000000000 00000000",
                         DecodeErrorCode::unexpected_response, 0, "magic", 0x81}),
    [](const auto& info) { return info.param.name; });

TEST(TapConnect, RefusesMoreVBucketsThanTheCountCanSay) {
  TapArguments args;
  args.vbuckets.assign(70000, 1);
  Bytes out;
  EXPECT_EQ(encode_tap_connect(out, args), 0u);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace tapharness::protocol
