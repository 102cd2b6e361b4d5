// Import of real documents: the first laws of the lawref corpus (../shared/data/lawref) sent
// through the real client-streaming Import of a real gRPC server on port 0, with a real RocksDB
// in a temporary directory, the real analyser, classifier and tagger. What the sources of a
// hotline really send is checked on them: the same export twice, the same law re-typed,
// re-encoded or wrapped in a web page by another source, an amended version, repealed laws, and
// a stream with broken items among good ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "common/service_host.h"
#include "services/kb/importers/jsonl_importer.h"
#include "services/kb/importers/lawref_format.h"
#include "services/kb/kb_service.h"
#include "services/kb/kb_test_support.h"
#include "tests/support/service_test_base.h"
#include "tests/support/test_tokens.h"
#include "tests/support/test_util.h"

namespace hotline::kb {
namespace {

using testing::ContextWithToken;

constexpr char kCorpus[] = "../shared/data/lawref/documents.jsonl.gz";
// Large enough to hold repealed laws and laws with an ASCII digit in the text, small enough to
// import in a few seconds.
constexpr int kSampleSize = 150;

using importers::kLawrefSourceName;

// The first laws of the corpus as the JSON Lines importer gives them to a client, read once
// per test binary.
const std::vector<v1::ImportItem>& Sample() {
  static const std::vector<v1::ImportItem> sample = [] {
    std::vector<v1::ImportItem> items;
    auto reader = importers::OpenJsonLines(kCorpus);
    EXPECT_TRUE(reader.ok()) << reader.status();
    while (reader.ok() && static_cast<int>(items.size()) < kSampleSize) {
      absl::StatusOr<std::optional<importers::SourceRecord>> record = (*reader)->Next();
      EXPECT_TRUE(record.ok()) << record.status();
      if (!record.ok() || !record->has_value()) break;
      EXPECT_TRUE((*record)->item.ok()) << (*record)->origin << ": " << (*record)->item.status();
      if ((*record)->item.ok()) items.push_back(*std::move((*record)->item));
    }
    return items;
  }();
  return sample;
}

int AsciiDigits(const std::string& s) {
  return static_cast<int>(
      std::count_if(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }));
}

// ASCII digits to full-width ones (０-９), as some websites print them. Byte-wise is safe:
// bytes below 0x80 never occur inside a multi-byte UTF-8 sequence.
std::string FullWidthDigits(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      out += "\xEF\xBC";
      out += static_cast<char>(0x90 + (c - '0'));
    } else {
      out += c;
    }
  }
  return out;
}

// The same Markdown text re-typed with other whitespace: paragraphs indented with ideographic
// spaces (as in printed Chinese documents), Windows line ends, extra blank lines, trailing
// spaces.
std::string OtherWhitespace(const std::string& markdown) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(markdown, '\n')) {
    if (line.empty()) {
      out += "\r\n \r\n";
    } else if (absl::StartsWith(line, "#")) {
      absl::StrAppend(&out, line, "\r\n");
    } else {
      absl::StrAppend(&out, "\xE3\x80\x80\xE3\x80\x80", line, "  \r\n");
    }
  }
  return out;
}

std::string EscapeHtml(absl::string_view s) {
  return absl::StrReplaceAll(s, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}});
}

// The same text as a government website's page: headings and paragraphs in HTML, with the page
// furniture around it (a script, a style, navigation, a footer) that must not count as text.
std::string AsWebPage(const std::string& title, const std::string& markdown) {
  std::string body;
  for (absl::string_view line : absl::StrSplit(markdown, '\n', absl::SkipEmpty())) {
    if (absl::ConsumePrefix(&line, "## ")) {
      absl::StrAppend(&body, "<h2>", EscapeHtml(line), "</h2>\n");
    } else if (absl::ConsumePrefix(&line, "# ")) {
      absl::StrAppend(&body, "<h1>", EscapeHtml(line), "</h1>\n");
    } else {
      absl::StrAppend(&body, "<p>", EscapeHtml(line), "</p>\n");
    }
  }
  return absl::StrCat(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", EscapeHtml(title),
      "_法律法规_政府门户网站</title>\n<script>var _hmt = _hmt || []; "
      "document.write(\"欢迎访问本站，今日访问量2024次\");</script>\n"
      "<style>p { text-indent: 2em; }</style></head>\n<body>\n"
      "<nav>首页 &gt; 政务公开 &gt; 法律法规 &gt; 国家法律</nav>\n<div class=\"content\">\n",
      body, "</div>\n<footer>主办单位：某市人民政府办公厅 网站标识码1234567890</footer>\n",
      "</body></html>\n");
}

// Entry counts as Stats reports them, printable, to compare two moments.
std::string EntryCounts(const v1::StatsResponse& s) {
  std::vector<std::string> counts;
  for (const v1::EntryCount& c : s.entry_counts()) {
    counts.push_back(absl::StrCat(v1::EntryKind_Name(c.kind()), "/",
                                  v1::EntryStatus_Name(c.status()), "=", c.count()));
  }
  std::sort(counts.begin(), counts.end());
  return absl::StrCat("total ", s.total_entries(), " active ", s.active_entries(), " passages ",
                      s.total_passages(), " active_passages ", s.active_passages(), " with_merged ",
                      s.entries_with_merged_duplicates(), " superseding ", s.entries_superseding(),
                      " [", absl::StrJoin(counts, " "), "]");
}

const v1::SourceStats* SourceNamed(const v1::StatsResponse& s, const std::string& name) {
  for (const v1::SourceStats& source : s.sources()) {
    if (source.source_name() == name) return &source;
  }
  return nullptr;
}

class LawrefImportTest : public testing::ServiceTestBase {
 protected:
  LawrefImportTest()
      : clock_(absl::FromCivil(absl::CivilSecond(2026, 11, 20, 10, 0, 0), absl::UTCTimeZone())) {}

  void SetUp() override {
    ASSERT_EQ(Sample().size(), static_cast<size_t>(kSampleSize));
    Start();
  }
  void TearDown() override { Stop(); }

  std::vector<std::string> StoreFamilies() const override {
    return KnowledgeBaseService::Families();
  }

  void StartService(RocksStore* store, ServiceHost* host) override {
    std::shared_ptr<const TokenRegistry> registry = testing::TokensFor(
        {{"agent", "agent-zhang", "agent"}, {"editor", "editor-wang", "editor"}});
    service_ = std::make_unique<KnowledgeBaseService>(registry, store,
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

  // One client stream: the header, every item, half-close.
  v1::ImportResponse Import(const std::string& source, const std::vector<v1::ImportItem>& items) {
    v1::ImportResponse response;
    auto context = ContextWithToken("editor", absl::Minutes(2));
    std::unique_ptr<grpc::ClientWriter<v1::ImportRequest>> writer =
        stub_->Import(context.get(), &response);
    v1::ImportRequest header;
    header.mutable_header()->set_source_name(source);
    EXPECT_TRUE(writer->Write(header));
    for (const v1::ImportItem& item : items) {
      v1::ImportRequest request;
      *request.mutable_item() = item;
      if (!writer->Write(request)) break;
    }
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
    EXPECT_EQ(response.results_size(), static_cast<int>(items.size()));
    return response;
  }

  // The sample as the lawref source exports it; every document must get in.
  v1::ImportResponse ImportSample() {
    v1::ImportResponse response = Import(kLawrefSourceName, Sample());
    for (const v1::ImportItemResult& r : response.results()) {
      EXPECT_NE(r.outcome(), v1::IMPORT_OUTCOME_REJECTED)
          << r.source_id() << ": " << r.rejected_field() << ": " << r.message();
    }
    return response;
  }

  v1::StatsResponse Stats() {
    v1::StatsResponse stats;
    grpc::Status s = stub_->Stats(ContextWithToken("editor").get(), {}, &stats);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return stats;
  }

  grpc::Status GetEntry(const std::string& id, v1::Entry* entry) {
    v1::GetEntryRequest get;
    get.set_entry_id(id);
    get.set_view(v1::ENTRY_VIEW_FULL);
    return stub_->GetEntry(ContextWithToken("agent").get(), get, entry);
  }

  v1::Entry MustGetEntry(const std::string& id) {
    v1::Entry entry;
    grpc::Status s = GetEntry(id, &entry);
    EXPECT_TRUE(s.ok()) << id << ": " << s.error_message();
    return entry;
  }

  // The first page of hits for `query` (up to 100 passages), as an agent searches; `published`
  // narrows it to the documents published that day.
  v1::SearchResponse Search(const std::string& query, bool include_inactive,
                            const std::string& published = "", int max_hits_per_entry = 0,
                            int page_size = 100) {
    v1::SearchRequest r;
    r.set_query(query);
    r.set_include_inactive(include_inactive);
    r.set_page_size(page_size);
    r.set_max_hits_per_entry(max_hits_per_entry);
    r.set_exclude_from_statistics(true);
    if (!published.empty()) {
      r.mutable_filter()->mutable_publish_date_range()->set_start_date(published);
      r.mutable_filter()->mutable_publish_date_range()->set_end_date(published);
    }
    v1::SearchResponse out;
    grpc::Status s = stub_->Search(ContextWithToken("agent").get(), r, &out);
    EXPECT_TRUE(s.ok()) << query << ": " << s.error_message();
    return out;
  }

  // Sample laws in force, with a publish date, whose title no other law of the sample shares,
  // so that nothing but the variants made from them can relate to them.
  std::vector<const v1::ImportItem*> DistinctInForce() {
    std::map<std::string, int> titles;
    for (const v1::ImportItem& item : Sample()) ++titles[item.entry().title()];
    std::vector<const v1::ImportItem*> out;
    for (const v1::ImportItem& item : Sample()) {
      if (item.entry().status() == v1::ENTRY_STATUS_UNSPECIFIED &&
          titles[item.entry().title()] == 1 &&
          !item.entry().policy_document().publish_date().empty()) {
        out.push_back(&item);
      }
    }
    return out;
  }

  ManualClock clock_;
  std::unique_ptr<KnowledgeBaseService> service_;
  std::unique_ptr<v1::KnowledgeBaseService::Stub> stub_;
};

TEST_F(LawrefImportTest, ImportingTheSampleTwiceCreatesNoDuplicate) {
  v1::ImportResponse first = ImportSample();
  ASSERT_EQ(first.results_size(), kSampleSize);
  EXPECT_EQ(first.totals().received(), kSampleSize);
  EXPECT_EQ(first.totals().rejected(), 0);
  const v1::StatsResponse before = Stats();
  // Every item that was not merged into another entry made one.
  EXPECT_EQ(before.total_entries(), first.totals().created() + first.totals().superseded() +
                                        first.totals().created_superseded());

  v1::ImportResponse second = ImportSample();
  ASSERT_EQ(second.results_size(), kSampleSize);
  EXPECT_EQ(second.totals().unchanged(), kSampleSize) << second.totals().ShortDebugString();
  for (int i = 0; i < second.results_size(); ++i) {
    const v1::ImportItemResult& r = second.results(i);
    EXPECT_EQ(r.outcome(), v1::IMPORT_OUTCOME_UNCHANGED) << r.source_id() << ": " << r.message();
    EXPECT_EQ(r.entry_id(), first.results(i).entry_id()) << r.source_id();
  }

  const v1::StatsResponse after = Stats();
  EXPECT_EQ(EntryCounts(after), EntryCounts(before));
  const v1::SourceStats* lawref = SourceNamed(after, kLawrefSourceName);
  ASSERT_NE(lawref, nullptr);
  EXPECT_EQ(lawref->import_count(), 2);
  EXPECT_EQ(lawref->entry_count(), SourceNamed(before, kLawrefSourceName)->entry_count());
  EXPECT_EQ(lawref->last_import_totals().unchanged(), kSampleSize);
  EXPECT_EQ(lawref->last_import_id(), second.import_id());
}

TEST_F(LawrefImportTest, NearDuplicateVariantsMergeKeepingBothSources) {
  v1::ImportResponse sample = ImportSample();
  std::map<std::string, v1::ImportOutcome> outcome;
  for (const v1::ImportItemResult& r : sample.results()) outcome[r.source_id()] = r.outcome();

  // Four laws: the one for full-width digits must have ASCII digits, or the variant would be
  // the original text.
  std::vector<const v1::ImportItem*> candidates = DistinctInForce();
  const v1::ImportItem* digits = nullptr;
  for (const v1::ImportItem* item : candidates) {
    if (AsciiDigits(item->content().text()) >= 5) {
      digits = item;
      break;
    }
  }
  ASSERT_NE(digits, nullptr) << "no law of the sample has ASCII digits";
  std::vector<const v1::ImportItem*> originals = {digits};
  for (const v1::ImportItem* item : candidates) {
    if (originals.size() < 4 && item != digits) originals.push_back(item);
  }
  ASSERT_EQ(originals.size(), 4u);

  struct Variant {
    std::string source;
    v1::ImportItem item;
    const v1::ImportItem* original;
  };
  auto variant_of = [](const v1::ImportItem& original, const std::string& source_id) {
    v1::ImportItem v = original;
    v.set_source_id(source_id);
    v.mutable_entry()->clear_id();
    return v;
  };
  std::vector<Variant> variants;
  {
    v1::ImportItem v = variant_of(*originals[0], "fw-0001");
    v.mutable_content()->set_text(FullWidthDigits(originals[0]->content().text()));
    ASSERT_NE(v.content().text(), originals[0]->content().text());
    variants.push_back({"regulatory-document-system", v, originals[0]});
  }
  {
    v1::ImportItem v = variant_of(*originals[1], "ws-0001");
    v.mutable_content()->set_text(OtherWhitespace(originals[1]->content().text()));
    variants.push_back({"department-database", v, originals[1]});
  }
  {
    v1::ImportItem v = variant_of(*originals[2], "web-0001");
    v.mutable_content()->set_format(v1::CONTENT_FORMAT_HTML);
    v.mutable_content()->set_text(AsWebPage(v.entry().title(), originals[2]->content().text()));
    v.set_source_url("https://www.example.gov.cn/zwgk/flfg/web-0001.html");
    variants.push_back({"gov-website", v, originals[2]});
  }
  {
    // The very same text under another source's name and id.
    variants.push_back(
        {"enterprise-policy-platform", variant_of(*originals[3], "epp-0001"), originals[3]});
  }

  const int64_t entries_before = Stats().total_entries();
  for (const Variant& v : variants) {
    SCOPED_TRACE(absl::StrCat(v.source, " copy of ", v.original->source_id(), " ",
                              v.original->entry().title()));
    ASSERT_EQ(outcome[v.original->source_id()], v1::IMPORT_OUTCOME_CREATED);
    v1::ImportResponse imported = Import(v.source, {v.item});
    ASSERT_EQ(imported.results_size(), 1);
    const v1::ImportItemResult& r = imported.results(0);
    EXPECT_EQ(r.outcome(), v1::IMPORT_OUTCOME_DUPLICATE) << r.ShortDebugString();
    EXPECT_EQ(r.duplicate_of_id(), v.original->entry().id());
    EXPECT_EQ(r.entry_id(), v.original->entry().id());
    EXPECT_GE(r.similarity(), 0.9f);

    v1::Entry merged = MustGetEntry(v.original->entry().id());
    ASSERT_EQ(merged.sources_size(), 2);
    EXPECT_EQ(merged.sources(0).source_name(), kLawrefSourceName);
    EXPECT_EQ(merged.sources(0).source_id(), v.original->source_id());
    EXPECT_FALSE(merged.sources(0).merged_duplicate());
    EXPECT_EQ(merged.sources(1).source_name(), v.source);
    EXPECT_EQ(merged.sources(1).source_id(), v.item.source_id());
    EXPECT_EQ(merged.sources(1).url(), v.item.source_url());
    EXPECT_EQ(merged.sources(1).content_format(), v.item.content().format());
    EXPECT_TRUE(merged.sources(1).merged_duplicate());
    // The entry keeps the text it was built from.
    EXPECT_EQ(merged.title(), v.original->entry().title());
  }
  const v1::StatsResponse stats = Stats();
  EXPECT_EQ(stats.total_entries(), entries_before);
  for (const Variant& v : variants) {
    const v1::SourceStats* source = SourceNamed(stats, v.source);
    ASSERT_NE(source, nullptr) << v.source;
    EXPECT_EQ(source->entry_count(), 1) << v.source;
    EXPECT_EQ(source->merged_duplicate_count(), 1) << v.source;
  }

  // Sending a variant again is a re-import of that source's item, not another merge.
  v1::ImportResponse again = Import(variants[2].source, {variants[2].item});
  ASSERT_EQ(again.results_size(), 1);
  EXPECT_EQ(again.results(0).outcome(), v1::IMPORT_OUTCOME_UNCHANGED);
  EXPECT_EQ(MustGetEntry(variants[2].original->entry().id()).sources_size(), 2);
}

TEST_F(LawrefImportTest, AnAmendedVersionSupersedesTheOldOne) {
  ImportSample();
  // A law with several articles, so that one can change and the rest stay.
  const v1::ImportItem* old = nullptr;
  for (const v1::ImportItem* item : DistinctInForce()) {
    if (absl::StrContains(item->content().text(), "\n第十条")) {
      old = item;
      break;
    }
  }
  ASSERT_NE(old, nullptr);
  SCOPED_TRACE(absl::StrCat(old->source_id(), " ", old->entry().title()));
  ASSERT_EQ(MustGetEntry(old->entry().id()).status(), v1::ENTRY_STATUS_IN_FORCE);

  // The amendment: same title, published three years later, article 3 rewritten.
  std::string text = old->content().text();
  const size_t start = text.find("\n第三条");
  ASSERT_NE(start, std::string::npos);
  const size_t end = text.find('\n', start + 1);
  text.replace(start + 1, end - start - 1,
               "第三条 本法所称主管部门应当自受理申请之日起十五个工作日内作出决定，"
               "并通过政务服务平台向申请人公开办理进度。");
  absl::CivilDay published;
  ASSERT_TRUE(absl::ParseCivilTime(old->entry().policy_document().publish_date(), &published));
  const std::string later = absl::FormatCivilTime(published + 3 * 365);
  v1::ImportItem amended = *old;
  amended.set_source_id(absl::StrCat(old->source_id(), "-amended"));
  amended.mutable_entry()->clear_id();
  amended.mutable_entry()->mutable_policy_document()->set_publish_date(later);
  amended.mutable_entry()->mutable_policy_document()->set_effective_date(later);
  amended.mutable_content()->set_text(text);

  v1::ImportResponse imported = Import(kLawrefSourceName, {amended});
  ASSERT_EQ(imported.results_size(), 1);
  const v1::ImportItemResult& r = imported.results(0);
  ASSERT_EQ(r.outcome(), v1::IMPORT_OUTCOME_SUPERSEDED) << r.ShortDebugString();
  ASSERT_EQ(r.superseded_entry_ids_size(), 1);
  EXPECT_EQ(r.superseded_entry_ids(0), old->entry().id());
  const std::string new_id = r.entry_id();
  ASSERT_FALSE(new_id.empty());
  EXPECT_NE(new_id, old->entry().id());

  v1::Entry older = MustGetEntry(old->entry().id());
  EXPECT_EQ(older.status(), v1::ENTRY_STATUS_AMENDED);
  EXPECT_TRUE(older.inactive());
  EXPECT_EQ(older.superseded_by(), new_id);
  ASSERT_GT(older.status_history_size(), 0);
  const v1::StatusChange& change = older.status_history(older.status_history_size() - 1);
  EXPECT_EQ(change.from_status(), v1::ENTRY_STATUS_IN_FORCE);
  EXPECT_EQ(change.to_status(), v1::ENTRY_STATUS_AMENDED);
  EXPECT_EQ(change.superseded_by(), new_id);
  EXPECT_EQ(change.effective_date(), later);
  v1::Entry newer = MustGetEntry(new_id);
  EXPECT_EQ(newer.status(), v1::ENTRY_STATUS_IN_FORCE);
  EXPECT_FALSE(newer.inactive());
  EXPECT_NE(std::find(newer.supersedes().begin(), newer.supersedes().end(), old->entry().id()),
            newer.supersedes().end());

  // The agent finds the version in force, never the amended one, unless asking for inactive
  // entries too; then the old one comes flagged, pointing to its replacement. Each search is
  // narrowed to one version's publish date, so that what is checked is the status rule, not
  // how near-identical texts rank against each other.
  const std::string& title = old->entry().title();
  const std::string& old_date = old->entry().policy_document().publish_date();
  const v1::SearchResponse current = Search(title, false, later);
  ASSERT_GT(current.hits_size(), 0);
  for (const v1::SearchHit& h : current.hits()) EXPECT_FALSE(h.inactive()) << h.entry_id();
  EXPECT_EQ(current.hits(0).entry_id(), new_id);
  const v1::SearchResponse old_day = Search(title, false, old_date);
  for (const v1::SearchHit& h : old_day.hits()) {
    EXPECT_NE(h.entry_id(), old->entry().id());
    EXPECT_FALSE(h.inactive()) << h.entry_id();
  }
  const v1::SearchHit* old_hit = nullptr;
  const v1::SearchResponse all = Search(title, true, old_date);
  for (const v1::SearchHit& h : all.hits()) {
    if (h.entry_id() == old->entry().id()) old_hit = &h;
  }
  ASSERT_NE(old_hit, nullptr);
  EXPECT_TRUE(old_hit->inactive());
  EXPECT_EQ(old_hit->status(), v1::ENTRY_STATUS_AMENDED);
  EXPECT_EQ(old_hit->superseded_by(), new_id);
}

TEST_F(LawrefImportTest, RepealedLawsAreFoundOnlyWithIncludeInactive) {
  v1::ImportResponse imported = ImportSample();
  std::vector<const v1::ImportItem*> repealed;
  for (const v1::ImportItem& item : Sample()) {
    if (item.entry().status() == v1::ENTRY_STATUS_REPEALED) repealed.push_back(&item);
  }
  // The corpus marks 116 of its 3,443 laws repealed; the sample must hold some.
  ASSERT_GE(repealed.size(), 2u);
  for (const v1::ImportItem* item : repealed) {
    const std::string& id = item->entry().id();
    SCOPED_TRACE(absl::StrCat(id, " ", item->entry().title()));
    v1::Entry entry = MustGetEntry(id);
    EXPECT_EQ(entry.id(), id);
    EXPECT_EQ(entry.status(), v1::ENTRY_STATUS_REPEALED);
    EXPECT_TRUE(entry.inactive());

    // Narrowed to the day the law was published, so that what is checked is the status rule,
    // not how the law ranks among the others on its subject.
    const std::string& published = item->entry().policy_document().publish_date();
    ASSERT_FALSE(published.empty());
    const v1::SearchResponse active = Search(item->entry().title(), false, published);
    for (const v1::SearchHit& h : active.hits()) {
      EXPECT_NE(h.entry_id(), id);
      EXPECT_FALSE(h.inactive()) << h.entry_id();
    }
    const v1::SearchHit* hit = nullptr;
    v1::SearchResponse all = Search(item->entry().title(), true, published);
    for (const v1::SearchHit& h : all.hits()) {
      if (h.entry_id() == id) hit = &h;
    }
    ASSERT_NE(hit, nullptr);
    EXPECT_TRUE(hit->inactive());
    EXPECT_EQ(hit->status(), v1::ENTRY_STATUS_REPEALED);
  }
  // Stats agrees: the repealed laws are entries, not active ones.
  const v1::StatsResponse stats = Stats();
  int64_t repealed_count = 0;
  for (const v1::EntryCount& c : stats.entry_counts()) {
    if (c.status() == v1::ENTRY_STATUS_REPEALED) repealed_count += c.count();
  }
  EXPECT_EQ(repealed_count, static_cast<int64_t>(repealed.size()));
  EXPECT_LE(stats.active_entries(), stats.total_entries() - repealed_count);
}

TEST_F(LawrefImportTest, BadItemsAreRejectedWithReasonAndFieldAndTheRestImported) {
  // Eight real laws in stream order; three of them broken.
  std::vector<v1::ImportItem> items(Sample().begin(), Sample().begin() + 8);
  items[1].mutable_entry()->clear_title();
  items[3].mutable_entry()->mutable_policy_document()->set_publish_date("2019-02-30");
  items[5].mutable_entry()->mutable_policy_document()->set_effective_date("2019年10月1日");
  const std::set<int> bad = {1, 3, 5};

  v1::ImportResponse response = Import(kLawrefSourceName, items);
  ASSERT_EQ(response.results_size(), 8);
  for (int i = 0; i < 8; ++i) {
    const v1::ImportItemResult& r = response.results(i);
    EXPECT_EQ(r.index(), i);
    EXPECT_EQ(r.source_id(), items[i].source_id());
    if (bad.count(i) == 0) {
      EXPECT_EQ(r.outcome(), v1::IMPORT_OUTCOME_CREATED) << r.ShortDebugString();
      EXPECT_EQ(r.entry_id(), items[i].entry().id());
    } else {
      EXPECT_EQ(r.outcome(), v1::IMPORT_OUTCOME_REJECTED) << r.ShortDebugString();
      EXPECT_TRUE(r.entry_id().empty());
      EXPECT_FALSE(r.message().empty());
      v1::Entry none;
      EXPECT_EQ(GetEntry(items[i].entry().id(), &none).error_code(), grpc::StatusCode::NOT_FOUND);
    }
  }
  EXPECT_EQ(response.results(1).rejection_reason(), v1::REJECTION_REASON_MISSING_FIELD);
  EXPECT_EQ(response.results(1).rejected_field(), "entry.title");
  EXPECT_EQ(response.results(3).rejection_reason(), v1::REJECTION_REASON_INVALID_FIELD);
  EXPECT_EQ(response.results(3).rejected_field(), "entry.policy_document.publish_date");
  EXPECT_EQ(response.results(5).rejection_reason(), v1::REJECTION_REASON_INVALID_FIELD);
  EXPECT_EQ(response.results(5).rejected_field(), "entry.policy_document.effective_date");
  EXPECT_EQ(response.totals().received(), 8);
  EXPECT_EQ(response.totals().rejected(), 3);
  EXPECT_EQ(response.totals().created(), 5);
  EXPECT_EQ(Stats().total_entries(), 5);

  // Once fixed, the rejected items import on their own; the others are unchanged.
  std::vector<v1::ImportItem> fixed(Sample().begin(), Sample().begin() + 8);
  v1::ImportResponse again = Import(kLawrefSourceName, fixed);
  EXPECT_EQ(again.totals().created(), 3) << again.totals().ShortDebugString();
  EXPECT_EQ(again.totals().unchanged(), 5) << again.totals().ShortDebugString();
  EXPECT_EQ(Stats().total_entries(), 8);
}

// ImportTotals.passages: "Passages in the entries created or updated".
TEST_F(LawrefImportTest, ImportTotalsCountThePassagesOfNewEntries) {
  const std::vector<v1::ImportItem> laws(Sample().begin(), Sample().begin() + 20);
  v1::ImportResponse first = Import(kLawrefSourceName, laws);
  ASSERT_EQ(first.totals().created(), 20) << first.totals().ShortDebugString();
  const v1::StatsResponse stats = Stats();
  ASSERT_GT(stats.total_passages(), 0);
  // Every stored passage belongs to an entry this import created.
  EXPECT_EQ(first.totals().passages(), stats.total_passages());
  // Nothing was created or updated the second time.
  EXPECT_EQ(Import(kLawrefSourceName, laws).totals().passages(), 0);
}

// max_hits_per_entry is there "to see more documents": a page keeps filling with hits from
// further entries while there are any, instead of stopping at the entries that own the best
// passages.
TEST_F(LawrefImportTest, MaxHitsPerEntryStillFillsThePage) {
  ImportSample();
  for (const std::string query : {"中华人民共和国环境噪声污染防治法", "人民代表大会代表的权利"}) {
    SCOPED_TRACE(query);
    v1::SearchResponse found = Search(query, false, "", /*max_hits_per_entry=*/1,
                                      /*page_size=*/20);
    ASSERT_GE(found.total_entries(), 20);
    EXPECT_EQ(found.hits_size(), 20);
    std::set<std::string> entries;
    for (const v1::SearchHit& h : found.hits()) {
      EXPECT_TRUE(entries.insert(h.entry_id()).second) << h.entry_id() << " twice";
    }
  }
}

}  // namespace
}  // namespace hotline::kb
