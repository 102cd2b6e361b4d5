// The search engine's query and filter path (services/kb/engine/search_index.h) on a small
// index of invented entries built once. The first bytes decode the query's options (filters,
// order, paging, facets) the way the service can set them; the rest is the query text.
// Checked for every query:
//   - the search fails only with INVALID_ARGUMENT, and exactly where the header says it must
//     (invalid UTF-8, nothing searchable, relevance order without text);
//   - every hit is a passage of an indexed entry that passes every filter, inactive entries
//     only when asked for, at most max_hits_per_entry per entry and limit in all;
//   - snippets are pieces of their passage no longer than snippet_length, highlights lie
//     inside the snippet and the title;
//   - hits come in the order asked for, facets count each matching entry once per field;
//   - the same query twice gives the same hits in the same order (page tokens are offsets into
//     that order, and the per-thread scratch space is reused between searches).
// Offsets reach INT_MAX because the service takes them from page tokens.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "services/kb/engine/passages.h"
#include "services/kb/engine/search_index.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

namespace kb = hotline::kb;
namespace v1 = hotline::kb::v1;
using hotline::fuzz::ByteReader;
using hotline::fuzz::CodePoints;
using hotline::fuzz::SourcePath;

struct Corpus {
  std::unique_ptr<kb::SearchIndex> index;
  std::map<std::string, kb::DocumentInput> docs;  // As inserted, passages included.
};

kb::DocumentInput Policy(const std::string& id, const std::string& title, const std::string& body,
                         v1::EntryStatus status, const std::string& region,
                         const std::string& category, const std::string& agency,
                         const std::string& published, const std::string& effective,
                         v1::PolicyLevel level, std::vector<std::string> tags) {
  kb::DocumentInput d;
  d.id = id;
  d.title = title;
  d.kind = v1::ENTRY_KIND_POLICY_DOCUMENT;
  d.status = status;
  d.level = level;
  d.region = region;
  d.category_path = category;
  d.agencies = {agency};
  d.publish_date = published;
  d.effective_date = effective;
  d.tags = std::move(tags);
  d.passages = kb::SplitRegulation(body, /*articles_only=*/false);
  return d;
}

const Corpus& SharedCorpus() {
  static const Corpus* const corpus = [] {
    kb::AnalyzerOptions options;
    options.extra_dict_paths = {SourcePath("services/kb/text/data/domain_dict.txt")};
    options.stopwords_path = SourcePath("services/kb/text/data/stopwords.txt");
    auto analyzer = kb::Analyzer::Create(options);
    if (!analyzer.ok()) hotline::fuzz::SetupFailed(analyzer.status().ToString());
    auto* c = new Corpus();
    c->index = std::make_unique<kb::SearchIndex>(
        std::shared_ptr<const kb::Analyzer>(std::move(*analyzer)));
    if (absl::Status s = c->index->LoadSynonyms(SourcePath("services/kb/engine/data/synonyms.txt"));
        !s.ok()) {
      hotline::fuzz::SetupFailed(s.ToString());
    }
    std::vector<kb::DocumentInput> docs = {
        Policy("p-medical", "长沙市职工基本医疗保险住院待遇办法",
               "## 第一章 总则\n第一条 为保障参保职工住院待遇，制定本办法。\n## 第二章 待遇\n"
               "第五条 参保职工住院发生的政策范围内费用，起付标准以上部分按百分之八十五报销。\n"
               "第六条 异地就医的参保人员应当先办理备案。",
               v1::ENTRY_STATUS_IN_FORCE, "湖南/长沙", "社会保障/医疗保险", "长沙市医疗保障局",
               "2024-03-01", "2024-04-01", v1::POLICY_LEVEL_NORMATIVE_DOCUMENT, {"住院", "报销"}),
        Policy("p-medical-old", "长沙市职工医疗保险暂行办法（旧）",
               "第八条 职工住院起付线为一千元。", v1::ENTRY_STATUS_REPEALED, "湖南/长沙",
               "社会保障/医疗保险", "长沙市医疗保障局", "2019-01-10", "2019-02-01",
               v1::POLICY_LEVEL_NORMATIVE_DOCUMENT, {"住院"}),
        Policy("p-fund", "长沙市住房公积金提取管理办法",
               "第三条 职工购买自住住房的，可以提取住房公积金。\n"
               "第四条 提取住房公积金应当提交身份证明和购房合同。",
               v1::ENTRY_STATUS_IN_FORCE, "湖南/长沙", "住房保障/住房公积金",
               "长沙市住房公积金管理中心", "2023-07-15", "", v1::POLICY_LEVEL_LOCAL_REGULATION,
               {"公积金"}),
        Policy("p-traffic", "株洲市道路交通安全管理规定",
               "第二条 机动车驾驶人应当遵守道路交通安全法律。\n第九条 违法停车的，处二百元罚款。",
               v1::ENTRY_STATUS_AMENDED, "湖南/株洲", "交通出行/道路管理", "株洲市公安局",
               "2021-05-20", "2021-06-01", v1::POLICY_LEVEL_LOCAL_GOVERNMENT_RULE, {}),
        Policy("p-school", "全国学生资助管理办法", "第七条 家庭经济困难学生可以申请国家助学金。",
               v1::ENTRY_STATUS_NOT_YET_EFFECTIVE, "全国", "教育/学生资助", "教育部", "",
               "2025-09-01", v1::POLICY_LEVEL_DEPARTMENTAL_RULE, {"助学金"}),
    };
    kb::DocumentInput qa;
    qa.id = "qa-reimburse";
    qa.title = "职工住院报销比例是多少？";
    qa.kind = v1::ENTRY_KIND_QA_PAIR;
    qa.question = "职工住院报销比例是多少？";
    qa.region = "湖南/长沙";
    qa.category_path = "社会保障/医疗保险";
    qa.tags = {"报销"};
    qa.passages = {{"", "", "起付标准以上的政策范围内费用由统筹基金报销百分之八十五。"}};
    docs.push_back(qa);
    kb::DocumentInput stale = qa;  // Rests on the repealed policy.
    stale.id = "qa-old-threshold";
    stale.title = stale.question = "以前的住院起付线是多少？";
    stale.source_inactive = true;
    stale.passages = {{"", "", "按旧办法，职工住院起付线为一千元。"}};
    docs.push_back(stale);
    kb::DocumentInput guide;
    guide.id = "g-fund-withdraw";
    guide.title = "住房公积金提取";
    guide.kind = v1::ENTRY_KIND_SERVICE_GUIDE;
    guide.region = "湖南/长沙";
    guide.category_path = "住房保障/住房公积金";
    guide.agencies = {"长沙市住房公积金管理中心"};
    guide.passages = kb::SplitSections(
        "## 办理条件\n在本市缴存住房公积金满六个月。\n## 所需材料\n身份证、购房合同。");
    docs.push_back(guide);
    kb::DocumentInput hot;
    hot.id = "h-water";
    hot.title = "近期停水答复口径";
    hot.kind = v1::ENTRY_KIND_HOT_TOPIC;
    hot.region = "湖南/长沙";
    hot.category_path = "城乡建设/供水";
    hot.publish_date = "2024-06-02";
    hot.update_micros = 1717286400000000;
    hot.passages = {{"", "", "因管网检修，岳麓区部分小区六月三日停水，预计当晚恢复供水。"}};
    docs.push_back(hot);
    int64_t update = 1700000000000000;
    for (kb::DocumentInput& d : docs) {
      if (d.update_micros == 0) d.update_micros = update += 86400000000;
      c->docs[d.id] = d;
      if (absl::Status s = c->index->Upsert(d); !s.ok()) hotline::fuzz::SetupFailed(s.ToString());
    }
    return c;
  }();
  return *corpus;
}

const std::vector<v1::EntryKind> kKinds = {v1::ENTRY_KIND_POLICY_DOCUMENT, v1::ENTRY_KIND_QA_PAIR,
                                           v1::ENTRY_KIND_SERVICE_GUIDE, v1::ENTRY_KIND_HOT_TOPIC};
const std::vector<v1::EntryStatus> kStatuses = {
    v1::ENTRY_STATUS_IN_FORCE, v1::ENTRY_STATUS_AMENDED,           v1::ENTRY_STATUS_REPEALED,
    v1::ENTRY_STATUS_EXPIRED,  v1::ENTRY_STATUS_NOT_YET_EFFECTIVE, v1::ENTRY_STATUS_UNSPECIFIED};
const std::vector<std::string> kRegions = {"湖南/长沙", "湖南/株洲", "全国", "湖南"};
const std::vector<std::string> kCategories = {"社会保障",  "社会保障/医疗保险", "住房",
                                              "住房保障/", "交通出行/道路管理", "教育/学生"};
const std::vector<std::string> kAgencies = {"长沙市医疗保障局", "长沙市住房公积金管理中心",
                                            "教育部", "长沙市"};
const std::vector<std::string> kTags = {"住院", "报销", "公积金", "助学金"};
const std::vector<v1::PolicyLevel> kLevels = {
    v1::POLICY_LEVEL_NORMATIVE_DOCUMENT, v1::POLICY_LEVEL_LOCAL_REGULATION,
    v1::POLICY_LEVEL_LOCAL_GOVERNMENT_RULE, v1::POLICY_LEVEL_DEPARTMENTAL_RULE,
    v1::POLICY_LEVEL_UNSPECIFIED};
const std::vector<std::string> kDates = {"",           "2019-01-10", "2021-06-01", "2023-12-31",
                                         "2024-03-01", "2025-01-01", "2024-13-45", "x"};
const std::vector<v1::FacetField> kFacets = {
    v1::FACET_FIELD_KIND,           v1::FACET_FIELD_STATUS, v1::FACET_FIELD_REGION,
    v1::FACET_FIELD_CATEGORY,       v1::FACET_FIELD_LEVEL,  v1::FACET_FIELD_PUBLISH_YEAR,
    v1::FACET_FIELD_ISSUING_AGENCY, v1::FACET_FIELD_TAG};

template <typename T>
std::vector<T> Subset(const std::vector<T>& all, uint8_t mask) {
  std::vector<T> out;
  for (size_t i = 0; i < all.size() && i < 8; ++i) {
    if (mask & (1u << i)) out.push_back(all[i]);
  }
  return out;
}

bool IsInactive(v1::EntryStatus s) {
  return s == v1::ENTRY_STATUS_AMENDED || s == v1::ENTRY_STATUS_REPEALED ||
         s == v1::ENTRY_STATUS_EXPIRED;
}

// Whole-segment prefix: "住房保障" matches "住房保障/住房公积金", "住房" does not.
bool HasPathPrefix(const std::string& path, const std::string& prefix) {
  std::vector<std::string> want = absl::StrSplit(prefix, '/', absl::SkipEmpty());
  std::vector<std::string> have = absl::StrSplit(path, '/');
  if (want.empty() || want.size() > have.size()) return want.empty() && path == prefix;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] != have[i]) return false;
  }
  return true;
}

template <typename T>
bool In(const std::vector<T>& list, const T& v) {
  return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
}

bool PassesFilter(const kb::SearchQuery& q, const kb::DocumentInput& d) {
  const kb::SearchFilterSpec& f = q.filter;
  if (!q.include_inactive && (d.source_inactive || (f.statuses.empty() && IsInactive(d.status)))) {
    return false;
  }
  if (!In(f.kinds, d.kind) || !In(f.statuses, d.status) || !In(f.levels, d.level) ||
      !In(f.regions, d.region)) {
    return false;
  }
  if (!f.category_prefixes.empty() &&
      std::none_of(f.category_prefixes.begin(), f.category_prefixes.end(),
                   [&](const std::string& p) { return HasPathPrefix(d.category_path, p); })) {
    return false;
  }
  auto any_in = [](const std::vector<std::string>& values, const std::vector<std::string>& wanted) {
    return wanted.empty() || std::any_of(values.begin(), values.end(), [&](const std::string& v) {
             return std::find(wanted.begin(), wanted.end(), v) != wanted.end();
           });
  };
  if (!any_in(d.agencies, f.agencies) || !any_in(d.tags, f.tags)) return false;
  auto within = [](const std::string& date, const std::string& from, const std::string& to) {
    if (from.empty() && to.empty()) return true;
    return !date.empty() && (from.empty() || date >= from) && (to.empty() || date <= to);
  };
  return within(d.publish_date, f.publish_from, f.publish_to) &&
         within(d.effective_date, f.effective_from, f.effective_to);
}

void CheckRanges(const std::vector<std::pair<int, int>>& ranges, const std::string& text,
                 const char* what) {
  const int length = static_cast<int>(CodePoints(text));
  for (const auto& [start, end] : ranges) {
    FUZZ_CHECK(0 <= start && start < end && end <= length)
        << what << " highlight [" << start << ", " << end << ") in " << length << " code points";
  }
}

// What paging depends on: the same hits in the same order, and the same totals. (Scores are
// left out: the order the query's terms are summed in may differ between calls.)
std::string Ranking(const kb::SearchResult& r) {
  std::string out = std::to_string(r.total_passages) + "/" + std::to_string(r.total_entries) + ":";
  for (const kb::PassageHit& h : r.hits)
    out += " " + h.entry_id + "#" + std::to_string(h.passage_ordinal);
  return out;
}

std::string Describe(const kb::SearchResult& r) {
  std::string out =
      "total " + std::to_string(r.total_passages) + "/" + std::to_string(r.total_entries) + ":";
  for (const kb::PassageHit& h : r.hits) {
    out +=
        " " + h.entry_id + "#" + std::to_string(h.passage_ordinal) + "=" + std::to_string(h.score);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  SharedCorpus();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Corpus& corpus = SharedCorpus();
  ByteReader in(data, size);
  kb::SearchQuery q;
  const uint8_t flags = in.Byte();
  q.include_inactive = flags & 1;
  q.regional = flags & 2;
  q.order = static_cast<kb::SearchOrder>((flags >> 2) & 3);
  const bool filtered = flags & 16;
  const bool large_offset = flags & 32;
  if (filtered) {
    q.filter.kinds = Subset(kKinds, in.Byte());
    q.filter.statuses = Subset(kStatuses, in.Byte());
    q.filter.regions = Subset(kRegions, in.Byte());
    q.filter.category_prefixes = Subset(kCategories, in.Byte());
    const uint8_t people = in.Byte();
    q.filter.agencies = Subset(kAgencies, people & 15);
    q.filter.tags = Subset(kTags, people >> 4);
    q.filter.levels = Subset(kLevels, in.Byte());
    const uint8_t dates = in.Byte();
    const uint8_t more_dates = in.Byte();
    q.filter.publish_from = kDates[dates & 7];
    q.filter.publish_to = kDates[(dates >> 3) & 7];
    q.filter.effective_from = kDates[more_dates & 7];
    q.filter.effective_to = kDates[(more_dates >> 3) & 7];
  }
  const uint8_t paging = in.Byte();
  // The service's page sizes are 1 to 50; its offsets come from page tokens, any int >= 0.
  q.limit = 1 + paging % 50;
  const uint32_t offset_bits = in.Byte();
  q.offset = large_offset ? std::numeric_limits<int>::max() - static_cast<int>(offset_bits)
                          : static_cast<int>(offset_bits % 40);
  const uint8_t shape = in.Byte();
  q.max_hits_per_entry = shape & 3;
  static const int kSnippetLengths[] = {120, 40, 8, 300};
  q.snippet_length = kSnippetLengths[(shape >> 2) & 3];
  q.facets = Subset(kFacets, in.Byte());
  if (flags & 64) {
    // What the service adds from agents' feedback and the memory of confirmed answers.
    static const double kLifts[] = {-1.0, 0.5, 1.0, 3.0};
    static const double kVotes[] = {-0.5, 0.3, 1.0, 5.0};
    static const char* const kLabels[] = {"第五条", "第八条", "", "所需材料"};
    const uint8_t a = in.Byte(), b = in.Byte();
    auto entry = [&](uint8_t k) {
      auto it = corpus.docs.begin();
      std::advance(it, k % corpus.docs.size());
      return it->first;
    };
    q.passage_lift[{entry(a), (a >> 4) & 3}] = kLifts[(a >> 6) & 3];
    q.passage_votes[{entry(b), kLabels[(b >> 4) & 3]}] = kVotes[(b >> 6) & 3];
    const uint8_t c = in.Byte();
    static const double kConfidence[] = {0.0, 0.4, 1.0, 2.0};  // 2: out of range, clamped.
    q.entry_votes[entry(c)] = kVotes[(c >> 4) & 3];
    q.vote_confidence = kConfidence[(c >> 6) & 3];
  }
  q.text = in.Rest();

  absl::StatusOr<kb::SearchResult> result = corpus.index->Search(q);
  if (!hotline::fuzz::IsValidUtf8(q.text) && q.text.size() <= 256) {
    FUZZ_CHECK(!result.ok()) << "a query of invalid UTF-8 was searched";
  }
  if (q.text.empty() && q.order == kb::SearchOrder::kRelevance) {
    FUZZ_CHECK(!result.ok()) << "relevance order without a query";
  }
  if (!result.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(result.status())) << result.status();
    FUZZ_CHECK(absl::StartsWith(result.status().message(), "query")) << result.status();
    return 0;
  }
  const kb::SearchResult& r = *result;
  FUZZ_CHECK(static_cast<int>(r.hits.size()) <= q.limit)
      << r.hits.size() << " hits, limit " << q.limit;
  FUZZ_CHECK(r.total_entries <= r.total_passages &&
             static_cast<int64_t>(r.hits.size()) <= r.total_passages)
      << Describe(r);

  std::map<std::string, int> per_entry;
  for (size_t i = 0; i < r.hits.size(); ++i) {
    const kb::PassageHit& h = r.hits[i];
    auto doc = corpus.docs.find(h.entry_id);
    FUZZ_CHECK(doc != corpus.docs.end()) << "hit of unknown entry " << h.entry_id;
    const kb::DocumentInput& d = doc->second;
    FUZZ_CHECK(PassesFilter(q, d)) << h.entry_id << " does not pass the filter";
    FUZZ_CHECK(h.kind == d.kind && h.status == d.status && h.title == d.title)
        << h.entry_id << ": hit fields differ from the entry";
    FUZZ_CHECK(h.passage_ordinal >= 0 && h.passage_ordinal < static_cast<int>(d.passages.size()))
        << h.entry_id << " passage " << h.passage_ordinal << " of " << d.passages.size();
    const kb::PassageText& p = d.passages[h.passage_ordinal];
    FUZZ_CHECK(h.passage_label == p.label && h.heading == p.heading) << h.entry_id;
    FUZZ_CHECK(p.text.find(h.snippet) != std::string::npos)
        << h.entry_id << ": snippet '" << h.snippet << "' is not part of the passage";
    FUZZ_CHECK(static_cast<int>(CodePoints(h.snippet)) <= q.snippet_length)
        << "snippet of " << CodePoints(h.snippet) << " code points, limit " << q.snippet_length;
    CheckRanges(h.highlights, h.snippet, "snippet");
    CheckRanges(h.title_highlights, h.title, "title");
    if (q.max_hits_per_entry > 0) {
      FUZZ_CHECK(++per_entry[h.entry_id] <= q.max_hits_per_entry)
          << "more than " << q.max_hits_per_entry << " hits of " << h.entry_id;
    }
    if (i == 0) continue;
    const kb::PassageHit& before = r.hits[i - 1];
    const kb::DocumentInput& bd = corpus.docs.at(before.entry_id);
    switch (q.order) {
      case kb::SearchOrder::kRelevance:
        FUZZ_CHECK(before.score >= h.score) << "not by relevance: " << Describe(r);
        break;
      case kb::SearchOrder::kPublishDate:
      case kb::SearchOrder::kEffectiveDate: {
        const bool publish = q.order == kb::SearchOrder::kPublishDate;
        const std::string& a = publish ? bd.publish_date : bd.effective_date;
        const std::string& b = publish ? d.publish_date : d.effective_date;
        FUZZ_CHECK(a == b || b.empty() || (!a.empty() && a > b))
            << "not newest first: " << a << " before " << b << ": " << Describe(r);
        break;
      }
      case kb::SearchOrder::kUpdateTime:
        FUZZ_CHECK(bd.update_micros >= d.update_micros) << "not by update time: " << Describe(r);
        break;
    }
  }

  FUZZ_CHECK(r.facets.size() == q.facets.size())
      << r.facets.size() << " facets for " << q.facets.size();
  for (size_t i = 0; i < r.facets.size(); ++i) {
    FUZZ_CHECK(r.facets[i].first == q.facets[i]) << "facet " << i << " out of order";
    int64_t sum = 0;
    for (const auto& [value, count] : r.facets[i].second) {
      FUZZ_CHECK(count > 0) << "facet value '" << value << "' counted " << count;
      sum += count;
    }
    const v1::FacetField field = r.facets[i].first;
    if (field != v1::FACET_FIELD_ISSUING_AGENCY && field != v1::FACET_FIELD_TAG) {
      FUZZ_CHECK(sum == r.total_entries)
          << v1::FacetField_Name(field) << " counts " << sum << " of " << r.total_entries;
    }
  }

  absl::StatusOr<kb::SearchResult> again = corpus.index->Search(q);
  FUZZ_CHECK(again.ok() && Ranking(*again) == Ranking(r))
      << "the same query answered differently: " << Describe(r) << " then "
      << (again.ok() ? Describe(*again) : again.status().ToString());
  return 0;
}
