// The search engine on small hand-made entries, with the real jieba dictionary and our
// domain dictionary, stop words and synonyms.
#include "services/kb/engine/search_index.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "services/kb/engine/lawref.h"
#include "services/kb/engine/passages.h"
#include "services/kb/engine/persistent_index.h"
#include "services/kb/kb_test_support.h"
#include "tests/support/test_util.h"

namespace hotline::kb {
namespace {

DocumentInput Policy(const std::string& id, const std::string& title, const std::string& body,
                     v1::EntryStatus status = v1::ENTRY_STATUS_IN_FORCE,
                     const std::string& region = "湖南/长沙",
                     const std::string& category = "社会保障/医疗保险") {
  DocumentInput d;
  d.id = id;
  d.title = title;
  d.status = status;
  d.region = region;
  d.category_path = category;
  d.agencies = {"长沙市医疗保障局"};
  d.publish_date = "2023-05-09";
  d.passages = SplitRegulation(body, /*articles_only=*/false);
  return d;
}

class SearchIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    index_ = std::make_unique<SearchIndex>(test_support::RealAnalyzer());
    ASSERT_TRUE(index_->LoadSynonyms("services/kb/engine/data/synonyms.txt").ok());
    ASSERT_TRUE(
        index_
            ->Upsert(Policy(
                "p1", "长沙市职工基本医疗保险实施办法",
                "## 第三章 待遇\n第十条 职工基本医疗保险住院起付线为800元，退休人员为600元。\n"
                "第十一条 参保职工在定点医疗机构门诊就医的费用，按规定报销。"))
            .ok());
    ASSERT_TRUE(index_
                    ->Upsert(Policy("p2", "长沙市住房公积金提取管理办法",
                                    "第五条 职工购买自住住房的，可以提取住房公积金。\n第六条 "
                                    "提取住房公积金应当提交身份证明。",
                                    v1::ENTRY_STATUS_IN_FORCE, "湖南/长沙", "住房保障/住房公积金"))
                    .ok());
    ASSERT_TRUE(index_
                    ->Upsert(Policy("p3", "长沙市职工医疗保险暂行办法（旧）",
                                    "第八条 职工住院起付线为1000元。", v1::ENTRY_STATUS_REPEALED))
                    .ok());
    ASSERT_TRUE(index_
                    ->Upsert(Policy("p4", "株洲市城乡居民医疗保险办法",
                                    "第九条 城乡居民住院起付线为500元。", v1::ENTRY_STATUS_IN_FORCE,
                                    "湖南/株洲"))
                    .ok());
    // Unrelated entries, so that word statistics look like those of a real collection.
    const char* kOther[] = {
        "第一条 为了维护道路交通秩序，预防和减少交通事故，制定本办法。",
        "第二条 机动车驾驶人应当遵守道路交通安全法律、法规的规定。",
        "第三条 用人单位应当按时足额支付劳动者工资。",
        "第四条 经营者应当保证其提供的商品或者服务符合保障人身、财产安全的要求。",
        "第五条 物业服务企业应当按照物业服务合同的约定提供服务。",
        "第六条 居民申请居住证应当提交本人居民身份证。",
        "第七条 学校应当建立健全安全管理制度。",
        "第八条 公共场所禁止吸烟。"};
    int n = 0;
    for (const char* body : kOther) {
      ++n;
      ASSERT_TRUE(index_
                      ->Upsert(Policy(absl::StrCat("o", n), absl::StrCat("其他办法", n), body,
                                      v1::ENTRY_STATUS_IN_FORCE, "湖南/长沙", "其他"))
                      .ok());
    }
  }

  SearchResult Search(const std::string& text, SearchQuery q = {}) {
    q.text = text;
    absl::StatusOr<SearchResult> r = index_->Search(q);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : SearchResult{};
  }

  std::unique_ptr<SearchIndex> index_;
};

TEST(PassagesTest, SplitsArticlesAndKeepsLabels) {
  std::vector<PassageText> p = SplitRegulation(
      "前言不计。\n## 第一章 总则\n第一条 目的。\n续行。\n  第十条之一 补充。\n## 第二章 附则\n"
      "### 第一节 施行\n第一百四十四条 施行。",
      /*articles_only=*/true);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].label, "第一条");
  EXPECT_EQ(p[0].heading, "第一章 总则");
  EXPECT_EQ(p[0].text, "第一条 目的。\n续行。");
  EXPECT_EQ(p[1].label, "第十条之一");
  EXPECT_EQ(p[2].label, "第一百四十四条");
  EXPECT_EQ(p[2].heading, "第二章 附则 / 第一节 施行");
  EXPECT_EQ(ArticleLabel("第几条"), "");
  EXPECT_EQ(ArticleLabel("依照第十条规定"), "");
  // Without articles, headed sections become the passages.
  std::vector<PassageText> guide = SplitSections("## 办理条件\n本市户籍。\n## 所需材料\n身份证。");
  ASSERT_EQ(guide.size(), 2u);
  EXPECT_EQ(guide[1].label, "所需材料");
}

TEST_F(SearchIndexTest, FindsTheClauseWithEverydayWordsAndHighlightsIt) {
  SearchResult r = Search("职工医保住院起付线是多少");
  ASSERT_FALSE(r.hits.empty());

  EXPECT_EQ(r.hits[0].entry_id, "p1");
  EXPECT_EQ(r.hits[0].passage_label, "第十条");
  EXPECT_EQ(r.hits[0].heading, "第三章 待遇");
  // Highlights land exactly on query words in the snippet.
  bool saw_threshold = false;
  for (const auto& [start, end] : r.hits[0].highlights) {
    std::string word = test_support::CodePointSlice(r.hits[0].snippet, start, end);
    saw_threshold = saw_threshold || word.find("起付线") != std::string::npos;
  }
  EXPECT_TRUE(saw_threshold);
  // Synonym: 公积金 finds 住房公积金.
  SearchResult fund = Search("公积金提取条件");
  ASSERT_FALSE(fund.hits.empty());
  EXPECT_EQ(fund.hits[0].entry_id, "p2");
}

TEST_F(SearchIndexTest, RepealedEntriesOnlyOnRequestAndMarked) {
  for (const PassageHit& h : Search("住院起付线").hits) EXPECT_NE(h.entry_id, "p3");
  SearchQuery all;
  all.include_inactive = true;
  bool found = false;
  for (const PassageHit& h : Search("住院起付线", all).hits) {
    if (h.entry_id == "p3") {
      found = true;
      EXPECT_EQ(h.status, v1::ENTRY_STATUS_REPEALED);
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(SearchIndexTest, FiltersAndFacets) {
  SearchQuery q;
  q.filter.regions = {"湖南/株洲"};
  SearchResult r = Search("住院起付线", q);
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_EQ(r.hits[0].entry_id, "p4");

  SearchQuery facets;
  facets.facets = {v1::FACET_FIELD_REGION, v1::FACET_FIELD_CATEGORY};
  r = Search("住院起付线", facets);
  ASSERT_EQ(r.facets.size(), 2u);
  std::map<std::string, int64_t> regions(r.facets[0].second.begin(), r.facets[0].second.end());
  EXPECT_EQ(regions["湖南/长沙"], 1);  // p1 (p3 is repealed and excluded)
  EXPECT_EQ(regions["湖南/株洲"], 1);

  SearchQuery by_category;
  by_category.filter.category_prefixes = {"住房保障"};
  r = Search("提取", by_category);
  ASSERT_FALSE(r.hits.empty());
  for (const PassageHit& h : r.hits) EXPECT_EQ(h.entry_id, "p2");
  by_category.filter.category_prefixes = {"住房"};  // Whole segments only.
  EXPECT_TRUE(Search("提取", by_category).hits.empty());

  SearchQuery dated;
  dated.filter.publish_from = "2024-01-01";
  EXPECT_TRUE(Search("住院起付线", dated).hits.empty());

  SearchQuery by_agency;
  by_agency.filter.agencies = {"长沙市医疗保障局"};
  EXPECT_FALSE(Search("住院起付线", by_agency).hits.empty());
  by_agency.filter.agencies = {"长沙市住房公积金管理中心"};
  EXPECT_TRUE(Search("住院起付线", by_agency).hits.empty());

  SearchQuery by_kind;
  by_kind.filter.kinds = {v1::ENTRY_KIND_QA_PAIR};
  EXPECT_TRUE(Search("住院起付线", by_kind).hits.empty());
  by_kind.filter.kinds = {v1::ENTRY_KIND_POLICY_DOCUMENT};
  EXPECT_FALSE(Search("住院起付线", by_kind).hits.empty());

  // Asking for a status returns exactly those entries, inactive ones included.
  SearchQuery by_status;
  by_status.filter.statuses = {v1::ENTRY_STATUS_REPEALED};
  SearchResult repealed = Search("住院起付线", by_status);
  ASSERT_EQ(repealed.hits.size(), 1u);
  EXPECT_EQ(repealed.hits[0].entry_id, "p3");
}

TEST_F(SearchIndexTest, UpsertReplacesAndRemoveDeletes) {
  ASSERT_TRUE(index_
                  ->Upsert(Policy("p4", "株洲市城乡居民医疗保险办法",
                                  "第九条 城乡居民门诊统筹年度限额为300元。",
                                  v1::ENTRY_STATUS_IN_FORCE, "湖南/株洲"))
                  .ok());
  for (const PassageHit& h : Search("住院起付线").hits) EXPECT_NE(h.entry_id, "p4");
  EXPECT_EQ(Search("门诊统筹限额").hits.at(0).entry_id, "p4");
  EXPECT_TRUE(index_->Remove("p4"));
  EXPECT_FALSE(index_->Remove("p4"));
  SearchQuery q;
  q.filter.regions = {"湖南/株洲"};
  q.text = "门诊统筹限额";
  absl::StatusOr<SearchResult> r = index_->Search(q);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->hits.empty());
}

// Found by fuzzing: the same query twice could score a passage 2.50 and then 2.08, and so
// reorder the hits and make page tokens (offsets into that order) repeat or skip results. The
// query terms and the feedback words came out of hash maps whose order abseil salts with the
// table's address, which differs from call to call. Allocations between the searches move
// those tables around.
TEST_F(SearchIndexTest, TheSameQueryGivesTheSameHitsAndScoresEveryTime) {
  for (const std::string& text :
       {std::string("住院起付线是多少"), std::string("职工医疗保险门诊报销和住院起付线"),
        std::string("劝学声就医学声就医办理条件备公积金办理"),
        std::string("提取住房公积金需要什么身份证明材料")}) {
    auto run = [&] {
      std::vector<std::tuple<std::string, std::string, double>> hits;
      SearchQuery q;
      q.limit = 20;
      for (const PassageHit& h : Search(text, q).hits) {
        hits.emplace_back(h.entry_id, h.passage_label, h.score);
      }
      return hits;
    };
    const auto first = run();
    ASSERT_FALSE(first.empty()) << text;
    std::vector<std::unique_ptr<char[]>> moved;
    for (int i = 0; i < 40; ++i) {
      moved.emplace_back(new char[64 + 4096 * (i % 7)]);
      EXPECT_EQ(run(), first) << text << " (search " << i + 2 << ")";
    }
  }
}

// A common query word re-scores only the best candidates instead of reading its whole list
// (RankingParams::min_candidates); the expansion by the best passage's words then adds
// passages of its own. Those must be scored on the common words too, as a search that reads
// every list scores them, or a passage found by the expansion loses to one that shares fewer
// of the question's words.
TEST(SearchExpansionTest, PassagesFoundByTheExpansionAreScoredOnEveryQueryWord) {
  SearchIndex index(test_support::RealAnalyzer());
  std::string clauses;
  int n = 0;
  for (const char* matter : {"户籍", "护照", "驾驶证", "社会保障卡", "营业执照", "结婚登记",
                             "居住证", "出生登记", "签注", "年检", "退税", "发票"}) {
    absl::StrAppend(&clauses, "第", ++n, "条 申请人可以到政务大厅窗口办理", matter, "业务。\n");
  }
  absl::StrAppend(&clauses, "第", ++n, "条 住房公积金的缴存基数每年调整一次。\n");
  absl::StrAppend(&clauses, "第", ++n, "条 缴存基数调整的业务在窗口办理。\n");
  absl::StrAppend(&clauses, "第", ++n, "条 缴存基数调整的材料由单位报送。\n");
  ASSERT_TRUE(index.Upsert(Policy("p", "政务服务办法", clauses)).ok());

  RankingParams every_list = index.params();
  every_list.common_fraction = 0.3;  // Words in more than 3 passages in 10 are common here.
  every_list.rescore_pool = 1000;    // More than the collection: every candidate is re-scored.
  every_list.feedback_passages = 1;
  every_list.min_candidates = 1u << 30;
  RankingParams shortcut = every_list;
  shortcut.min_candidates = 1;
  SearchQuery q;
  q.text = "住房公积金到窗口怎么办理";
  q.limit = 50;
  index.set_params(every_list);
  absl::StatusOr<SearchResult> full = index.Search(q);
  index.set_params(shortcut);
  absl::StatusOr<SearchResult> quick = index.Search(q);
  ASSERT_TRUE(full.ok() && quick.ok());
  ASSERT_TRUE(quick->total_is_estimate) << "the shortcut was not taken";
  std::map<std::string, double> full_scores;
  for (const PassageHit& h : full->hits) full_scores[h.passage_label] = h.score;
  bool expansion_found_one = false;
  for (const PassageHit& h : quick->hits) {
    auto it = full_scores.find(h.passage_label);
    ASSERT_NE(it, full_scores.end()) << h.passage_label;
    EXPECT_NEAR(h.score, it->second, 1e-4 * it->second) << h.passage_label;
    expansion_found_one = expansion_found_one || h.passage_label == "第14条";
  }
  EXPECT_TRUE(expansion_found_one) << "the passage only the expansion finds is missing";
  // It shares 窗口 and 办理 with the question, its neighbour only the expansion's words.
  ASSERT_GE(quick->hits.size(), 3u);
  EXPECT_EQ(quick->hits[1].passage_label, "第14条");
}

TEST_F(SearchIndexTest, BadQueriesGetAClearErrorOrAnEmptyResultNeverACrash) {
  for (const std::string& bad :
       {std::string(""), std::string("，。！？ …"), std::string("\xff\xfe\x80")}) {
    SearchQuery q;
    q.text = bad;
    absl::StatusOr<SearchResult> r = index_->Search(q);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
      EXPECT_NE(r.status().message().find("query"), std::string::npos);
    } else {
      EXPECT_TRUE(r->hits.empty());
    }
  }
  SearchQuery huge;
  for (int i = 0; i < 12000; ++i) huge.text += "起付线";  // ~100 KB
  absl::StatusOr<SearchResult> r = index_->Search(huge);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->hits.empty());
}

TEST_F(SearchIndexTest, SnippetOfALongPassageIsTheWindowAroundTheQueryWords) {
  // A passage of about 3,000 characters whose only match is near its end: the snippet is the
  // window there, flagged as cut on the left, with the highlights shifted into it.
  std::string body = "第一条 ";
  for (int i = 0; i < 300; ++i) body += "本条规定适用于全体居民，";
  body += "灵活就业人员的缴费基数可以自主选择。";
  for (int i = 0; i < 30; ++i) body += "本条规定适用于全体居民，";
  ASSERT_TRUE(index_->Upsert(Policy("long1", "长文测试", body)).ok());
  SearchResult r = Search("灵活就业人员缴费基数");
  ASSERT_FALSE(r.hits.empty());
  ASSERT_EQ(r.hits[0].entry_id, "long1");
  const PassageHit& hit = r.hits[0];
  EXPECT_TRUE(hit.starts_mid_passage);
  EXPECT_TRUE(hit.ends_mid_passage);
  // At most the default 120 code points.
  EXPECT_EQ(test_support::CodePointSlice(hit.snippet, 0, 120), hit.snippet);
  std::set<std::string> marked;
  for (const auto& [start, end] : hit.highlights) {
    marked.insert(test_support::CodePointSlice(hit.snippet, start, end));
  }
  EXPECT_TRUE(marked.count("灵活就业人员")) << ::testing::PrintToString(marked);
  EXPECT_TRUE(marked.count("缴费基数")) << ::testing::PrintToString(marked);
}

TEST_F(SearchIndexTest, HighlightsLandOnTheRightCharactersInMixedText) {
  // Full-width letters and digits, ASCII, Chinese punctuation: offsets are code points of the
  // original text, whatever normalisation did.
  ASSERT_TRUE(index_
                  ->Upsert(Policy(
                      "m1", "混合文本测试",
                      "第一条 ＡＢＣ公司２０２３年为职工办理医保，iPhone15用户可在线查询起付线。"))
                  .ok());
  SearchResult r = Search("abc 2023 医保 iphone15 起付线");
  ASSERT_FALSE(r.hits.empty());
  ASSERT_EQ(r.hits[0].entry_id, "m1");
  std::set<std::string> marked;
  for (const auto& [start, end] : r.hits[0].highlights) {
    marked.insert(test_support::CodePointSlice(r.hits[0].snippet, start, end));
  }
  EXPECT_TRUE(marked.count("ＡＢＣ")) << ::testing::PrintToString(marked);
  EXPECT_TRUE(marked.count("２０２３")) << ::testing::PrintToString(marked);
  EXPECT_TRUE(marked.count("医保")) << ::testing::PrintToString(marked);
  EXPECT_TRUE(marked.count("iPhone15")) << ::testing::PrintToString(marked);
  EXPECT_TRUE(marked.count("起付线")) << ::testing::PrintToString(marked);
}

TEST(PersistentIndexTest, DocumentsSurviveARestartAndDeletesStayDeleted) {
  testing::TempDir dir;
  auto open = [&](std::unique_ptr<RocksStore>* store) {
    auto s = RocksStore::Open(
        {.path = dir.Sub("db"), .column_families = {PersistentIndex::kDocumentsFamily}});
    EXPECT_TRUE(s.ok()) << s.status();
    *store = std::move(*s);
    auto index = PersistentIndex::Open(store->get(),
                                       std::make_unique<SearchIndex>(test_support::RealAnalyzer()));
    EXPECT_TRUE(index.ok()) << index.status();
    return std::move(*index);
  };
  std::unique_ptr<RocksStore> store;
  {
    auto index = open(&store);
    ASSERT_TRUE(index
                    ->Upsert(Policy("keep", "长沙市住房公积金提取管理办法",
                                    "第五条 职工购买自住住房的，可以提取住房公积金。"))
                    .ok());
    ASSERT_TRUE(index->Upsert(Policy("gone", "临时办法", "第一条 提取公积金的临时规定。")).ok());
    ASSERT_TRUE(index->Delete("gone").ok());
    EXPECT_EQ(index->Delete("gone").code(), absl::StatusCode::kNotFound);
  }
  store.reset();
  auto index = open(&store);
  EXPECT_EQ(index->index().entry_count(), 1u);
  SearchQuery q;
  q.text = "公积金提取";
  auto r = index->index().Search(q);
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r->hits.empty());
  EXPECT_EQ(r->hits[0].entry_id, "keep");
  EXPECT_EQ(r->hits[0].passage_label, "第五条");
  auto stored = index->Get("keep");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->title, "长沙市住房公积金提取管理办法");
}

TEST(LawrefTest, ParsesTheRealCorpusLineFormat) {
  int documents = 0, passages = 0, repealed = 0;
  ASSERT_TRUE(ForEachLine("../shared/data/lawref/documents.jsonl.gz", [&](absl::string_view line) {
                absl::StatusOr<DocumentInput> d = ParseLawrefDocument(line, /*articles_only=*/true);
                if (!d.ok()) return d.status();
                ++documents;
                if (d->status == v1::ENTRY_STATUS_REPEALED) {
                  ++repealed;
                } else {
                  passages += static_cast<int>(d->passages.size());
                }
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(documents, 3443);
  EXPECT_EQ(repealed, 116);
  EXPECT_EQ(passages, 140400);  // The article passages of the effective documents.
}

}  // namespace
}  // namespace hotline::kb
