// Learning from agents: confirmed answers and gaps, the memory of confirmed answers that similar
// questions vote through, and the draft Q&A pairs it proposes.
#include "services/kb/kb_service_test_fixture.h"

namespace hotline::kb {
namespace {

TEST_F(KnowledgeBaseServiceTest, ConfirmedAnswersRiseForTheirQuestionAndSurviveARestart) {
  AddPolicy();
  const std::string query = "参保职工住院";
  v1::SearchResponse before = MustSearch(query);
  ASSERT_GE(before.hits_size(), 2);
  // The hit the agents confirm: the last one shown, below the first.
  const v1::SearchHit target = before.hits(before.hits_size() - 1);
  const v1::SearchHit first = before.hits(0);
  ASSERT_FALSE(target.entry_id() == first.entry_id() &&
               target.passage_ordinal() == first.passage_ordinal());
  auto rank_of_target = [&](const v1::SearchResponse& found) {
    for (int i = 0; i < found.hits_size(); ++i) {
      if (found.hits(i).entry_id() == target.entry_id() &&
          found.hits(i).passage_ordinal() == target.passage_ordinal()) {
        return i;
      }
    }
    return -1;
  };
  auto judge = [&](const v1::SearchResponse& search, const v1::SearchHit& hit,
                   v1::FeedbackType type, const std::string& token) {
    v1::RecordFeedbackRequest f;
    f.set_search_id(search.search_id());
    f.set_query(query);
    f.set_type(type);
    f.set_entry_id(hit.entry_id());
    f.set_passage_label(hit.passage_label());
    f.set_passage_ordinal(hit.passage_ordinal());
    v1::RecordFeedbackResponse out;
    grpc::Status s = stub_->RecordFeedback(ContextWithToken(token).get(), f, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
  };
  const double score_before = before.hits(rank_of_target(before)).score();
  auto target_score_for = [&](const std::string& q) {
    v1::SearchResponse found = MustSearch(q);
    for (const v1::SearchHit& h : found.hits()) {
      if (h.entry_id() == target.entry_id() && h.passage_ordinal() == target.passage_ordinal()) {
        return h.score();
      }
    }
    return -1.0;
  };
  const double other_question_before = target_score_for("职工住院医疗待遇");
  int confirmations = 0;
  v1::SearchResponse now = before;
  while (rank_of_target(now) != 0 && confirmations < 5) {
    judge(now, target, v1::FEEDBACK_TYPE_ANSWERED, confirmations % 2 == 0 ? "agent" : "agent2");
    ++confirmations;
    v1::SearchResponse next = MustSearch(query);
    // Every confirmation lifts it further.
    EXPECT_GT(next.hits(rank_of_target(next)).score(), now.hits(rank_of_target(now)).score());
    now = next;
  }
  EXPECT_EQ(rank_of_target(now), 0) << "still below after " << confirmations << " confirmations";
  EXPECT_GT(now.hits(0).score(), score_before);

  // A similar question gains too (the memory of confirmed answers), but less than the
  // question itself, whose exact repeat agents confirmed.
  const double other_question_after = target_score_for("职工住院医疗待遇");
  EXPECT_GT(other_question_after, other_question_before);
  // Judgements are stored: the order holds after a restart.
  Stop();
  Start();
  EXPECT_EQ(rank_of_target(MustSearch(query)), 0);

  // An agent who changes their mind replaces their judgement instead of adding to it.
  v1::SearchResponse again = MustSearch(query);
  const double lifted = again.hits(0).score();
  judge(now, target, v1::FEEDBACK_TYPE_NOT_HELPFUL, "agent");
  v1::SearchResponse lowered = MustSearch(query);
  ASSERT_GE(rank_of_target(lowered), 0);
  EXPECT_LT(lowered.hits(rank_of_target(lowered)).score(), lifted);
}

TEST_F(KnowledgeBaseServiceTest, GapsAreCountedInTheirWindowAndResolvedByAConfirmedAnswer) {
  AddPolicy();
  const absl::Time t0 = ChinaNoon(2026, 11, 1);
  clock_.Set(t0);
  MustSearch("宠物狗办证");  // Nothing about dogs in the knowledge base.
  clock_.Set(t0 + absl::Hours(24 * 10));
  MustSearch("宠物狗 办证");
  v1::SearchRequest second_agent;
  second_agent.set_query("宠物狗办证");
  v1::SearchResponse ignored;
  ASSERT_TRUE(Search(second_agent, &ignored, "agent2").ok());
  AwaitGap("宠物狗办证", 3);

  auto list = [&](v1::ListGapsRequest r) {
    v1::ListGapsResponse out;
    grpc::Status s = stub_->ListGaps(ContextWithToken("editor").get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  };
  v1::ListGapsResponse all = list({});
  ASSERT_EQ(all.gaps_size(), 1);
  EXPECT_EQ(all.gaps(0).count(), 3);
  EXPECT_EQ(all.gaps(0).no_hit_count(), 3);
  EXPECT_EQ(all.gaps(0).principal_count(), 2);
  EXPECT_EQ(all.gaps(0).question(), "宠物狗办证");  // The most frequent wording...
  ASSERT_EQ(all.gaps(0).sample_queries_size(), 1);  // ...and the others.
  EXPECT_EQ(all.gaps(0).sample_queries(0), "宠物狗 办证");

  // A window that starts after the first search counts only the later two.
  v1::ListGapsRequest recent;
  *recent.mutable_start_time() = ToProtoTime(t0 + absl::Hours(24 * 5));
  v1::ListGapsResponse windowed = list(recent);
  ASSERT_EQ(windowed.gaps_size(), 1);
  EXPECT_EQ(windowed.gaps(0).count(), 2);
  EXPECT_EQ(FromProtoTime(windowed.gaps(0).first_seen_time()), t0);  // First ever, all the same.
  // min_count filters on the count in the window.
  recent.set_min_count(3);
  EXPECT_EQ(list(recent).gaps_size(), 0);

  // A search whose hits were all unhelpful counts once, however many hits were marked.
  v1::SearchResponse found = MustSearch("住院报销");
  ASSERT_GE(found.hits_size(), 2);
  for (int i = 0; i < 2; ++i) {
    v1::RecordFeedbackRequest f;
    f.set_search_id(found.search_id());
    f.set_query("住院报销");
    f.set_type(v1::FEEDBACK_TYPE_NOT_HELPFUL);
    f.set_entry_id(found.hits(i).entry_id());
    f.set_passage_label(found.hits(i).passage_label());
    f.set_passage_ordinal(found.hits(i).passage_ordinal());
    v1::RecordFeedbackResponse out;
    ASSERT_TRUE(stub_->RecordFeedback(ContextWithToken("agent").get(), f, &out).ok());
  }
  v1::ListGapsRequest unhelpful_only;
  unhelpful_only.add_reasons(v1::GAP_REASON_ONLY_UNHELPFUL);
  v1::ListGapsResponse unhelpful = list(unhelpful_only);
  ASSERT_EQ(unhelpful.gaps_size(), 1);
  EXPECT_EQ(unhelpful.gaps(0).count(), 1);
  EXPECT_EQ(unhelpful.gaps(0).unhelpful_count(), 1);
  ASSERT_EQ(unhelpful.gaps(0).unhelpful_hits_size(), 2);
  EXPECT_EQ(unhelpful.gaps(0).unhelpful_hits(0).title(), "长沙市职工基本医疗保险住院待遇办法");

  // A later search of the same question with a confirmed answer resolves the gap.
  clock_.Set(t0 + absl::Hours(24 * 11));
  v1::SearchResponse answered = MustSearch("住院报销");
  v1::RecordFeedbackRequest yes;
  yes.set_search_id(answered.search_id());
  yes.set_query("住院报销");
  yes.set_type(v1::FEEDBACK_TYPE_ANSWERED);
  yes.set_entry_id(answered.hits(0).entry_id());
  yes.set_passage_ordinal(answered.hits(0).passage_ordinal());
  v1::RecordFeedbackResponse out;
  ASSERT_TRUE(stub_->RecordFeedback(ContextWithToken("agent2").get(), yes, &out).ok());
  EXPECT_EQ(list(unhelpful_only).gaps_size(), 0);
  unhelpful_only.set_include_resolved(true);
  v1::ListGapsResponse resolved = list(unhelpful_only);
  ASSERT_EQ(resolved.gaps_size(), 1);
  EXPECT_TRUE(resolved.gaps(0).resolved());
  EXPECT_EQ(resolved.gaps(0).resolved_by_entry_id(), "policy-1");

  // Gaps, their occurrences and their resolution are in the store: a restart changes nothing.
  Stop();
  Start();
  ASSERT_EQ(list(unhelpful_only).gaps_size(), 1);
  EXPECT_TRUE(list(unhelpful_only).gaps(0).resolved());
  ASSERT_EQ(list(recent).gaps_size(), 0);  // min_count 3 in the recent window, as before.
  recent.set_min_count(2);
  EXPECT_EQ(list(recent).gaps_size(), 1);

  // The dog question is still open; 40 days on, its occurrences have left the default window.
  v1::StatsResponse stats;
  ASSERT_TRUE(stub_->Stats(ContextWithToken("supervisor").get(), {}, &stats).ok());
  EXPECT_EQ(stats.open_gaps(), 1);
  clock_.Set(t0 + absl::Hours(24 * 50));
  EXPECT_EQ(list({}).gaps_size(), 0);
  ASSERT_TRUE(stub_->Stats(ContextWithToken("supervisor").get(), {}, &stats).ok());
  EXPECT_EQ(stats.open_gaps(), 0);
}

// Confirmed answers help questions worded differently: a similar (not identical) question
// finds the passage agents confirmed, says so in the hit, keeps it after a restart; "not
// helpful" from similar questions pushes it down; and after the law is amended the vote goes
// to the same clause of the version in force.
class LearningFromAnswersTest : public KnowledgeBaseServiceTest {
 protected:
  void Judge(const std::string& question, const std::string& entry, const std::string& label,
             v1::FeedbackType type, const std::string& token = "agent") {
    v1::RecordFeedbackRequest f;
    f.set_search_id(absl::StrCat("s-", ++searches_));
    f.set_query(question);
    f.set_type(type);
    f.set_entry_id(entry);
    f.set_passage_label(label);
    v1::RecordFeedbackResponse out;
    grpc::Status s = stub_->RecordFeedback(ContextWithToken(token).get(), f, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // The rank of (entry, label) in the search for `question`, or -1; and the hit.
  int RankOf(const std::string& question, const std::string& entry, const std::string& label,
             v1::SearchHit* hit = nullptr) {
    v1::SearchResponse found = MustSearch(question);
    for (int i = 0; i < found.hits_size(); ++i) {
      if (found.hits(i).entry_id() == entry && found.hits(i).passage_label() == label) {
        if (hit != nullptr) *hit = found.hits(i);
        return i;
      }
    }
    return -1;
  }

  int searches_ = 0;
};

TEST_F(LearningFromAnswersTest, ASimilarQuestionFindsTheConfirmedClauseAndSaysWhy) {
  AddPolicy();
  // Callers asking about treatment in another city: agents answer with the article on
  // registering first (第六条), which the words of the new question do not reach.
  const std::string similar = "去外地看病住院医保怎么报销";
  const int cold = RankOf(similar, "policy-1", "第六条");
  EXPECT_NE(cold, 0);
  Judge("在外地住院看病，医保能报销吗", "policy-1", "第六条", v1::FEEDBACK_TYPE_ANSWERED);
  Judge("去外地住院了医保怎么报", "policy-1", "第六条", v1::FEEDBACK_TYPE_ANSWERED, "agent2");
  v1::SearchHit hit;
  const int lifted = RankOf(similar, "policy-1", "第六条", &hit);
  ASSERT_GE(lifted, 0);
  EXPECT_TRUE(cold < 0 || lifted < cold) << "cold " << cold << ", lifted " << lifted;
  EXPECT_EQ(hit.similar_confirmations(), 2);
  EXPECT_EQ(hit.ranking_note(), "2 个相似问题确认过此条款");
  // An unrelated question is not touched.
  v1::SearchHit unrelated;
  if (RankOf("住院医疗费用报销比例", "policy-1", "第六条", &unrelated) >= 0) {
    EXPECT_EQ(unrelated.similar_confirmations(), 0);
  }
  // The memory is the stored feedback: it lifts after a restart as before.
  Stop();
  Start();
  EXPECT_EQ(RankOf(similar, "policy-1", "第六条", &hit), lifted);
  EXPECT_EQ(hit.similar_confirmations(), 2);
}

TEST_F(LearningFromAnswersTest, NotHelpfulFromSimilarQuestionsPushesAPassageDown) {
  AddPolicy();
  const std::string question = "参保职工住院费用报销多少";
  v1::SearchHit before;
  ASSERT_GE(RankOf(question, "policy-1", "第五条", &before), 0);
  Judge("职工住院的费用能报销多少", "policy-1", "第五条", v1::FEEDBACK_TYPE_NOT_HELPFUL);
  Judge("参保职工住院报销多少钱", "policy-1", "第五条", v1::FEEDBACK_TYPE_NOT_HELPFUL, "agent2");
  v1::SearchHit after;
  ASSERT_GE(RankOf(question, "policy-1", "第五条", &after), 0);
  EXPECT_LT(after.score(), before.score());
  EXPECT_EQ(after.similar_confirmations(), 0);
}

TEST_F(LearningFromAnswersTest, QuestionsAnsweredFromALawLiftItsOtherArticlesForSimilarQuestions) {
  AddPolicy("policy-1");
  v1::UpsertEntryRequest other = PolicyRequest("policy-x");
  other.mutable_entry()->set_title("城乡居民基本医疗保险办法");
  other.mutable_entry()->mutable_policy_document()->set_doc_number("长医保发〔2024〕2号");
  other.mutable_raw_content()->set_text(
      "第三条 城乡居民在定点医疗机构住院的医疗费用，由统筹基金按百分之七十的比例报销。\n");
  MustUpsert(other);
  const std::string question = "职工住院医保报销比例是多少";
  v1::SearchHit clause_before, other_before;
  ASSERT_GE(RankOf(question, "policy-1", "第五条", &clause_before), 0);
  ASSERT_GE(RankOf(question, "policy-x", "第三条", &other_before), 0);
  // Similar questions were answered from another article of policy-1.
  Judge("职工在外地住院，医保怎么报销", "policy-1", "第六条", v1::FEEDBACK_TYPE_ANSWERED);
  Judge("职工异地住院医保报销怎么办", "policy-1", "第六条", v1::FEEDBACK_TYPE_ANSWERED, "agent2");
  v1::SearchHit clause_after, other_after;
  ASSERT_GE(RankOf(question, "policy-1", "第五条", &clause_after), 0);
  ASSERT_GE(RankOf(question, "policy-x", "第三条", &other_after), 0);
  EXPECT_GT(clause_after.score(), clause_before.score());
  EXPECT_DOUBLE_EQ(other_after.score(), other_before.score());
  // Nobody confirmed 第五条 itself, and the hit does not claim it.
  EXPECT_EQ(clause_after.similar_confirmations(), 0);
  EXPECT_EQ(clause_after.ranking_note(), "");
}

TEST_F(LearningFromAnswersTest, AfterAnAmendmentTheVoteGoesToTheClauseInForce) {
  v1::Entry old_version = AddPolicy("policy-1");
  Judge("在外地住院看病，医保能报销吗", "policy-1", "第六条", v1::FEEDBACK_TYPE_ANSWERED);
  Judge("去外地住院了医保怎么报", "policy-1", "第六条", v1::FEEDBACK_TYPE_ANSWERED, "agent2");
  // The amended text: the same article, reworded; and no 第五条 any more.
  v1::UpsertEntryRequest amended = PolicyRequest("policy-2");
  amended.mutable_entry()->mutable_policy_document()->set_doc_number("长医保发〔2026〕1号");
  amended.mutable_raw_content()->set_text(
      "第一条 为保障参保职工住院医疗待遇，制定本办法。\n"
      "第六条 异地就医的参保人员可以在线办理异地就医备案，备案后直接结算。\n");
  MustUpsert(amended);
  v1::SetStatusRequest status;
  status.set_entry_id("policy-1");
  status.set_expected_version(old_version.version());
  status.set_status(v1::ENTRY_STATUS_AMENDED);
  status.set_effective_date("2026-11-01");
  status.set_superseded_by("policy-2");
  status.set_reason("修订");
  v1::SetStatusResponse out;
  grpc::Status s = stub_->SetStatus(ContextWithToken("editor").get(), status, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();

  v1::SearchHit hit;
  ASSERT_GE(RankOf("去外地看病住院医保怎么报销", "policy-2", "第六条", &hit), 0);
  EXPECT_EQ(hit.similar_confirmations(), 2);
  EXPECT_EQ(hit.ranking_note(), "2 个相似问题确认过此条款");
  EXPECT_EQ(RankOf("去外地看病住院医保怎么报销", "policy-1", "第六条"), -1);
  // A confirmed clause the new version no longer has votes for nothing.
  Judge("住院报销比例是多少", "policy-1", "第五条", v1::FEEDBACK_TYPE_ANSWERED);
  v1::SearchResponse found = MustSearch("住院报销比例是多少呢");
  for (const v1::SearchHit& h : found.hits()) {
    EXPECT_FALSE(h.entry_id() == "policy-1") << "an amended entry in the default search";
    if (h.passage_label() == "第五条") {
      EXPECT_EQ(h.similar_confirmations(), 0);
    }
  }
}

class QaDraftTest : public LearningFromAnswersTest {
 protected:
  std::vector<v1::QaDraft> Drafts(v1::QaDraftState state = v1::QA_DRAFT_STATE_UNSPECIFIED) {
    v1::ListQaDraftsRequest r;
    r.set_state(state);
    v1::ListQaDraftsResponse out;
    grpc::Status s = stub_->ListQaDrafts(ContextWithToken("editor").get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {out.drafts().begin(), out.drafts().end()};
  }
};

TEST_F(QaDraftTest, RepeatedConfirmationsOfSimilarQuestionsProposeADraftThatBecomesAQaEntry) {
  AddPolicy();
  Judge("在外地住院看病，医保能报销吗", "policy-1", "第六条", v1::FEEDBACK_TYPE_ANSWERED);
  Judge("去外地住院了医保怎么报", "policy-1", "第六条", v1::FEEDBACK_TYPE_ANSWERED, "agent2");
  EXPECT_TRUE(Drafts().empty());  // Two questions are not yet a pattern.
  // The same question again adds nothing; a third distinct one does.
  Judge("去外地住院了医保怎么报", "policy-1", "第六条", v1::FEEDBACK_TYPE_ANSWERED);
  EXPECT_TRUE(Drafts().empty());
  Judge("外地住院医保可以报销吗", "policy-1", "第六条", v1::FEEDBACK_TYPE_ANSWERED, "agent2");
  std::vector<v1::QaDraft> drafts = Drafts();
  ASSERT_EQ(drafts.size(), 1u);
  const v1::QaDraft draft = drafts[0];
  EXPECT_EQ(draft.state(), v1::QA_DRAFT_STATE_PENDING);
  EXPECT_EQ(draft.confirmations(), 3);
  EXPECT_EQ(draft.source_entry_id(), "policy-1");
  EXPECT_EQ(draft.source_passage_label(), "第六条");
  EXPECT_NE(draft.passage_text().find("异地就医备案"), std::string::npos);
  EXPECT_EQ(draft.similar_questions_size(), 2);
  // Agents cannot see or decide drafts.
  v1::ListQaDraftsResponse denied;
  EXPECT_EQ(stub_->ListQaDrafts(ContextWithToken("agent").get(), v1::ListQaDraftsRequest(), &denied)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Drafts are stored.
  Stop();
  Start();
  ASSERT_EQ(Drafts().size(), 1u);

  v1::AcceptQaDraftRequest accept;
  accept.set_request_id("accept-1");
  accept.set_draft_id(draft.id());
  accept.set_question("在外地住院，医保怎么报销？");
  accept.set_answer("先办理异地就医备案，备案后可在就医地直接结算。");
  v1::AcceptQaDraftResponse accepted;
  grpc::Status s = stub_->AcceptQaDraft(ContextWithToken("editor").get(), accept, &accepted);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(accepted.draft().state(), v1::QA_DRAFT_STATE_ACCEPTED);
  const v1::Entry& qa = accepted.entry();
  EXPECT_EQ(qa.kind(), v1::ENTRY_KIND_QA_PAIR);
  EXPECT_EQ(qa.qa_pair().source_document_id(), "policy-1");
  EXPECT_EQ(qa.qa_pair().source_passage_label(), "第六条");
  EXPECT_EQ(qa.qa_pair().question(), "在外地住院，医保怎么报销？");
  EXPECT_EQ(accepted.draft().accepted_entry_id(), qa.id());
  // A retry gives the same answer; a second acceptance is refused.
  v1::AcceptQaDraftResponse again;
  ASSERT_TRUE(stub_->AcceptQaDraft(ContextWithToken("editor").get(), accept, &again).ok());
  EXPECT_EQ(again.entry().id(), qa.id());
  accept.set_request_id("accept-2");
  EXPECT_EQ(stub_->AcceptQaDraft(ContextWithToken("editor").get(), accept, &again).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(Drafts().empty());
  EXPECT_EQ(Drafts(v1::QA_DRAFT_STATE_ACCEPTED).size(), 1u);
  // Search finds the new Q&A pair for a caller's question.
  v1::SearchResponse found = MustSearch("外地住院医保报销要备案吗");
  bool has_qa = false;
  for (const v1::SearchHit& h : found.hits()) has_qa |= h.entry_id() == qa.id();
  EXPECT_TRUE(has_qa);
}

TEST_F(QaDraftTest, ADismissedDraftIsNotProposedAgain) {
  AddPolicy();
  for (const char* q : {"职工住院能报销百分之多少", "住院费用报销比例是多少",
                        "职工住院报销比例多少", "参保职工住院报销比例是多少"}) {
    Judge(q, "policy-1", "第五条", v1::FEEDBACK_TYPE_ANSWERED);
  }
  std::vector<v1::QaDraft> drafts = Drafts();
  ASSERT_EQ(drafts.size(), 1u);
  v1::DismissQaDraftRequest dismiss;
  dismiss.set_draft_id(drafts[0].id());
  dismiss.set_reason("已有同类问答");
  v1::QaDraft dismissed;
  ASSERT_TRUE(stub_->DismissQaDraft(ContextWithToken("editor").get(), dismiss, &dismissed).ok());
  EXPECT_EQ(dismissed.state(), v1::QA_DRAFT_STATE_DISMISSED);
  Judge("住院能报销多少比例", "policy-1", "第五条", v1::FEEDBACK_TYPE_ANSWERED);
  EXPECT_TRUE(Drafts().empty());
  EXPECT_EQ(
      stub_->DismissQaDraft(ContextWithToken("editor").get(), dismiss, &dismissed).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
  dismiss.set_draft_id("qd-nothing");
  EXPECT_EQ(
      stub_->DismissQaDraft(ContextWithToken("editor").get(), dismiss, &dismissed).error_code(),
      grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace hotline::kb
