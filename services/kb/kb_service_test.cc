// The knowledge-base service through a real gRPC server on port 0, a real RocksDB in a
// temporary directory and the real analyser (jieba's dictionary from Debian's python3-jieba,
// our domain dictionary, stop words and synonyms); time is a ManualClock.
#include "services/kb/kb_service.h"

#include <gtest/gtest.h>
#include <rocksdb/env.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/proto_time.h"
#include "common/service_host.h"
#include "services/kb/demo_loader.h"
#include "services/kb/kb_test_support.h"
#include "tests/support/power_loss_fs.h"
#include "tests/support/test_util.h"

namespace hotline::kb {
namespace {

using testing::ContextWithToken;

constexpr char kMedicalPolicyText[] =
    "第一章 总则\n"
    "第一条 为保障参保职工住院医疗待遇，制定本办法。\n"
    "第二章 待遇\n"
    "第五条 参保职工在定点医疗机构住院发生的政策范围内医疗费用，起付标准以上部分由统筹基金按"
    "百分之八十五的比例报销。\n"
    "第六条 异地就医的参保人员应当先办理异地就医备案。\n";

class KnowledgeBaseServiceTest : public ::testing::Test {
 protected:
  KnowledgeBaseServiceTest()
      : clock_(absl::FromCivil(absl::CivilSecond(2026, 11, 20, 10, 0, 0), absl::UTCTimeZone())) {}

  void SetUp() override {
    std::string tokens;
    for (const auto& [token, line] : std::vector<std::pair<std::string, std::string>>{
             {"agent", "agent-zhang agent"},
             {"agent2", "agent-li agent"},
             {"editor", "editor-wang editor"},
             {"supervisor", "supervisor-chen supervisor"}}) {
      tokens += HashToken(token) + " " + line + "\n";
    }
    tokens_ = *TokenRegistry::Parse(tokens);
    Start();
  }

  void TearDown() override { Stop(); }

  void Start() {
    auto db = RocksStore::Open({.path = dir_.Sub("db"),
                                .column_families = KnowledgeBaseService::Families(),
                                .sync_writes = sync_writes_,
                                .env = env_});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    service_ = std::make_unique<KnowledgeBaseService>(tokens_, db_.get(),
                                                      test_support::RealServiceOptions(&clock_));
    absl::Status init = service_->Init();
    ASSERT_TRUE(init.ok()) << init;
    host_ = std::make_unique<ServiceHost>(ServiceHostOptions{});
    host_->AddService(service_.get(), KnowledgeBaseService::kName);
    ASSERT_TRUE(host_->Start().ok());
    stub_ = v1::KnowledgeBaseService::NewStub(testing::LocalChannel(host_->port()));
  }

  void Stop() {
    if (host_) host_->Shutdown();
    host_.reset();
    service_.reset();
    db_.reset();
  }

  static v1::UpsertEntryRequest PolicyRequest(const std::string& id) {
    v1::UpsertEntryRequest r;
    v1::Entry* e = r.mutable_entry();
    e->set_id(id);
    e->set_kind(v1::ENTRY_KIND_POLICY_DOCUMENT);
    e->set_title("长沙市职工基本医疗保险住院待遇办法");
    e->set_region("湖南/长沙");
    e->set_category_path("社会保障/医疗保险");
    v1::PolicyDocument* p = e->mutable_policy_document();
    p->set_doc_number("长医保发〔2023〕5号");
    p->add_issuing_agencies("长沙市医疗保障局");
    p->set_publish_date("2023-05-09");
    p->set_effective_date("2023-06-01");
    r.mutable_raw_content()->set_format(v1::CONTENT_FORMAT_PLAIN_TEXT);
    r.mutable_raw_content()->set_text(kMedicalPolicyText);
    return r;
  }

  grpc::Status Upsert(const v1::UpsertEntryRequest& r, v1::UpsertEntryResponse* out,
                      const std::string& token = "editor") {
    return stub_->UpsertEntry(ContextWithToken(token).get(), r, out);
  }

  v1::Entry MustUpsert(const v1::UpsertEntryRequest& r) {
    v1::UpsertEntryResponse out;
    grpc::Status s = Upsert(r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.entry();
  }

  v1::Entry AddPolicy(const std::string& id = "policy-1") { return MustUpsert(PolicyRequest(id)); }

  v1::Entry AddQa(const std::string& id, const std::string& source) {
    v1::UpsertEntryRequest r;
    v1::Entry* e = r.mutable_entry();
    e->set_id(id);
    e->set_kind(v1::ENTRY_KIND_QA_PAIR);
    e->set_title("职工住院报销比例是多少？");
    e->mutable_qa_pair()->set_question("职工住院报销比例是多少？");
    e->mutable_qa_pair()->set_answer("起付标准以上的政策范围内费用由统筹基金报销百分之八十五。");
    e->mutable_qa_pair()->set_source_document_id(source);
    e->mutable_qa_pair()->set_source_passage_label("第五条");
    return MustUpsert(r);
  }

  v1::Entry AddGuide(const std::string& id, const std::string& basis) {
    v1::UpsertEntryRequest r;
    v1::Entry* e = r.mutable_entry();
    e->set_id(id);
    e->set_kind(v1::ENTRY_KIND_SERVICE_GUIDE);
    e->set_title("异地就医备案办事指南");
    v1::ServiceGuide* g = e->mutable_service_guide();
    g->set_matter_name("异地就医备案");
    g->set_conditions("参保人员因异地长期居住或转诊需要在外地就医。");
    g->add_materials()->set_name("身份证");
    g->set_online_service_url("https://example.invalid/ydjy");
    v1::EntryLink* link = e->add_links();
    link->set_relation(v1::LINK_RELATION_BASIS);
    link->set_target_id(basis);
    return MustUpsert(r);
  }

  grpc::Status Search(const v1::SearchRequest& r, v1::SearchResponse* out,
                      const std::string& token = "agent") {
    return stub_->Search(ContextWithToken(token).get(), r, out);
  }

  // A search's gap is written by a worker after the search answers: waits (polling, with a
  // deadline) until `question` has been counted `count` times.
  void AwaitGap(const std::string& question, int count) {
    EXPECT_TRUE(hotline::testing::WaitFor([&] {
      v1::ListGapsResponse gaps;
      if (!stub_->ListGaps(ContextWithToken("editor").get(), {}, &gaps).ok()) return false;
      for (const v1::Gap& g : gaps.gaps()) {
        if (g.question() == question && g.count() >= count) return true;
      }
      return false;
    })) << question << " counted " << count << " times";
  }

  v1::SearchResponse MustSearch(const std::string& query, bool include_inactive = false) {
    v1::SearchRequest r;
    r.set_query(query);
    r.set_include_inactive(include_inactive);
    v1::SearchResponse out;
    grpc::Status s = Search(r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  grpc::Status SetStatus(const std::string& id, int64_t version, v1::EntryStatus status,
                         v1::SetStatusResponse* out, const std::string& reason = "") {
    v1::SetStatusRequest r;
    r.set_reason(reason);
    r.set_entry_id(id);
    r.set_expected_version(version);
    r.set_status(status);
    r.set_effective_date("2026-11-01");
    return stub_->SetStatus(ContextWithToken("editor").get(), r, out);
  }

  ManualClock clock_;
  // The store's file system (null: the real disk) and whether it syncs; the power-loss tests
  // set them.
  rocksdb::Env* env_ = nullptr;
  bool sync_writes_ = true;
  testing::TempDir dir_;
  std::shared_ptr<const TokenRegistry> tokens_;
  std::unique_ptr<RocksStore> db_;
  std::unique_ptr<KnowledgeBaseService> service_;
  std::unique_ptr<ServiceHost> host_;
  std::unique_ptr<v1::KnowledgeBaseService::Stub> stub_;
};

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
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(first.next_page_token(), &raw));
  const std::string rest = raw.substr(raw.find(':'));  // ":<request hash>:<issued>"
  for (const char* offset : {"2147483647", "16777217"}) {
    r.set_page_token(absl::WebSafeBase64Escape(offset + rest));
    v1::SearchResponse forged;
    grpc::Status s = Search(r, &forged);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << offset;
    EXPECT_NE(s.error_message().find("page_token"), std::string::npos) << s.error_message();
  }
  // Deep but within bounds: an empty page, not an error.
  r.set_page_token(absl::WebSafeBase64Escape("16777216" + rest));
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
  ASSERT_TRUE(
      stub_->RecordFeedback(ContextWithToken("agent").get(), feedback, &recorded).ok());

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

// A power cut after editors' writes, agents' feedback and searches that found nothing: every
// acknowledged entry version, feedback and gap is there after the restart, through a file
// system that drops whatever was not synced (tests/support/power_loss_fs.h).
class KnowledgeBasePowerLossTest : public KnowledgeBaseServiceTest {
 protected:
  void SetUp() override {
    fs_ = std::make_shared<testing::PowerLossFileSystem>();
    env_holder_ = rocksdb::NewCompositeEnv(fs_);
    env_ = env_holder_.get();
    KnowledgeBaseServiceTest::SetUp();
  }
  std::shared_ptr<testing::PowerLossFileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_holder_;
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
  ASSERT_TRUE(
      stub_->RecordFeedback(ContextWithToken("agent").get(), feedback, &recorded).ok());

  v1::GetEntryRequest get;
  get.set_entry_id("policy-1");
  v1::Entry acknowledged;  // As of the last write (the Q&A's link changed it too).
  ASSERT_TRUE(stub_->GetEntry(ContextWithToken("agent").get(), get, &acknowledged).ok());

  fs_->SetFailing(true, true);  // The power goes.
  Stop();
  testing::PowerLossFileSystem::Dropped dropped = fs_->PowerCut();
  fs_->SetFailing(false, false);
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
  ASSERT_TRUE(
      stub_->RecordFeedback(ContextWithToken("agent").get(), feedback, &recorded).ok());
  EXPECT_TRUE(recorded.replaced_previous());
}

// A disk that fails takes the gap bookkeeping with it, not the agent's search: the search runs
// on gRPC's thread and answers; the gap is written afterwards by a worker.
TEST_F(KnowledgeBasePowerLossTest, AFailingDiskDoesNotFailASearch) {
  AddPolicy();
  fs_->SetFailing(true, true);
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
  fs_->SetFailing(false, false);
}

// The control: without syncing, the same edits are gone after the cut.
TEST_F(KnowledgeBasePowerLossTest, WithoutSyncingAcknowledgedEditsAreLost) {
  Stop();
  sync_writes_ = false;
  Start();
  AddPolicy();
  EXPECT_EQ(MustSearch("宠物狗办证").hits_size(), 0);
  fs_->SetFailing(true, true);
  Stop();
  EXPECT_GT(fs_->PowerCut().bytes, 0u);
  fs_->SetFailing(false, false);
  Start();
  v1::GetEntryRequest get;
  get.set_entry_id("policy-1");
  v1::Entry after;
  EXPECT_EQ(stub_->GetEntry(ContextWithToken("agent").get(), get, &after).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// ---------------------------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------------------------

v1::ImportItem PolicyItem(const std::string& source_id, const std::string& title,
                          const std::string& publish_date, const std::string& body,
                          v1::ContentFormat format = v1::CONTENT_FORMAT_PLAIN_TEXT) {
  v1::ImportItem item;
  item.set_source_id(source_id);
  v1::Entry* e = item.mutable_entry();
  e->set_kind(v1::ENTRY_KIND_POLICY_DOCUMENT);
  e->set_title(title);
  e->set_region("湖南/长沙");
  e->set_category_path("社会保障/医疗保险");
  e->mutable_policy_document()->set_publish_date(publish_date);
  item.mutable_content()->set_format(format);
  item.mutable_content()->set_text(body);
  return item;
}

constexpr char kFundPolicyText[] =
    "第一条 为规范住房公积金提取管理，保障缴存职工合法权益，根据国务院《住房公积金管理条例》，"
    "结合本市实际，制定本办法。\n"
    "第二条 缴存职工购买、建造、翻建、大修自住住房的，可以申请提取本人住房公积金账户内的存储余额。\n"
    "第三条 缴存职工租赁自住住房，家庭名下在本市无自有住房的，每年可以提取一次，"
    "提取额度不超过当年实际支付的房租，单身职工每年最高提取一万二千元。\n"
    "第四条 职工离休、退休，或者完全丧失劳动能力并与单位终止劳动关系的，可以提取全部余额。\n"
    "第五条 申请提取住房公积金的，应当向住房公积金管理中心提交身份证件和相关证明材料，"
    "管理中心自受理申请之日起三个工作日内作出准予提取或者不准提取的决定。\n";

class ImportTest : public KnowledgeBaseServiceTest {
 protected:
  grpc::Status Import(const std::string& source, const std::vector<v1::ImportItem>& items,
                      v1::ImportResponse* response, const std::string& token = "editor") {
    auto context = ContextWithToken(token);
    std::unique_ptr<grpc::ClientWriter<v1::ImportRequest>> writer =
        stub_->Import(context.get(), response);
    v1::ImportRequest header;
    header.mutable_header()->set_source_name(source);
    writer->Write(header);
    for (const v1::ImportItem& item : items) {
      v1::ImportRequest request;
      *request.mutable_item() = item;
      if (!writer->Write(request)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }

  v1::StatsResponse Stats() {
    v1::StatsResponse stats;
    EXPECT_TRUE(stub_->Stats(ContextWithToken("editor").get(), {}, &stats).ok());
    return stats;
  }
};

TEST_F(ImportTest, ImportingTheSameItemsTwiceCreatesNoDuplicate) {
  std::vector<v1::ImportItem> items = {
      PolicyItem("fund-1", "长沙市住房公积金提取管理办法", "2023-03-01", kFundPolicyText),
      PolicyItem("med-1", "长沙市职工基本医疗保险住院待遇办法", "2023-05-09", kMedicalPolicyText)};
  v1::ImportResponse first;
  grpc::Status s = Import("regulatory-system", items, &first);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(first.results_size(), 2);
  EXPECT_EQ(first.results(0).outcome(), v1::IMPORT_OUTCOME_CREATED) << first.results(0).message();
  EXPECT_EQ(first.results(1).outcome(), v1::IMPORT_OUTCOME_CREATED) << first.results(1).message();
  EXPECT_EQ(first.totals().created(), 2);

  v1::ImportResponse second;
  ASSERT_TRUE(Import("regulatory-system", items, &second).ok());
  EXPECT_EQ(second.totals().unchanged(), 2);
  EXPECT_EQ(second.results(0).entry_id(), first.results(0).entry_id());

  // The same document from another source, wrapped in HTML with full-width digits and other
  // line breaks, merges into the first entry and keeps both source references.
  std::string html = "<html><body><div class=\"nav\">首页 &gt; 政策文件</div><article>"
                     "<h1>长沙市住房公积金提取管理办法</h1><p>" +
                     std::string(kFundPolicyText) + "</p></article></body></html>";
  v1::ImportItem variant = PolicyItem("web-778", "长沙市住房公积金提取管理办法", "2023-03-01",
                                      html, v1::CONTENT_FORMAT_HTML);
  variant.mutable_entry()->set_id("web:778");
  v1::ImportResponse third;
  ASSERT_TRUE(Import("government-website", {variant}, &third).ok());
  ASSERT_EQ(third.results_size(), 1);
  EXPECT_EQ(third.results(0).outcome(), v1::IMPORT_OUTCOME_DUPLICATE) << third.results(0).message();
  EXPECT_EQ(third.results(0).duplicate_of_id(), first.results(0).entry_id());
  v1::StatsResponse stats = Stats();
  EXPECT_EQ(stats.total_entries(), 2);
  ASSERT_EQ(stats.sources_size(), 2);  // government-website, regulatory-system
  EXPECT_EQ(stats.sources(1).source_name(), "regulatory-system");
  EXPECT_EQ(stats.sources(1).import_count(), 2);
  EXPECT_EQ(stats.sources(1).last_import_totals().unchanged(), 2);
  EXPECT_EQ(stats.sources(0).merged_duplicate_count(), 1);

  v1::GetEntryRequest get;
  get.set_entry_id(first.results(0).entry_id());
  v1::Entry merged;
  ASSERT_TRUE(stub_->GetEntry(ContextWithToken("agent").get(), get, &merged).ok());
  ASSERT_EQ(merged.sources_size(), 2);
  EXPECT_EQ(merged.sources(1).source_name(), "government-website");
  EXPECT_TRUE(merged.sources(1).merged_duplicate());

  // The id the duplicate proposed is an alias of the entry it merged into.
  get.set_entry_id("web:778");
  v1::Entry by_alias;
  ASSERT_TRUE(stub_->GetEntry(ContextWithToken("agent").get(), get, &by_alias).ok());
  EXPECT_EQ(by_alias.id(), merged.id());
  ASSERT_EQ(merged.merged_ids_size(), 1);
  EXPECT_EQ(merged.merged_ids(0), "web:778");
}

TEST_F(ImportTest, ABadItemIsRejectedWithItsReasonAndTheRestImported) {
  v1::ImportItem fund =
      PolicyItem("fund-1", "长沙市住房公积金提取管理办法", "2023-03-01", kFundPolicyText);
  fund.mutable_entry()->clear_category_path();
  v1::ImportItem no_title =
      PolicyItem("bad-1", "", "2023-03-01", "第一条 没有标题的文件。\n");
  v1::ImportItem bad_date = PolicyItem("bad-2", "日期错误的文件", "2023-02-30", kFundPolicyText);
  v1::ImportItem empty = PolicyItem("bad-3", "空文件", "2023-03-01", "   \n");
  std::vector<v1::ImportItem> items = {
      no_title, fund, bad_date, empty};
  v1::ImportResponse response;
  ASSERT_TRUE(Import("regulatory-system", items, &response).ok());
  ASSERT_EQ(response.results_size(), 4);
  EXPECT_EQ(response.results(0).outcome(), v1::IMPORT_OUTCOME_REJECTED);
  EXPECT_EQ(response.results(0).rejection_reason(), v1::REJECTION_REASON_MISSING_FIELD);
  EXPECT_EQ(response.results(0).rejected_field(), "entry.title");
  EXPECT_EQ(response.results(1).outcome(), v1::IMPORT_OUTCOME_CREATED);
  EXPECT_EQ(response.results(2).rejection_reason(), v1::REJECTION_REASON_INVALID_FIELD);
  EXPECT_EQ(response.results(2).rejected_field(), "entry.policy_document.publish_date");
  EXPECT_EQ(response.results(3).rejection_reason(), v1::REJECTION_REASON_EMPTY_CONTENT);
  EXPECT_EQ(response.totals().rejected(), 3);
  EXPECT_EQ(response.totals().created(), 1);
  EXPECT_EQ(Stats().total_entries(), 1);

  // The pipeline classified and tagged the entry, which came without a category or tags.
  v1::GetEntryRequest get;
  get.set_entry_id(response.results(1).entry_id());
  v1::Entry imported;
  ASSERT_TRUE(stub_->GetEntry(ContextWithToken("agent").get(), get, &imported).ok());
  EXPECT_EQ(imported.category_path().rfind("住房", 0), 0u) << imported.category_path();
  EXPECT_FALSE(imported.tags().empty());

  // Roles: an agent may not import.
  v1::ImportResponse denied;
  EXPECT_EQ(Import("regulatory-system", items, &denied, "agent").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ImportTest, ANewerVersionSupersedesTheOlder) {
  v1::ImportResponse first;
  ASSERT_TRUE(Import("regulatory-system",
                     {PolicyItem("fund-2019", "长沙市住房公积金提取管理办法", "2019-06-01",
                                 kFundPolicyText)},
                     &first)
                  .ok());
  ASSERT_EQ(first.results(0).outcome(), v1::IMPORT_OUTCOME_CREATED);
  std::string amended = kFundPolicyText;
  amended.replace(amended.find("一万二千元"), std::string("一万二千元").size(), "一万八千元");
  v1::ImportResponse second;
  ASSERT_TRUE(Import("regulatory-system",
                     {PolicyItem("fund-2024", "长沙市住房公积金提取管理办法（修订）", "2024-06-01",
                                 amended)},
                     &second)
                  .ok());
  ASSERT_EQ(second.results_size(), 1);
  EXPECT_EQ(second.results(0).outcome(), v1::IMPORT_OUTCOME_SUPERSEDED)
      << second.results(0).message();
  ASSERT_EQ(second.results(0).superseded_entry_ids_size(), 1);
  EXPECT_EQ(second.results(0).superseded_entry_ids(0), first.results(0).entry_id());

  v1::GetEntryRequest get;
  get.set_entry_id(first.results(0).entry_id());
  v1::Entry older;
  ASSERT_TRUE(stub_->GetEntry(ContextWithToken("agent").get(), get, &older).ok());
  EXPECT_EQ(older.status(), v1::ENTRY_STATUS_AMENDED);
  EXPECT_TRUE(older.inactive());
  EXPECT_EQ(older.superseded_by(), second.results(0).entry_id());

  // Default search answers with the version in force only.
  v1::SearchResponse found = MustSearch("租房提取公积金");
  ASSERT_GT(found.hits_size(), 0);
  for (const v1::SearchHit& h : found.hits()) {
    EXPECT_EQ(h.entry_id(), second.results(0).entry_id());
  }
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
  std::string tokens;
  for (const char* name : {"a1", "a2", "a3"}) {
    tokens += HashToken(name) + " agent-" + name + " agent\n";
  }
  tokens += HashToken("editor") + " editor-wang editor\n";
  Stop();
  tokens_ = *TokenRegistry::Parse(tokens);
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

TEST_F(ImportTest, TheDemoKnowledgeBaseLoadsWithLinks) {
  absl::StatusOr<std::vector<v1::ImportItem>> items =
      ReadDemoKnowledgeBase("services/kb/demo/knowledge_base.jsonl");
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_GE(items->size(), 100u);
  v1::ImportHeader header;
  header.set_source_name(kDemoSourceName);
  absl::StatusOr<v1::ImportResponse> imported =
      service_->ImportItems(Principal{"demo-loader", Role::kAdmin, "", ""}, header, *items);
  ASSERT_TRUE(imported.ok()) << imported.status();
  for (const v1::ImportItemResult& r : imported->results()) {
    EXPECT_NE(r.outcome(), v1::IMPORT_OUTCOME_REJECTED) << r.source_id() << ": " << r.message();
    EXPECT_NE(r.outcome(), v1::IMPORT_OUTCOME_DUPLICATE)
        << r.source_id() << " merged into " << r.duplicate_of_id();
  }
  EXPECT_EQ(Stats().total_entries(), static_cast<int64_t>(items->size()));
  absl::StatusOr<bool> has_entries = service_->HasEntries();
  ASSERT_TRUE(has_entries.ok());
  EXPECT_TRUE(*has_entries);

  // The versions the file names are linked both ways.
  int superseded = 0;
  for (const v1::ImportItem& item : *items) {
    if (item.entry().superseded_by().empty()) continue;
    ++superseded;
    v1::GetEntryRequest get;
    get.set_entry_id(item.entry().id());
    v1::Entry old_version;
    ASSERT_TRUE(stub_->GetEntry(ContextWithToken("agent").get(), get, &old_version).ok());
    EXPECT_EQ(old_version.superseded_by(), item.entry().superseded_by()) << item.entry().id();
    EXPECT_TRUE(old_version.inactive());
    get.set_entry_id(item.entry().superseded_by());
    v1::Entry new_version;
    ASSERT_TRUE(stub_->GetEntry(ContextWithToken("agent").get(), get, &new_version).ok());
    EXPECT_NE(std::find(new_version.supersedes().begin(), new_version.supersedes().end(),
                        item.entry().id()),
              new_version.supersedes().end());
  }
  EXPECT_EQ(superseded, 4);

  // Look, ask, do: the policy on pensions answers with its Q&A pairs and its service guide.
  v1::SearchResponse found = MustSearch("养老保险缴费比例");
  ASSERT_GT(found.hits_size(), 0);
  bool linked = false;
  for (const v1::SearchHit& h : found.hits()) {
    linked = linked || (h.look_ask_do().qa_pairs_size() > 0 &&
                        h.look_ask_do().service_guides_size() > 0) ||
             h.look_ask_do().policies_size() > 0;
  }
  EXPECT_TRUE(linked);
}

// ---------------------------------------------------------------------------------------------
// Life cycle on the calendar, Q&A pairs following their source, feedback and gaps
// ---------------------------------------------------------------------------------------------

// Noon in China Standard Time on a civil day.
absl::Time ChinaNoon(int year, int month, int day) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, 12, 0, 0),
                         absl::FixedTimeZone(8 * 3600));
}

v1::Entry Get(v1::KnowledgeBaseService::Stub& stub, const std::string& id) {
  v1::GetEntryRequest get;
  get.set_entry_id(id);
  v1::Entry read;
  grpc::Status s = stub.GetEntry(ContextWithToken("agent").get(), get, &read);
  EXPECT_TRUE(s.ok()) << id << ": " << s.error_message();
  return read;
}

bool Finds(const v1::SearchResponse& found, const std::string& id) {
  return std::any_of(found.hits().begin(), found.hits().end(),
                     [&](const v1::SearchHit& h) { return h.entry_id() == id; });
}

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
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 11, 30, 23, 59, 0),
                             absl::FixedTimeZone(8 * 3600)));
  absl::StatusOr<int> changed = service_->ApplyDueStatusChanges();
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(*changed, 0);
  EXPECT_TRUE(Finds(MustSearch("住院报销比例"), "policy-1"));

  // The server is down over midnight; on start-up the repeal is made at once.
  Stop();
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 12, 1, 0, 1, 0),
                             absl::FixedTimeZone(8 * 3600)));
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
  EXPECT_TRUE(qa.inactive());                          // ...but it is flagged.
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
    judge(now, target, v1::FEEDBACK_TYPE_ANSWERED,
          confirmations % 2 == 0 ? "agent" : "agent2");
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

// An import stream driven step by step: the header, items one at a time, then the end.
class ImportStream {
 public:
  ImportStream(v1::KnowledgeBaseService::Stub& stub, const v1::ImportHeader& header)
      : context_(ContextWithToken("editor")), writer_(stub.Import(context_.get(), &response_)) {
    v1::ImportRequest request;
    *request.mutable_header() = header;
    writer_->Write(request);
  }
  bool Write(const v1::ImportItem& item) {
    v1::ImportRequest request;
    *request.mutable_item() = item;
    return writer_->Write(request);
  }
  grpc::Status Finish() {
    writer_->WritesDone();
    return writer_->Finish();
  }
  const v1::ImportResponse& response() const { return response_; }

 private:
  v1::ImportResponse response_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientWriter<v1::ImportRequest>> writer_;
};

TEST_F(ImportTest, AnImportRetriedWithItsRequestIdIsAbortedWhileRunningThenReplayed) {
  v1::ImportHeader header;
  header.set_source_name("regulatory-document-system");
  header.set_request_id("import-2026-11-20");
  v1::ImportItem fund = PolicyItem("doc-1", "长沙市住房公积金提取管理办法", "2023-05-09",
                                   kFundPolicyText);
  fund.mutable_entry()->set_id("fund-policy");

  ImportStream original(*stub_, header);
  ASSERT_TRUE(original.Write(fund));
  // Entries are committed one by one: once this one is readable, the import is under way.
  ASSERT_TRUE(testing::WaitFor([&] {
    v1::GetEntryRequest get;
    get.set_entry_id("fund-policy");
    v1::Entry e;
    return stub_->GetEntry(ContextWithToken("agent").get(), get, &e).ok();
  }));
  ImportStream retry_while_running(*stub_, header);
  grpc::Status s = retry_while_running.Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED) << s.error_message();
  EXPECT_NE(s.error_message().find("request_id"), std::string::npos);

  s = original.Finish();
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(original.response().totals().created(), 1);

  // Once done, a retry gets the recorded response, and what it sends is not imported again.
  ImportStream retry(*stub_, header);
  v1::ImportItem other = PolicyItem("doc-2", "长沙市职工基本医疗保险住院待遇办法", "2023-05-09",
                                    kMedicalPolicyText);
  other.mutable_entry()->set_id("medical-policy");
  ASSERT_TRUE(retry.Write(other));
  s = retry.Finish();
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(retry.response().import_id(), original.response().import_id());
  EXPECT_EQ(retry.response().totals().created(), 1);
  v1::GetEntryRequest get;
  get.set_entry_id("medical-policy");
  v1::Entry e;
  EXPECT_EQ(stub_->GetEntry(ContextWithToken("agent").get(), get, &e).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Stats().total_entries(), 1);

  // The same request_id with another header is a mistake, named as such.
  header.set_source_name("another-source");
  ImportStream misused(*stub_, header);
  s = misused.Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("header.request_id"), std::string::npos) << s.error_message();
}

TEST_F(ImportTest, ADryRunReportsOutcomesAndWritesNothing) {
  v1::ImportResponse first;
  ASSERT_TRUE(Import("regulatory-document-system",
                     {PolicyItem("doc-1", "长沙市住房公积金提取管理办法", "2023-05-09",
                                 kFundPolicyText)},
                     &first)
                  .ok());
  const v1::StatsResponse before = Stats();

  v1::ImportHeader header;
  header.set_source_name("enterprise-policy-platform");
  header.set_dry_run(true);
  ImportStream dry(*stub_, header);
  // A copy of the imported document from another source, and a new document.
  ASSERT_TRUE(dry.Write(PolicyItem("p-9", "长沙市住房公积金提取管理办法", "2023-05-09",
                                   kFundPolicyText)));
  ASSERT_TRUE(dry.Write(PolicyItem("p-10", "长沙市职工基本医疗保险住院待遇办法", "2023-05-09",
                                   kMedicalPolicyText)));
  grpc::Status s = dry.Finish();
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(dry.response().dry_run());
  ASSERT_EQ(dry.response().results_size(), 2);
  EXPECT_EQ(dry.response().results(0).outcome(), v1::IMPORT_OUTCOME_DUPLICATE);
  EXPECT_EQ(dry.response().results(0).duplicate_of_id(), first.results(0).entry_id());
  EXPECT_EQ(dry.response().results(1).outcome(), v1::IMPORT_OUTCOME_CREATED);
  EXPECT_TRUE(dry.response().results(1).entry_id().empty());

  // Nothing was written: no new entry, no new source reference, no import counted.
  const v1::StatsResponse after = Stats();
  EXPECT_EQ(after.total_entries(), before.total_entries());
  EXPECT_EQ(after.entries_with_merged_duplicates(), 0);
  for (const v1::SourceStats& source : after.sources()) {
    EXPECT_NE(source.source_name(), "enterprise-policy-platform");
  }
  v1::GetEntryRequest get;
  get.set_entry_id(first.results(0).entry_id());
  v1::Entry original;
  ASSERT_TRUE(stub_->GetEntry(ContextWithToken("agent").get(), get, &original).ok());
  EXPECT_EQ(original.sources_size(), 1);
}

TEST_F(ImportTest, AnOversizedItemIsRejectedAsTooLargeAndTheRestImported) {
  // Over the limit in code points while under the 4 MiB message limit: mostly ASCII.
  const std::string huge = "第一条 " + std::string(2'000'001, 'x');
  v1::ImportResponse response;
  grpc::Status s = Import("regulatory-document-system",
                          {PolicyItem("huge", "超长文件", "2023-05-09", huge),
                           PolicyItem("doc-1", "长沙市住房公积金提取管理办法", "2023-05-09",
                                      kFundPolicyText)},
                          &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response.results_size(), 2);
  EXPECT_EQ(response.results(0).outcome(), v1::IMPORT_OUTCOME_REJECTED);
  EXPECT_EQ(response.results(0).rejection_reason(), v1::REJECTION_REASON_TOO_LARGE);
  EXPECT_EQ(response.results(0).rejected_field(), "content.text");
  EXPECT_EQ(response.results(1).outcome(), v1::IMPORT_OUTCOME_CREATED);
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

namespace hotline::kb {
namespace {

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

}  // namespace
}  // namespace hotline::kb

namespace hotline::kb {
namespace {

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
  for (const char* q : {"职工住院能报销百分之多少", "住院费用报销比例是多少", "职工住院报销比例多少",
                        "参保职工住院报销比例是多少"}) {
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
  EXPECT_EQ(stub_->DismissQaDraft(ContextWithToken("editor").get(), dismiss, &dismissed).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  dismiss.set_draft_id("qd-nothing");
  EXPECT_EQ(stub_->DismissQaDraft(ContextWithToken("editor").get(), dismiss, &dismissed).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace hotline::kb
