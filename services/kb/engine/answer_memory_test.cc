// The memory of confirmed answers with the real analyser: similar (not identical) questions
// vote, unrelated ones do not, "not helpful" votes against, votes fade, a changed judgement
// replaces the old one; and the search lifts a voted passage, even one the text missed.
#include "services/kb/engine/answer_memory.h"

#include <gtest/gtest.h>

#include "services/kb/engine/passages.h"
#include "services/kb/engine/search_index.h"
#include "services/kb/kb_test_support.h"

namespace hotline::kb {
namespace {

const absl::Time kNow = absl::FromCivil(absl::CivilDay(2026, 12, 1), absl::UTCTimeZone());

RememberedAnswer Answer(const std::string& id, const std::string& question, const std::string& entry,
                        const std::string& label, int sign = 1, absl::Time time = kNow) {
  return RememberedAnswer{id, question, entry, label, sign, time};
}

class AnswerMemoryTest : public ::testing::Test {
 protected:
  AnswerMemoryTest() : memory_(test_support::RealAnalyzer()) {
    EXPECT_TRUE(memory_.Add(Answer("a1", "租房可以提取住房公积金吗", "gjj", "第五条")).ok());
    EXPECT_TRUE(memory_.Add(Answer("a2", "租住公租房怎么提取公积金", "gjj", "第五条")).ok());
    EXPECT_TRUE(memory_.Add(Answer("a3", "医保住院起付线是多少钱", "yb", "第十条")).ok());
    EXPECT_TRUE(memory_.Add(Answer("a4", "公司拖欠工资不发怎么办", "ld", "第三条")).ok());
  }

  double VoteFor(const std::vector<PassageVote>& votes, const std::string& entry) {
    for (const PassageVote& v : votes) {
      if (v.entry_id == entry) return v.weight;
    }
    return 0;
  }

  int Count(const std::string& entry, const std::string& label) {
    std::map<std::pair<std::string, std::string>, int> counts = memory_.ConfirmationCounts();
    auto it = counts.find({entry, label});
    return it == counts.end() ? 0 : it->second;
  }

  AnswerMemory memory_;
};

TEST_F(AnswerMemoryTest, SimilarQuestionsVoteForTheirConfirmedPassage) {
  std::vector<PassageVote> votes = memory_.Votes("我租房住，能不能提取住房公积金", kNow);
  ASSERT_FALSE(votes.empty());
  EXPECT_EQ(votes[0].entry_id, "gjj");
  EXPECT_EQ(votes[0].passage_label, "第五条");
  EXPECT_EQ(votes[0].confirmations, 2);
  EXPECT_GT(votes[0].weight, 0);
  EXPECT_EQ(VoteFor(votes, "ld"), 0);  // Nothing in common with unpaid wages.
  EXPECT_EQ(memory_.size(), 4u);
  EXPECT_EQ(Count("gjj", "第五条"), 2);
}

TEST_F(AnswerMemoryTest, NotHelpfulVotesAgainstAndVotesFadeWithAge) {
  const std::string question = "医保住院的起付线多少";
  double before = VoteFor(memory_.Votes(question, kNow), "yb");
  ASSERT_GT(before, 0);
  // Half a year later the same confirmation weighs half.
  EXPECT_NEAR(VoteFor(memory_.Votes(question, kNow + absl::Hours(24 * 180)), "yb"), before / 2,
              before * 1e-6);
  ASSERT_TRUE(memory_.Add(Answer("n1", "住院起付线是多少", "yb", "第十条", -1)).ok());
  ASSERT_TRUE(memory_.Add(Answer("n2", "医保住院起付线多少钱", "yb", "第十条", -1)).ok());
  std::vector<PassageVote> votes = memory_.Votes(question, kNow);
  EXPECT_LT(VoteFor(votes, "yb"), 0);
  EXPECT_EQ(Count("yb", "第十条"), 1);  // Still one confirmation.
}

TEST_F(AnswerMemoryTest, AChangedJudgementReplacesTheOldOneAndRemoveForgets) {
  ASSERT_TRUE(memory_.Add(Answer("a1", "租房可以提取住房公积金吗", "gjj", "第六条")).ok());
  EXPECT_EQ(memory_.size(), 4u);
  EXPECT_EQ(Count("gjj", "第五条"), 1);
  EXPECT_EQ(Count("gjj", "第六条"), 1);
  memory_.Remove("a2");
  memory_.Remove("a1");
  EXPECT_EQ(VoteFor(memory_.Votes("租房提取公积金", kNow), "gjj"), 0);
  EXPECT_EQ(memory_.size(), 2u);
  EXPECT_EQ(memory_.Add(Answer("x", "，。！", "gjj", "第五条")).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AnswerVotesInSearchTest, AVotedPassageIsLiftedEvenWhenTheTextMissesIt) {
  SearchIndex index(test_support::RealAnalyzer());
  auto policy = [](const std::string& id, const std::string& title, const std::string& body) {
    DocumentInput d;
    d.id = id;
    d.title = title;
    d.status = v1::ENTRY_STATUS_IN_FORCE;
    d.passages = SplitRegulation(body, false);
    return d;
  };
  ASSERT_TRUE(index.Upsert(policy("gjj", "住房公积金提取办法",
      "第五条 职工连续足额缴存住房公积金满三个月，本人及配偶在本市无自有住房且租赁住房的，可以提取。\n"
      "第六条 提取住房公积金应当提交身份证明。")).ok());
  ASSERT_TRUE(index.Upsert(policy("fz", "房屋租赁管理办法",
      "第三条 出租人应当与承租人签订房屋租赁合同，约定房租及支付方式。")).ok());
  SearchQuery q;
  q.text = "房租太贵了怎么办";
  absl::StatusOr<SearchResult> cold = index.Search(q);
  ASSERT_TRUE(cold.ok());
  for (const PassageHit& h : cold->hits) EXPECT_NE(h.entry_id, "gjj");
  q.passage_votes[{"gjj", "第五条"}] = 1.0;
  absl::StatusOr<SearchResult> lifted = index.Search(q);
  ASSERT_TRUE(lifted.ok());
  ASSERT_FALSE(lifted->hits.empty());
  bool found = false;
  for (const PassageHit& h : lifted->hits) found |= h.entry_id == "gjj" && h.passage_label == "第五条";
  EXPECT_TRUE(found);
  // A vote against pushes a matching passage down.
  SearchQuery against;
  against.text = "房屋租赁合同";
  absl::StatusOr<SearchResult> plain = index.Search(against);
  against.passage_votes[{"fz", "第三条"}] = -2.0;
  absl::StatusOr<SearchResult> demoted = index.Search(against);
  ASSERT_TRUE(plain.ok() && demoted.ok());
  ASSERT_FALSE(plain->hits.empty());
  ASSERT_FALSE(demoted->hits.empty());
  EXPECT_LT(demoted->hits[0].score, plain->hits[0].score);
}

}  // namespace
}  // namespace hotline::kb
