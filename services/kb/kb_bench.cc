// kb_bench: index build time and memory for the whole lawref corpus, then in-process search
// latency at the corpus size and at about 1,000,000 passages (the corpus replicated under new
// ids). Not part of the tests; run by scripts/bench.sh.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/program.h"
#include "services/kb/engine/lawref.h"
#include "services/kb/kb_flags.h"

ABSL_FLAG(std::string, corpus, "../shared/data/lawref/documents.jsonl.gz", "lawref JSON Lines");
ABSL_FLAG(std::string, queries, "../shared/data/stard/dev.queries.tsv", "qid<TAB>question");
ABSL_FLAG(int, threads, 2, "analysis threads");
ABSL_FLAG(int, target_passages, 1000000, "size of the replicated index");
ABSL_FLAG(int, rounds, 5, "times each query is run per measurement");
ABSL_FLAG(std::string, params, "",
          "ranking overrides 'name=value;...' (names as in kb_eval --grid), to compare settings");

namespace hotline::kb {
namespace {

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

void MeasureSearch(const SearchIndex& index, const std::vector<std::string>& queries,
                   const std::string& label) {
  std::vector<double> ms;
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    for (const std::string& q : queries) {
      SearchQuery query;
      query.text = q;
      absl::Time t0 = absl::Now();
      auto result = index.Search(query);
      ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
    }
  }
  std::sort(ms.begin(), ms.end());
  auto at = [&](double p) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(p * ms.size()))];
  };
  std::cout << absl::StrFormat(
      "search %s passages %d queries %d p50_ms %.2f p99_ms %.2f max_ms %.2f\n", label,
      index.passage_count(), ms.size(), at(0.5), at(0.99), ms.back());
}

int Main() {
  auto analyzer = CreateAnalyzerFromFlags();
  if (!analyzer.ok()) {
    std::cerr << analyzer.status() << "\n";
    return 1;
  }
  double rss_before = MemoryMiB().second;
  RankingParams params = RankingParamsFromFlags();
  for (absl::string_view kv : absl::StrSplit(absl::GetFlag(FLAGS_params), ';', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(kv, '=');
    double value = 0;
    if (f.size() != 2 || !absl::SimpleAtod(f[1], &value) ||
        !SetRankingParam(f[0], value, &params)) {
      std::cerr << "bad --params entry '" << kv << "'\n";
      return 2;
    }
  }
  SearchIndex index(*analyzer, params);
  if (auto s = LoadSynonymsFromFlags(index); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  absl::Time start = absl::Now();
  std::vector<std::string> lines;
  if (auto s = ForEachLine(absl::GetFlag(FLAGS_corpus),
                           [&](absl::string_view l) {
                             lines.emplace_back(l);
                             return absl::OkStatus();
                           });
      !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  std::vector<std::shared_ptr<const AnalyzedDocument>> analyzed(lines.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < absl::GetFlag(FLAGS_threads); ++t) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < lines.size(); i = next++) {
        auto doc = ParseLawrefDocument(lines[i], /*articles_only=*/false);
        if (!doc.ok()) continue;
        auto a = index.Analyze(std::move(*doc));
        if (a.ok()) analyzed[i] = *a;
      }
    });
  }
  for (auto& w : workers) w.join();
  for (const auto& a : analyzed) {
    if (a != nullptr) index.Insert(a);
  }
  double build_s = absl::ToDoubleSeconds(absl::Now() - start);
  auto [peak, rss] = MemoryMiB();
  size_t passages = index.passage_count();
  std::cout << absl::StrFormat(
      "build entries %d passages %d seconds %.1f peak_rss_mib %.0f rss_mib %.0f "
      "index_bytes_per_passage %.0f rss_bytes_per_passage_with_analysis %.0f\n",
      index.entry_count(), passages, build_s, peak, rss,
      static_cast<double>(index.MemoryBytes()) / passages,
      (rss - rss_before) * 1048576.0 / passages);

  std::vector<std::string> queries;
  ForEachLine(absl::GetFlag(FLAGS_queries), [&](absl::string_view l) {
    std::vector<std::string> f = absl::StrSplit(l, absl::MaxSplits('\t', 1));
    if (f.size() == 2) queries.push_back(f[1]);
    return absl::OkStatus();
  }).IgnoreError();
  MeasureSearch(index, queries, "corpus");

  // Replicate the analysed corpus under new ids until the target size.
  int copy = 0;
  while (static_cast<int>(index.passage_count()) < absl::GetFlag(FLAGS_target_passages)) {
    ++copy;
    for (const auto& a : analyzed) {
      if (a != nullptr) index.InsertCopy(a, absl::StrCat(a->meta.id, "#", copy));
    }
  }
  auto [peak2, rss2] = MemoryMiB();
  // The copies share no index memory with the original, while the analysis kept for copying
  // is already counted: the growth per added passage is what the index itself costs.
  std::cout << absl::StrFormat(
      "replicated copies %d passages %d peak_rss_mib %.0f rss_mib %.0f "
      "index_rss_bytes_per_passage %.0f\n",
      copy, index.passage_count(), peak2, rss2,
      (rss2 - rss) * 1048576.0 / (index.passage_count() - passages));
  MeasureSearch(index, queries, "replicated");
  return 0;
}

}  // namespace
}  // namespace hotline::kb

int main(int argc, char** argv) {
  hotline::InitProgram(argc, argv, "kb_bench: knowledge-base index build and search latency");
  return hotline::kb::Main();
}
