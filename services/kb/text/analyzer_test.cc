// The analyser with the real dictionaries: jieba's (Debian's python3-jieba) plus our domain
// dictionary and stop words from services/kb/text/data.
#include "services/kb/text/analyzer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace hotline::kb {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

AnalyzerOptions TestOptions() {
  AnalyzerOptions options;
  options.jieba_dict_path = kDefaultJiebaDictPath;
  options.extra_dict_paths = {KB_TEXT_DATA_DIR "/domain_dict.txt"};
  options.stopwords_path = KB_TEXT_DATA_DIR "/stopwords.txt";
  return options;
}

const Analyzer& SharedAnalyzer() {
  static const Analyzer* analyzer = [] {
    absl::StatusOr<std::unique_ptr<Analyzer>> created = Analyzer::Create(TestOptions());
    CHECK(created.ok()) << created.status();
    return created->release();
  }();
  return *analyzer;
}

std::vector<Token> Analyze(absl::string_view text, AnalyzeMode mode = AnalyzeMode::kIndex) {
  absl::StatusOr<std::vector<Token>> tokens = SharedAnalyzer().Analyze(text, mode);
  EXPECT_TRUE(tokens.ok()) << tokens.status();
  return tokens.ok() ? *std::move(tokens) : std::vector<Token>{};
}

// The texts of the tokens of the given kinds, in order.
std::vector<std::string> Texts(const std::vector<Token>& tokens, std::vector<TokenKind> kinds) {
  std::vector<std::string> out;
  for (const Token& t : tokens) {
    if (std::find(kinds.begin(), kinds.end(), t.kind) != kinds.end()) out.push_back(t.text);
  }
  return out;
}

// The word sequence: what a reader would call the segmentation.
std::vector<std::string> Words(const std::vector<Token>& tokens) {
  return Texts(tokens, {TokenKind::kWord, TokenKind::kUnigram});
}

// Code points [start, end) of a UTF-8 string: what a highlight of a token covers.
std::string Slice(const std::string& s, int start, int end) {
  std::vector<size_t> at;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) at.push_back(i);
  }
  at.push_back(s.size());
  return s.substr(at[start], at[end] - at[start]);
}

Token Make(std::string text, int start, int end, TokenKind kind, int position) {
  return Token{std::move(text), start, end, kind, position};
}

TEST(AnalyzerTest, SegmentsAHousingFundQuestion) {
  EXPECT_THAT(Words(Analyze("公积金提取条件")), ElementsAre("公积金", "提取", "条件"));
}

TEST(AnalyzerTest, DomainDictionaryKeepsHotlineTerms) {
  const std::vector<Token> tokens = Analyze("职工医保住院起付线");
  EXPECT_THAT(Words(tokens), ElementsAre("职工", "医保", "住院", "起付线"));
  EXPECT_THAT(tokens, Contains(Make("医保", 2, 4, TokenKind::kWord, 1)));
  EXPECT_THAT(tokens, Contains(Make("起付线", 6, 9, TokenKind::kWord, 3)));
  EXPECT_THAT(Words(Analyze("退捕渔民办理灵活就业参保")),
              ElementsAre("退捕渔民", "办理", "灵活就业", "参保"));
}

TEST(AnalyzerTest, OffsetsOnMixedWidthChineseAndLatinText) {
  const std::string text = "ＡＢＣ公司２０２３年医保，iPhone15";
  const std::vector<Token> tokens = Analyze(text);
  EXPECT_THAT(
      tokens,
      ElementsAre(
          Make("abc", 0, 3, TokenKind::kWord, 0), Make("公司", 3, 5, TokenKind::kWord, 1),
          Make("公司", 3, 5, TokenKind::kBigram, 1), Make("2023", 5, 9, TokenKind::kWord, 2),
          Make("年", 9, 10, TokenKind::kUnigram, 3), Make("年医", 9, 11, TokenKind::kBigram, 3),
          Make("医保", 10, 12, TokenKind::kWord, 4), Make("医保", 10, 12, TokenKind::kBigram, 4),
          Make("iphone15", 13, 21, TokenKind::kWord, 5)));
  // The offsets select the original characters, whatever their width or case.
  EXPECT_EQ(Slice(text, 0, 3), "ＡＢＣ");
  EXPECT_EQ(Slice(text, 5, 9), "２０２３");
  EXPECT_EQ(Slice(text, 10, 12), "医保");
  EXPECT_EQ(Slice(text, 13, 21), "iPhone15");
}

TEST(AnalyzerTest, OffsetsSurviveExpandingCharacters) {
  const std::string text = "第㈠条ﬁle";  // "㈠" becomes three characters, "ﬁ" two
  EXPECT_THAT(Analyze(text), ElementsAre(Make("第", 0, 1, TokenKind::kUnigram, 0),
                                         Make("一", 1, 2, TokenKind::kUnigram, 1),
                                         Make("条", 2, 3, TokenKind::kUnigram, 2),
                                         Make("file", 3, 6, TokenKind::kWord, 3)));
  EXPECT_EQ(Slice(text, 3, 6), "ﬁle");
}

TEST(AnalyzerTest, TraditionalInputMatchesSimplified) {
  const std::string text = "請辦理醫保卡";
  const std::vector<Token> tokens = Analyze(text);
  EXPECT_THAT(Words(tokens), ElementsAre("请", "办理", "医保卡"));
  EXPECT_THAT(tokens, Contains(Make("医保", 3, 5, TokenKind::kSubWord, 2)));
  EXPECT_EQ(Slice(text, 3, 5), "醫保");
  // The same tokens as the simplified spelling, so either finds the other.
  std::vector<std::string> simplified =
      Texts(Analyze("请办理医保卡"),
            {TokenKind::kWord, TokenKind::kSubWord, TokenKind::kBigram, TokenKind::kUnigram});
  EXPECT_EQ(Texts(tokens,
                  {TokenKind::kWord, TokenKind::kSubWord, TokenKind::kBigram, TokenKind::kUnigram}),
            simplified);
}

TEST(AnalyzerTest, QueryModeDropsStopWordsButKeepsBigramsAndPositions) {
  const std::string question = "请问公积金怎么提取？";
  EXPECT_THAT(Words(Analyze(question, AnalyzeMode::kIndex)),
              ElementsAre("请问", "公积金", "怎么", "提取"));
  const std::vector<Token> query = Analyze(question, AnalyzeMode::kQuery);
  EXPECT_THAT(Words(query), ElementsAre("公积金", "提取"));
  EXPECT_THAT(query, Contains(Make("公积金", 2, 5, TokenKind::kWord, 1)));
  EXPECT_THAT(query, Contains(Make("提取", 7, 9, TokenKind::kWord, 3)));  // not renumbered
  EXPECT_THAT(Texts(query, {TokenKind::kBigram}), Contains("请问"));
  EXPECT_THAT(Texts(query, {TokenKind::kBigram}), Contains("怎么"));
}

TEST(AnalyzerTest, StopWordRemovalIsAFlag) {
  AnalyzerOptions options = TestOptions();
  options.query_drops_stop_words = false;
  absl::StatusOr<std::unique_ptr<Analyzer>> analyzer = Analyzer::Create(options);
  ASSERT_TRUE(analyzer.ok()) << analyzer.status();
  absl::StatusOr<std::vector<Token>> query =
      (*analyzer)->Analyze("请问公积金怎么提取", AnalyzeMode::kQuery);
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_THAT(Words(*query), ElementsAre("请问", "公积金", "怎么", "提取"));
  EXPECT_TRUE((*analyzer)->IsStopWord("请问"));
}

TEST(AnalyzerTest, IsStopWordNormalizesItsArgument) {
  EXPECT_TRUE(SharedAnalyzer().IsStopWord("请问"));
  EXPECT_TRUE(SharedAnalyzer().IsStopWord("請問"));
  EXPECT_TRUE(SharedAnalyzer().IsStopWord("The"));
  EXPECT_FALSE(SharedAnalyzer().IsStopWord("公积金"));
  EXPECT_FALSE(SharedAnalyzer().IsStopWord("\xFF"));
}

TEST(AnalyzerTest, BigramsCoverEveryAdjacentPair) {
  const std::vector<Token> tokens = Analyze("起付线");
  EXPECT_THAT(tokens, Contains(Make("起付", 0, 2, TokenKind::kBigram, 0)));
  EXPECT_THAT(tokens, Contains(Make("付线", 1, 3, TokenKind::kBigram, 0)));
  // An out-of-vocabulary name still yields its pairs.
  EXPECT_THAT(Texts(Analyze("张晓岚申请"), {TokenKind::kBigram}),
              ElementsAre("张晓", "晓岚", "岚申", "申请"));
}

TEST(AnalyzerTest, LongWordsAlsoGiveTheirSubWords) {
  const std::vector<Token> tokens = Analyze("住房公积金");
  EXPECT_THAT(Words(tokens), ElementsAre("住房公积金"));
  EXPECT_THAT(tokens, Contains(Make("住房", 0, 2, TokenKind::kSubWord, 0)));
  EXPECT_THAT(tokens, Contains(Make("公积金", 2, 5, TokenKind::kSubWord, 0)));
}

TEST(AnalyzerTest, EmptyAndPunctuationOnlyInputGiveNoTokens) {
  EXPECT_THAT(Analyze(""), IsEmpty());
  EXPECT_THAT(Analyze("，。！？……  \n\t「」《》"), IsEmpty());
  EXPECT_THAT(Analyze("?!... --- ###", AnalyzeMode::kQuery), IsEmpty());
  // Only stop words: nothing left of a query but its bigrams.
  EXPECT_THAT(Words(Analyze("请问怎么办？", AnalyzeMode::kQuery)), IsEmpty());
}

TEST(AnalyzerTest, InvalidUtf8IsAnErrorNotACrash) {
  for (const std::string& text : {std::string("医保\xFF"), std::string("\xE5\x8C"),
                                  std::string("\xC0\xAF"), std::string("a\0\x80", 3)}) {
    absl::StatusOr<std::vector<Token>> tokens = SharedAnalyzer().Analyze(text, AnalyzeMode::kQuery);
    ASSERT_FALSE(tokens.ok());
    EXPECT_EQ(tokens.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(tokens.status().message(), HasSubstr("UTF-8"));
  }
  absl::StatusOr<std::vector<Token>> tokens =
      SharedAnalyzer().Analyze("医保\xFF", AnalyzeMode::kIndex);
  EXPECT_THAT(tokens.status().message(), HasSubstr("byte offset 6"));
}

TEST(AnalyzerTest, HandlesA100KilobyteInput) {
  const std::string sentence = "职工医保住院起付线是多少？ＡＢＣ公司2023年iPhone15，";
  std::string text;
  int sentences = 0;
  while (text.size() < 100 * 1024) {
    text += sentence;
    ++sentences;
  }
  int length = 0;  // in code points
  for (char c : text) length += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  for (AnalyzeMode mode : {AnalyzeMode::kIndex, AnalyzeMode::kQuery}) {
    const std::vector<Token> tokens = Analyze(text, mode);
    ASSERT_FALSE(tokens.empty());
    int previous_position = 0;
    int starts = 0;
    for (const Token& t : tokens) {
      ASSERT_GE(t.start, 0);
      ASSERT_LT(t.start, t.end);
      ASSERT_LE(t.end, length);
      ASSERT_GE(t.position, previous_position);
      previous_position = t.position;
      if (t.text == "起付线") {
        EXPECT_EQ(Slice(text, t.start, t.end), "起付线");
        ++starts;
      }
    }
    EXPECT_EQ(starts, sentences);
  }
}

TEST(AnalyzerTest, ConcurrentCallsAgree) {
  const std::string text = "ＡＢＣ公司２０２３年醫保，iPhone15；请问住房公积金怎么提取？";
  const std::vector<Token> expected = Analyze(text, AnalyzeMode::kQuery);
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < 300; ++i) {
        absl::StatusOr<std::vector<Token>> tokens =
            SharedAnalyzer().Analyze(text, AnalyzeMode::kQuery);
        if (!tokens.ok() || *tokens != expected) ++mismatches[k];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(mismatches, ElementsAre(0, 0, 0, 0));
}

TEST(AnalyzerTest, CreateNamesTheMissingFile) {
  AnalyzerOptions options = TestOptions();
  options.jieba_dict_path = "/nonexistent/jieba/dict.txt";
  absl::StatusOr<std::unique_ptr<Analyzer>> analyzer = Analyzer::Create(options);
  EXPECT_EQ(analyzer.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(analyzer.status().message(), HasSubstr("/nonexistent/jieba/dict.txt"));

  options = TestOptions();
  options.stopwords_path = "/nonexistent/stopwords.txt";
  analyzer = Analyzer::Create(options);
  EXPECT_EQ(analyzer.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(analyzer.status().message(), HasSubstr("/nonexistent/stopwords.txt"));
}

// Throughput on a real corpus, one core. Not run by default. Prepare one passage per line, e.g.
//   zcat ../shared/data/lawref/documents.jsonl.gz | python3 -c 'import sys, json
//   [print(json.loads(l)["body"]) for l in sys.stdin]' > /tmp/bodies.txt
// then run, with KB_TEXT_BENCH_CORPUS=/tmp/bodies.txt in the environment,
//   build/services/kb/text/kb_text_test --gtest_also_run_disabled_tests
//   --gtest_filter='*CorpusThroughput*'
TEST(AnalyzerTest, DISABLED_CorpusThroughput) {
  const char* path = std::getenv("KB_TEXT_BENCH_CORPUS");
  if (path == nullptr) GTEST_SKIP() << "set KB_TEXT_BENCH_CORPUS to a text file";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  int64_t characters = 0;
  for (const std::string& line : lines) {
    for (char c : line) characters += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }
  const Analyzer& analyzer = SharedAnalyzer();
  int64_t tokens = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const std::string& line : lines) {
    absl::StatusOr<std::vector<Token>> analyzed = analyzer.Analyze(line, AnalyzeMode::kIndex);
    ASSERT_TRUE(analyzed.ok()) << analyzed.status();
    tokens += static_cast<int64_t>(analyzed->size());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << lines.size() << " lines, " << characters << " characters, " << tokens
            << " tokens in " << seconds << " s: " << characters / seconds / 1e6
            << " million characters/s\n";
}

}  // namespace
}  // namespace hotline::kb
