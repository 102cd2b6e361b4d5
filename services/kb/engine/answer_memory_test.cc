// The memory of confirmed answers with the real analyser: similar (not identical) questions
// vote for passages and entries, unrelated ones do not, "not helpful" votes against, votes
// fade, a changed judgement replaces the old one; and the search lifts a voted passage, even
// one the text missed, and the other articles of a voted entry, as far as it trusts the votes.
#include "services/kb/engine/answer_memory.h"

#include <gtest/gtest.h>

#include "services/kb/engine/passages.h"
#include "services/kb/engine/search_index.h"
#include "services/kb/kb_test_support.h"

namespace hotline::kb {
namespace {

const absl::Time kNow = absl::FromCivil(absl::CivilDay(2026, 12, 1), absl::UTCTimeZone());

RememberedAnswer Answer(const std::string& id, const std::string& question,
                        const std::string& entry, const std::string& label, int sign = 1,
                        absl::Time time = kNow) {
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
  std::vector<PassageVote> votes = memory_.Votes("我租房住，能不能提取住房公积金", kNow).passages;
  ASSERT_FALSE(votes.empty());
  EXPECT_EQ(votes[0].entry_id, "gjj");
  EXPECT_EQ(votes[0].passage_label, "第五条");
  EXPECT_EQ(votes[0].confirmations, 2);
  EXPECT_GT(votes[0].weight, 0);
  EXPECT_EQ(VoteFor(votes, "ld"), 0);  // Nothing in common with unpaid wages.
  EXPECT_EQ(memory_.size(), 4u);
  EXPECT_EQ(Count("gjj", "第五条"), 2);
}

TEST_F(AnswerMemoryTest, SimilarQuestionsVoteForTheEntryTheyWereAnsweredFromOncePerQuestion) {
  ASSERT_TRUE(memory_.Add(Answer("a5", "租房提取公积金要带什么材料", "gjj", "第六条")).ok());
  ASSERT_TRUE(memory_.Add(Answer("a6", "租房提取公积金要带什么材料", "gjj", "第七条")).ok());
  SimilarQuestionVotes votes = memory_.Votes("我租房住，能不能提取住房公积金", kNow);
  ASSERT_FALSE(votes.entries.empty());
  EXPECT_EQ(votes.entries[0].entry_id, "gjj");
  // Three distinct questions answered from gjj; the one confirmed with two of its clauses
  // counts once for the entry, so the entry's vote is below the sum of its passages' votes.
  double passages = 0;
  for (const PassageVote& v : votes.passages) {
    if (v.entry_id == "gjj") passages += v.weight;
  }
  EXPECT_GT(votes.entries[0].weight, 0);
  EXPECT_LT(votes.entries[0].weight, passages);
  for (const EntryVote& e : votes.entries) EXPECT_NE(e.entry_id, "ld");
  EXPECT_GT(votes.confidence, 0);
  EXPECT_LE(votes.confidence, 1);
  // Nothing remembered is like this question: no votes and no confidence.
  SimilarQuestionVotes none = memory_.Votes("护照丢了在哪里补办", kNow);
  EXPECT_TRUE(none.passages.empty());
  EXPECT_TRUE(none.entries.empty());
  EXPECT_EQ(none.confidence, 0);
}

TEST_F(AnswerMemoryTest, ALooseVoterVotesButIsNotCountedAsASimilarQuestion) {
  AnswerMemoryParams strict = memory_.params();
  strict.explained_similarity = 0.99;  // Only a near-identical question is "similar".
  memory_.set_params(strict);
  std::vector<PassageVote> votes = memory_.Votes("我租房住，能不能提取住房公积金", kNow).passages;
  ASSERT_FALSE(votes.empty());
  EXPECT_EQ(votes[0].entry_id, "gjj");
  EXPECT_GT(votes[0].weight, 0);
  EXPECT_EQ(votes[0].confirmations, 0);
  // The same question as remembered is similar enough for any threshold below 1.
  EXPECT_EQ(memory_.Votes("租房可以提取住房公积金吗", kNow).passages[0].confirmations, 1);
}

TEST_F(AnswerMemoryTest, WithCostControlsAtTheirTightestTheClosestQuestionStillVotesFirst) {
  AnswerMemoryParams tight = memory_.params();
  tight.common_postings = 0;  // Every term after the rarest only re-scores ...
  tight.rescore_pool = 1;     // ... the single best question found so far.
  memory_.set_params(tight);
  std::vector<PassageVote> votes = memory_.Votes("租房可以提取住房公积金吗", kNow).passages;
  ASSERT_FALSE(votes.empty());
  EXPECT_EQ(votes[0].entry_id, "gjj");
  EXPECT_EQ(votes[0].passage_label, "第五条");
  for (const PassageVote& v : votes) EXPECT_NE(v.entry_id, "ld");
}

TEST_F(AnswerMemoryTest, NotHelpfulVotesAgainstAndVotesFadeWithAge) {
  const std::string question = "医保住院的起付线多少";
  double before = VoteFor(memory_.Votes(question, kNow).passages, "yb");
  ASSERT_GT(before, 0);
  // Half a year later the same confirmation weighs half.
  EXPECT_NEAR(VoteFor(memory_.Votes(question, kNow + absl::Hours(24 * 180)).passages, "yb"),
              before / 2, before * 1e-6);
  ASSERT_TRUE(memory_.Add(Answer("n1", "住院起付线是多少", "yb", "第十条", -1)).ok());
  ASSERT_TRUE(memory_.Add(Answer("n2", "医保住院起付线多少钱", "yb", "第十条", -1)).ok());
  std::vector<PassageVote> votes = memory_.Votes(question, kNow).passages;
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
  EXPECT_EQ(VoteFor(memory_.Votes("租房提取公积金", kNow).passages, "gjj"), 0);
  EXPECT_EQ(memory_.size(), 2u);
  EXPECT_EQ(memory_.Add(Answer("x", "，。！", "gjj", "第五条")).code(),
            absl::StatusCode::kInvalidArgument);
}

// A policy in force whose body is split into its articles.
DocumentInput Policy(const std::string& id, const std::string& title, const std::string& body) {
  DocumentInput d;
  d.id = id;
  d.title = title;
  d.status = v1::ENTRY_STATUS_IN_FORCE;
  d.passages = SplitRegulation(body, false);
  return d;
}

TEST(AnswerVotesInSearchTest, AVotedPassageIsLiftedEvenWhenTheTextMissesIt) {
  SearchIndex index(test_support::RealAnalyzer());
  ASSERT_TRUE(index
                  .Upsert(Policy("gjj", "住房公积金提取办法",
                                 "第五条 "
                                 "职工连续足额缴存住房公积金满三个月，本人及配偶在本市无自有住房且"
                                 "租赁住房的，可以提取。\n"
                                 "第六条 提取住房公积金应当提交身份证明。"))
                  .ok());
  ASSERT_TRUE(index
                  .Upsert(Policy("fz", "房屋租赁管理办法",
                                 "第三条 出租人应当与承租人签订房屋租赁合同，约定房租及支付方式。"))
                  .ok());
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
  for (const PassageHit& h : lifted->hits)
    found |= h.entry_id == "gjj" && h.passage_label == "第五条";
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

TEST(AnswerVotesInSearchTest, AnEntryVoteLiftsTheEntrysOtherArticlesInProportionToConfidence) {
  SearchIndex index(test_support::RealAnalyzer());
  // Two laws whose clauses match the question equally well.
  ASSERT_TRUE(
      index.Upsert(Policy("a", "甲办法", "第一条 申请人应当提交书面申请。\n第二条 其他事项。"))
          .ok());
  ASSERT_TRUE(
      index.Upsert(Policy("b", "乙办法", "第一条 申请人应当提交书面申请。\n第二条 另外事项。"))
          .ok());
  SearchQuery q;
  q.text = "提交书面申请";
  auto first_entry = [&](double confidence) {
    q.vote_confidence = confidence;
    absl::StatusOr<SearchResult> r = index.Search(q);
    EXPECT_TRUE(r.ok());
    return r.ok() && !r->hits.empty() ? r->hits[0] : PassageHit{};
  };
  const PassageHit cold = first_entry(1.0);
  // Similar questions were answered from the other law's second article: its first article,
  // which matches the text, rises above the other law's.
  const std::string other = cold.entry_id == "a" ? "b" : "a";
  q.entry_votes[other] = 1.0;
  const PassageHit lifted = first_entry(1.0);
  EXPECT_EQ(lifted.entry_id, other);
  EXPECT_EQ(lifted.passage_label, "第一条");
  EXPECT_GT(lifted.score, cold.score);
  // With no confidence in the votes, the text alone ranks.
  const PassageHit untrusted = first_entry(0.0);
  EXPECT_EQ(untrusted.entry_id, cold.entry_id);
  EXPECT_DOUBLE_EQ(untrusted.score, cold.score);
  // An entry vote for a missing entry, or a negative one, changes nothing.
  q.entry_votes = {{"missing", 1.0}, {cold.entry_id, -1.0}};
  const PassageHit ignored = first_entry(1.0);
  EXPECT_EQ(ignored.entry_id, cold.entry_id);
  EXPECT_DOUBLE_EQ(ignored.score, cold.score);
}

}  // namespace
}  // namespace hotline::kb
