// department_suggest_bench: how well DepartmentSuggester names the right department, and how
// fast it and SimilarTicketIndex::Find answer. Not a test; scripts/bench.sh runs it from the
// repository root.
//   1. Simulator history: closed tickets drawn from the demo simulator's plans; train on the
//      first 80%, suggest for the last 20%, with the ticket's category and without one.
//   2. Two sets of written complaints, scored against the whole simulator history: content
//      only, and content plus the category the knowledge base's taxonomy classifier suggests
//      at intake (what the consoles send). The blend's weights were chosen on the dev set
//      (testdata/dev_complaints.tsv); the written set (testdata/written_complaints.tsv) is
//      held out and measures them.
//   3. Latency and memory with --latency_tickets closed tickets (simulator matters in
//      synthesised places).
#include <algorithm>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/program.h"
#include "services/kb/ingest/classifier.h"
#include "services/kb/text/analyzer.h"
#include "services/simulator/catalog.h"
#include "services/simulator/scenario.h"
#include "services/ticket/similar_tickets.h"
#include "services/ticket/ticket_service.h"
#include "tests/support/latency_summary.h"

ABSL_FLAG(std::string, config, "deploy/config/ticket.textproto", "ticket service configuration");
ABSL_FLAG(std::string, written, "services/ticket/testdata/written_complaints.tsv",
          "expected_department_id<TAB>content");
ABSL_FLAG(std::string, dev, "services/ticket/testdata/dev_complaints.tsv",
          "complaints the blend's weights were chosen on (the written set is held out)");
ABSL_FLAG(bool, remits, true, "use the departments' configured remits (职责清单)");
ABSL_FLAG(std::string, taxonomy, "services/kb/ingest/data/taxonomy.txt", "the kb taxonomy");
ABSL_FLAG(std::string, jieba_dict, "/usr/lib/python3/dist-packages/jieba/dict.txt",
          "jieba's dictionary (Debian package python3-jieba)");
ABSL_FLAG(std::string, domain_dict, "services/kb/text/data/domain_dict.txt",
          "the kb analyser's domain dictionary");
ABSL_FLAG(std::string, stopwords, "services/kb/text/data/stopwords.txt", "the kb stop words");
ABSL_FLAG(int, history, 6000, "closed simulator tickets of the accuracy history");
ABSL_FLAG(int, latency_tickets, 100000, "closed tickets in the index for the latency figures");
ABSL_FLAG(int, queries, 2000, "timed calls of each kind");
ABSL_FLAG(uint64_t, seed, 12345, "simulator seed");
ABSL_FLAG(double, vote_min_similarity,
          hotline::ticket::SimilarTicketIndexOptions().vote_min_similarity,
          "closed tickets less similar than this do not vote");
ABSL_FLAG(double, full_vote_similarity,
          hotline::ticket::SimilarTicketIndexOptions().full_vote_similarity,
          "neighbours less similar than this have their votes damped");
ABSL_FLAG(bool, explain, false, "print each written complaint's nearest closed tickets");

namespace hotline::ticket {
namespace {

namespace sim = hotline::simulator;

const absl::Time kEpoch = absl::FromUnixSeconds(1704067200);  // 2024-01-01

// Peak and current resident memory of this process, in MiB.
std::pair<double, double> MemoryMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  double peak = 0, current = 0;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) peak = std::stod(line.substr(6)) / 1024;
    if (line.rfind("VmRSS:", 0) == 0) current = std::stod(line.substr(6)) / 1024;
  }
  return {peak, current};
}

struct Case {
  TicketDoc doc;
  std::string category;
  std::string expected;  // the lead department; empty for tickets that were never dispatched
};

// A closed ticket as the service would index it once the plan has played out: the lead (and
// the assisting department) replied; a misrouted first dispatch was returned and accepted.
// Rejected and merged tickets are closed without departments: they count in the document
// frequencies but never vote.
Case CaseFor(const sim::Plan& plan, int index, const std::string& content_override = "") {
  const v1::Ticket t = sim::TicketToCreate(plan);
  Case c;
  c.doc.id = absl::StrCat("T", index);
  c.doc.content = content_override.empty() ? t.content() : content_override;
  c.doc.district_code = t.location().district_code();
  c.doc.create_time = kEpoch + absl::Minutes(10) * index;
  c.doc.open = false;
  c.category = t.category_path();
  if (plan.fate == sim::Fate::kConfirm) {
    const sim::Matter& m = sim::Matters()[plan.matter];
    c.expected = m.department;
    c.doc.handled_by.push_back(m.department);
    if (plan.with_assist && m.assist != nullptr) c.doc.handled_by.push_back(m.assist);
    if (plan.misrouted && m.misrouted_to != nullptr) c.doc.returned_by.push_back(m.misrouted_to);
  }
  return c;
}

struct Score {
  int n = 0, top1 = 0, top3 = 0;
  void Add(const std::vector<DepartmentSuggestion>& s, const std::string& expected) {
    ++n;
    for (size_t i = 0; i < s.size() && i < 3; ++i) {
      if (s[i].department_id != expected) continue;
      if (i == 0) ++top1;
      ++top3;
    }
  }
  std::string Format() const {
    return absl::StrFormat("n %d top1 %.1f%% (%d) top3 %.1f%% (%d)", n,
                           100.0 * top1 / std::max(n, 1), top1, 100.0 * top3 / std::max(n, 1),
                           top3);
  }
};

std::string Describe(const std::vector<DepartmentSuggestion>& s) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < s.size() && i < 3; ++i) {
    parts.push_back(absl::StrFormat("%s:%.2f%s(h%d,r%d)", s[i].department_id, s[i].score,
                                    s[i].from_route ? "[route]" : "", s[i].similar_handled,
                                    s[i].similar_returned));
  }
  return parts.empty() ? "(none)" : absl::StrJoin(parts, " ");
}

// A place no simulator template names, so that the latency index has the vocabulary of many
// streets and estates rather than the catalog's two dozen.
std::string SynthesisedPlace(sim::Rng& rng) {
  static const char* const kSyllables[] = {
      "金", "银", "华", "荣", "兴", "福", "安", "宁", "康", "泰", "和", "平", "新", "民", "东",
      "西", "南", "北", "中", "湘", "麓", "岳", "星", "沙", "芙", "蓉", "桂", "梅", "竹", "松",
      "枫", "杉", "桃", "李", "月", "湖", "江", "河", "山", "岭", "坡", "塘", "湾", "洲", "港",
      "井", "泉", "溪", "园", "城", "苑", "府", "庭", "阁", "景", "嘉", "瑞", "祥", "丰", "盛",
      "德", "美", "锦", "绣", "雅", "馨", "怡", "欣", "青", "翠", "碧", "蓝", "红", "白", "长",
      "远", "高", "桥", "坪", "铺", "冲", "洞", "潭", "川", "汇", "通", "达", "望", "天", "心"};
  static const char* const kRoads[] = {"路", "大道", "街", "巷"};
  static const char* const kEstates[] = {"小区", "花园", "新村", "家园", "公寓", "广场"};
  const auto syllable = [&] {
    return kSyllables[rng.Below(static_cast<int>(std::size(kSyllables)))];
  };
  const sim::District& d = sim::Districts()[rng.Below(static_cast<int>(sim::Districts().size()))];
  return absl::StrCat(d.name, syllable(), syllable(),
                      kRoads[rng.Below(static_cast<int>(std::size(kRoads)))], syllable(),
                      syllable(), kEstates[rng.Below(static_cast<int>(std::size(kEstates)))]);
}

SimilarTicketIndexOptions IndexOptions() {
  SimilarTicketIndexOptions options;
  options.vote_min_similarity = absl::GetFlag(FLAGS_vote_min_similarity);
  options.full_vote_similarity = absl::GetFlag(FLAGS_full_vote_similarity);
  return options;
}

int Main() {
  absl::StatusOr<config::TicketConfig> config = LoadTicketConfig(absl::GetFlag(FLAGS_config));
  if (!config.ok()) {
    std::cerr << config.status() << "\n";
    return 1;
  }
  std::vector<CategoryRouteRule> routes;
  std::set<std::string> departments;
  for (const auto& d : config->departments()) departments.insert(d.id());
  for (const auto& r : config->category_routes()) {
    routes.push_back({r.category_prefix(), {r.department_ids().begin(), r.department_ids().end()}});
  }
  std::vector<DepartmentRemit> remits;
  if (absl::GetFlag(FLAGS_remits)) {
    for (const auto& d : config->departments()) remits.push_back({d.id(), d.remit()});
  }

  // ---- 1. Simulator history ----------------------------------------------------------------
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  std::vector<Case> history;
  int rejected_or_merged = 0;
  for (int i = 0;
       static_cast<int>(history.size()) - rejected_or_merged < absl::GetFlag(FLAGS_history); ++i) {
    history.push_back(CaseFor(sim::DrawPlan(seed, i, departments), i));
    if (history.back().expected.empty()) ++rejected_or_merged;
  }
  const size_t train = history.size() * 8 / 10;
  {
    SimilarTicketIndex index(IndexOptions());
    for (size_t i = 0; i < train; ++i) index.Upsert(history[i].doc);
    DepartmentSuggester suggester(&index, routes, remits);
    Score with_category, without_category;
    for (size_t i = train; i < history.size(); ++i) {
      const Case& c = history[i];
      if (c.expected.empty()) continue;
      with_category.Add(suggester.Suggest(c.doc.content, c.category, 3), c.expected);
      without_category.Add(suggester.Suggest(c.doc.content, "", 3), c.expected);
    }
    std::cout << absl::StrFormat(
        "simulator history: %d tickets (%d rejected or merged, indexed without departments), "
        "train %d, test %d dispatched\n",
        history.size(), rejected_or_merged, train, with_category.n);
    std::cout << "  with category:    " << with_category.Format() << "\n";
    std::cout << "  without category: " << without_category.Format() << "\n";
  }

  // ---- 2. The written set ------------------------------------------------------------------
  kb::AnalyzerOptions analyzer_options;
  analyzer_options.jieba_dict_path = absl::GetFlag(FLAGS_jieba_dict);
  analyzer_options.extra_dict_paths = {absl::GetFlag(FLAGS_domain_dict)};
  analyzer_options.stopwords_path = absl::GetFlag(FLAGS_stopwords);
  absl::StatusOr<std::unique_ptr<kb::Analyzer>> analyzer = kb::Analyzer::Create(analyzer_options);
  if (!analyzer.ok()) {
    std::cerr << analyzer.status() << "\n";
    return 1;
  }
  absl::StatusOr<std::unique_ptr<kb::ingest::Classifier>> classifier = kb::ingest::Classifier::Load(
      absl::GetFlag(FLAGS_taxonomy), std::shared_ptr<const kb::Analyzer>(std::move(*analyzer)));
  if (!classifier.ok()) {
    std::cerr << classifier.status() << "\n";
    return 1;
  }
  // A set of complaints, each with its department: scored against the whole history, with
  // the content only and with the category the knowledge base's classifier gives it.
  struct Written {
    std::string expected, content, category;
  };
  std::vector<Written> all_written;  // Both sets, for the latency queries.
  auto evaluate = [&](const std::string& path, const std::string& label) -> bool {
    std::vector<Written> written;
    {
      std::ifstream in(path);
      if (!in) {
        std::cerr << "cannot read " << path << "\n";
        return false;
      }
      std::string line;
      while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> f = absl::StrSplit(line, absl::MaxSplits('\t', 1));
        if (f.size() != 2 || departments.count(f[0]) == 0) {
          std::cerr << "bad line in " << path << ": " << line << "\n";
          return false;
        }
        // As the consoles do: the classifier's category when it found one (ClassifyText leaves
        // the fallback out).
        absl::StatusOr<kb::ingest::Classification> c = (*classifier)->Classify("", f[1]);
        if (!c.ok()) {
          std::cerr << c.status() << "\n";
          return false;
        }
        written.push_back({f[0], f[1], c->score > 0 ? c->path : ""});
      }
    }
    {
      SimilarTicketIndex index(IndexOptions());
      for (const Case& c : history) index.Upsert(c.doc);
      DepartmentSuggester suggester(&index, routes, remits);
      Score content_only, with_category;
      std::vector<std::string> misses;
      int unrouted = 0;
      for (const Written& w : written) {
        if (absl::GetFlag(FLAGS_explain)) {
          SimilarTicketIndex::Query q;
          q.content = w.content;
          q.min_similarity = 0;
          q.limit = 3;
          std::cout << "explain " << w.content << "\n";
          for (const auto& m : index.Find(q)) {
            const Case& c = history[std::stoi(m.id.substr(1))];
            std::cout << absl::StrFormat("    %.3f %s %s\n", m.similarity,
                                         absl::StrJoin(c.doc.handled_by, "+"), c.doc.content);
          }
        }
        const auto a = suggester.Suggest(w.content, "", 3);
        const auto b = suggester.Suggest(w.content, w.category, 3);
        content_only.Add(a, w.expected);
        with_category.Add(b, w.expected);
        const CategoryRouteRule* route = suggester.RouteFor(w.category);
        if (route == nullptr) ++unrouted;
        const bool miss_a = a.empty() || a[0].department_id != w.expected;
        const bool miss_b = b.empty() || b[0].department_id != w.expected;
        if (miss_a || miss_b) {
          misses.push_back(absl::StrFormat(
              "  %s%s expected %s | category %s -> route %s\n      (a) %s\n      (b) %s\n      %s",
              miss_a ? "a" : "-", miss_b ? "b" : "-", w.expected,
              w.category.empty() ? "(none)" : w.category,
              route == nullptr ? "(none)" : absl::StrJoin(route->department_ids, "+"), Describe(a),
              Describe(b), w.content));
        }
      }
      std::cout << absl::StrFormat("%s: %d complaints, history %d tickets\n", label, written.size(),
                                   history.size());
      std::cout << "  (a) content only:            " << content_only.Format() << "\n";
      std::cout << "  (b) content + kb category:   " << with_category.Format() << "\n";
      std::cout << absl::StrFormat("  classifier category with no route: %d of %d\n", unrouted,
                                   written.size());
      std::cout << "  top-1 misses (a = content only, b = with category):\n";
      for (const std::string& m : misses) std::cout << m << "\n";
    }
    all_written.insert(all_written.end(), written.begin(), written.end());
    return true;
  };
  if (!evaluate(absl::GetFlag(FLAGS_dev), "dev set (tuning)") ||
      !evaluate(absl::GetFlag(FLAGS_written), "written set (held out)")) {
    return 1;
  }

  // ---- 3. Latency and memory ---------------------------------------------------------------
  {
    const int n = absl::GetFlag(FLAGS_latency_tickets);
    sim::Rng rng(seed ^ 0x5eed);
    std::vector<TicketDoc> docs;
    docs.reserve(n);
    for (int i = 0; static_cast<int>(docs.size()) < n; ++i) {
      const sim::Plan plan = sim::DrawPlan(seed + 1, i, departments);
      if (plan.fate != sim::Fate::kConfirm) continue;
      const std::string content = absl::StrReplaceAll(sim::Matters()[plan.matter].content,
                                                      {{"{地点}", SynthesisedPlace(rng)}});
      docs.push_back(CaseFor(plan, static_cast<int>(docs.size()), content).doc);
    }
    const double rss_before = MemoryMiB().second;
    SimilarTicketIndex index(IndexOptions());
    const absl::Time t0 = absl::Now();
    for (TicketDoc& d : docs) index.Upsert(std::move(d));
    const absl::Duration build = absl::Now() - t0;
    docs.clear();
    docs.shrink_to_fit();
    const double rss_after = MemoryMiB().second;
    DepartmentSuggester suggester(&index, routes, remits);

    // Queries: the written set with its categories, and held-out simulator tickets in new
    // places, in turn.
    std::vector<std::pair<std::string, std::string>> queries;
    for (int i = 0; static_cast<int>(queries.size()) < absl::GetFlag(FLAGS_queries); ++i) {
      if (i % 2 == 0) {
        const Written& w = all_written[(i / 2) % all_written.size()];
        queries.emplace_back(w.content, w.category);
      } else {
        const sim::Plan plan = sim::DrawPlan(seed + 2, i, departments);
        if (plan.fate != sim::Fate::kConfirm) continue;
        const sim::Matter& m = sim::Matters()[plan.matter];
        queries.emplace_back(absl::StrReplaceAll(m.content, {{"{地点}", SynthesisedPlace(rng)}}),
                             m.category);
      }
    }
    std::vector<double> suggest_ms, find_ms, find_recent_ms;
    size_t sink = 0;
    for (const auto& [content, category] : queries) {
      absl::Time s = absl::Now();
      sink += suggester.Suggest(content, category, 5).size();
      suggest_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - s));

      SimilarTicketIndex::Query q;
      q.content = content;
      s = absl::Now();
      sink += index.Find(q).size();
      find_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - s));

      // FindSimilarTickets as intake asks it: the last week's open tickets of the district.
      q.created_after = kEpoch + absl::Minutes(10) * n - absl::Hours(24 * 7);
      q.open_only = true;
      q.district_code = "430104";
      s = absl::Now();
      sink += index.Find(q).size();
      find_recent_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - s));
    }
    const testing::LatencySummary sp = testing::Summarise(suggest_ms),
                                  fp = testing::Summarise(find_ms),
                                  fr = testing::Summarise(find_recent_ms);
    std::cout << absl::StrFormat(
        "latency: %d closed tickets, build %.2f s (%.1f us/ticket), rss %.0f -> %.0f MiB "
        "(+%.0f), index estimate %.0f MiB, peak rss %.0f MiB\n",
        index.size(), absl::ToDoubleSeconds(build),
        absl::ToDoubleMicroseconds(build) / std::max<size_t>(index.size(), 1), rss_before,
        rss_after, rss_after - rss_before, index.MemoryBytes() / 1048576.0, MemoryMiB().first);
    std::cout << absl::StrFormat(
        "  Suggest (limit 5, 30 neighbours): %d calls p50_ms %.3f p99_ms %.3f max_ms %.3f\n",
        suggest_ms.size(), sp.p50, sp.p99, sp.max);
    std::cout << absl::StrFormat(
        "  Find (all tickets, limit 5):      %d calls p50_ms %.3f p99_ms %.3f max_ms %.3f\n",
        find_ms.size(), fp.p50, fp.p99, fp.max);
    std::cout << absl::StrFormat(
        "  Find (open, 7 days, 1 district):  %d calls p50_ms %.3f p99_ms %.3f max_ms %.3f\n",
        find_recent_ms.size(), fr.p50, fr.p99, fr.max);
    std::cout << absl::StrFormat("  target Suggest p99 <= 20 ms: %s (results %d)\n",
                                 sp.p99 <= 20 ? "met" : "NOT MET", sink);
  }
  return 0;
}

}  // namespace
}  // namespace hotline::ticket

int main(int argc, char** argv) {
  hotline::InitProgram(argc, argv,
                       "department_suggest_bench: dispatch suggestion accuracy and latency");
  return hotline::ticket::Main();
}
