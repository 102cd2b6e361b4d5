// The knowledge base through power cuts and failing disks.
#include "services/kb/kb_service_test_fixture.h"

namespace hotline::kb {
namespace {

// A power cut after editors' writes, agents' feedback and searches that found nothing: every
// acknowledged entry version, feedback and gap is there after the restart, through a file
// system that drops whatever was not synced (tests/support/power_loss_fs.h).
class KnowledgeBasePowerLossTest : public KnowledgeBaseServiceTest {
 protected:
  void SetUp() override {
    UsePowerLossFileSystem();
    KnowledgeBaseServiceTest::SetUp();
  }
};

TEST_F(KnowledgeBasePowerLossTest, AcknowledgedEntriesFeedbackAndGapsSurviveAPowerCut) {
  v1::Entry policy = AddPolicy();
  v1::UpsertEntryRequest update = PolicyRequest("policy-1");
  update.set_expected_version(policy.version());
  update.mutable_entry()->set_title("长沙市职工基本医疗保险住院待遇办法（修订）");
  v1::Entry updated = MustUpsert(update);
  ASSERT_GT(updated.version(), policy.version());
  AddQa("qa-1", "policy-1");
  EXPECT_EQ(MustSearch("宠物狗办证").hits_size(), 0);  // A gap, recorded after the search.
  AwaitGap("宠物狗办证", 1);
  v1::RecordFeedbackRequest feedback;
  feedback.set_request_id("fb-power-1");
  feedback.set_query("住院报销比例");
  feedback.set_type(v1::FEEDBACK_TYPE_ANSWERED);
  feedback.set_entry_id("policy-1");
  feedback.set_passage_ordinal(1);
  v1::RecordFeedbackResponse recorded;
  ASSERT_TRUE(stub_->RecordFeedback(ContextWithToken("agent").get(), feedback, &recorded).ok());

  v1::GetEntryRequest get;
  get.set_entry_id("policy-1");
  v1::Entry acknowledged;  // As of the last write (the Q&A's link changed it too).
  ASSERT_TRUE(stub_->GetEntry(ContextWithToken("agent").get(), get, &acknowledged).ok());

  power_loss_fs_->SetFailing(true, true);  // The power goes.
  Stop();
  testing::PowerLossFileSystem::Dropped dropped = power_loss_fs_->PowerCut();
  power_loss_fs_->SetFailing(false, false);
  Start();
  std::cout << "power cut dropped " << dropped.bytes << " bytes\n";

  v1::Entry after;
  ASSERT_TRUE(stub_->GetEntry(ContextWithToken("agent").get(), get, &after).ok());
  // At least the version acknowledged: a restart itself may raise it (seen here: 2 -> 3 for
  // an entry a Q&A pair links to, with or without a power cut).
  EXPECT_GE(after.version(), acknowledged.version());
  EXPECT_EQ(after.title(), updated.title());
  EXPECT_EQ(after.policy_document().doc_number(), "长医保发〔2023〕5号");
  get.set_entry_id("qa-1");
  EXPECT_TRUE(stub_->GetEntry(ContextWithToken("agent").get(), get, &after).ok());
  // The search index was rebuilt from what survived: the amended title is found.
  EXPECT_GE(MustSearch("住院待遇办法修订").hits_size(), 1);
  v1::ListGapsResponse gaps;
  ASSERT_TRUE(stub_->ListGaps(ContextWithToken("editor").get(), {}, &gaps).ok());
  ASSERT_EQ(gaps.gaps_size(), 1);
  EXPECT_EQ(gaps.gaps(0).question(), "宠物狗办证");
  // The feedback is there: the same judgement again replaces it.
  feedback.set_request_id("fb-power-2");
  ASSERT_TRUE(stub_->RecordFeedback(ContextWithToken("agent").get(), feedback, &recorded).ok());
  EXPECT_TRUE(recorded.replaced_previous());
}

// A disk that fails takes the gap bookkeeping with it, not the agent's search: the search runs
// on gRPC's thread and answers; the gap is written afterwards by a worker.
TEST_F(KnowledgeBasePowerLossTest, AFailingDiskDoesNotFailASearch) {
  AddPolicy();
  power_loss_fs_->SetFailing(true, true);
  v1::SearchRequest r;
  r.set_query("火星移民安家补贴");
  v1::SearchResponse found;
  grpc::Status s = Search(r, &found);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(found.hits_size(), 0);
  r.set_query("住院报销比例");
  s = Search(r, &found);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_GT(found.hits_size(), 0);
  power_loss_fs_->SetFailing(false, false);
}

// The control: without syncing, the same edits are gone after the cut.
TEST_F(KnowledgeBasePowerLossTest, WithoutSyncingAcknowledgedEditsAreLost) {
  Stop();
  sync_writes_ = false;
  Start();
  AddPolicy();
  EXPECT_EQ(MustSearch("宠物狗办证").hits_size(), 0);
  power_loss_fs_->SetFailing(true, true);
  Stop();
  EXPECT_GT(power_loss_fs_->PowerCut().bytes, 0u);
  power_loss_fs_->SetFailing(false, false);
  Start();
  v1::GetEntryRequest get;
  get.set_entry_id("policy-1");
  v1::Entry after;
  EXPECT_EQ(stub_->GetEntry(ContextWithToken("agent").get(), get, &after).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace hotline::kb
