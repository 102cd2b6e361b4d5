// De-duplication: one entry per document whatever source, markup or typing it came in, and the
// newest version of a document superseding the older ones.
#include "services/kb/ingest/dedup.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/kb/ingest/cleaner.h"
#include "services/kb/ingest/test_analyzer.h"

namespace hotline::kb::ingest {
namespace {

using ::testing::ElementsAre;

// The 2023 housing-fund withdrawal rules of a city, as the regulatory-document system has them.
constexpr char kWithdrawalRules2023[] =
    "# 长沙市住房公积金提取管理办法\n"
    "来源：长沙市住房公积金管理中心\n"
    "## 第一章 总则\n"
    "第一条 为规范住房公积金提取行为，维护缴存职工合法权益，根据《住房公积金管理条例》等规定，"
    "结合本市实际，制定本办法。\n"
    "第二条 本办法适用于在本市缴存住房公积金的职工提取本人住房公积金账户存储余额的行为。\n"
    "第三条 长沙住房公积金管理中心负责本办法的组织实施，各管理部按照职责办理提取业务。\n"
    "## 第二章 提取条件\n"
    "第四条 缴存职工有下列情形之一的，可以申请提取本人住房公积金账户内的存储余额：\n"
    "（一）购买、建造、翻建、大修自住住房的；\n"
    "（二）偿还购房贷款本息的；\n"
    "（三）租赁住房且本人及配偶在本市无自有住房的；\n"
    "（四）离休、退休的；\n"
    "（五）完全丧失劳动能力，并与单位终止劳动关系的；\n"
    "（六）出境定居的；\n"
    "（七）享受城镇最低生活保障的。\n"
    "第五条 职工购买自住住房提取的，提取总额不超过购房总价款，且应当在取得不动产权证书或者"
    "购房合同备案之日起两年内申请。\n"
    "第六条 职工偿还购房贷款本息提取的，每年可提取一次，提取额度不超过当期已还贷款本息。\n"
    "第七条 无房职工租赁住房提取的，每年可提取一次，提取额度不超过15000元；租赁公共租赁住房的，"
    "按照实际租金提取。\n"
    "第八条 职工离休、退休的，可以提取本人住房公积金账户全部余额，并同时办理销户手续。\n"
    "第九条 职工死亡或者被宣告死亡的，其继承人、受遗赠人可以提取职工住房公积金账户内的存储余额。\n"
    "## 第三章 办理程序\n"
    "第十条 职工可通过长沙住房公积金网上服务大厅、手机APP或者服务网点申请提取，"
    "并如实提供身份证明和提取情形的证明材料。\n"
    "第十一条 管理中心应当自受理申请之日起3个工作日内作出准予提取或者不准提取的决定，"
    "并通知申请人；准予提取的，由受委托银行办理支付手续。\n"
    "第十二条 职工对不准提取决定有异议的，可以向管理中心申请复核，管理中心应当自收到复核申请之日起"
    "5个工作日内作出复核决定。\n"
    "## 第四章 监督管理\n"
    "第十三条 职工以伪造、变造材料等不正当手段骗提住房公积金的，管理中心应当责令其退回所提金额，"
    "五年内不予受理其提取和贷款申请，并依法记入信用档案。\n"
    "第十四条 管理中心工作人员在提取业务中滥用职权、玩忽职守、徇私舞弊的，依法给予处分。\n"
    "## 第五章 附则\n"
    "第十五条 本办法由长沙住房公积金管理中心负责解释。\n"
    "第十六条 本办法自2023年6月1日起施行。";

DedupDocument Document(std::string id, std::string source, std::string text,
                       std::string title = "长沙市住房公积金提取管理办法",
                       std::string doc_number = "长住金发〔2023〕5号",
                       std::string publish_date = "2023-05-09") {
  return DedupDocument{std::move(id),    std::move(source),     std::move(text),
                       std::move(title), std::move(doc_number), std::move(publish_date)};
}

class DedupIndexTest : public ::testing::Test {
 protected:
  DedupIndexTest() : index_(TestAnalyzer()) {}

  DedupResult Add(const DedupDocument& document) {
    absl::StatusOr<DedupResult> result = index_.Add(document);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : DedupResult();
  }

  DedupResult Check(const DedupDocument& document) {
    absl::StatusOr<DedupResult> result = index_.Check(document);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : DedupResult();
  }

  DedupIndex index_;
};

TEST(Sha256HexTest, KnownDigest) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SimHashTest, SimilarFeatureSetsAreClose) {
  std::vector<std::string> features;
  for (int i = 0; i < 200; ++i) features.push_back(absl::StrCat("shingle", i));
  const uint64_t original = SimHash(features);
  features[7] = "changed";
  EXPECT_LE(HammingDistance(original, SimHash(features)), 3);
  std::vector<std::string> other;
  for (int i = 0; i < 200; ++i) other.push_back(absl::StrCat("other", i));
  EXPECT_GT(HammingDistance(original, SimHash(other)), 10);
  EXPECT_EQ(SimHash({}), 0u);
  EXPECT_EQ(HammingDistance(0, ~uint64_t{0}), 64);
}

TEST_F(DedupIndexTest, FirstDocumentIsNew) {
  const DedupResult result = Add(Document("doc-1", "regulations", kWithdrawalRules2023));
  EXPECT_EQ(result.verdict, DedupVerdict::kNew);
  EXPECT_EQ(result.other_id, "");
  EXPECT_EQ(index_.size(), 1u);
}

TEST_F(DedupIndexTest, ExactDuplicateByNormalisedText) {
  Add(Document("doc-1", "regulations", kWithdrawalRules2023));
  const DedupResult same = Add(Document("doc-2", "regulations", kWithdrawalRules2023));
  EXPECT_EQ(same.verdict, DedupVerdict::kExactDuplicate);
  EXPECT_EQ(same.other_id, "doc-1");
  EXPECT_EQ(same.similarity, 1.0);
  EXPECT_EQ(index_.size(), 1u);  // merged, not added
}

// The document as a website serves it: furniture around the text, which cleaning removes.
std::string WrapInHtml(absl::string_view text) {
  std::string html =
      "<html><head><title>长沙市住房公积金提取管理办法</title></head><body>"
      "<div class=\"nav\">首页 | 政务公开</div><div class=\"article\">";
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, "# ")) {
      absl::StrAppend(&html, "<h1>", line, "</h1><p>【字体：大 中 小】 打印本页</p>");
    } else if (absl::ConsumePrefix(&line, "## ")) {
      absl::StrAppend(&html, "<h2>", line, "</h2>\n");
    } else {
      absl::StrAppend(&html, "<p>", line, "</p>\n");
    }
  }
  absl::StrAppend(&html, "</div><div class=\"footer\">版权所有 长沙市人民政府</div></body></html>");
  return html;
}

std::string Clean(const std::string& html) {
  absl::StatusOr<std::string> cleaned = ToPlainText(html, SourceFormat::kHtml);
  EXPECT_TRUE(cleaned.ok()) << cleaned.status();
  return BoilerplateRemover().Remove("changsha.gov.cn", cleaned.ok() ? *cleaned : "");
}

TEST_F(DedupIndexTest, VariantsOfOneDocumentFromOtherSourcesMergeIntoIt) {
  Add(Document("doc-1", "regulations", kWithdrawalRules2023));

  // Other whitespace: re-wrapped lines, spaces, an ideographic space.
  const std::string rewrapped = absl::StrReplaceAll(
      kWithdrawalRules2023, {{"\n", "\n\n  "}, {"，", "， "}, {"第七条 ", "第七条\u3000"}});
  const DedupResult whitespace = Add(Document("doc-ws", "website", rewrapped));
  EXPECT_EQ(whitespace.verdict, DedupVerdict::kExactDuplicate)
      << DedupVerdictName(whitespace.verdict);
  EXPECT_EQ(whitespace.other_id, "doc-1");

  // Full-width digits and letters.
  const std::string full_width = absl::StrReplaceAll(
      kWithdrawalRules2023,
      {{"15000", "１５０００"}, {"2023", "２０２３"}, {"APP", "ＡＰＰ"}, {"3个", "３个"}});
  const DedupResult width = Add(Document("doc-fw", "department-db", full_width));
  EXPECT_EQ(width.verdict, DedupVerdict::kExactDuplicate) << DedupVerdictName(width.verdict);

  // Wrapped in an HTML page with its furniture, then cleaned.
  const DedupResult wrapped =
      Add(Document("doc-html", "changsha.gov.cn", Clean(WrapInHtml(kWithdrawalRules2023))));
  EXPECT_EQ(wrapped.verdict, DedupVerdict::kExactDuplicate) << DedupVerdictName(wrapped.verdict);

  // Another source named in the text, published there a day later: the attribution line is not
  // part of the document.
  const std::string other_source = absl::StrReplaceAll(
      kWithdrawalRules2023, {{"来源：长沙市住房公积金管理中心", "来源：长沙市人民政府门户网站"}});
  const DedupResult source = Add(Document("doc-src", "www.changsha.gov.cn", other_source,
                                          "长沙市住房公积金提取管理办法", "", "2023-05-10"));
  EXPECT_EQ(source.verdict, DedupVerdict::kExactDuplicate) << DedupVerdictName(source.verdict);

  // All of these at once, and a line the original does not have: a near duplicate.
  const std::string copy = absl::StrReplaceAll(
      other_source,
      {{"15000", "１５０００"}, {"起施行。", "起施行。\n附件：长沙市住房公积金提取申请表"}});
  const DedupResult near = Add(Document("doc-near", "hunan.gov.cn", Clean(WrapInHtml(copy)),
                                        "长沙市住房公积金提取管理办法", "", "2023-05-12"));
  EXPECT_EQ(near.verdict, DedupVerdict::kNearDuplicate) << DedupVerdictName(near.verdict);
  EXPECT_EQ(near.other_id, "doc-1");
  EXPECT_GT(near.distance, 0);
  EXPECT_LE(near.distance, 3);
  EXPECT_EQ(near.similarity, 1.0 - near.distance / 64.0);

  // One entry, every source behind it.
  EXPECT_EQ(index_.size(), 1u);
  EXPECT_THAT(index_.Sources("doc-1"),
              ElementsAre("regulations", "website", "department-db", "changsha.gov.cn",
                          "www.changsha.gov.cn", "hunan.gov.cn"));
}

TEST_F(DedupIndexTest, AnotherDocumentIsNew) {
  Add(Document("doc-1", "regulations", kWithdrawalRules2023));
  const DedupResult other = Add(
      Document("doc-2", "regulations",
               "# 长沙市城乡居民基本医疗保险实施办法\n第一条 为建立统一的城乡居民基本医疗保险制度，"
               "保障城乡居民基本医疗需求，制定本办法。\n第二条 "
               "本市行政区域内不属于职工基本医疗保险覆盖范围的"
               "城乡居民，可以参加城乡居民医保。\n第三条 "
               "城乡居民医保实行个人缴费和政府补助相结合的筹资方式。",
               "长沙市城乡居民基本医疗保险实施办法", "长政发〔2023〕9号", "2023-07-01"));
  EXPECT_EQ(other.verdict, DedupVerdict::kNew);
  EXPECT_EQ(index_.size(), 2u);
}

// The amended rules: a higher rent limit, a new case, a shorter time limit, a new number.
std::string Amended2024() {
  return absl::StrReplaceAll(
      kWithdrawalRules2023,
      {{"提取额度不超过15000元", "提取额度不超过18000元，多子女家庭可按实际租金提取"},
       {"（五）完全丧失劳动能力，并与单位终止劳动关系的。",
        "（五）完全丧失劳动能力，并与单位终止劳动关系的；\n（六）本人及配偶、父母既有住房加装电梯的"
        "。"},
       {"3个工作日", "1个工作日"},
       {"第六条 本办法自2023年6月1日起施行。",
        "第六条 "
        "本办法自2024年3月1日起施行。2023年5月9日印发的《长沙市住房公积金提取管理办法》同时废止"
        "。"}});
}

TEST_F(DedupIndexTest, NewerVersionSupersedesTheOlder) {
  Add(Document("rules-2023", "regulations", kWithdrawalRules2023));
  const DedupResult newer = Add(Document("rules-2024", "regulations", Amended2024(),
                                         "长沙市住房公积金提取管理办法（2024年修订）",
                                         "长住金发〔2024〕2号", "2024-02-20"));
  EXPECT_EQ(newer.verdict, DedupVerdict::kNewerVersion) << DedupVerdictName(newer.verdict);
  EXPECT_EQ(newer.other_id, "rules-2023");
  EXPECT_EQ(index_.size(), 2u);

  // An older version arriving late is superseded by the newest one known.
  const std::string rules_2019 = absl::StrReplaceAll(
      kWithdrawalRules2023, {{"15000", "12000"}, {"2023年6月1日", "2019年7月1日"}});
  const DedupResult older = Add(Document("rules-2019", "regulations", rules_2019,
                                         "关于印发《长沙市住房公积金提取管理暂行办法》的通知",
                                         "长住金发〔2019〕11号", "2019-06-15"));
  EXPECT_EQ(older.verdict, DedupVerdict::kOlderVersion) << DedupVerdictName(older.verdict);
  EXPECT_EQ(older.other_id, "rules-2024");
}

TEST_F(DedupIndexTest, NearlyIdenticalTextWithAnotherNumberIsAVersionNotADuplicate) {
  Add(Document("rules-2023", "regulations", kWithdrawalRules2023));
  // Only the limit and the date changed: near-identical text, yet a new document.
  const std::string amended = absl::StrReplaceAll(
      kWithdrawalRules2023, {{"15000", "16000"}, {"2023年6月1日", "2024年1月1日"}});
  const DedupResult result =
      Add(Document("rules-2023b", "regulations", amended, "长沙市住房公积金提取管理办法",
                   "长住金发〔2023〕30号", "2023-12-01"));
  EXPECT_EQ(result.verdict, DedupVerdict::kNewerVersion) << DedupVerdictName(result.verdict);
  EXPECT_EQ(result.other_id, "rules-2023");
  EXPECT_LE(result.distance, 3);  // it would have been a near duplicate

  // Without numbers, a year between publications also makes it a version; a day does not.
  DedupIndex index(TestAnalyzer());
  ASSERT_TRUE(index
                  .Add(Document("a", "s", kWithdrawalRules2023, "长沙市住房公积金提取管理办法", "",
                                "2023-05-09"))
                  .ok());
  absl::StatusOr<DedupResult> year_later =
      index.Check(Document("b", "s", amended, "长沙市住房公积金提取管理办法", "", "2024-05-09"));
  ASSERT_TRUE(year_later.ok());
  EXPECT_EQ(year_later->verdict, DedupVerdict::kNewerVersion)
      << DedupVerdictName(year_later->verdict);
  absl::StatusOr<DedupResult> day_later =
      index.Check(Document("b", "s", amended, "长沙市住房公积金提取管理办法", "", "2023-05-10"));
  ASSERT_TRUE(day_later.ok());
  EXPECT_EQ(day_later->verdict, DedupVerdict::kNearDuplicate)
      << DedupVerdictName(day_later->verdict);
}

TEST_F(DedupIndexTest, SameNameFromAnotherIssuerIsAnotherDocument) {
  Add(Document("cs", "regulations", kWithdrawalRules2023));
  const std::string zhuzhou = absl::StrReplaceAll(
      kWithdrawalRules2023,
      {{"长沙", "株洲"},
       {"15000", "10000"},
       {"3个工作日", "5个工作日"},
       {"第四条 职工偿还购房贷款本息提取的，提取额度不超过当期已还贷款本息。\n", ""}});
  const DedupResult result = Add(Document("zz", "regulations", zhuzhou, "住房公积金提取管理办法",
                                          "株住金发〔2024〕1号", "2024-01-05"));
  EXPECT_EQ(result.verdict, DedupVerdict::kNew) << DedupVerdictName(result.verdict);
}

TEST_F(DedupIndexTest, TitleKeyIgnoresWrappersAndQualifiers) {
  const std::string key = index_.TitleKey("长沙市住房公积金提取管理办法");
  EXPECT_EQ(key, "长沙市住房公积金提取管理办法");
  EXPECT_EQ(index_.TitleKey("关于印发《长沙市住房公积金提取管理办法》的通知"), key);
  EXPECT_EQ(index_.TitleKey("长沙市住房公积金提取管理办法（2024年修订）"), key);
  EXPECT_EQ(index_.TitleKey("长沙市住房公积金提取管理暂行办法"), key);
  EXPECT_EQ(index_.TitleKey("長沙市住房公積金提取管理辦法"), key);
  EXPECT_EQ(index_.TitleKey("通知"), "");
}

TEST_F(DedupIndexTest, NearDuplicatesAreFoundAmongManyDocuments) {
  // Many unrelated documents: the band index must still lead to the right one.
  std::mt19937 random(12345);
  const std::vector<std::string> words = {
      "社保", "医保", "公积金", "户口", "居住证", "驾驶证", "低保", "养老", "就业", "培训",
      "补贴", "申请", "办理",   "材料", "窗口",   "网上",   "审核", "发放", "标准", "对象"};
  for (int d = 0; d < 300; ++d) {
    std::string text;
    for (int w = 0; w < 120; ++w)
      absl::StrAppend(&text, words[random() % words.size()], w % 12 == 11 ? "。" : "，");
    ASSERT_TRUE(index_
                    .Insert(Document(absl::StrCat("filler-", d), "s", text, absl::StrCat("文件", d),
                                     "", ""))
                    .ok());
  }
  Add(Document("doc-1", "regulations", kWithdrawalRules2023));
  const std::string copy = absl::StrReplaceAll(
      kWithdrawalRules2023, {{"起施行。", "起施行。\n附件：长沙市住房公积金提取申请表"}});
  const DedupResult result = Check(Document("doc-2", "hunan.gov.cn", copy));
  EXPECT_EQ(result.verdict, DedupVerdict::kNearDuplicate) << DedupVerdictName(result.verdict);
  EXPECT_EQ(result.other_id, "doc-1");
}

TEST_F(DedupIndexTest, LargerThresholdFindsLooserCopies) {
  // A copy edited in several places: beyond the default distance, within a looser one.
  const std::string edited =
      absl::StrReplaceAll(kWithdrawalRules2023,
                          {{"# 长沙市住房公积金提取管理办法\n", ""},
                           {"维护缴存职工合法权益", "维护缴存职工的合法权益"},
                           {"3个工作日", "三个工作日"},
                           {"第十四条 管理中心工作人员在提取业务中滥用职权、玩忽职守、徇私舞弊的，"
                            "依法给予处分。\n",
                            ""},
                           {"第八条 职工离休、退休的", "第八条 职工达到法定退休年龄的"},
                           {"起施行。", "起施行。\n（此件主动公开）"}});
  Add(Document("doc-1", "regulations", kWithdrawalRules2023));
  const DedupResult strict = Check(Document("doc-2", "web", edited, "", "", ""));
  EXPECT_EQ(strict.verdict, DedupVerdict::kNew) << DedupVerdictName(strict.verdict);

  DedupOptions options;
  options.max_distance = 12;
  DedupIndex loose(TestAnalyzer(), options);
  ASSERT_TRUE(loose.Add(Document("doc-1", "regulations", kWithdrawalRules2023)).ok());
  absl::StatusOr<DedupResult> result = loose.Check(Document("doc-2", "web", edited, "", "", ""));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->verdict, DedupVerdict::kNearDuplicate) << DedupVerdictName(result->verdict);
  EXPECT_GT(result->distance, 3);
  EXPECT_LE(result->distance, 12);
}

TEST_F(DedupIndexTest, ConcurrentAddsOfOneDocumentKeepOneEntry) {
  // Two importers racing with the same document: one creates the entry, the others merge into it.
  std::vector<std::thread> threads;
  std::vector<DedupResult> results(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t, &results] {
      absl::StatusOr<DedupResult> result = index_.Add(
          Document(absl::StrCat("doc-", t), absl::StrCat("source-", t), kWithdrawalRules2023));
      if (result.ok()) results[t] = *result;
    });
  }
  for (std::thread& thread : threads) thread.join();
  int created = 0;
  for (const DedupResult& result : results) {
    if (result.verdict == DedupVerdict::kNew)
      ++created;
    else
      EXPECT_EQ(result.verdict, DedupVerdict::kExactDuplicate);
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(index_.size(), 1u);
}

TEST_F(DedupIndexTest, RemoveAndIds) {
  Add(Document("doc-1", "regulations", kWithdrawalRules2023));
  absl::StatusOr<DedupResult> again = index_.Add(Document("doc-1", "regulations", "别的内容"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(index_.Add(Document("", "s", "内容")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(index_.Add(Document("bad", "s", "\xFF")).status().code(),
            absl::StatusCode::kInvalidArgument);

  EXPECT_TRUE(index_.Remove("doc-1"));
  EXPECT_FALSE(index_.Remove("doc-1"));
  EXPECT_EQ(index_.size(), 0u);
  EXPECT_EQ(Add(Document("doc-2", "regulations", kWithdrawalRules2023)).verdict,
            DedupVerdict::kNew);
}

}  // namespace
}  // namespace hotline::kb::ingest
