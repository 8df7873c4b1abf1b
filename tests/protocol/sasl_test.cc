// SASL PLAIN: the client's requests and the server's replies against frames derived by hand
// from protocol.md sections 1 and 2 (and RFC 4616 for PLAIN's value), the replies decoded at
// every split, and the parsers' edges.
#include "protocol/sasl.hpp"

#include <gtest/gtest.h>

#include "protocol/frame_decoder.hpp"
#include "protocol/hex.hpp"
#include "tests/support/decode_stream.hpp"
#include "testing/printers.hpp"

namespace tapharness::protocol {
namespace {

std::string golden_hex(std::string_view text) { return to_hex(parse_hex(text).value()); }

// SASL_LIST_MECHS: a request with nothing in it.
constexpr std::string_view kListMechs = "80 20 0000 00 00 0000 00000000 00000000 0000000000000000";
// SASL_AUTH PLAIN for "u" / "pw": key "PLAIN" (5), value 00 'u' 00 'p' 'w' (5): bodylen 10.
constexpr std::string_view kAuthPlain =
    "80 21 0005 00 00 0000 0000000a 00000000 0000000000000000"
    "504c41494e"
    "00 75 00 7077";
// The server's list, "CRAM-MD5 PLAIN" (14 bytes), opaque 7.
constexpr std::string_view kMechsReply =
    "81 20 0000 00 00 0000 0000000e 00000007 0000000000000000"
    "4352414d2d4d443520504c41494e";
// SASL_AUTH refused: status AUTH_ERROR (0x20), "Auth failure" (12 bytes), opaque 8.
constexpr std::string_view kAuthRefused =
    "81 21 0000 00 00 0020 0000000c 00000008 0000000000000000"
    "41757468206661696c757265";

TEST(Sasl, ListMechsIsAnEmptyRequest) {
  Bytes out;
  EXPECT_EQ(encode_sasl_list_mechs(out), kHeaderSize);
  EXPECT_EQ(to_hex(out), golden_hex(kListMechs));
  Bytes with_opaque;
  encode_sasl_list_mechs(with_opaque, 0x01020304);
  EXPECT_EQ(to_hex(with_opaque), golden_hex("80 20 0000 00 00 0000 00000000 01020304 0000000000000000"));
}

TEST(Sasl, AuthPlainCarriesTheUserAndPasswordAfterAnEmptyAuthzid) {
  Bytes out = {0xaa};  // appends: what was there stays
  EXPECT_EQ(encode_sasl_auth_plain(out, "u", "pw"), kHeaderSize + 10);
  EXPECT_EQ(to_hex(out), "aa" + golden_hex(kAuthPlain));
}

TEST(Sasl, AuthPlainWithNothingInItStillHasBothSeparators) {
  Bytes out;
  encode_sasl_auth_plain(out, "", "");
  EXPECT_EQ(to_hex(out), golden_hex("80 21 0005 00 00 0000 00000007 00000000 0000000000000000 504c41494e 0000"));
}

TEST(Sasl, ResponsesAreResponseMagicWithStatusAndText) {
  Bytes out;
  EXPECT_EQ(encode_sasl_response(out, Opcode::sasl_list_mechs, 7, Status::success, "CRAM-MD5 PLAIN"),
            kHeaderSize + 14);
  EXPECT_EQ(to_hex(out), golden_hex(kMechsReply));
  Bytes refused;
  encode_sasl_response(refused, Opcode::sasl_auth, 8, Status::auth_error, "Auth failure");
  EXPECT_EQ(to_hex(refused), golden_hex(kAuthRefused));
}

TEST(Sasl, RepliesDecodeTheSameAtEverySplit) {
  Bytes stream = parse_hex(kMechsReply).value();
  append(stream, parse_hex(kAuthRefused).value());
  testing::StreamOutcome whole;
  EXPECT_TRUE(testing::same_at_every_split(stream, &whole));
  ASSERT_EQ(whole.frames.size(), 2u);
  EXPECT_EQ(whole.frames[0].header.opcode, Opcode::sasl_list_mechs);
  EXPECT_EQ(as_chars(whole.frames[0].value), "CRAM-MD5 PLAIN");
  EXPECT_EQ(whole.frames[1].header.status(), Status::auth_error);
  EXPECT_EQ(as_chars(whole.frames[1].value), "Auth failure");
}

Frame decode_one(const Bytes& bytes) {
  FrameDecoder decoder;
  auto result = decoder.decode(bytes);
  EXPECT_TRUE(std::holds_alternative<Decoded>(result)) << fmt::format("{}", result);
  return std::holds_alternative<Decoded>(result) ? std::get<Decoded>(result).frame : Frame{};
}

TEST(Sasl, CheckResponseWantsResponseMagicAndTheRequestsOpcode) {
  const Bytes reply = parse_hex(kMechsReply).value();
  EXPECT_EQ(check_sasl_response(decode_one(reply), Opcode::sasl_list_mechs), std::nullopt);

  const auto wrong_opcode = check_sasl_response(decode_one(reply), Opcode::sasl_auth);
  ASSERT_TRUE(wrong_opcode);
  EXPECT_EQ(*wrong_opcode, (DecodeError{DecodeErrorCode::unexpected_sasl_reply, 1, "opcode", 0x20, 0x21}));
  EXPECT_EQ(wrong_opcode->message(),
            "unexpected_sasl_reply at stream offset 1, field opcode = 32: the client waits for the response "
            "(magic 0x81) to its SASL_AUTH");

  const Bytes request = parse_hex(kListMechs).value();  // the server echoing a request
  const auto wrong_magic = check_sasl_response(decode_one(request), Opcode::sasl_list_mechs);
  ASSERT_TRUE(wrong_magic);
  EXPECT_EQ(*wrong_magic, (DecodeError{DecodeErrorCode::unexpected_sasl_reply, 0, "magic", 0x80, 0x20}));
  EXPECT_EQ(std::error_code(DecodeErrorCode::unexpected_sasl_reply).message(), "unexpected_sasl_reply");
}

TEST(Sasl, ParsePlainReadsUserAndPassword) {
  auto parse = [](std::string_view text) { return parse_sasl_plain(as_bytes(text)); };
  using namespace std::string_view_literals;
  EXPECT_EQ(parse("\0user\0secret"sv), (SaslPlain{"user", "secret"}));
  EXPECT_EQ(parse("admin\0user\0secret"sv), (SaslPlain{"user", "secret"})) << "an authzid is allowed";
  EXPECT_EQ(parse("\0user\0"sv), (SaslPlain{"user", ""})) << "an empty password is the server's to judge";
  EXPECT_EQ(parse("\0\0secret"sv), std::nullopt) << "no user";
  EXPECT_EQ(parse("user\0secret"sv), std::nullopt) << "one NUL";
  EXPECT_EQ(parse("usersecret"sv), std::nullopt) << "no NUL";
  EXPECT_EQ(parse("\0user\0sec\0ret"sv), std::nullopt) << "three NULs";
  EXPECT_EQ(parse(""sv), std::nullopt);
  // The client's own encoding reads back.
  Bytes out;
  encode_sasl_auth_plain(out, "replica", "p w");
  const Frame frame = decode_one(out);
  EXPECT_EQ(as_chars(frame.key), kSaslPlain);
  EXPECT_EQ(parse_sasl_plain(frame.value), (SaslPlain{"replica", "p w"}));
}

TEST(Sasl, MechanismListsAreSpaceSeparatedWholeNames) {
  EXPECT_TRUE(sasl_mechs_include("CRAM-MD5 PLAIN", "PLAIN"));
  EXPECT_TRUE(sasl_mechs_include("PLAIN", "PLAIN"));
  EXPECT_TRUE(sasl_mechs_include("PLAIN SCRAM-SHA1", "PLAIN"));
  EXPECT_FALSE(sasl_mechs_include("CRAM-MD5", "PLAIN"));
  EXPECT_FALSE(sasl_mechs_include("PLAINTEXT CRAM-MD5", "PLAIN")) << "whole names, not prefixes";
  EXPECT_FALSE(sasl_mechs_include("XPLAIN", "PLAIN"));
  EXPECT_FALSE(sasl_mechs_include("plain", "PLAIN"));
  EXPECT_FALSE(sasl_mechs_include("", "PLAIN"));
  EXPECT_TRUE(sasl_mechs_include("CRAM-MD5  PLAIN", "PLAIN")) << "a double space is an empty name between";
}

}  // namespace
}  // namespace tapharness::protocol
