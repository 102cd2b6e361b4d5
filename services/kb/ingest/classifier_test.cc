// Classification with the real taxonomy (data/taxonomy.txt): one realistic entry per top-level
// category, the fallback, title weighting, and the file format's errors.
#include "services/kb/ingest/classifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "services/kb/ingest/test_analyzer.h"

namespace hotline::kb::ingest {
namespace {

using ::testing::HasSubstr;

const Classifier& SharedClassifier() {
  static const Classifier* const classifier = [] {
    absl::StatusOr<std::unique_ptr<Classifier>> loaded =
        Classifier::Load(KB_INGEST_DATA_DIR "/taxonomy.txt", TestAnalyzer());
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return loaded.ok() ? loaded->release() : nullptr;
  }();
  return *classifier;
}

std::string TopLevel(const std::string& path) { return path.substr(0, path.find('/')); }

struct Example {
  const char* title;
  const char* text;
  const char* path;
};

// Entries as the knowledge base holds them: a policy, a service guide or a hotline Q&A.
const Example kExamples[] = {
    {"长沙市城乡居民基本养老保险实施办法",
     "年满16周岁、不在国家机关和事业单位工作的城乡居民，可以参加城乡居民养老保险。"
     "参保人员年满60周岁、累计缴费满15年的，可以按月领取基本养老金。",
     "社会保障/养老保险"},
    {"职工医保门诊统筹报销政策问答",
     "问：职工医保门诊统筹的起付线是多少？答：在职职工一个自然年度内起付线为200元，"
     "报销比例为60%，年度最高支付限额为3000元，由统筹基金支付。",
     "医疗保障/职工医保"},
    {"租房提取住房公积金办事指南",
     "无房缴存职工租赁住房的，可以申请提取住房公积金。所需材料：身份证、租赁合同。"
     "办理渠道：公积金中心网上服务大厅或手机APP，即时到账。",
     "住房保障/住房公积金"},
    {"人才落户办理指南",
     "具有全日制大专以上学历的人员，可以凭毕业证和身份证申请在本市落户，"
     "派出所受理后核发准迁证，户口迁移手续一次办结。",
     "户籍管理/户口迁移"},
    {"驾驶证期满换证",
     "机动车驾驶人应当于驾驶证有效期满前九十日内，向驾驶证核发地或者核发地以外的车辆管理所申请换证"
     "，"
     "可通过交管12123手机APP办理。",
     "交通出行/驾驶证"},
    {"农民工工资被拖欠怎么办",
     "用人单位拖欠劳动者工资的，劳动者可以向劳动保障监察机构投诉，也可以申请劳动仲裁。"
     "对恶意欠薪的，依法追究责任。",
     "劳动就业/劳动关系与工资"},
    {"2024年义务教育阶段学校招生入学工作通知",
     "公办小学、初中实行划片招生、免试就近入学。随迁子女凭居住证和父母就业证明申请入学，"
     "学区划分由教育局公布。",
     "教育/义务教育"},
    {"预付卡消费纠纷如何维权",
     "经营者停业后不退还预付卡余额的，消费者可以拨打12315投诉，市场监督管理部门依法调解消费纠纷，"
     "督促经营者退款。",
     "市场监管/消费维权"},
    {"小区物业费收费标准及业主委员会备案",
     "物业服务企业应当公示物业费收费标准。业主大会选举产生业主委员会后，"
     "应当向街道办事处备案，维修资金的使用须经业主表决。",
     "城乡建设/物业管理"},
    {"最低生活保障申请审核确认办法",
     "共同生活的家庭成员人均收入低于当地低保标准，且家庭财产状况符合规定的，可以申请最低生活保障。"
     "乡镇人民政府负责审核确认，民政部门负责监督。",
     "民政/社会救助"},
    {"关于加强建筑工地扬尘污染防治的通知",
     "施工单位应当落实工地围挡、物料覆盖、车辆冲洗等扬尘防治措施，改善空气质量。"
     "生态环境部门对大气污染违法行为依法查处。",
     "生态环境/大气污染"},
    {"中小企业应急转贷资金使用指南",
     "对生产经营正常、贷款即将到期但暂时资金周转困难的中小企业，提供应急转贷资金，"
     "帮助企业续贷，降低融资成本，缓解融资难题。",
     "企业服务/融资支持"},
    {"儿童预防接种服务指南",
     "儿童出生后应当按照国家免疫规划按时接种疫苗，家长可以携带预防接种证到社区卫生服务中心接种。",
     "卫生健康/疾病预防"},
    {"农村宅基地审批管理办法",
     "农村村民申请宅基地建房的，应当以户为单位向村集体经济组织提出申请，经乡镇人民政府审核批准后，"
     "方可开工建设。一户只能拥有一处宅基地。",
     "农业农村/农村土地与建房"},
    {"A级旅游景区门票优惠政策",
     "对60周岁以上老年人、现役军人、残疾人等群体，全市国有A级景区门票实行免费或者半价优惠，"
     "游客凭有效证件购票。",
     "文化旅游/旅游服务"},
    {"电子社保卡申领指南",
     "参保人可以通过国家政务服务平台或者各地社保卡服务渠道申领电子社保卡，"
     "电子社保卡与实体社会保障卡一一对应，可用于身份凭证、信息查询和业务办理。",
     "社会保障/社会保障卡"},
};

TEST(ClassifierTest, TaxonomyHasTheTopLevelCategoriesOfPublicServices) {
  std::set<std::string> top_level;
  for (const std::string& path : SharedClassifier().CategoryPaths()) {
    top_level.insert(TopLevel(path));
  }
  for (const char* category :
       {"社会保障", "医疗保障", "住房保障", "户籍管理", "交通出行", "劳动就业", "教育", "市场监管",
        "城乡建设", "民政", "生态环境", "企业服务"}) {
    EXPECT_TRUE(top_level.count(category)) << category;
  }
  EXPECT_GE(top_level.size(), 12u);
  // Every top-level category has sub-categories.
  for (const std::string& top : top_level) {
    bool has_child = false;
    for (const std::string& path : SharedClassifier().CategoryPaths()) {
      has_child = has_child || path.rfind(top + "/", 0) == 0;
    }
    EXPECT_TRUE(has_child) << top;
  }
}

TEST(ClassifierTest, OneEntryPerTopLevelCategory) {
  std::set<std::string> covered;
  for (const Example& example : kExamples) {
    absl::StatusOr<Classification> result =
        SharedClassifier().Classify(example.title, example.text);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->path, example.path) << example.title;
    EXPECT_GT(result->score, 0) << example.title;
    ASSERT_FALSE(result->top_level.empty());
    EXPECT_EQ(result->top_level.front().first, TopLevel(example.path)) << example.title;
    covered.insert(TopLevel(example.path));
  }
  EXPECT_GE(covered.size(), 12u);
}

TEST(ClassifierTest, NothingScoresGivesOther) {
  absl::StatusOr<Classification> result =
      SharedClassifier().Classify("今天天气怎么样", "明天多云转晴，气温二十度左右。");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->path, "其他");
  EXPECT_EQ(result->score, 0);
}

TEST(ClassifierTest, TheTitleOutweighsMentionsInTheBody) {
  // A housing-fund guide that mentions social security and medical insurance in passing.
  absl::StatusOr<Classification> result = SharedClassifier().Classify(
      "住房公积金贷款申请指南",
      "申请人须连续缴存满6个月。社保、医保缴纳记录可作为收入证明的补充材料。");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->path, "住房保障/住房公积金");
}

TEST(ClassifierTest, StopsAtTheParentWhenNoSubCategoryIsClear) {
  absl::StatusOr<std::unique_ptr<Classifier>> classifier = Classifier::Parse(
      "[医疗保障]\n医保 3\n[医疗保障/异地就医]\n异地就医 5\n[医疗保障/生育保险]\n生育保险 5\n",
      "inline", TestAnalyzer());
  ASSERT_TRUE(classifier.ok()) << classifier.status();
  absl::StatusOr<Classification> general =
      (*classifier)->Classify("医保政策问答", "医保报销需要哪些材料？");
  ASSERT_TRUE(general.ok());
  EXPECT_EQ(general->path, "医疗保障");
  absl::StatusOr<Classification> specific =
      (*classifier)->Classify("医保政策问答", "异地就医如何备案？");
  ASSERT_TRUE(specific.ok());
  EXPECT_EQ(specific->path, "医疗保障/异地就医");
}

TEST(ClassifierTest, RulesAndPhrasesTheAnalyserSplits) {
  absl::StatusOr<std::unique_ptr<Classifier>> classifier = Classifier::Parse(
      "# a comment\n"
      "[就业]\n"
      "text:灵活就业人员 4   # a substring rule\n"
      "[户籍]\n"
      "title:户口 1\n"
      "户口本丢失 3          # split by the analyser, matched as a sequence of words\n",
      "inline", TestAnalyzer());
  ASSERT_TRUE(classifier.ok()) << classifier.status();
  absl::StatusOr<Classification> flexible =
      (*classifier)->Classify("参保缴费", "灵活就业人员可以按月缴费。");
  ASSERT_TRUE(flexible.ok());
  EXPECT_EQ(flexible->path, "就业");
  EXPECT_EQ(flexible->score, 4);
  absl::StatusOr<Classification> lost = (*classifier)->Classify("补办", "户口本丢失了怎么补办？");
  ASSERT_TRUE(lost.ok());
  EXPECT_EQ(lost->path, "户籍");
  EXPECT_EQ(lost->score, 3);
}

TEST(ClassifierTest, FormatErrorsNameTheLine) {
  auto error_of = [](absl::string_view contents) {
    absl::StatusOr<std::unique_ptr<Classifier>> classifier =
        Classifier::Parse(contents, "taxonomy.txt", TestAnalyzer());
    EXPECT_FALSE(classifier.ok());
    return std::string(classifier.status().message());
  };
  EXPECT_THAT(error_of("医保 3\n"), HasSubstr("taxonomy.txt:1: a keyword or rule comes before"));
  EXPECT_THAT(error_of("[医疗保障]\n医保 很多\n"), HasSubstr("taxonomy.txt:2: weight '很多'"));
  EXPECT_THAT(error_of("[医疗保障\n"), HasSubstr("taxonomy.txt:1: a category line must end"));
  EXPECT_THAT(error_of("[医疗保障//异地]\n"), HasSubstr("empty segment"));
  EXPECT_THAT(error_of("[a]\n医保 1 2\n"), HasSubstr("taxonomy.txt:2: expected 'term [weight]'"));
  EXPECT_THAT(error_of("# nothing\n"), HasSubstr("no category"));
  EXPECT_EQ(Classifier::Load("/nonexistent/taxonomy.txt", TestAnalyzer()).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace hotline::kb::ingest
