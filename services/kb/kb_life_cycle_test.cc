// Entries on the calendar: scheduled repeals, coming into force and expiry, Q&A pairs that
// follow their source, and the legal-effect priors.
#include "services/kb/kb_service_test_fixture.h"

namespace hotline::kb {
namespace {

// ---------------------------------------------------------------------------------------------
// Life cycle on the calendar, Q&A pairs following their source, feedback and gaps
// ---------------------------------------------------------------------------------------------

TEST_F(KnowledgeBaseServiceTest, AScheduledRepealTakesEffectOnItsDateEvenAcrossARestart) {
  clock_.Set(ChinaNoon(2026, 11, 20));
  v1::Entry created = AddPolicy();
  v1::SetStatusRequest r;
  r.set_entry_id("policy-1");
  r.set_expected_version(created.version());
  r.set_status(v1::ENTRY_STATUS_REPEALED);
  r.set_effective_date("2026-12-01");
  r.set_basis_doc_number("长医保发〔2026〕9号");
  v1::SetStatusResponse scheduled;
  grpc::Status s = stub_->SetStatus(ContextWithToken("editor").get(), r, &scheduled);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(scheduled.scheduled());
  EXPECT_EQ(scheduled.entry().status(), v1::ENTRY_STATUS_IN_FORCE);
  EXPECT_EQ(scheduled.entry().pending_status_change().to_status(), v1::ENTRY_STATUS_REPEALED);

  // The day before: nothing changes, the policy is still found.
  clock_.Set(
      absl::FromCivil(absl::CivilSecond(2026, 11, 30, 23, 59, 0), absl::FixedTimeZone(8 * 3600)));
  absl::StatusOr<int> changed = service_->ApplyDueStatusChanges();
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(*changed, 0);
  EXPECT_TRUE(Finds(MustSearch("住院报销比例"), "policy-1"));

  // The server is down over midnight; on start-up the repeal is made at once.
  Stop();
  clock_.Set(
      absl::FromCivil(absl::CivilSecond(2026, 12, 1, 0, 1, 0), absl::FixedTimeZone(8 * 3600)));
  Start();
  v1::Entry repealed = Get(*stub_, "policy-1");
  EXPECT_EQ(repealed.status(), v1::ENTRY_STATUS_REPEALED);
  EXPECT_TRUE(repealed.inactive());
  EXPECT_FALSE(repealed.has_pending_status_change());
  ASSERT_EQ(repealed.status_history_size(), 1);
  EXPECT_EQ(repealed.status_history(0).effective_date(), "2026-12-01");
  EXPECT_EQ(repealed.status_history(0).basis_doc_number(), "长医保发〔2026〕9号");
  EXPECT_EQ(repealed.version(), scheduled.entry().version() + 1);
  EXPECT_FALSE(Finds(MustSearch("住院报销比例"), "policy-1"));
  // Made once: a second sweep finds nothing more to do.
  changed = service_->ApplyDueStatusChanges();
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(*changed, 0);
}

TEST_F(KnowledgeBaseServiceTest, PoliciesComeIntoForceAndExpireOnTheirDates) {
  clock_.Set(ChinaNoon(2026, 11, 20));
  v1::UpsertEntryRequest later = PolicyRequest("policy-later");
  later.mutable_entry()->mutable_policy_document()->set_effective_date("2026-12-01");
  later.mutable_entry()->mutable_policy_document()->set_expiry_date("2026-12-31");
  v1::Entry created = MustUpsert(later);
  EXPECT_EQ(created.status(), v1::ENTRY_STATUS_NOT_YET_EFFECTIVE);

  clock_.Set(ChinaNoon(2026, 12, 1));
  absl::StatusOr<int> changed = service_->ApplyDueStatusChanges();
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(*changed, 1);
  v1::Entry in_force = Get(*stub_, "policy-later");
  EXPECT_EQ(in_force.status(), v1::ENTRY_STATUS_IN_FORCE);
  ASSERT_EQ(in_force.status_history_size(), 1);
  EXPECT_EQ(in_force.status_history(0).changed_by(), "system");

  // The expiry date is the last day of validity: still in force on it, expired the day after.
  clock_.Set(ChinaNoon(2026, 12, 31));
  ASSERT_EQ(*service_->ApplyDueStatusChanges(), 0);
  EXPECT_EQ(Get(*stub_, "policy-later").status(), v1::ENTRY_STATUS_IN_FORCE);
  clock_.Set(ChinaNoon(2027, 1, 1));
  ASSERT_EQ(*service_->ApplyDueStatusChanges(), 1);
  v1::Entry expired = Get(*stub_, "policy-later");
  EXPECT_EQ(expired.status(), v1::ENTRY_STATUS_EXPIRED);
  EXPECT_TRUE(expired.inactive());
  ASSERT_EQ(expired.status_history_size(), 2);
  EXPECT_EQ(expired.status_history(1).effective_date(), "2027-01-01");
  EXPECT_FALSE(Finds(MustSearch("住院报销比例"), "policy-later"));
}

TEST_F(KnowledgeBaseServiceTest, QaPairsOfARepealedPolicyAreInactiveUntilItIsRestored) {
  v1::Entry policy = AddPolicy();
  AddQa("qa-1", "policy-1");
  ASSERT_TRUE(Finds(MustSearch("职工住院报销比例是多少"), "qa-1"));

  v1::SetStatusResponse repealed;
  ASSERT_TRUE(SetStatus("policy-1", policy.version(), v1::ENTRY_STATUS_REPEALED, &repealed).ok());
  ASSERT_EQ(repealed.affected_qa_pair_ids_size(), 1);
  v1::Entry qa = Get(*stub_, "qa-1");
  EXPECT_EQ(qa.status(), v1::ENTRY_STATUS_IN_FORCE);  // Its own status is untouched...
  EXPECT_TRUE(qa.inactive());                         // ...but it is flagged.
  EXPECT_EQ(qa.qa_pair().source_document_status(), v1::ENTRY_STATUS_REPEALED);
  EXPECT_FALSE(Finds(MustSearch("职工住院报销比例是多少"), "qa-1"));
  v1::SearchResponse all = MustSearch("职工住院报销比例是多少", /*include_inactive=*/true);
  auto hit = std::find_if(all.hits().begin(), all.hits().end(),
                          [](const v1::SearchHit& h) { return h.entry_id() == "qa-1"; });
  ASSERT_NE(hit, all.hits().end());
  EXPECT_TRUE(hit->inactive());

  // Flagged in the store, not only when read: a restart keeps it out of search.
  Stop();
  Start();
  EXPECT_FALSE(Finds(MustSearch("职工住院报销比例是多少"), "qa-1"));

  // Restored by correction: the Q&A pair is current again.
  v1::SetStatusResponse restored;
  grpc::Status s = SetStatus("policy-1", repealed.entry().version(), v1::ENTRY_STATUS_IN_FORCE,
                             &restored, "误废止，予以更正");
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(restored.affected_qa_pair_ids_size(), 1);
  EXPECT_FALSE(Get(*stub_, "qa-1").inactive());
  EXPECT_TRUE(Finds(MustSearch("职工住院报销比例是多少"), "qa-1"));
}

TEST_F(KnowledgeBaseServiceTest, ApplicableRegionSwitchesOffTheLegalEffectPriors) {
  // The same text as a national departmental rule and as a local government rule.
  v1::UpsertEntryRequest national = PolicyRequest("national");
  national.mutable_entry()->set_region("全国");
  national.mutable_entry()->mutable_policy_document()->set_level(
      v1::POLICY_LEVEL_DEPARTMENTAL_RULE);
  MustUpsert(national);
  v1::UpsertEntryRequest local = PolicyRequest("local");
  local.mutable_entry()->mutable_policy_document()->set_level(
      v1::POLICY_LEVEL_LOCAL_GOVERNMENT_RULE);
  MustUpsert(local);

  auto scores = [&](const std::string& applicable_region) {
    v1::SearchRequest r;
    r.set_query("住院报销比例");
    r.set_max_hits_per_entry(1);
    r.mutable_filter()->set_applicable_region(applicable_region);
    v1::SearchResponse found;
    grpc::Status s = Search(r, &found);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::map<std::string, double> by_id;
    for (const v1::SearchHit& h : found.hits()) by_id[h.entry_id()] = h.score();
    return by_id;
  };
  // Without a region, the rule that binds more widely ranks first.
  std::map<std::string, double> anywhere = scores("");
  ASSERT_EQ(anywhere.size(), 2u);
  EXPECT_GT(anywhere["national"], anywhere["local"] * 1.2);
  // For a caller in Changsha, the local rule applies as much as the national one.
  std::map<std::string, double> changsha = scores("湖南/长沙");
  ASSERT_EQ(changsha.size(), 2u);
  EXPECT_NEAR(changsha["national"], changsha["local"], 1e-6 * changsha["local"]);
}

}  // namespace
}  // namespace hotline::kb
