// Imports through the service: de-duplication, per-item errors, versions, dry runs, retries.
#include "services/kb/kb_service_test_fixture.h"

namespace hotline::kb {
namespace {

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
    "第二条 "
    "缴存职工购买、建造、翻建、大修自住住房的，可以申请提取本人住房公积金账户内的存储余额。\n"
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
  std::string html =
      "<html><body><div class=\"nav\">首页 &gt; 政策文件</div><article>"
      "<h1>长沙市住房公积金提取管理办法</h1><p>" +
      std::string(kFundPolicyText) + "</p></article></body></html>";
  v1::ImportItem variant = PolicyItem("web-778", "长沙市住房公积金提取管理办法", "2023-03-01", html,
                                      v1::CONTENT_FORMAT_HTML);
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
  v1::ImportItem no_title = PolicyItem("bad-1", "", "2023-03-01", "第一条 没有标题的文件。\n");
  v1::ImportItem bad_date = PolicyItem("bad-2", "日期错误的文件", "2023-02-30", kFundPolicyText);
  v1::ImportItem empty = PolicyItem("bad-3", "空文件", "2023-03-01", "   \n");
  std::vector<v1::ImportItem> items = {no_title, fund, bad_date, empty};
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
    linked = linked ||
             (h.look_ask_do().qa_pairs_size() > 0 && h.look_ask_do().service_guides_size() > 0) ||
             h.look_ask_do().policies_size() > 0;
  }
  EXPECT_TRUE(linked);
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
  v1::ImportItem fund =
      PolicyItem("doc-1", "长沙市住房公积金提取管理办法", "2023-05-09", kFundPolicyText);
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
  v1::ImportItem other =
      PolicyItem("doc-2", "长沙市职工基本医疗保险住院待遇办法", "2023-05-09", kMedicalPolicyText);
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
  ASSERT_TRUE(
      Import("regulatory-document-system",
             {PolicyItem("doc-1", "长沙市住房公积金提取管理办法", "2023-05-09", kFundPolicyText)},
             &first)
          .ok());
  const v1::StatsResponse before = Stats();

  v1::ImportHeader header;
  header.set_source_name("enterprise-policy-platform");
  header.set_dry_run(true);
  ImportStream dry(*stub_, header);
  // A copy of the imported document from another source, and a new document.
  ASSERT_TRUE(
      dry.Write(PolicyItem("p-9", "长沙市住房公积金提取管理办法", "2023-05-09", kFundPolicyText)));
  ASSERT_TRUE(dry.Write(
      PolicyItem("p-10", "长沙市职工基本医疗保险住院待遇办法", "2023-05-09", kMedicalPolicyText)));
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
  grpc::Status s =
      Import("regulatory-document-system",
             {PolicyItem("huge", "超长文件", "2023-05-09", huge),
              PolicyItem("doc-1", "长沙市住房公积金提取管理办法", "2023-05-09", kFundPolicyText)},
             &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response.results_size(), 2);
  EXPECT_EQ(response.results(0).outcome(), v1::IMPORT_OUTCOME_REJECTED);
  EXPECT_EQ(response.results(0).rejection_reason(), v1::REJECTION_REASON_TOO_LARGE);
  EXPECT_EQ(response.results(0).rejected_field(), "content.text");
  EXPECT_EQ(response.results(1).outcome(), v1::IMPORT_OUTCOME_CREATED);
}

}  // namespace
}  // namespace hotline::kb
