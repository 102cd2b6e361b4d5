// The knowledge-base service: entries, links, search, paging, roles, suggestions, statistics
// and housekeeping (the fixture: kb_service_test_fixture.h).
#include "services/kb/kb_service_test_fixture.h"

namespace hotline::kb {
namespace {

TEST_F(KnowledgeBaseServiceTest, UpsertThenSearchFindsTheClauseWithHighlights) {
  v1::Entry created = AddPolicy();
  EXPECT_EQ(created.version(), 1);
  EXPECT_EQ(created.status(), v1::ENTRY_STATUS_IN_FORCE);
  EXPECT_EQ(created.created_by(), "editor-wang");
  ASSERT_GE(created.passages_size(), 3);

  v1::SearchResponse found = MustSearch("住院报销比例");
  ASSERT_GT(found.hits_size(), 0);
  const v1::SearchHit& hit = found.hits(0);
  EXPECT_EQ(hit.entry_id(), "policy-1");
  EXPECT_EQ(hit.passage_label(), "第五条");
  EXPECT_EQ(hit.title(), created.title());
  EXPECT_EQ(hit.doc_number(), "长医保发〔2023〕5号");
  EXPECT_EQ(hit.status(), v1::ENTRY_STATUS_IN_FORCE);
  EXPECT_FALSE(hit.inactive());
  EXPECT_GT(hit.score(), 0);
  ASSERT_GT(hit.snippet().highlights_size(), 0);
  bool saw_query_word = false;
  for (const v1::TextRange& h : hit.snippet().highlights()) {
    std::string word = test_support::CodePointSlice(hit.snippet().text(), h.start(), h.end());
    saw_query_word = saw_query_word || word == "住院" || word == "报销" || word == "比例";
  }
  EXPECT_TRUE(saw_query_word) << hit.snippet().text();
}

TEST_F(KnowledgeBaseServiceTest, HitsCarryLookAskDoLinks) {
  AddPolicy();
  AddQa("qa-1", "policy-1");
  AddGuide("guide-1", "policy-1");

  v1::SearchResponse found = MustSearch("统筹基金报销");
  const v1::SearchHit* policy_hit = nullptr;
  for (const v1::SearchHit& h : found.hits()) {
    if (h.entry_id() == "policy-1") policy_hit = &h;
  }
  ASSERT_NE(policy_hit, nullptr);
  ASSERT_EQ(policy_hit->look_ask_do().qa_pairs_size(), 1);
  EXPECT_EQ(policy_hit->look_ask_do().qa_pairs(0).target_id(), "qa-1");
  ASSERT_EQ(policy_hit->look_ask_do().service_guides_size(), 1);
  EXPECT_EQ(policy_hit->look_ask_do().service_guides(0).target_id(), "guide-1");
  EXPECT_EQ(policy_hit->look_ask_do().service_guides(0).target_online_service_url(),
            "https://example.invalid/ydjy");

  // GetEntry shows the same links from both sides.
  v1::GetEntryRequest get;
  get.set_entry_id("policy-1");
  v1::Entry policy;
  ASSERT_TRUE(stub_->GetEntry(ContextWithToken("agent").get(), get, &policy).ok());
  int derived = 0;
  for (const v1::EntryLink& l : policy.links())
    derived += l.relation() == v1::LINK_RELATION_DERIVED;
  EXPECT_EQ(derived, 2);
  get.set_entry_id("qa-1");
  v1::Entry qa;
  ASSERT_TRUE(stub_->GetEntry(ContextWithToken("agent").get(), get, &qa).ok());
  EXPECT_EQ(qa.qa_pair().source_document_title(), policy.title());
  EXPECT_NE(qa.qa_pair().source_passage_text().find("百分之八十五"), std::string::npos);
}

TEST_F(KnowledgeBaseServiceTest, StaleVersionIsAbortedAndRequestIdReplays) {
  v1::Entry created = AddPolicy();
  v1::UpsertEntryRequest update = PolicyRequest("policy-1");
  update.set_expected_version(1);
  update.set_request_id("3f2a8c1e-0000-4000-8000-000000000001");
  update.mutable_entry()->set_title("长沙市职工基本医疗保险住院待遇办法（修订）");
  v1::UpsertEntryResponse first;
  ASSERT_TRUE(Upsert(update, &first).ok());
  EXPECT_EQ(first.entry().version(), 2);

  // A retry of the same request returns the original response, even though version 1 is stale.
  v1::UpsertEntryResponse replay;
  ASSERT_TRUE(Upsert(update, &replay).ok());
  EXPECT_EQ(replay.entry().version(), 2);

  // A different writer still holding version 1 loses.
  update.clear_request_id();
  update.mutable_entry()->set_title("另一个标题");
  v1::UpsertEntryResponse stale;
  grpc::Status s = Upsert(update, &stale);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED) << s.error_message();
  EXPECT_NE(s.error_message().find("expected_version"), std::string::npos);

  // The same request_id with another request is INVALID_ARGUMENT naming request_id.
  update.set_request_id("3f2a8c1e-0000-4000-8000-000000000001");
  s = Upsert(update, &stale);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("request_id"), std::string::npos);

  // Creating an id that is taken is ALREADY_EXISTS.
  s = Upsert(PolicyRequest("policy-1"), &stale);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(KnowledgeBaseServiceTest, RepealedEntryLeavesDefaultSearchButStaysReadable) {
  v1::Entry created = AddPolicy();
  AddQa("qa-1", "policy-1");
  v1::SetStatusResponse changed;
  grpc::Status s = SetStatus("policy-1", created.version(), v1::ENTRY_STATUS_REPEALED, &changed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(changed.entry().status(), v1::ENTRY_STATUS_REPEALED);
  EXPECT_TRUE(changed.entry().inactive());
  EXPECT_EQ(changed.entry().version(), created.version() + 1);
  ASSERT_EQ(changed.entry().status_history_size(), 1);
  EXPECT_EQ(changed.entry().status_history(0).changed_by(), "editor-wang");
  ASSERT_EQ(changed.affected_qa_pair_ids_size(), 1);
  EXPECT_EQ(changed.affected_qa_pair_ids(0), "qa-1");

  v1::SearchResponse active_only = MustSearch("异地就医备案");
  for (const v1::SearchHit& h : active_only.hits()) {
    EXPECT_NE(h.entry_id(), "policy-1");
  }
  v1::SearchResponse with_inactive = MustSearch("异地就医备案", /*include_inactive=*/true);
  ASSERT_GT(with_inactive.hits_size(), 0);
  EXPECT_EQ(with_inactive.hits(0).entry_id(), "policy-1");
  EXPECT_TRUE(with_inactive.hits(0).inactive());
  EXPECT_EQ(with_inactive.hits(0).status(), v1::ENTRY_STATUS_REPEALED);

  v1::GetEntryRequest get;
  get.set_entry_id("policy-1");
  v1::Entry read;
  ASSERT_TRUE(stub_->GetEntry(ContextWithToken("agent").get(), get, &read).ok());
  EXPECT_TRUE(read.inactive());

  // Repealed cannot be repealed again, and a stale version is aborted before that.
  s = SetStatus("policy-1", read.version(), v1::ENTRY_STATUS_REPEALED, &changed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  // Back to in force is a correction: it needs a reason, and the current version.
  s = SetStatus("policy-1", read.version(), v1::ENTRY_STATUS_IN_FORCE, &changed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("reason"), std::string::npos);
  s = SetStatus("policy-1", 1, v1::ENTRY_STATUS_IN_FORCE, &changed, "wrongly repealed");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED);
}

TEST_F(KnowledgeBaseServiceTest, EntriesLinksAndStatusSurviveARestart) {
  v1::Entry created = AddPolicy();
  AddQa("qa-1", "policy-1");
  v1::SetStatusResponse changed;
  ASSERT_TRUE(SetStatus("policy-1", created.version(), v1::ENTRY_STATUS_AMENDED, &changed).ok());

  Stop();
  Start();

  v1::GetEntryRequest get;
  get.set_entry_id("policy-1");
  v1::Entry read;
  ASSERT_TRUE(stub_->GetEntry(ContextWithToken("agent").get(), get, &read).ok());
  EXPECT_EQ(read.status(), v1::ENTRY_STATUS_AMENDED);
  EXPECT_EQ(read.version(), 2);
  ASSERT_EQ(read.links_size(), 1);
  EXPECT_EQ(read.links(0).target_id(), "qa-1");

  v1::SearchResponse found = MustSearch("异地就医备案", /*include_inactive=*/true);
  ASSERT_GT(found.hits_size(), 0);
  EXPECT_EQ(found.hits(0).entry_id(), "policy-1");
  EXPECT_EQ(found.hits(0).status(), v1::ENTRY_STATUS_AMENDED);
}

TEST_F(KnowledgeBaseServiceTest, RolesAreChecked) {
  v1::UpsertEntryResponse out;
  grpc::Status s = Upsert(PolicyRequest("policy-1"), &out, "agent");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  s = Upsert(PolicyRequest("policy-1"), &out, "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  v1::SearchRequest r;
  r.set_query("住院");
  v1::SearchResponse found;
  EXPECT_EQ(Search(r, &found, "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  v1::ListGapsResponse gaps;
  EXPECT_EQ(stub_->ListGaps(ContextWithToken("agent").get(), {}, &gaps).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(KnowledgeBaseServiceTest, BadRequestsNameTheField) {
  AddPolicy();
  v1::SearchRequest r;
  r.set_query("！！！");
  v1::SearchResponse found;
  grpc::Status s = Search(r, &found);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("query", 0), 0u) << s.error_message();

  r.set_query("住院");
  r.mutable_filter()->mutable_publish_date_range()->set_start_date("2024/01/05");
  s = Search(r, &found);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("filter.publish_date_range.start_date"), std::string::npos);

  v1::UpsertEntryRequest bad = PolicyRequest("policy-2");
  bad.mutable_entry()->mutable_policy_document()->set_effective_date("2023-02-30");
  v1::UpsertEntryResponse out;
  s = Upsert(bad, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("entry.policy_document.effective_date"), std::string::npos);

  // Filters with values the contract does not define.
  v1::SearchRequest kinds;
  kinds.set_query("住院");
  kinds.mutable_filter()->add_kinds(static_cast<v1::EntryKind>(99));
  s = Search(kinds, &found);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "filter.kinds[0]: 99 is not a value of EntryKind");
  kinds.mutable_filter()->set_kinds(0, v1::ENTRY_KIND_UNSPECIFIED);
  s = Search(kinds, &found);
  EXPECT_EQ(s.error_message(), "filter.kinds[0]: must not be ENTRY_KIND_UNSPECIFIED");
}

// A service guide's links become buttons on the agents' pages: only web addresses.
TEST_F(KnowledgeBaseServiceTest, LinksThatAreNotWebAddressesAreRefused) {
  v1::UpsertEntryRequest r;
  v1::Entry* e = r.mutable_entry();
  e->set_kind(v1::ENTRY_KIND_SERVICE_GUIDE);
  e->set_title("异地就医备案办事指南");
  v1::ServiceGuide* g = e->mutable_service_guide();
  g->set_matter_name("异地就医备案");
  v1::UpsertEntryResponse out;
  for (const char* url : {"javascript:alert(document.cookie)", "JavaScript:alert(1)",
                          "data:text/html,<script>alert(1)</script>", " https://a.invalid",
                          "https://a.invalid/x\ny"}) {
    g->set_online_service_url(url);
    grpc::Status s = Upsert(r, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << url;
    EXPECT_EQ(s.error_message().rfind("entry.service_guide.online_service_url: ", 0), 0u)
        << s.error_message();
  }
  g->set_online_service_url("https://zwfw.example.invalid/ydjy");
  g->add_materials()->set_template_url("javascript:void(0)");
  grpc::Status s = Upsert(r, &out);
  EXPECT_EQ(s.error_message().rfind("entry.service_guide.materials[0].template_url", 0), 0u)
      << s.error_message();
  g->mutable_materials(0)->set_template_url("HTTPS://zwfw.example.invalid/form.docx");
  s = Upsert(r, &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

// The intake form's category suggestion: the import pipeline's taxonomy classifier on the
// caller's words.
TEST_F(KnowledgeBaseServiceTest, ClassifyTextSuggestsATaxonomyCategoryForTheCallersWords) {
  v1::ClassifyTextRequest r;
  r.set_text("我想问一下租房提取住房公积金需要准备什么材料，一年能提几次");
  v1::ClassifyTextResponse out;
  grpc::Status s = stub_->ClassifyText(ContextWithToken("agent").get(), r, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.category_path(), "住房保障/住房公积金");
  EXPECT_GT(out.score(), 0);
  ASSERT_GE(out.alternatives_size(), 1);
  EXPECT_EQ(out.alternatives(0).category_path(), "住房保障");
  // Nothing the taxonomy knows: no suggestion rather than the fallback.
  r.set_text("你好");
  ASSERT_TRUE(stub_->ClassifyText(ContextWithToken("agent").get(), r, &out).ok());
  EXPECT_EQ(out.category_path(), "");
  r.set_text(" ");
  s = stub_->ClassifyText(ContextWithToken("agent").get(), r, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "text: required");
  EXPECT_EQ(stub_->ClassifyText(ContextWithToken("").get(), r, &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(KnowledgeBaseServiceTest, ApplicableRegionKeepsEntriesOfTheRegionsAbove) {
  AddPolicy();  // 湖南/长沙
  v1::UpsertEntryRequest other = PolicyRequest("policy-zz");
  other.mutable_entry()->set_region("湖南/株洲");
  MustUpsert(other);
  v1::SearchRequest r;
  r.set_query("住院报销比例");
  r.mutable_filter()->set_applicable_region("湖南/长沙/岳麓区");
  v1::SearchResponse found;
  ASSERT_TRUE(Search(r, &found).ok());
  ASSERT_GT(found.hits_size(), 0);
  for (const v1::SearchHit& h : found.hits()) EXPECT_EQ(h.entry_id(), "policy-1");
}

TEST_F(KnowledgeBaseServiceTest, SearchPagesWithATokenBoundToTheRequest) {
  AddPolicy();
  v1::SearchRequest r;
  r.set_query("参保职工医疗");
  r.set_page_size(1);
  v1::SearchResponse first;
  ASSERT_TRUE(Search(r, &first).ok());
  ASSERT_EQ(first.hits_size(), 1);
  ASSERT_FALSE(first.next_page_token().empty());
  r.set_page_token(first.next_page_token());
  v1::SearchResponse second;
  ASSERT_TRUE(Search(r, &second).ok());
  ASSERT_EQ(second.hits_size(), 1);
  EXPECT_NE(second.hits(0).passage_label(), first.hits(0).passage_label());
  r.set_query("其他问题");
  grpc::Status s = Search(r, &second);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("page_token"), std::string::npos);
}

// Found by fuzzing: the token's hash binds it to the request but is not a secret, so anyone can
// mint one with any offset, and offset + page_size overflowed. A deep offset is refused.
TEST_F(KnowledgeBaseServiceTest, AForgedPageTokenWithAHugeOffsetIsRefused) {
  AddPolicy();
  v1::SearchRequest r;
  r.set_query("参保职工医疗");
  r.set_page_size(1);
  v1::SearchResponse first;
  ASSERT_TRUE(Search(r, &first).ok());
  ASSERT_FALSE(first.next_page_token().empty());
  // Tokens carry a checksum; these are forged the way the service makes them, by someone who
  // read its code.
  v1::SearchRequest unpaged = r;
  const std::string fingerprint = RequestFingerprint(unpaged);
  for (const char* offset : {"2147483647", "16777217"}) {
    r.set_page_token(MakePageToken({offset}, fingerprint, clock_.Now()));
    v1::SearchResponse forged;
    grpc::Status s = Search(r, &forged);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << offset;
    EXPECT_NE(s.error_message().find("page_token"), std::string::npos) << s.error_message();
  }
  // Deep but within bounds: an empty page, not an error.
  r.set_page_token(MakePageToken({"16777216"}, fingerprint, clock_.Now()));
  v1::SearchResponse deep;
  ASSERT_TRUE(Search(r, &deep).ok());
  EXPECT_EQ(deep.hits_size(), 0);
  EXPECT_TRUE(deep.next_page_token().empty());
}

TEST_F(KnowledgeBaseServiceTest, DeleteRefusesASourceDocumentAndUnlinks) {
  v1::Entry policy = AddPolicy();
  AddQa("qa-1", "policy-1");
  AddGuide("guide-1", "policy-1");
  v1::DeleteEntryRequest del;
  del.set_entry_id("policy-1");
  del.set_expected_version(policy.version());
  v1::DeleteEntryResponse deleted;
  grpc::Status s = stub_->DeleteEntry(ContextWithToken("editor").get(), del, &deleted);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("qa-1"), std::string::npos);

  del.set_entry_id("qa-1");
  del.set_expected_version(1);
  ASSERT_TRUE(stub_->DeleteEntry(ContextWithToken("editor").get(), del, &deleted).ok());
  del.set_entry_id("policy-1");
  del.set_expected_version(policy.version());
  s = stub_->DeleteEntry(ContextWithToken("editor").get(), del, &deleted);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(deleted.unlinked_entry_ids_size(), 1);
  EXPECT_EQ(deleted.unlinked_entry_ids(0), "guide-1");

  v1::GetEntryRequest get;
  get.set_entry_id("policy-1");
  v1::Entry read;
  EXPECT_EQ(stub_->GetEntry(ContextWithToken("agent").get(), get, &read).error_code(),
            grpc::StatusCode::NOT_FOUND);
  get.set_entry_id("guide-1");
  ASSERT_TRUE(stub_->GetEntry(ContextWithToken("agent").get(), get, &read).ok());
  EXPECT_EQ(read.links_size(), 0);
  EXPECT_EQ(read.version(), 2);
  v1::SearchResponse after = MustSearch("统筹基金报销");
  for (const v1::SearchHit& h : after.hits()) {
    EXPECT_NE(h.entry_id(), "policy-1");
  }
}

TEST_F(KnowledgeBaseServiceTest, QueriesWithoutAnswerShowUpInListGaps) {
  AddPolicy();
  v1::SearchResponse none = MustSearch("宠物狗办证");
  EXPECT_EQ(none.hits_size(), 0);
  MustSearch("宠物狗办证");
  AwaitGap("宠物狗办证", 2);

  v1::RecordFeedbackRequest feedback;
  feedback.set_query("住院报销比例");
  feedback.set_type(v1::FEEDBACK_TYPE_NO_ANSWER);
  v1::RecordFeedbackResponse recorded;
  ASSERT_TRUE(stub_->RecordFeedback(ContextWithToken("agent").get(), feedback, &recorded).ok());

  v1::ListGapsRequest list;
  list.set_order_by(v1::GAP_ORDER_MOST_FREQUENT_FIRST);
  v1::ListGapsResponse gaps;
  grpc::Status s = stub_->ListGaps(ContextWithToken("editor").get(), list, &gaps);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(gaps.gaps_size(), 2);
  EXPECT_EQ(gaps.gaps(0).question(), "宠物狗办证");
  EXPECT_EQ(gaps.gaps(0).count(), 2);
  EXPECT_EQ(gaps.gaps(0).no_hit_count(), 2);
  EXPECT_EQ(gaps.gaps(0).principal_count(), 1);
  EXPECT_EQ(gaps.gaps(0).reason(), v1::GAP_REASON_NO_HITS);
  EXPECT_EQ(gaps.gaps(1).reason(), v1::GAP_REASON_REPORTED_NO_ANSWER);

  v1::StatsResponse stats;
  ASSERT_TRUE(stub_->Stats(ContextWithToken("supervisor").get(), {}, &stats).ok());
  EXPECT_EQ(stats.total_entries(), 1);
  EXPECT_EQ(stats.active_entries(), 1);
  EXPECT_EQ(stats.open_gaps(), 2);
  EXPECT_GT(stats.total_passages(), 0);
}

TEST_F(KnowledgeBaseServiceTest, SuggestCompletesTitlesQuestionsAndFrequentQueries) {
  AddPolicy();
  AddQa("qa-1", "policy-1");
  v1::SuggestRequest r;
  r.set_prefix("职工住院");
  v1::SuggestResponse out;
  ASSERT_TRUE(stub_->Suggest(ContextWithToken("agent").get(), r, &out).ok());
  ASSERT_GE(out.suggestions_size(), 1);
  EXPECT_EQ(out.suggestions(0).text(), "职工住院报销比例是多少？");
  EXPECT_EQ(out.suggestions(0).entry_id(), "qa-1");
  ASSERT_EQ(out.suggestions(0).highlights_size(), 1);
  EXPECT_EQ(out.suggestions(0).highlights(0).start(), 0);
  EXPECT_EQ(out.suggestions(0).highlights(0).end(), 4);

  // A query becomes a suggestion once three different agents searched it.
  Stop();
  tokens_ = testing::TokensFor({{"a1", "agent-a1", "agent"},
                                {"a2", "agent-a2", "agent"},
                                {"a3", "agent-a3", "agent"},
                                {"editor", "editor-wang", "editor"}});
  Start();
  for (const char* agent : {"a1", "a2", "a3"}) {
    v1::SearchRequest search;
    search.set_query("住院费用报销");
    v1::SearchResponse found;
    ASSERT_TRUE(Search(search, &found, agent).ok());
  }
  r.set_prefix("住院费");
  out.Clear();
  ASSERT_TRUE(stub_->Suggest(ContextWithToken("a1").get(), r, &out).ok());
  ASSERT_GE(out.suggestions_size(), 1);
  EXPECT_EQ(out.suggestions(0).text(), "住院费用报销");
  EXPECT_EQ(out.suggestions(0).source(), v1::SUGGESTION_SOURCE_FREQUENT_QUERY);
  EXPECT_EQ(out.suggestions(0).query_count(), 3);

  // Searches are counted in memory and written in the background: those of the last moments
  // before a shutdown are written as the service stops, and count after the restart.
  for (const char* agent : {"a1", "a2"}) {
    v1::SearchRequest search;
    search.set_query("住院费用报销");
    v1::SearchResponse found;
    ASSERT_TRUE(Search(search, &found, agent).ok());
  }
  Stop();
  Start();
  out.Clear();
  ASSERT_TRUE(stub_->Suggest(ContextWithToken("a1").get(), r, &out).ok());
  ASSERT_GE(out.suggestions_size(), 1);
  EXPECT_EQ(out.suggestions(0).text(), "住院费用报销");
  EXPECT_EQ(out.suggestions(0).query_count(), 5);

  r.set_prefix(std::string(65, 'a'));
  EXPECT_EQ(stub_->Suggest(ContextWithToken("a1").get(), r, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(KnowledgeBaseServiceTest, StatsReportTheIndexTermsAndWhenTheIndexLastChanged) {
  v1::StatsResponse empty;
  ASSERT_TRUE(stub_->Stats(ContextWithToken("editor").get(), {}, &empty).ok());
  clock_.Advance(absl::Minutes(5));
  AddPolicy();
  v1::StatsResponse stats;
  ASSERT_TRUE(stub_->Stats(ContextWithToken("editor").get(), {}, &stats).ok());
  EXPECT_GT(stats.index_term_count(), empty.index_term_count());
  // Stored, even before RocksDB flushes its memtables to tables.
  EXPECT_GT(stats.store_size_bytes(), empty.store_size_bytes());
  EXPECT_EQ(FromProtoTime(stats.index_update_time()), clock_.Now());
  EXPECT_EQ(FromProtoTime(stats.index_update_time()) - FromProtoTime(empty.index_update_time()),
            absl::Minutes(5));
}

TEST_F(KnowledgeBaseServiceTest, WithoutAQueryEntriesAreBrowsedByFilterNewestFirst) {
  auto add = [&](const std::string& id, const std::string& publish, const std::string& effective) {
    v1::UpsertEntryRequest r = PolicyRequest(id);
    r.mutable_entry()->set_title("长沙市职工医疗保险办法" + id);
    r.mutable_entry()->mutable_policy_document()->set_publish_date(publish);
    r.mutable_entry()->mutable_policy_document()->set_effective_date(effective);
    return MustUpsert(r);
  };
  add("p2021", "2021-03-01", "2021-06-01");
  add("p2024", "2024-01-15", "2024-02-01");
  v1::Entry undated = add("undated", "", "");
  add("p2023", "2023-07-01", "2025-01-01");
  AddGuide("guide-1", "p2021");  // Another kind, left out by the filter.

  auto browse = [&](v1::SearchOrder order) {
    v1::SearchRequest r;
    r.mutable_filter()->add_kinds(v1::ENTRY_KIND_POLICY_DOCUMENT);
    r.set_order_by(order);
    v1::SearchResponse found;
    grpc::Status s = Search(r, &found);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> ids;
    for (const v1::SearchHit& h : found.hits()) ids.push_back(h.entry_id());
    EXPECT_EQ(found.total_size(), static_cast<int64_t>(ids.size()));
    return ids;
  };
  using Ids = std::vector<std::string>;
  // Unspecified without a query: newest publication first, the undated entry last.
  EXPECT_EQ(browse(v1::SEARCH_ORDER_UNSPECIFIED), (Ids{"p2024", "p2023", "p2021", "undated"}));
  EXPECT_EQ(browse(v1::SEARCH_ORDER_EFFECTIVE_DATE_DESC),
            (Ids{"p2023", "p2024", "p2021", "undated"}));
  // The most recently changed first.
  clock_.Advance(absl::Minutes(1));
  v1::UpsertEntryRequest update = PolicyRequest("undated");
  update.mutable_entry()->set_title("长沙市职工医疗保险办法（修订稿）");
  update.set_expected_version(undated.version());
  MustUpsert(update);
  EXPECT_EQ(browse(v1::SEARCH_ORDER_UPDATE_TIME_DESC).front(), "undated");

  // Relevance needs a query, and the error says which field is wrong.
  v1::SearchRequest bad;
  bad.set_order_by(v1::SEARCH_ORDER_RELEVANCE);
  v1::SearchResponse found;
  grpc::Status s = Search(bad, &found);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("order_by"), std::string::npos) << s.error_message();

  // A query in a date order: only matching passages, newest document first.
  v1::SearchRequest dated;
  dated.set_query("异地就医备案");
  dated.set_max_hits_per_entry(1);
  dated.set_order_by(v1::SEARCH_ORDER_PUBLISH_DATE_DESC);
  ASSERT_TRUE(Search(dated, &found).ok());
  ASSERT_GE(found.hits_size(), 3);
  EXPECT_EQ(found.hits(0).entry_id(), "p2024");
  EXPECT_EQ(found.hits(1).entry_id(), "p2023");

  // Browsing is not a question: it leaves no gap behind.
  v1::ListGapsResponse gaps;
  ASSERT_TRUE(stub_->ListGaps(ContextWithToken("editor").get(), {}, &gaps).ok());
  EXPECT_EQ(gaps.gaps_size(), 0);
}

TEST_F(KnowledgeBaseServiceTest, OldRequestIdsAndGapOccurrencesArePrunedAfterTheirRetention) {
  clock_.Set(ChinaNoon(2026, 1, 5));
  v1::UpsertEntryRequest create = PolicyRequest("policy-1");
  create.set_request_id("create-policy-1");
  MustUpsert(create);
  MustSearch("宠物狗办证");  // A gap occurrence.
  AwaitGap("宠物狗办证", 1);

  v1::UpsertEntryRequest other = PolicyRequest("policy-2");
  other.set_request_id("create-policy-1");
  v1::UpsertEntryResponse out;
  // Within the retention the id is remembered, even after a prune: reused for another request
  // it is refused, naming the field.
  clock_.Advance(absl::Hours(24 * 6));
  ASSERT_TRUE(service_->PruneRecords().ok());
  grpc::Status s = Upsert(other, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("request_id"), std::string::npos);

  // A week on, it is forgotten, and the same id may name a new request.
  clock_.Advance(absl::Hours(24 * 2));
  absl::StatusOr<int> pruned = service_->PruneRecords();
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, 1);
  s = Upsert(other, &out);
  EXPECT_TRUE(s.ok()) << s.error_message();

  // Gap occurrences are kept for 400 days, then leave even a window that covers them.
  v1::ListGapsRequest year;
  *year.mutable_start_time() = ToProtoTime(ChinaNoon(2026, 1, 1));
  v1::ListGapsResponse gaps;
  clock_.Set(ChinaNoon(2027, 1, 5));
  ASSERT_TRUE(service_->PruneRecords().ok());
  ASSERT_TRUE(stub_->ListGaps(ContextWithToken("editor").get(), year, &gaps).ok());
  EXPECT_EQ(gaps.gaps_size(), 1);
  clock_.Set(ChinaNoon(2027, 2, 15));
  ASSERT_TRUE(service_->PruneRecords().ok());
  ASSERT_TRUE(stub_->ListGaps(ContextWithToken("editor").get(), year, &gaps).ok());
  EXPECT_EQ(gaps.gaps_size(), 0);
}

}  // namespace
}  // namespace hotline::kb
