// The knowledge-base service's test fixture: the service behind a real gRPC server on port 0,
// a real RocksDB in a temporary directory and the real analyser (jieba's dictionary from
// Debian's python3-jieba, our domain dictionary, stop words and synonyms); time is a
// ManualClock. The tests are split by concern: kb_service_test.cc (entries, search, roles),
// kb_import_service_test.cc, kb_life_cycle_test.cc, kb_learning_test.cc (feedback, gaps, the
// memory of confirmed answers, drafts) and kb_power_loss_test.cc.
#ifndef HOTLINE_SERVICES_KB_KB_SERVICE_TEST_FIXTURE_H_
#define HOTLINE_SERVICES_KB_KB_SERVICE_TEST_FIXTURE_H_

#include <gtest/gtest.h>
#include <rocksdb/env.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/page_token.h"
#include "common/proto_time.h"
#include "common/service_host.h"
#include "services/kb/demo_loader.h"
#include "services/kb/kb_service.h"
#include "services/kb/kb_test_support.h"
#include "tests/support/service_test_base.h"
#include "tests/support/test_tokens.h"
#include "tests/support/test_util.h"
namespace hotline::kb {

using testing::ContextWithToken;

inline constexpr char kMedicalPolicyText[] =
    "第一章 总则\n"
    "第一条 为保障参保职工住院医疗待遇，制定本办法。\n"
    "第二章 待遇\n"
    "第五条 参保职工在定点医疗机构住院发生的政策范围内医疗费用，起付标准以上部分由统筹基金按"
    "百分之八十五的比例报销。\n"
    "第六条 异地就医的参保人员应当先办理异地就医备案。\n";

class KnowledgeBaseServiceTest : public testing::ServiceTestBase {
 protected:
  KnowledgeBaseServiceTest()
      : clock_(absl::FromCivil(absl::CivilSecond(2026, 11, 20, 10, 0, 0), absl::UTCTimeZone())) {}

  void SetUp() override {
    tokens_ = testing::TokensFor({{"agent", "agent-zhang", "agent"},
                                  {"agent2", "agent-li", "agent"},
                                  {"editor", "editor-wang", "editor"},
                                  {"supervisor", "supervisor-chen", "supervisor"}});
    Start();
  }

  void TearDown() override { Stop(); }

  std::vector<std::string> StoreFamilies() const override {
    return KnowledgeBaseService::Families();
  }

  void StartService(RocksStore* store, ServiceHost* host) override {
    service_ = std::make_unique<KnowledgeBaseService>(tokens_, store,
                                                      test_support::RealServiceOptions(&clock_));
    absl::Status init = service_->Init();
    ASSERT_TRUE(init.ok()) << init;
    host->AddService(service_.get(), KnowledgeBaseService::kName);
  }

  void Started(int port) override {
    stub_ = v1::KnowledgeBaseService::NewStub(testing::LocalChannel(port));
  }

  void StopService() override {
    stub_.reset();
    service_.reset();
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
    })) << question
        << " counted " << count << " times";
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
  std::shared_ptr<const TokenRegistry> tokens_;
  std::unique_ptr<KnowledgeBaseService> service_;
  std::unique_ptr<v1::KnowledgeBaseService::Stub> stub_;
};

// Noon in China Standard Time on a civil day.
inline absl::Time ChinaNoon(int year, int month, int day) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, 12, 0, 0),
                         absl::FixedTimeZone(8 * 3600));
}

inline v1::Entry Get(v1::KnowledgeBaseService::Stub& stub, const std::string& id) {
  v1::GetEntryRequest get;
  get.set_entry_id(id);
  v1::Entry read;
  grpc::Status s = stub.GetEntry(ContextWithToken("agent").get(), get, &read);
  EXPECT_TRUE(s.ok()) << id << ": " << s.error_message();
  return read;
}

inline bool Finds(const v1::SearchResponse& found, const std::string& id) {
  return std::any_of(found.hits().begin(), found.hits().end(),
                     [&](const v1::SearchHit& h) { return h.entry_id() == id; });
}

}  // namespace hotline::kb

#endif  // HOTLINE_SERVICES_KB_KB_SERVICE_TEST_FIXTURE_H_
