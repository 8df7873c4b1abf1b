// Tables (scenario/table.hpp): a file run once per row, each case named by its row, with
// `{column}` replaced by the row's word, and what a malformed table is told.
#include "scenario/table.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "scenario/parser.hpp"
#include "tests/support/temp_files.hpp"

namespace tapharness::scenario {
namespace {

using tapharness::testing::write_temp_file;

constexpr std::string_view kSweep = R"(# a sweep
table name status body said {
  text    NOT_SUPPORTED  "not supported"  "not supported"
  binary  EACCESS        x"00ff"          "\x00\xff"
}
expect connect
send connect_error status={status} body={body}
client end error match="status {status}: {said}"
)";

TEST(Table, EachRowIsACaseWithItsWordsInPlaceAndTheLinesWhereTheyWere) {
  auto cases = expand_table(kSweep, "sweep.scenario");
  ASSERT_TRUE(cases) << cases.error().text();
  ASSERT_EQ(cases->size(), 2u);
  EXPECT_EQ((*cases)[0].row, "text");
  EXPECT_EQ((*cases)[1].row, "binary");
  EXPECT_NE((*cases)[1].text.find("send connect_error status=EACCESS body=x\"00ff\"\n"), std::string::npos)
      << (*cases)[1].text;
  EXPECT_NE((*cases)[1].text.find("match=\"status EACCESS: \\x00\\xff\""), std::string::npos) << (*cases)[1].text;
  EXPECT_NE((*cases)[0].text.find("body=\"not supported\"\nclient end error match=\"status NOT_SUPPORTED: not supported\""),
            std::string::npos)
      << "quoted outside a string, its words inside one: " << (*cases)[0].text;
  auto parsed = parse_scenario((*cases)[0].text, "sweep.scenario");
  ASSERT_TRUE(parsed) << parsed.error().text();
  EXPECT_EQ(parsed->steps.front().location.line, 7) << "the send keeps its line";
}

TEST(Table, LoadingNamesEachCaseFileSlashRow) {
  const std::string path = write_temp_file("sweep.scenario", kSweep);
  auto cases = load_scenario_cases(path);
  ASSERT_TRUE(cases) << cases.error().text();
  ASSERT_EQ(cases->size(), 2u);
  EXPECT_EQ((*cases)[0].name, "sweep/text");
  EXPECT_EQ((*cases)[1].name, "sweep/binary");
  EXPECT_EQ((*cases)[1].row, "binary");
  auto one = load_scenario(path);
  ASSERT_FALSE(one);
  EXPECT_NE(one.error().message.find("a table of 2 cases (text, binary)"), std::string::npos) << one.error().message;
}

TEST(Table, RowsMayComeFromAFileBesideTheScenario) {
  write_temp_file("refusals.rows", "# name status\nfirst NOT_SUPPORTED\nsecond EINVAL\n");
  const std::string path = write_temp_file("from_rows.scenario",
                                           "table name status from \"refusals.rows\"\nexpect connect\n"
                                           "send connect_error status={status}\nclient end error\n");
  auto cases = load_scenario_cases(path);
  ASSERT_TRUE(cases) << cases.error().text();
  ASSERT_EQ(cases->size(), 2u);
  EXPECT_EQ((*cases)[1].name, "from_rows/second");
}

TEST(Table, AnErrorInARowSaysWhichRow) {
  const std::string path = write_temp_file(
      "bad_row.scenario", "table name status {\n  ok NOT_SUPPORTED\n  bad NOT_A_STATUS\n}\nsend connect_error status={status}\n");
  auto cases = load_scenario_cases(path);
  ASSERT_FALSE(cases);
  EXPECT_EQ(cases.error().location.line, 5);
  EXPECT_NE(cases.error().message.find("in row 'bad': "), std::string::npos) << cases.error().message;
}

struct TableError {
  const char* name;
  std::string_view text;
  int line;
  std::string_view message;
};

class MalformedTable : public ::testing::TestWithParam<TableError> {};

TEST_P(MalformedTable, IsAnErrorAtItsLine) {
  auto cases = expand_table(GetParam().text, "t.scenario");
  ASSERT_FALSE(cases);
  EXPECT_EQ(cases.error().location.line, GetParam().line);
  EXPECT_NE(cases.error().message.find(GetParam().message), std::string::npos) << cases.error().message;
}

const TableError kMalformed[] = {
    {"NoColumns", "table {\n}\n", 1, "'table' needs its column names"},
    {"NoRows", "table name {\n}\n", 1, "the table has no rows"},
    {"NeverClosed", "table name {\n a\n", 1, "'table' block is never closed"},
    {"WrongWidth", "table name status {\n a\n}\n", 2, "a row of 1 words; the table has 2 columns (name, status)"},
    {"DuplicateRow", "table name {\n a\n a\n}\n", 3, "duplicate row name 'a'"},
    {"ColumnN", "table name n {\n a 1\n}\n", 1, "not 'n', the repeat index"},
    {"TwoTables", "table name {\n a\n}\ntable name {\n b\n}\n", 4, "a file has one table; the first is at line 1"},
    {"MissingRowsFile", "table name from \"nowhere.rows\"\n", 1, "cannot read the rows"},
};
INSTANTIATE_TEST_SUITE_P(Tables, MalformedTable, ::testing::ValuesIn(kMalformed),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Table, CasesTogetherStayWithinAFilesBound) {
  std::string text = "table name {\n";
  for (int i = 0; i < 5000; ++i) text += fmt::format("  r{}\n", i);
  text += "}\nsend noop # " + std::string(20000, 'x') + "\n";
  auto cases = expand_table(text, "big.scenario");
  ASSERT_FALSE(cases);
  EXPECT_NE(cases.error().message.find("split the table"), std::string::npos) << cases.error().message;
}

TEST(Table, ATableInAnIncludedFileIsAnError) {
  write_temp_file("rows.inc", "table name {\n a\n}\n");
  const std::string path = write_temp_file("includes_table.scenario", "include \"rows.inc\"\n");
  auto parsed = load_scenario(path);
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("a table belongs in the scenario file itself"), std::string::npos)
      << parsed.error().message;
}

}  // namespace
}  // namespace tapharness::scenario
