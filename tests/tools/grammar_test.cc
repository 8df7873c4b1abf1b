// The editor grammar (tools/editor/tapscenario.tmLanguage.json) against the language as the
// parser knows it and as the library writes it: every statement keyword, frame kind, close
// form and event kind is highlighted, and every line of every library file starts with a
// word the grammar knows.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "protocol/tap_event.hpp"
#include "scenario/parser.hpp"
#include "scenario/scenario.hpp"

namespace tapharness {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class Grammar : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string text = read_file("tools/editor/tapscenario.tmLanguage.json");
    ASSERT_FALSE(text.empty()) << "the grammar is not in the test's runfiles";
    grammar_ = nlohmann::json::parse(text);
    const auto& repository = grammar_.at("repository");
    statement_ = std::regex(repository.at("statement").at("begin").get<std::string>());
    word_ = std::regex(repository.at("word").at("match").get<std::string>());
    table_ = std::regex(repository.at("table").at("begin").get<std::string>());
  }

  // The whole of `text` is one word the `word` pattern highlights.
  bool highlights(std::string_view text) const {
    std::smatch match;
    const std::string word(text);
    return std::regex_search(word, match, word_) && match.length(0) == static_cast<long>(word.size());
  }

  nlohmann::json grammar_;
  std::regex statement_;
  std::regex word_;
  std::regex table_;
};

// The statement keywords, as the parser lists them when it meets an unknown one.
std::vector<std::string> parser_keywords() {
  auto parsed = scenario::parse_scenario("zzz_not_a_keyword\n", "x.scenario");
  EXPECT_FALSE(parsed);
  const std::string& message = parsed.error().message;
  const std::string marker = "expected one of ";
  const std::size_t begin = message.find(marker) + marker.size();
  const std::size_t end = message.find(';', begin);
  std::vector<std::string> keywords;
  std::stringstream list(message.substr(begin, end - begin));
  for (std::string word; std::getline(list, word, ',');) keywords.push_back(word.substr(word.find_first_not_of(' ')));
  return keywords;
}

TEST_F(Grammar, NamesItselfForEditors) {
  EXPECT_EQ(grammar_.at("scopeName"), "source.tapscenario");
  EXPECT_EQ(grammar_.at("fileTypes"), (nlohmann::json{"scenario", "inc"}));
}

TEST_F(Grammar, EveryStatementKeywordOfTheParserOpensAStatement) {
  const auto keywords = parser_keywords();
  EXPECT_GE(keywords.size(), 15u);
  for (const std::string& keyword : keywords) {
    EXPECT_TRUE(std::regex_search(keyword + " x", statement_)) << keyword;
  }
  EXPECT_FALSE(std::regex_search(std::string("sned noop"), statement_));
}

TEST_F(Grammar, EveryFrameKindCloseFormAndEventKindIsALanguageWord) {
  for (const auto& kind : scenario::all_frame_kinds()) EXPECT_TRUE(highlights(kind.name)) << kind.name;
  for (const auto& form : scenario::all_close_forms()) EXPECT_TRUE(highlights(form.name)) << form.name;
  for (const auto& kind : protocol::all_tap_event_kinds()) EXPECT_TRUE(highlights(kind.name)) << kind.name;
}

TEST_F(Grammar, EveryLineOfTheLibraryStartsWithAWordItKnows) {
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator("scenarios")) {
    if (entry.path().extension() != ".scenario") continue;
    ++files;
    std::stringstream text(read_file(entry.path()));
    int number = 0;
    bool in_table = false;  // a table's rows are the table rule's, not statements
    for (std::string line; std::getline(text, line);) {
      ++number;
      const std::size_t first = line.find_first_not_of(" \t");
      if (first == std::string::npos || line[first] == '#') continue;
      if (line[first] == '}') {
        in_table = false;
        continue;
      }
      if (in_table) continue;
      if (std::regex_search(line, table_)) {
        in_table = true;
        continue;
      }
      EXPECT_TRUE(std::regex_search(line, statement_)) << entry.path().string() << ":" << number << ": " << line;
    }
  }
  EXPECT_GE(files, 40u);
}

}  // namespace
}  // namespace tapharness
