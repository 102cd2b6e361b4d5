#include "services/kb/text/segmenter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "glog/logging.h"
#include "services/kb/text/analyzer.h"
#include "tests/support/test_util.h"

namespace hotline::kb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const Normalizer& SharedNormalizer() {
  static const Normalizer* normalizer = [] {
    absl::StatusOr<std::unique_ptr<Normalizer>> created = Normalizer::Create();
    CHECK(created.ok()) << created.status();
    return created->release();
  }();
  return *normalizer;
}

// The tokens of `text` as "kind:text[begin,end)@position", in output order.
std::vector<std::string> Describe(const Segmenter& segmenter, absl::string_view text,
                                  SegmentOptions options = {}) {
  absl::StatusOr<NormalizedText> normalized = SharedNormalizer().Normalize(text);
  CHECK(normalized.ok()) << normalized.status();
  std::vector<Piece> pieces;
  segmenter.Segment(std::u32string_view(normalized->text.data(), normalized->text.size()), options,
                    &pieces);
  std::vector<std::string> out;
  for (const Piece& p : pieces) {
    out.push_back(absl::StrCat(TokenKindName(p.kind), ":", normalized->Utf8(p.begin, p.end), "[",
                               p.begin, ",", p.end, ")@", p.position));
  }
  return out;
}

// Just the word sequence (words and unigrams), joined with '/', as jieba prints it.
std::string Words(const Segmenter& segmenter, absl::string_view text) {
  absl::StatusOr<NormalizedText> normalized = SharedNormalizer().Normalize(text);
  CHECK(normalized.ok()) << normalized.status();
  std::vector<Piece> pieces;
  segmenter.Segment(std::u32string_view(normalized->text.data(), normalized->text.size()),
                    {.sub_words = false, .bigrams = false}, &pieces);
  std::vector<std::string> words;
  for (const Piece& p : pieces) words.push_back(normalized->Utf8(p.begin, p.end));
  return absl::StrJoin(words, "/");
}

// A segmenter over small hand-made dictionaries, where every frequency is known.
class SmallDictionaryTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& contents) {
    const std::string path = dir_.Sub(name);
    std::ofstream(path) << contents;
    return path;
  }

  std::unique_ptr<Segmenter> Make(const std::string& main,
                                  const std::vector<std::string>& extra = {}) {
    SegmenterOptions options;
    options.main_dict_path = Write("main.txt", main);
    for (size_t i = 0; i < extra.size(); ++i) {
      options.extra_dict_paths.push_back(Write(absl::StrCat("extra", i, ".txt"), extra[i]));
    }
    absl::StatusOr<std::unique_ptr<Segmenter>> segmenter =
        Segmenter::Create(options, SharedNormalizer());
    CHECK(segmenter.ok()) << segmenter.status();
    return *std::move(segmenter);
  }

  testing::TempDir dir_;
};

constexpr char kCampusDictionary[] =
    "北京 100 ns\n"
    "大学 100 n\n"
    "北京大学 50 nt\n"
    "大学生 100 n\n"
    "生活 100 n\n";

TEST_F(SmallDictionaryTest, TakesTheMostProbablePath) {
  std::unique_ptr<Segmenter> s = Make(kCampusDictionary);
  // log 50 + log 100 - 2 log 450 beats three words (北京/大学/生活) and 北京/大学生/活.
  EXPECT_EQ(Words(*s, "北京大学生活"), "北京大学/生活");
  EXPECT_EQ(s->total_frequency(), 450);
}

TEST_F(SmallDictionaryTest, BreaksTiesTowardsTheLongerFirstWordLikeJieba) {
  // 甲乙/丙 and 甲/乙丙 have exactly the same probability.
  std::unique_ptr<Segmenter> s = Make("甲 10\n甲乙 10\n乙丙 10\n丙 10\n");
  EXPECT_EQ(Words(*s, "甲乙丙"), "甲乙/丙");
}

TEST_F(SmallDictionaryTest, UnknownCharactersBecomeUnigrams) {
  std::unique_ptr<Segmenter> s = Make(kCampusDictionary);
  EXPECT_THAT(Describe(*s, "丁北京", {.sub_words = false, .bigrams = false}),
              ElementsAre("unigram:丁[0,1)@0", "word:北京[1,3)@1"));
}

TEST_F(SmallDictionaryTest, ExtraWordsWithoutFrequencyWinAndDoNotChangeTheTotal) {
  constexpr char kMain[] = "起付 100\n线 100\n的 10000\n";
  std::unique_ptr<Segmenter> plain = Make(kMain);
  EXPECT_EQ(Words(*plain, "起付线"), "起付/线");
  std::unique_ptr<Segmenter> s = Make(kMain, {"# our words\n\n起付线\n"});
  EXPECT_EQ(Words(*s, "起付线"), "起付线");
  // 20 times as probable as 起付/线: 20 * 100 * 100 / 10200, rounded up.
  EXPECT_EQ(s->Frequency(U"起付线"), 20);
  EXPECT_EQ(s->total_frequency(), 10200);
  // Capped at the main dictionary's highest frequency.
  std::unique_ptr<Segmenter> capped = Make("起付 100\n线 100\n", {"起付线\n"});
  EXPECT_EQ(capped->Frequency(U"起付线"), 100);
}

TEST_F(SmallDictionaryTest, LaterDictionariesOverrideAndZeroRemoves) {
  std::unique_ptr<Segmenter> s = Make(kCampusDictionary, {"北京大学 0\n", "生活 7 n\n"});
  EXPECT_EQ(s->Frequency(U"北京大学"), 0);
  EXPECT_EQ(s->Frequency(U"生活"), 7);
  EXPECT_EQ(Words(*s, "北京大学"), "北京/大学");
}

TEST_F(SmallDictionaryTest, FoldsTraditionalEntriesButKeepsTheSimplifiedFrequency) {
  std::unique_ptr<Segmenter> s = Make("醫保 5\n医保 3\n電腦 7\nOK 2\n");
  EXPECT_EQ(s->Frequency(U"医保"), 3);  // the entry already in normal form wins
  EXPECT_EQ(s->Frequency(U"电脑"), 7);  // only a traditional entry: it is used
  EXPECT_EQ(s->Frequency(U"ok"), 2);
  EXPECT_EQ(s->Frequency(U"醫保"), 0);  // lookups are on normalized text
  EXPECT_EQ(Words(*s, "醫保電腦"), "医保/电脑");
}

TEST_F(SmallDictionaryTest, EmitsSubWordsAndBigramsAtTheirOffsets) {
  std::unique_ptr<Segmenter> s = Make("住房公积金 10\n住房 10\n公积金 10\n公积 10\n提取 10\n");
  EXPECT_THAT(Describe(*s, "住房公积金提取"),
              ElementsAre("word:住房公积金[0,5)@0", "subword:住房[0,2)@0", "subword:公积[2,4)@0",
                          "subword:公积金[2,5)@0", "bigram:住房[0,2)@0", "bigram:房公[1,3)@0",
                          "bigram:公积[2,4)@0", "bigram:积金[3,5)@0",
                          // The bigram across the word boundary takes the earlier word's position.
                          "bigram:金提[4,6)@0", "word:提取[5,7)@1", "bigram:提取[5,7)@1"));
}

TEST_F(SmallDictionaryTest, PunctuationAndSpacesSeparateRuns) {
  std::unique_ptr<Segmenter> s = Make(kCampusDictionary);
  EXPECT_THAT(Describe(*s, "北京，大学 生活"),
              ElementsAre("word:北京[0,2)@0", "bigram:北京[0,2)@0", "word:大学[3,5)@1",
                          "bigram:大学[3,5)@1", "word:生活[6,8)@2", "bigram:生活[6,8)@2"));
  EXPECT_THAT(Describe(*s, "，。！？…… \n\t《》"), IsEmpty());
  EXPECT_THAT(Describe(*s, ""), IsEmpty());
}

TEST_F(SmallDictionaryTest, ReportsBadDictionaries) {
  SegmenterOptions options;
  options.main_dict_path = dir_.Sub("absent.txt");
  absl::StatusOr<std::unique_ptr<Segmenter>> s = Segmenter::Create(options, SharedNormalizer());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.status().message(), HasSubstr("absent.txt"));

  options.main_dict_path = Write("bad.txt", "北京 100 ns\n大学 many n\n");
  s = Segmenter::Create(options, SharedNormalizer());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("bad.txt:2"));

  options.main_dict_path = Write("nofreq.txt", "北京\n");
  s = Segmenter::Create(options, SharedNormalizer());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
}

// jieba's own dictionary: results must equal jieba.cut(text, HMM=False) (python3-jieba 0.42.1).
class JiebaDictionaryTest : public ::testing::Test {
 protected:
  static const Segmenter& Jieba() {
    static const Segmenter* segmenter = [] {
      SegmenterOptions options;
      options.main_dict_path = kDefaultJiebaDictPath;
      absl::StatusOr<std::unique_ptr<Segmenter>> s = Segmenter::Create(options, SharedNormalizer());
      CHECK(s.ok()) << s.status();
      return s->release();
    }();
    return *segmenter;
  }
};

TEST_F(JiebaDictionaryTest, MatchesJiebaWithoutHmm) {
  EXPECT_EQ(Words(Jieba(), "我来到北京清华大学"), "我/来到/北京/清华大学");
  EXPECT_EQ(Words(Jieba(), "他来到了网易杭研大厦"), "他/来到/了/网易/杭/研/大厦");
  EXPECT_EQ(Words(Jieba(), "小明硕士毕业于中国科学院计算所后在日本京都大学深造"),
            "小/明/硕士/毕业/于/中国科学院/计算所/后/在/日本京都大学/深造");
  EXPECT_EQ(Words(Jieba(), "用人单位应当按照国家有关规定为劳动者缴纳社会保险费"),
            "用人单位/应当/按照/国家有关/规定/为/劳动者/缴纳/社会保险费");
  // Without our domain dictionary, jieba splits the hotline's terms badly.
  EXPECT_EQ(Words(Jieba(), "职工医保住院起付线"), "职工/医保/住院/起/付/线");
}

TEST_F(JiebaDictionaryTest, SubWordsMatchJiebaSearchMode) {
  // jieba.cut_for_search: 用人/单位/用人单位/应当/按照/国家/有关/国家有关/...
  std::vector<std::string> sub_words;
  for (const std::string& d :
       Describe(Jieba(), "用人单位应当按照国家有关规定", {.bigrams = false})) {
    if (d.rfind("subword:", 0) == 0) sub_words.push_back(d);
  }
  EXPECT_THAT(sub_words, ElementsAre("subword:用人[0,2)@0", "subword:单位[2,4)@0",
                                     "subword:国家[8,10)@3", "subword:有关[10,12)@3"));
}

TEST_F(JiebaDictionaryTest, LetterAndDigitRunsAreSingleWords) {
  EXPECT_EQ(Words(Jieba(), "C++和c#，3.5%的covid-19病例，AT&T做B超"),
            "c++/和/c#/3.5/的/covid-19/病例/at&t/做/b超");
  // A dictionary word never ends inside a letter run: "ok" is not found inside "book".
  EXPECT_EQ(Words(Jieba(), "facebook上的iPhone15"), "facebook/上/的/iphone15");
  EXPECT_EQ(Words(Jieba(), "3#楼 e-mail x_y a--b"), "3#/楼/e-mail/x_y/a/b");
}

}  // namespace
}  // namespace hotline::kb
