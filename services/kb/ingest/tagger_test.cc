// Tagging by TF-IDF with jieba's IDF table (Debian's python3-jieba) and our domain dictionary.
#include "services/kb/ingest/tagger.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/kb/ingest/test_analyzer.h"

namespace hotline::kb::ingest {
namespace {

using ::testing::Contains;
using ::testing::Not;

TaggerOptions TestOptions() {
  TaggerOptions options;
  options.domain_dict_paths = {KB_TEXT_DATA_DIR "/domain_dict.txt"};
  return options;
}

const Tagger& SharedTagger() {
  static const Tagger* const tagger = [] {
    absl::StatusOr<std::unique_ptr<Tagger>> created = Tagger::Create(TestOptions(), TestAnalyzer());
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->release() : nullptr;
  }();
  return *tagger;
}

std::vector<std::string> Words(const std::vector<Tag>& tags) {
  std::vector<std::string> words;
  for (const Tag& tag : tags) words.push_back(tag.word);
  return words;
}

constexpr char kHousingFundPolicy[] =
    "长沙市住房公积金管理委员会关于调整住房公积金缴存和贷款政策的通知\n"
    "为进一步发挥住房公积金制度作用，支持缴存职工刚性和改善性住房需求，经市住房公积金管理委员会同意"
    "，"
    "现就调整住房公积金缴存和贷款政策通知如下：\n"
    "一、住房公积金缴存基数上限调整为上一年度本市城镇非私营单位在岗职工月平均工资的3倍，"
    "缴存比例为5%至12%。\n"
    "二、缴存职工家庭首次申请住房公积金贷款购买自住住房的，贷款最高额度提高至70万元；"
    "多子女家庭购买首套住房的，贷款额度上浮20%。\n"
    "三、无房职工租赁住房的，可按月提取住房公积金支付房租。\n"
    "四、本通知自2023年6月1日起施行。";

TEST(TaggerTest, HousingFundPolicy) {
  absl::StatusOr<std::vector<Tag>> tags = SharedTagger().Tags(kHousingFundPolicy, 8);
  ASSERT_TRUE(tags.ok()) << tags.status();
  ASSERT_EQ(tags->size(), 8u);
  // The subject comes first; the policy's own terms follow.
  EXPECT_EQ(tags->front().word, "住房公积金");
  EXPECT_THAT(Words(*tags), Contains("缴存"));
  EXPECT_THAT(Words(*tags), Contains("贷款"));
  // Best first.
  for (size_t i = 1; i < tags->size(); ++i) EXPECT_GE((*tags)[i - 1].weight, (*tags)[i].weight);
  // No stop words, single characters or numbers.
  for (const Tag& tag : *tags) {
    EXPECT_FALSE(TestAnalyzer()->IsStopWord(tag.word)) << tag.word;
    EXPECT_GE(tag.word.size(), 6u) << tag.word;  // two or more Chinese characters
    EXPECT_EQ(tag.word.find_first_of("0123456789"), std::string::npos) << tag.word;
  }
  EXPECT_THAT(Words(*tags), Not(Contains("2023")));
  EXPECT_THAT(Words(*tags), Not(Contains("的")));
  EXPECT_THAT(Words(*tags), Not(Contains("通知")));  // a kind of document, not a subject
}

TEST(TaggerTest, IdfFromJiebaMedianForUnknownWords) {
  const Tagger& tagger = SharedTagger();
  EXPECT_GT(tagger.median_idf(), 5.0);
  EXPECT_LT(tagger.median_idf(), 15.0);
  // 住房 is in jieba's table and common; 住房公积金 is not in it and gets the median.
  EXPECT_LT(tagger.Idf("住房"), tagger.median_idf());
  EXPECT_EQ(tagger.Idf("住房公积金"), tagger.median_idf());
  EXPECT_EQ(tagger.Idf("某某不存在的词语"), tagger.median_idf());
  // Traditional spellings are normalised like everything else.
  EXPECT_EQ(tagger.Idf("醫療"), tagger.Idf("医疗"));
}

TEST(TaggerTest, DomainWordsAreBoosted) {
  const std::string text = "门诊统筹起付线调整，门诊统筹报销比例提高，参保人员就医更方便。";
  TaggerOptions no_boost = TestOptions();
  no_boost.domain_boost = 1.0;
  absl::StatusOr<std::unique_ptr<Tagger>> plain = Tagger::Create(no_boost, TestAnalyzer());
  ASSERT_TRUE(plain.ok()) << plain.status();
  absl::StatusOr<std::vector<Tag>> boosted_tags = SharedTagger().Tags(text, 20);
  absl::StatusOr<std::vector<Tag>> plain_tags = (*plain)->Tags(text, 20);
  ASSERT_TRUE(boosted_tags.ok() && plain_tags.ok());
  auto weight_of = [](const std::vector<Tag>& tags, const std::string& word) {
    for (const Tag& tag : tags) {
      if (tag.word == word) return tag.weight;
    }
    return 0.0;
  };
  EXPECT_DOUBLE_EQ(weight_of(*boosted_tags, "起付线"), 2.0 * weight_of(*plain_tags, "起付线"));
  EXPECT_DOUBLE_EQ(weight_of(*boosted_tags, "就医"), weight_of(*plain_tags, "就医"));
  EXPECT_EQ(boosted_tags->front().word, "门诊统筹");
}

TEST(TaggerTest, EdgeCases) {
  absl::StatusOr<std::vector<Tag>> none = SharedTagger().Tags("", 5);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  absl::StatusOr<std::vector<Tag>> zero = SharedTagger().Tags(kHousingFundPolicy, 0);
  ASSERT_TRUE(zero.ok());
  EXPECT_TRUE(zero->empty());
  EXPECT_EQ(SharedTagger().Tags("\xFF", 5).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TaggerTest, MissingOrMalformedIdfTable) {
  TaggerOptions options = TestOptions();
  options.idf_path = "/nonexistent/idf.txt";
  EXPECT_EQ(Tagger::Create(options, TestAnalyzer()).status().code(), absl::StatusCode::kNotFound);
  options = TestOptions();
  options.domain_dict_paths = {"/nonexistent/dict.txt"};
  EXPECT_EQ(Tagger::Create(options, TestAnalyzer()).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace hotline::kb::ingest
