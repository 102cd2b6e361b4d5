// Metadata: document numbers, dates, agencies, and the dates of a document's life cycle.
#include "services/kb/ingest/metadata.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace hotline::kb::ingest {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;

std::string CanonicalOf(absl::string_view text) {
  std::optional<DocNumber> number = ParseDocNumber(text);
  return number.has_value() ? number->Canonical() : "<none>";
}

TEST(DocNumberTest, EveryVariantHasOneCanonicalForm) {
  for (const char* variant :
       {"湘政发〔2023〕5号", "湘政发[2023]5号", "湘政发［2023］5号", "湘政发（2023）5号",
        "湘政发(2023)5号", "湘政发【2023】5号", "湘政发〔2023〕第5号", "湘政发〔２０２３〕５号",
        "湘政发 〔2023〕 5 号", "湘政发〔2023〕005号", "湘政发〔2023]5号"}) {
    EXPECT_EQ(CanonicalOf(variant), "湘政发〔2023〕5号") << variant;
  }
  EXPECT_EQ(CanonicalOf("国办发〔2022〕12号"), "国办发〔2022〕12号");
  EXPECT_EQ(CanonicalOf("人社部规〔2021〕3号"), "人社部规〔2021〕3号");
  EXPECT_EQ(CanonicalOf("长住金发[2019]3号"), "长住金发〔2019〕3号");
}

TEST(DocNumberTest, NotDocumentNumbers) {
  EXPECT_EQ(CanonicalOf("〔2023〕5号"), "<none>");                 // no issuer
  EXPECT_EQ(CanonicalOf("管理办法（2023年修订）"), "<none>");      // a year in brackets, no 号
  EXPECT_EQ(CanonicalOf("湘政发〔23〕5号"), "<none>");             // two-digit year
  EXPECT_EQ(CanonicalOf("湘政发〔2023〕0号"), "<none>");           // no serial
  EXPECT_EQ(CanonicalOf("湘政发〔2023〕5号 另有内容"), "<none>");  // not the whole text
}

TEST(DocNumberTest, FoundInRunningTextWithoutTheWordsBeforeIt) {
  const std::string text =
      "根据湘政发〔2023〕5号文件精神，按照国办发[2022]12号和人社部规（2021）3号要求，"
      "省政府关于印发《住房公积金管理办法》的通知湘政办发〔2020〕第7号同时废止。";
  std::vector<std::string> found;
  for (const DocNumberMatch& match : FindDocNumbers(text)) {
    found.push_back(match.number.Canonical());
    // Offsets cover the number as written.
    EXPECT_EQ(text.substr(match.begin, match.end - match.begin).find(match.number.prefix), 0u);
  }
  EXPECT_THAT(found, ElementsAre("湘政发〔2023〕5号", "国办发〔2022〕12号", "人社部规〔2021〕3号",
                                 "湘政办发〔2020〕7号"));
  const std::vector<DocNumberMatch> matches = FindDocNumbers("见湘政发(2023)5号。");
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(std::string("见湘政发(2023)5号。")
                .substr(matches[0].begin, matches[0].end - matches[0].begin),
            "湘政发(2023)5号");
}

TEST(DateTest, EveryFormGivesIsoDates) {
  for (const char* form :
       {"二〇二三年五月九日", "二○二三年五月九日", "二零二三年五月九日", "二O二三年五月九日",
        "2023年5月9日", "2023年05月09日", "2023 年 5 月 9 日", "２０２３年５月９日", "2023-05-09",
        "2023-5-9", "2023.5.9", "2023/05/09", "2023年5月9号"}) {
    EXPECT_THAT(ParseDate(form), Optional(std::string("2023-05-09"))) << form;
  }
  EXPECT_THAT(ParseDate("二〇二三年十二月三十一日"), Optional(std::string("2023-12-31")));
  EXPECT_THAT(ParseDate("二〇二四年二月二十九日"), Optional(std::string("2024-02-29")));
  EXPECT_THAT(ParseDate("二〇二〇年十月十日"), Optional(std::string("2020-10-10")));
}

TEST(DateTest, InvalidOrIncompleteDatesAreNotDates) {
  EXPECT_EQ(ParseDate("2023年2月30日"), std::nullopt);
  EXPECT_EQ(ParseDate("二〇二三年二月二十九日"), std::nullopt);
  EXPECT_EQ(ParseDate("2023年13月1日"), std::nullopt);
  EXPECT_EQ(ParseDate("2023年5月"), std::nullopt);
  EXPECT_EQ(ParseDate("2023-05/09"), std::nullopt);
  EXPECT_THAT(FindDates("版本2023.5.9.1和编号12023-05-09"), IsEmpty());
}

TEST(DateTest, FindsDatesInTextWithOffsets) {
  const std::string text = "本办法自2023年6月1日起施行，有效期至二〇二五年十二月三十一日。";
  const std::vector<DateMatch> dates = FindDates(text);
  ASSERT_EQ(dates.size(), 2u);
  EXPECT_EQ(dates[0].date, "2023-06-01");
  EXPECT_EQ(text.substr(dates[0].begin, dates[0].end - dates[0].begin), "2023年6月1日");
  EXPECT_EQ(dates[1].date, "2025-12-31");
  EXPECT_EQ(text.substr(dates[1].begin, dates[1].end - dates[1].begin), "二〇二五年十二月三十一日");
}

TEST(AgencyTest, NamesAreNormalised) {
  EXPECT_EQ(NormalizeAgencyName(" 湖 南 省 人 民 政 府 "), "湖南省人民政府");
  EXPECT_EQ(NormalizeAgencyName("长沙市住房公积金管理中心(长沙市住房公积金管理委员会办公室)"),
            "长沙市住房公积金管理中心（长沙市住房公积金管理委员会办公室）");
  EXPECT_EQ(NormalizeAgencyName("湖南省人力资源和社会保障厅　"), "湖南省人力资源和社会保障厅");
  for (const char* name : {"湖南省人民政府", "湖南省人民政府办公厅", "长沙市医疗保障局",
                           "湖南省财政厅", "长沙市住房公积金管理委员会", "长沙市住房公积金管理中心",
                           "国家税务总局湖南省税务局", "中共湖南省委", "国务院办公厅"}) {
    EXPECT_TRUE(LooksLikeAgency(name)) << name;
  }
  for (const char* name : {"关于调整住房公积金提取政策的通知", "局",
                           "本办法由市医疗保障局负责解释。", "（此件主动公开）", "2023年5月9日"}) {
    EXPECT_FALSE(LooksLikeAgency(name)) << name;
  }
}

// An official document as published: title, number, addressees, body, signature and date.
constexpr char kNotice[] =
    "# 湖南省人民政府办公厅关于调整住房公积金提取政策的通知\n"
    "湘政办发〔2023〕18号\n"
    "各市州人民政府，省政府各厅委、各直属机构：\n"
    "为支持缴存职工解决基本住房需求，根据国务院《住房公积金管理条例》和湘政发〔2019〕3号文件，"
    "经省人民政府同意，现就有关事项通知如下。\n"
    "一、无房职工租赁住房的，每年可提取住房公积金不超过12000元。\n"
    "二、本通知自2023年6月1日起施行，有效期5年。2019年1月1日起施行的原规定同时废止。\n"
    "湖南省人民政府办公厅\n"
    "二〇二三年五月九日\n"
    "（此件主动公开）";

TEST(ExtractMetadataTest, OfficialNotice) {
  const DocumentMetadata metadata =
      ExtractMetadata("湖南省人民政府办公厅关于调整住房公积金提取政策的通知", kNotice);
  EXPECT_EQ(metadata.doc_number, "湘政办发〔2023〕18号");
  EXPECT_THAT(metadata.doc_numbers, ElementsAre("湘政办发〔2023〕18号", "湘政发〔2019〕3号"));
  EXPECT_THAT(metadata.agencies, ElementsAre("湖南省人民政府办公厅"));
  EXPECT_EQ(metadata.publish_date, "2023-05-09");
  // "2019年1月1日起施行的原规定" is about the old rule; 有效期5年 counts from the effective date.
  EXPECT_EQ(metadata.effective_date, "2023-06-01");
  EXPECT_EQ(metadata.expiry_date, "2028-05-31");
}

TEST(ExtractMetadataTest, WebsiteHeaderWithLabels) {
  const std::string text =
      "# 长沙市医疗保障局 长沙市财政局关于做好2024年度城乡居民医保参保缴费工作的通知\n"
      "发文字号：长医保发[2023]21号 发布日期：2023.9.15 来源：长沙市医疗保障局\n"
      "长沙市医疗保障局 长沙市财政局\n"
      "各区县（市）医疗保障局、财政局：\n"
      "2024年度城乡居民医保个人缴费标准为每人每年380元。\n"
      "本通知自印发之日起施行，有效期至2024年12月31日。\n"
      "长沙市医疗保障局 长沙市财政局\n"
      "2023年9月12日";
  const DocumentMetadata metadata =
      ExtractMetadata("关于做好2024年度城乡居民医保参保缴费工作的通知", text);
  EXPECT_EQ(metadata.doc_number, "长医保发〔2023〕21号");
  EXPECT_THAT(metadata.agencies, ElementsAre("长沙市医疗保障局", "长沙市财政局"));
  // The labelled publish date wins over the date under the signature (成文日期).
  EXPECT_EQ(metadata.publish_date, "2023-09-15");
  EXPECT_EQ(metadata.effective_date, "2023-09-15");
  EXPECT_EQ(metadata.expiry_date, "2024-12-31");
}

TEST(ExtractMetadataTest, ValidityInChineseYearsAndRanges) {
  DocumentMetadata metadata = ExtractMetadata(
      "", "株洲市人民政府\n本办法自2024年3月1日起实施，有效期为三年。\n2024年2月1日");
  EXPECT_EQ(metadata.publish_date, "2024-02-01");
  EXPECT_EQ(metadata.effective_date, "2024-03-01");
  EXPECT_EQ(metadata.expiry_date, "2027-02-28");
  EXPECT_THAT(metadata.agencies, ElementsAre("株洲市人民政府"));

  metadata = ExtractMetadata("", "本规定有效期自2022年1月1日起至2026年12月31日止。");
  EXPECT_EQ(metadata.expiry_date, "2026-12-31");
  EXPECT_EQ(metadata.publish_date, "");
}

TEST(ExtractMetadataTest, NumberInTheTitleAndNothingElse) {
  const DocumentMetadata metadata = ExtractMetadata(
      "国务院办公厅关于印发“十四五”全民医疗保障规划的通知（国办发〔2021〕36号）",
      "各省、自治区、直辖市人民政府：\n《“十四五”全民医疗保障规划》已经国务院同意，现印发给你们。");
  EXPECT_EQ(metadata.doc_number, "国办发〔2021〕36号");
  EXPECT_THAT(metadata.agencies, IsEmpty());
  EXPECT_EQ(metadata.publish_date, "");
  EXPECT_EQ(metadata.effective_date, "");
  EXPECT_EQ(metadata.expiry_date, "");
}

}  // namespace
}  // namespace hotline::kb::ingest
