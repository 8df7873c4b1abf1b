// `include "path"`: a shared prologue's lines as if written where the include is, each
// line still named by its own file:line:col, and the ways an include can go wrong.
#include <gtest/gtest.h>

#include "scenario/parser.hpp"
#include "tests/support/temp_files.hpp"

namespace tapharness::scenario {
namespace {

using tapharness::testing::temp_dir;
using tapharness::testing::write_temp_file;

TEST(Include, ThePiecesLinesRunWhereTheIncludeIsAndKeepTheirOwnPlace) {
  std::filesystem::create_directories(temp_dir() / "inc" / "shared");
  write_temp_file("inc/shared/prologue.inc", "expect connect name=\"r1\"\nsend opaque code=ENABLE_AUTO_NACK ack\n");
  const std::string main = write_temp_file("inc/main.scenario", "include \"shared/prologue.inc\"\nexpect ack\nsend noop\n");
  auto parsed = load_scenario(main);
  ASSERT_TRUE(parsed) << parsed.error().text();
  EXPECT_EQ(parsed->connect.name.value, "r1");
  ASSERT_EQ(parsed->steps.size(), 3u);
  EXPECT_EQ(parsed->steps[0].location.file(), (temp_dir() / "inc/shared/prologue.inc").lexically_normal().string());
  EXPECT_EQ(parsed->steps[0].location.line, 2);
  EXPECT_EQ(parsed->steps[1].location.file(), main);
  EXPECT_EQ(parsed->steps[1].location.line, 2);
}

TEST(Include, AnErrorInsideTheIncludedFileNamesThatFile) {
  write_temp_file("inc/broken.inc", "send noop\nsend mutaton\n");
  const std::string main = write_temp_file("inc/uses_broken.scenario", "send noop\ninclude \"broken.inc\"\n");
  auto parsed = load_scenario(main);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().location.file(), (temp_dir() / "inc/broken.inc").lexically_normal().string());
  EXPECT_EQ(parsed.error().location.line, 2);
  EXPECT_EQ(parsed.error().location.column, 6);
}

TEST(Include, AMissingFileIsAnErrorAtTheIncludeLine) {
  const std::string main = write_temp_file("inc/missing.scenario", "send noop\ninclude \"nowhere.inc\"\n");
  auto parsed = load_scenario(main);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().location.file(), main);
  EXPECT_EQ(parsed.error().location.line, 2);
  EXPECT_EQ(parsed.error().location.column, 9);
  EXPECT_NE(parsed.error().message.find("cannot include"), std::string::npos) << parsed.error().message;
}

TEST(Include, ACycleIsAnErrorNamingTheChain) {
  write_temp_file("inc/a.inc", "send noop\ninclude \"b.inc\"\n");
  write_temp_file("inc/b.inc", "include \"a.inc\"\n");
  const std::string main = write_temp_file("inc/cycle.scenario", "include \"a.inc\"\n");
  auto parsed = load_scenario(main);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().location.file(), (temp_dir() / "inc/b.inc").lexically_normal().string());
  EXPECT_EQ(parsed.error().location.line, 1);
  EXPECT_NE(parsed.error().message.find("include cycle"), std::string::npos) << parsed.error().message;
}

TEST(Include, APathMustBeQuoted) {
  const std::string main = write_temp_file("inc/bare.scenario", "include prologue.inc\n");
  auto parsed = load_scenario(main);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message, "expected a quoted path after 'include', got 'prologue.inc'");
}

TEST(Include, IncludesWorkInsideConnectionBlocks) {
  write_temp_file("inc/hello.inc", "expect connect name=\"x\"\nsend noop\n");
  const std::string main =
      write_temp_file("inc/blocks.scenario", "connection a {\n  include \"hello.inc\"\n}\nconnection b {\n  include \"hello.inc\"\n}\n");
  auto parsed = load_scenario(main);
  ASSERT_TRUE(parsed) << parsed.error().text();
  ASSERT_EQ(parsed->connections.size(), 2u);
  EXPECT_EQ(parsed->connections[1].script->steps.size(), 1u);
  EXPECT_EQ(parsed->connections[1].script->connect.name.value, "x");
}

TEST(ValueFromAFile, ReadsExactBytesRelativeToTheScenario) {
  std::filesystem::create_directories(temp_dir() / "inc" / "values");
  write_temp_file("inc/values/blob.bin", std::string("\0\xff{n}\n", 6));
  const std::string main = write_temp_file("inc/uses_blob.scenario", "send mutation key=\"k\" value=file(\"values/blob.bin\")\n");
  auto parsed = load_scenario(main);
  ASSERT_TRUE(parsed) << parsed.error().text();
  const auto value = std::get<Send>(parsed->steps[0].action).frame().get(SendBytes::value);
  ASSERT_TRUE(value);
  EXPECT_EQ(value->hex, (protocol::Bytes{0x00, 0xff, '{', 'n', '}', '\n'})) << "bytes as they are, {n} too";
  const std::string missing = write_temp_file("inc/no_blob.scenario", "send mutation value=file(\"nope.bin\")\n");
  auto failed = load_scenario(missing);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().location.column, 26) << "at the path";
  EXPECT_NE(failed.error().message.find("cannot read"), std::string::npos) << failed.error().message;
}

}  // namespace
}  // namespace tapharness::scenario
