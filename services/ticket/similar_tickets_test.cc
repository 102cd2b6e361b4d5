#include "services/ticket/similar_tickets.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

namespace hotline::ticket {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

TicketDoc Open(std::string id, std::string content, std::string district = "430102",
               absl::Time created = kT0) {
  TicketDoc d;
  d.id = std::move(id);
  d.content = std::move(content);
  d.district_code = std::move(district);
  d.create_time = created;
  d.open = true;
  return d;
}

TicketDoc Closed(std::string id, std::string content, std::vector<std::string> handled,
                 std::vector<std::string> returned = {}) {
  TicketDoc d = Open(std::move(id), std::move(content));
  d.open = false;
  d.handled_by = std::move(handled);
  d.returned_by = std::move(returned);
  return d;
}

std::vector<std::string> Ids(const std::vector<SimilarTicketIndex::Match>& matches) {
  std::vector<std::string> ids;
  for (const auto& m : matches) ids.push_back(m.id);
  return ids;
}

std::vector<std::string> SortedIds(const std::vector<SimilarTicketIndex::Match>& matches) {
  std::vector<std::string> ids = Ids(matches);
  std::sort(ids.begin(), ids.end());
  return ids;
}

SimilarTicketIndex::Query Q(std::string content, double min_similarity = 0.0) {
  SimilarTicketIndex::Query q;
  q.content = std::move(content);
  q.min_similarity = min_similarity;
  q.limit = 10;
  return q;
}

double SimilarityOf(const std::vector<SimilarTicketIndex::Match>& matches, const std::string& id) {
  for (const auto& m : matches) {
    if (m.id == id) return m.similarity;
  }
  return -1;
}

// A few unrelated tickets, so that the idf of the test's words means something.
void AddBackground(SimilarTicketIndex& index) {
  index.Upsert(Open("bg1", "申请公积金贷款一个多月了审批还没有结果"));
  index.Upsert(Open("bg2", "孩子明年上小学想咨询学区怎么划分"));
  index.Upsert(Open("bg3", "高铁站出租车司机拒绝打表要求一口价"));
  index.Upsert(Open("bg4", "社保卡丢失了想问怎么补办"));
  index.Upsert(Open("bg5", "工厂晚上排放刺鼻气味居民关窗都能闻到"));
}

TEST(ContentTermsTest, NormalisesWidthCaseDigitsAndPunctuation) {
  EXPECT_EQ(ContentTerms("ＡＰＰ无法登录"), ContentTerms("app无法登录"));
  EXPECT_EQ(ContentTerms("小区，停水！"), ContentTerms("小区 停水"));
  // Digits and single letters are breaks: numbers and building letters make no bigram.
  EXPECT_EQ(ContentTerms("电话13812345678"), ContentTerms("电话"));
  EXPECT_EQ(ContentTerms("７号楼"), ContentTerms("12号楼"));
  EXPECT_TRUE(ContentTerms("13812345678").empty());
  EXPECT_TRUE(ContentTerms("8栋1203室，A座").empty());
  EXPECT_EQ(ContentTerms("ETC").size(), 0u);  // one word, no neighbour
  EXPECT_EQ(ContentTerms("ETC扣费").size(), 2u);
  EXPECT_TRUE(ContentTerms("").empty());
  EXPECT_TRUE(ContentTerms("，。！？").empty());
  // Punctuation breaks runs: no bigram straddles it.
  EXPECT_EQ(ContentTerms("停，水").size(), 0u);
  EXPECT_EQ(ContentTerms("停水").size(), 1u);
  // Invalid UTF-8 is a break, not a crash.
  EXPECT_EQ(ContentTerms(std::string("停水\xff\xfe小区")), ContentTerms("停水 小区"));
  EXPECT_EQ(ContentTerms(std::string("停水\xe5")), ContentTerms("停水"));
}

TEST(SimilarTicketIndexTest, SimilarTextsRankAboveDissimilarOnes) {
  SimilarTicketIndex index;
  AddBackground(index);
  index.Upsert(Open("same", "朝阳小区从前天开始停水，到现在还没有恢复供水"));
  index.Upsert(Open("near", "我们朝阳小区停水两天了，一直没有恢复"));
  index.Upsert(Open("far", "朝阳小区门口的路灯坏了好几天"));
  const auto found = index.Find(Q("朝阳小区从前天开始停水，到现在还没有恢复供水"));
  ASSERT_GE(found.size(), 3u);
  EXPECT_EQ(found[0].id, "same");
  EXPECT_NEAR(found[0].similarity, 1.0, 1e-6);
  EXPECT_EQ(found[1].id, "near");
  EXPECT_GT(found[1].similarity, SimilarityOf(found, "far"));
  for (const auto& m : found) {
    EXPECT_GE(m.similarity, 0.0);
    EXPECT_LE(m.similarity, 1.0);
  }
  // Best first.
  for (size_t i = 1; i < found.size(); ++i) EXPECT_GE(found[i - 1].similarity, found[i].similarity);
  // With the default threshold the unrelated background is left out.
  SimilarTicketIndex::Query q = Q("朝阳小区停水没有恢复");
  q.min_similarity = 0.3;
  for (const std::string& id : Ids(index.Find(q))) EXPECT_NE(id.rfind("bg", 0), 0u) << id;
}

TEST(SimilarTicketIndexTest, PhoneAndHouseNumbersDoNotMakeTicketsSimilar) {
  SimilarTicketIndex index;
  AddBackground(index);
  index.Upsert(Open("a", "噪音扰民13812345678，8栋1203室"));
  index.Upsert(Open("b", "路灯不亮，电话13900001111"));
  // The same numbers with other words: nothing in common.
  const auto found = index.Find(Q("公积金提取13812345678，8栋1203室"));
  EXPECT_LT(SimilarityOf(found, "a"), 0.2);
  // The same words with other numbers: the same ticket.
  const auto same = index.Find(Q("路灯不亮，电话18674390000"));
  EXPECT_NEAR(SimilarityOf(same, "b"), 1.0, 1e-6);
}

TEST(SimilarTicketIndexTest, FiltersApply) {
  SimilarTicketIndex index;
  AddBackground(index);
  const std::string text = "小区垃圾站三天没人清运，气味很大";
  index.Upsert(Open("d1", text, "430102", kT0));
  index.Upsert(Open("d2", text + "，请尽快处理", "430103", kT0 + absl::Hours(48)));
  TicketDoc closed = Open("d3", text + "，蚊蝇很多", "430102", kT0 + absl::Hours(96));
  closed.open = false;
  index.Upsert(closed);

  // The background shares a word (气味) with it, below the threshold.
  auto q = Q(text, 0.3);
  EXPECT_EQ(Ids(index.Find(q)).size(), 3u);

  q.district_code = "430102";
  EXPECT_EQ(SortedIds(index.Find(q)), (std::vector<std::string>{"d1", "d3"}));
  q.district_code.clear();

  q.created_after = kT0 + absl::Hours(48);  // at or after
  EXPECT_EQ(SortedIds(index.Find(q)), (std::vector<std::string>{"d2", "d3"}));
  q.created_after = absl::InfinitePast();

  q.open_only = true;
  EXPECT_EQ(SortedIds(index.Find(q)), (std::vector<std::string>{"d1", "d2"}));
  q.open_only = false;

  q.exclude_id = "d1";
  EXPECT_EQ(SortedIds(index.Find(q)), (std::vector<std::string>{"d2", "d3"}));
  q.exclude_id.clear();

  q.limit = 1;
  EXPECT_EQ(Ids(index.Find(q)), (std::vector<std::string>{"d1"}));
  q.limit = 0;
  EXPECT_TRUE(index.Find(q).empty());
  q.limit = 10;

  // Only the identical text reaches 0.99; a threshold above 1 leaves nothing.
  q.min_similarity = 0.99;
  EXPECT_EQ(Ids(index.Find(q)), (std::vector<std::string>{"d1"}));
  q.min_similarity = 1.01;
  EXPECT_TRUE(index.Find(q).empty());

  EXPECT_TRUE(index.Find(Q("")).empty());
  EXPECT_TRUE(index.Find(Q("，。")).empty());
}

TEST(SimilarTicketIndexTest, UpsertReplacesState) {
  SimilarTicketIndex index;
  AddBackground(index);
  const std::string text = "楼上住户在楼顶违规搭建阳光房，压坏了防水层";
  index.Upsert(Open("t", text));
  auto q = Q(text);
  q.open_only = true;
  EXPECT_EQ(Ids(index.Find(q)), (std::vector<std::string>{"t"}));
  EXPECT_TRUE(index.VoteDepartments(text).empty());  // open tickets do not vote

  index.Upsert(Closed("t", text, {"urban-management"}));
  EXPECT_EQ(index.size(), 6u);
  EXPECT_TRUE(index.Find(q).empty());
  const auto votes = index.VoteDepartments(text);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].department_id, "urban-management");
  EXPECT_EQ(votes[0].handled, 1);
  EXPECT_NEAR(votes[0].score, 1.0, 1e-6);

  // New words: the old ones no longer find it.
  index.Upsert(Closed("t", "健身房突然关门，要求退还预付卡余额", {"market-regulation"}));
  EXPECT_EQ(index.size(), 6u);
  EXPECT_LT(SimilarityOf(index.Find(Q(text)), "t"), 0.1);
  EXPECT_NEAR(SimilarityOf(index.Find(Q("健身房突然关门，要求退还预付卡余额")), "t"), 1.0, 1e-6);
  EXPECT_EQ(index.VoteDepartments("健身房突然关门，要求退还预付卡余额")[0].department_id,
            "market-regulation");
}

TEST(SimilarTicketIndexTest, RemoveAndCompactionKeepTheIndexCorrect) {
  SimilarTicketIndexOptions options;
  options.compact_min_dead = 4;
  options.compact_dead_fraction = 0.25;
  SimilarTicketIndex index(options);
  AddBackground(index);
  const std::string text = "小区电梯经常困人，物业一直不维修";
  index.Upsert(Open("keep", text));
  for (int i = 0; i < 40; ++i) {
    index.Upsert(Open(absl::StrCat("x", i), absl::StrCat("第", i, "号楼电梯困人物业不管，",
                                                         i % 2 ? "很危险" : "请处理")));
  }
  EXPECT_EQ(index.size(), 46u);
  const double before = SimilarityOf(index.Find(Q(text)), "keep");
  ASSERT_GT(before, 0.99);

  index.Remove("nonexistent");
  EXPECT_EQ(index.size(), 46u);
  for (int i = 0; i < 40; ++i) index.Remove(absl::StrCat("x", i));  // compacts on the way
  EXPECT_EQ(index.size(), 6u);
  const auto found = index.Find(Q(text));
  EXPECT_EQ(Ids(found), (std::vector<std::string>{"keep"}));
  EXPECT_NEAR(SimilarityOf(found, "keep"), 1.0, 1e-6);
  // The removed ids can come back.
  index.Upsert(Open("x3", text));
  EXPECT_EQ(index.size(), 7u);
  EXPECT_EQ(index.Find(Q(text)).size(), 2u);
  index.Remove("keep");
  EXPECT_EQ(Ids(index.Find(Q(text))), (std::vector<std::string>{"x3"}));
}

TEST(SimilarTicketIndexTest, ReturnedAsMisroutedCountsAgainstADepartment) {
  SimilarTicketIndex index;
  AddBackground(index);
  index.Upsert(Closed("c1", "小区高层水压不足，七楼以上早晚没水", {"water"}, {"housing"}));
  index.Upsert(Closed("c2", "高层住户水压太低，早晚用水高峰没水", {"water"}, {"housing"}));
  index.Upsert(Closed("c3", "小区水压不足，楼上住户早晚没水用", {"water"}));
  const auto votes = index.VoteDepartments("我们小区高层水压不足，早晚没水");
  ASSERT_EQ(votes.size(), 2u);
  EXPECT_EQ(votes[0].department_id, "water");
  EXPECT_EQ(votes[0].handled, 3);
  EXPECT_EQ(votes[0].returned, 0);
  EXPECT_GT(votes[0].score, 0);
  EXPECT_EQ(votes[1].department_id, "housing");
  EXPECT_EQ(votes[1].handled, 0);
  EXPECT_EQ(votes[1].returned, 2);
  EXPECT_LT(votes[1].score, 0);

  // Without a category a department that only returned such tickets is not suggested.
  DepartmentSuggester suggester(&index, {});
  const auto suggestions = suggester.Suggest("我们小区高层水压不足，早晚没水", "", 5);
  ASSERT_EQ(suggestions.size(), 1u);
  EXPECT_EQ(suggestions[0].department_id, "water");
  EXPECT_EQ(suggestions[0].similar_handled, 3);
  EXPECT_FALSE(suggestions[0].from_route);
}

TEST(DepartmentSuggesterTest, LongestPrefixMatchesSegmentWise) {
  SimilarTicketIndex index;
  DepartmentSuggester suggester(&index,
                                {{"城乡建设", {"housing"}},
                                 {"城乡建设/供水", {"water"}},
                                 {"城乡建设/供水/管网抢修", {"water", "urban-management"}}});
  ASSERT_NE(suggester.RouteFor("城乡建设/供水/水压"), nullptr);
  EXPECT_EQ(suggester.RouteFor("城乡建设/供水/水压")->category_prefix, "城乡建设/供水");
  EXPECT_EQ(suggester.RouteFor("城乡建设/供水")->category_prefix, "城乡建设/供水");
  EXPECT_EQ(suggester.RouteFor("城乡建设/供水站")->category_prefix, "城乡建设");
  EXPECT_EQ(suggester.RouteFor("城乡建设/供水/管网抢修/夜间")->category_prefix,
            "城乡建设/供水/管网抢修");
  EXPECT_EQ(suggester.RouteFor("城乡建设/")->category_prefix, "城乡建设");
  EXPECT_EQ(suggester.RouteFor("城乡"), nullptr);
  EXPECT_EQ(suggester.RouteFor("城乡建设局"), nullptr);
  EXPECT_EQ(suggester.RouteFor(""), nullptr);

  // No history: the route decides, lead before assisting.
  const auto s = suggester.Suggest("路口水管爆了", "城乡建设/供水/管网抢修", 5);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].department_id, "water");
  EXPECT_TRUE(s[0].from_route);
  EXPECT_EQ(s[0].route_prefix, "城乡建设/供水/管网抢修");
  EXPECT_EQ(s[1].department_id, "urban-management");
  EXPECT_GT(s[0].score, s[1].score);
  EXPECT_EQ(suggester.Suggest("路口水管爆了", "城乡建设/供水/管网抢修", 1).size(), 1u);
  EXPECT_TRUE(suggester.Suggest("路口水管爆了", "城乡建设/供水/管网抢修", 0).empty());
}

TEST(DepartmentSuggesterTest, NoRouteAndNoHistoryGiveNothing) {
  SimilarTicketIndex index;
  AddBackground(index);  // open tickets only: no history
  DepartmentSuggester suggester(&index, {{"城乡建设/供水", {"water"}}});
  EXPECT_TRUE(suggester.Suggest("小区停水三天", "", 5).empty());
  EXPECT_TRUE(suggester.Suggest("小区停水三天", "教育/校外培训", 5).empty());
  EXPECT_TRUE(suggester.Suggest("", "", 5).empty());
  // A route with empty content still answers.
  ASSERT_EQ(suggester.Suggest("", "城乡建设/供水", 5).size(), 1u);
}

TEST(DepartmentSuggesterTest, ConsistentHistoryOutranksARouteAndWeakHistoryDoesNot) {
  SimilarTicketIndex index;
  AddBackground(index);
  const std::string text = "校外培训机构突然停课，要求退还剩余课时费";
  DepartmentSuggester suggester(&index, {{"市场监管", {"market-regulation"}}});

  // One weakly similar closed ticket: the route keeps first place.
  index.Upsert(Closed("w", "培训班的老师换了好几次", {"education"}));
  auto s = suggester.Suggest(text, "市场监管/消费维权", 5);
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s[0].department_id, "market-regulation");

  // Many closely similar tickets, all handled by education, some returned by the route's lead.
  for (int i = 0; i < 12; ++i) {
    index.Upsert(Closed(
        absl::StrCat("h", i),
        absl::StrCat("孩子报名的校外培训机构突然停课，家长要求退还剩余课时费", i), {"education"},
        i % 3 == 0 ? std::vector<std::string>{"market-regulation"} : std::vector<std::string>{}));
  }
  s = suggester.Suggest(text, "市场监管/消费维权", 5);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].department_id, "education");
  EXPECT_FALSE(s[0].from_route);
  EXPECT_GE(s[0].similar_handled, 12);
  EXPECT_EQ(s[1].department_id, "market-regulation");
  EXPECT_TRUE(s[1].from_route);
  EXPECT_EQ(s[1].similar_returned, 4);

  // History split between two departments: the route's one wins.
  for (int i = 0; i < 12; ++i) {
    index.Upsert(Closed(absl::StrCat("h", i),
                        absl::StrCat("孩子报名的校外培训机构突然停课，家长要求退还剩余课时费", i),
                        {i % 2 ? "education" : "market-regulation"}));
  }
  s = suggester.Suggest(text, "市场监管/消费维权", 5);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].department_id, "market-regulation");
  EXPECT_EQ(s[0].similar_handled, 6);
}

// Remits (职责清单) name a department for a matter no closed ticket resembles, and give way to a
// route and to consistent history.
TEST(DepartmentSuggesterTest, RemitsNameTheDepartmentWithoutHistoryAndYieldToRoutesAndHistory) {
  SimilarTicketIndex index;
  AddBackground(index);
  const std::vector<DepartmentRemit> remits = {
      {"water", "城市供水、停水、水压不足、水质、水费水表、排水管网、窨井、内涝积水"},
      {"urban-management", "市容环境、占道经营、违章搭建、户外广告招牌、生活垃圾清运、路灯"},
      {"education", "义务教育入学、学位、学校收费、校外培训机构管理、学生资助"},
  };
  DepartmentSuggester suggester(&index, {{"市场监管", {"market-regulation"}}}, remits);
  auto s = suggester.Suggest("小区门口的路灯坏了一个星期，晚上很黑", "", 5);
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s[0].department_id, "urban-management");
  EXPECT_TRUE(s[0].from_remit);
  EXPECT_GT(s[0].remit_similarity, 0);
  EXPECT_EQ(suggester.Suggest("家里停水两天了，水压也不足", "", 5)[0].department_id, "water");
  // Words no remit holds: nothing from them.
  EXPECT_TRUE(suggester.Suggest("你好请问一下", "", 5).empty());

  // A route outranks a remit that matches better.
  s = suggester.Suggest("校外培训机构突然停课，要求退还课时费", "市场监管/消费维权", 5);
  ASSERT_GE(s.size(), 2u);
  EXPECT_EQ(s[0].department_id, "market-regulation");
  EXPECT_EQ(s[1].department_id, "education");
  EXPECT_TRUE(s[1].from_remit);

  // Consistent history outranks the remit.
  for (int i = 0; i < 10; ++i) {
    index.Upsert(
        Closed(absl::StrCat("l", i), absl::StrCat("小区路灯坏了一个星期，晚上很黑", i), {"water"}));
  }
  s = suggester.Suggest("小区门口的路灯坏了一个星期，晚上很黑", "", 5);
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s[0].department_id, "water");
}

TEST(SimilarTicketIndexTest, CommonBigramsAreSkippedWithoutChangingTheCosine) {
  // The same two tickets in a small index (searched exactly) and in one large enough for
  // "来电人反映" to count as common: the ranking and the reported cosine agree.
  SimilarTicketIndexOptions options;
  options.common_min_docs = 100;
  SimilarTicketIndex index(options);
  for (int i = 0; i < 300; ++i) {
    index.Upsert(Open(absl::StrCat("n", i), absl::StrCat("来电人反映事项", i % 7, "号")));
  }
  index.Upsert(Open("target", "来电人反映小区门口共享单车乱停放，堵住了盲道"));
  index.Upsert(Open("other", "来电人反映公交站台的顶棚破损漏雨"));
  const auto found = index.Find(Q("来电人反映共享单车乱停放堵住盲道", 0.2));
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found[0].id, "target");
  for (const auto& m : found) EXPECT_NE(m.id.rfind("n", 0), 0u) << m.id;
  // A query of common bigrams only is still answered from them.
  const auto common = index.Find(Q("来电人反映事项", 0.5));
  EXPECT_FALSE(common.empty());
}

TEST(SimilarTicketIndexTest, ReadersAndAWriterConcurrently) {
  SimilarTicketIndexOptions options;
  options.compact_min_dead = 8;
  SimilarTicketIndex index(options);
  AddBackground(index);
  DepartmentSuggester suggester(&index, {{"城市管理", {"urban-management"}}});
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!done.load()) {
        for (const auto& m : index.Find(Q("夜市摊贩占道经营，油烟很大"))) {
          if (m.similarity < 0 || m.similarity > 1) ++bad;
        }
        if (suggester.Suggest("夜市摊贩占道经营", "城市管理/市容环境", 3).empty()) ++bad;
      }
    });
  }
  for (int i = 0; i < 600; ++i) {
    const std::string id = absl::StrCat("w", i % 50);
    if (i % 7 == 3) {
      index.Remove(id);
    } else {
      index.Upsert(Closed(id, absl::StrCat("夜市摊贩占道经营，油烟很大，第", i, "次反映"),
                          {"urban-management"}));
    }
  }
  done = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_LE(index.size(), 55u);
  EXPECT_GT(index.MemoryBytes(), 0u);
}

}  // namespace
}  // namespace hotline::ticket
