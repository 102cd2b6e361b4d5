// kb_eval: answers every question of a labelled set with the top 10 passages and prints
// retrieval quality and latency. Works for any queries/qrels files of the STARD format:
//   queries: qid<TAB>question      qrels: qid<TAB>document id<TAB>article label
// The last line is
//   Recall@10 R MRR@10 M nDCG@10 N p50_ms A p99_ms B passages P
// and, with a history, the memory's share of the latency: votes_p50_ms C votes_p99_ms D
#include <glog/logging.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/program.h"
#include "services/kb/engine/answer_memory.h"
#include "services/kb/engine/lawref.h"
#include "services/kb/engine/search_index.h"
#include "services/kb/kb_flags.h"

ABSL_FLAG(std::string, corpus, "../shared/data/lawref/documents.jsonl.gz",
          "documents, JSON Lines (gzip allowed), lawref format");
ABSL_FLAG(std::string, queries, "../shared/data/stard/dev.queries.tsv", "qid<TAB>question");
ABSL_FLAG(std::string, qrels, "../shared/data/stard/dev.qrels.tsv",
          "qid<TAB>document id<TAB>article label");
ABSL_FLAG(int, k, 10, "cut-off of the measures");
ABSL_FLAG(int, threads, 2, "threads that analyse the corpus");
ABSL_FLAG(bool, articles_only, true,
          "index only article passages (第N条), the passage set the labels refer to");
ABSL_FLAG(bool, include_repealed, false, "also index repealed documents");
ABSL_FLAG(std::string, grid, "",
          "tuning: 'param=v1,v2;param2=...' evaluates each combination on the same index "
          "(params: see SetRankingParam) before the final line with the flag settings");
ABSL_FLAG(int, latency_rounds, 1,
          "search every query this many times for the latency percentiles (more samples: a "
          "steadier p99 on a noisy host)");
ABSL_FLAG(bool, show, false, "print each query's rank of its first relevant passage");
ABSL_FLAG(int, history_folds, 0,
          "k-fold history: the queries are split into this many folds; each fold is evaluated "
          "with the other folds' labelled answers fed to the memory of confirmed answers, as "
          "agents would confirm them (no question ever meets its own answer). 0: off");
ABSL_FLAG(double, history_fraction, 1.0,
          "with --history_folds: the share of the other folds' questions fed as history "
          "(a learning curve: 0.25, 0.5, 1)");
ABSL_FLAG(std::string, history_queries, "",
          "instead of folds: feed these questions (qid<TAB>question) with --history_qrels as "
          "history, then evaluate --queries");
ABSL_FLAG(std::string, history_qrels, "", "labels of --history_queries");
ABSL_FLAG(int, history_copies, 1,
          "remember every history question this many times under new ids (scale test: the "
          "latency and memory of a large memory; the votes of copies agree)");
ABSL_FLAG(int, max_voters, hotline::kb::AnswerMemoryParams().max_voters,
          "memory: similar past questions that may vote");
ABSL_FLAG(double, min_similarity, hotline::kb::AnswerMemoryParams().min_similarity,
          "memory: least similarity of a voter");
ABSL_FLAG(double, confident_similarity, hotline::kb::AnswerMemoryParams().confident_similarity,
          "memory: the votes are trusted fully once the nearest voter is this alike");
ABSL_FLAG(double, similarity_power, hotline::kb::AnswerMemoryParams().similarity_power,
          "memory: a voter weighs similarity^power");

namespace hotline::kb {
namespace {

// The p-quantile (0 < p <= 1) of sorted samples, nearest rank; 0 without samples.
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0.0;
  const size_t i = static_cast<size_t>(std::ceil(p * sorted.size())) - 1;
  return sorted[std::min(i, sorted.size() - 1)];
}

int Main() {
  absl::StatusOr<std::shared_ptr<const Analyzer>> analyzer = CreateAnalyzerFromFlags();
  if (!analyzer.ok()) {
    std::cerr << analyzer.status() << "\n";
    return 1;
  }
  SearchIndex index(*analyzer, RankingParamsFromFlags());
  if (absl::Status s = LoadSynonymsFromFlags(index); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }

  absl::Time start = absl::Now();
  std::vector<std::string> lines;
  absl::Status read = ForEachLine(absl::GetFlag(FLAGS_corpus), [&](absl::string_view line) {
    if (!line.empty()) lines.emplace_back(line);
    return absl::OkStatus();
  });
  if (!read.ok()) {
    std::cerr << read << "\n";
    return 1;
  }
  // Analysis is the expensive part and needs no lock: spread it over threads.
  std::vector<std::shared_ptr<const AnalyzedDocument>> analyzed(lines.size());
  std::atomic<size_t> next{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < std::max(1, absl::GetFlag(FLAGS_threads)); ++t) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < lines.size(); i = next++) {
        absl::StatusOr<DocumentInput> doc =
            ParseLawrefDocument(lines[i], absl::GetFlag(FLAGS_articles_only));
        if (!doc.ok()) {
          LOG(WARNING) << "line " << i + 1 << ": " << doc.status();
          ++failures;
          continue;
        }
        // The measured collection is the documents in force; repealed ones are never
        // returned by default anyway, and would only skew the word statistics.
        if (!absl::GetFlag(FLAGS_include_repealed) && doc->status != v1::ENTRY_STATUS_IN_FORCE) {
          continue;
        }
        absl::StatusOr<std::shared_ptr<const AnalyzedDocument>> a = index.Analyze(std::move(*doc));
        if (a.ok())
          analyzed[i] = *a;
        else
          ++failures;
      }
    });
  }
  for (auto& w : workers) w.join();
  for (auto& a : analyzed) {
    if (a != nullptr) index.Insert(std::move(a));
  }
  std::cerr << absl::StrFormat("indexed %d entries, %d passages in %.1f s (%d lines skipped)\n",
                               index.entry_count(), index.passage_count(),
                               absl::ToDoubleSeconds(absl::Now() - start), failures.load());

  std::map<std::string, std::set<std::pair<std::string, std::string>>> relevant;
  absl::Status qrels = ForEachLine(absl::GetFlag(FLAGS_qrels), [&](absl::string_view line) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() >= 3) relevant[f[0]].emplace(f[1], f[2]);
    return absl::OkStatus();
  });
  std::vector<std::pair<std::string, std::string>> queries;
  absl::Status qs = ForEachLine(absl::GetFlag(FLAGS_queries), [&](absl::string_view line) {
    std::vector<std::string> f = absl::StrSplit(line, absl::MaxSplits('\t', 1));
    if (f.size() == 2) queries.emplace_back(f[0], f[1]);
    return absl::OkStatus();
  });
  if (!qrels.ok() || !qs.ok()) {
    std::cerr << (qrels.ok() ? qs : qrels) << "\n";
    return 1;
  }

  const int k = absl::GetFlag(FLAGS_k);
  // The memory of confirmed answers a query is searched with (none: cold).
  std::function<const AnswerMemory*(const std::string& qid)> memory_for = [](const std::string&) {
    return static_cast<const AnswerMemory*>(nullptr);
  };
  const absl::Time now = absl::Now();
  std::map<const AnswerMemory*, std::map<std::pair<std::string, std::string>, int>>
      confirmation_counts;
  // Each query is searched `rounds` times (the same answer each time: the quality is measured
  // on the last); every search is one latency sample.
  auto evaluate = [&](int rounds = 1) {
    rounds = std::max(1, rounds);
    double recall = 0, mrr = 0, ndcg = 0;
    int judged = 0;
    std::vector<std::pair<double, std::string>> timings;  // Milliseconds, query id.
    std::vector<double> vote_timings;  // Of these, the memory's share (with history).
    for (const auto& [qid, question] : queries) {
      auto rel = relevant.find(qid);
      if (rel == relevant.end() || rel->second.empty()) continue;  // Unjudged: not measured.
      SearchQuery q;
      q.text = question;
      q.limit = k;
      absl::StatusOr<SearchResult> result;
      for (int round = 0; round < rounds; ++round) {
        absl::Time t0 = absl::Now();
        q.passage_votes.clear();
        q.entry_votes.clear();
        if (const AnswerMemory* memory = memory_for(qid); memory != nullptr) {
          SimilarQuestionVotes votes = memory->Votes(question, now);
          for (const PassageVote& v : votes.passages) {
            q.passage_votes[{v.entry_id, v.passage_label}] = v.weight;
          }
          for (const EntryVote& v : votes.entries) q.entry_votes[v.entry_id] = v.weight;
          q.vote_confidence = votes.confidence;
          vote_timings.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
          // The memory does not change while a set is evaluated: counted once per memory.
          if (index.params().confirmed_weight > 0) {
            auto [it, inserted] = confirmation_counts.try_emplace(memory);
            if (inserted) it->second = memory->ConfirmationCounts();
            q.passage_confirmations = it->second;
          }
        }
        result = index.Search(q);
        timings.emplace_back(absl::ToDoubleMilliseconds(absl::Now() - t0), qid);
      }
      ++judged;
      if (!result.ok()) continue;  // Counts as finding nothing.
      int found = 0, first = 0;
      double dcg = 0;
      for (size_t i = 0; i < result->hits.size(); ++i) {
        const PassageHit& h = result->hits[i];
        if (rel->second.count({h.entry_id, h.passage_label})) {
          ++found;
          if (first == 0) first = static_cast<int>(i) + 1;
          dcg += 1.0 / std::log2(i + 2.0);
        }
      }
      double ideal = 0;
      for (int i = 0; i < std::min<int>(k, rel->second.size()); ++i)
        ideal += 1.0 / std::log2(i + 2.0);
      recall += static_cast<double>(found) / rel->second.size();
      mrr += first > 0 ? 1.0 / first : 0.0;
      ndcg += dcg / ideal;
      if (absl::GetFlag(FLAGS_show)) std::cerr << qid << "\t" << first << "\t" << question << "\n";
    }
    std::sort(timings.begin(), timings.end());
    if (absl::GetFlag(FLAGS_show)) {
      for (auto t = timings.rbegin(); t != timings.rend() && t - timings.rbegin() < 5; ++t) {
        std::cerr << absl::StrFormat("slow: query %s %.2f ms\n", t->second, t->first);
      }
    }
    std::vector<double> milliseconds;
    for (const auto& [ms, qid] : timings) milliseconds.push_back(ms);
    auto percentile = [&](double p) { return Percentile(milliseconds, p); };
    double n = std::max(1, judged);
    std::string line = absl::StrFormat(
        "Recall@%d %.4f MRR@%d %.4f nDCG@%d %.4f p50_ms %.2f p99_ms %.2f passages %d", k,
        recall / n, k, mrr / n, k, ndcg / n, percentile(0.5), percentile(0.99),
        index.passage_count());
    if (!vote_timings.empty()) {
      std::sort(vote_timings.begin(), vote_timings.end());
      absl::StrAppend(
          &line, absl::StrFormat(" votes_p50_ms %.2f votes_p99_ms %.2f",
                                 Percentile(vote_timings, 0.5), Percentile(vote_timings, 0.99)));
    }
    return line;
  };

  index.set_params(RankingParamsFromFlags());

  // Tuning: --grid="bigram=0.2,0.4;k1=0.9,1.2" evaluates every combination on this index
  // (with the history, when there is one).
  auto run_grid = [&]() -> int {
    std::vector<std::pair<std::string, std::vector<double>>> grid;
    for (absl::string_view axis :
         absl::StrSplit(absl::GetFlag(FLAGS_grid), ';', absl::SkipEmpty())) {
      std::vector<std::string> kv = absl::StrSplit(axis, '=');
      if (kv.size() != 2) continue;
      std::vector<double> values;
      for (absl::string_view v : absl::StrSplit(kv[1], ',')) {
        double x;
        if (absl::SimpleAtod(v, &x)) values.push_back(x);
      }
      grid.emplace_back(kv[0], values);
    }
    if (!grid.empty()) {
      std::vector<size_t> at(grid.size(), 0);
      while (true) {
        RankingParams p = RankingParamsFromFlags();
        std::string label;
        for (size_t a = 0; a < grid.size(); ++a) {
          double v = grid[a].second[at[a]];
          if (!SetRankingParam(grid[a].first, v, &p)) {
            std::cerr << "unknown parameter " << grid[a].first << "\n";
            return 2;
          }
          absl::StrAppend(&label, grid[a].first, "=", v, " ");
        }
        index.set_params(p);
        std::cerr << label << evaluate() << "\n";
        size_t a = 0;
        while (a < grid.size() && ++at[a] == grid[a].second.size()) at[a++] = 0;
        if (a == grid.size()) break;
      }
    }
    index.set_params(RankingParamsFromFlags());
    return 0;
  };

  // History: memories of confirmed answers, one per fold (or one from another set).
  AnswerMemoryParams memory_params;
  memory_params.max_voters = absl::GetFlag(FLAGS_max_voters);
  memory_params.min_similarity = absl::GetFlag(FLAGS_min_similarity);
  memory_params.similarity_power = absl::GetFlag(FLAGS_similarity_power);
  memory_params.confident_similarity = absl::GetFlag(FLAGS_confident_similarity);

  std::vector<std::unique_ptr<AnswerMemory>> memories;
  std::map<std::string, int> fold_of;
  auto feed = [&](AnswerMemory* memory, const std::string& qid, const std::string& question,
                  const std::set<std::pair<std::string, std::string>>& answers) {
    for (int copy = 0; copy < absl::GetFlag(FLAGS_history_copies); ++copy) {
      for (const auto& [entry, label] : answers) {
        RememberedAnswer a{absl::StrCat(qid, "/", copy, "/", entry, "/", label),
                           copy == 0 ? question : absl::StrCat(question, " ", copy),
                           entry,
                           label,
                           +1,
                           now};
        if (absl::Status s = memory->Add(a); !s.ok()) LOG(WARNING) << qid << ": " << s;
      }
    }
  };
  const int folds = absl::GetFlag(FLAGS_history_folds);
  if (folds > 1) {
    // Folds by a hash of the query id: stable across runs, unrelated to the file's order.
    std::vector<std::pair<std::string, std::string>> shuffled = queries;
    std::sort(shuffled.begin(), shuffled.end(), [](const auto& a, const auto& b) {
      return std::hash<std::string>()(a.first) < std::hash<std::string>()(b.first);
    });
    for (size_t i = 0; i < shuffled.size(); ++i) fold_of[shuffled[i].first] = i % folds;
    for (int f = 0; f < folds; ++f) {
      memories.push_back(std::make_unique<AnswerMemory>(*analyzer, memory_params));
      std::vector<std::pair<std::string, std::string>> others;
      for (const auto& q : shuffled) {
        if (fold_of[q.first] != f) others.push_back(q);
      }
      const size_t take =
          static_cast<size_t>(std::round(absl::GetFlag(FLAGS_history_fraction) * others.size()));
      for (size_t i = 0; i < std::min(take, others.size()); ++i) {
        feed(memories.back().get(), others[i].first, others[i].second, relevant[others[i].first]);
      }
    }
  } else if (!absl::GetFlag(FLAGS_history_queries).empty()) {
    std::map<std::string, std::set<std::pair<std::string, std::string>>> history_relevant;
    absl::Status hr = ForEachLine(absl::GetFlag(FLAGS_history_qrels), [&](absl::string_view line) {
      std::vector<std::string> f = absl::StrSplit(line, '\t');
      if (f.size() >= 3) history_relevant[f[0]].emplace(f[1], f[2]);
      return absl::OkStatus();
    });
    memories.push_back(std::make_unique<AnswerMemory>(*analyzer, memory_params));
    absl::Status hq =
        ForEachLine(absl::GetFlag(FLAGS_history_queries), [&](absl::string_view line) {
          std::vector<std::string> f = absl::StrSplit(line, absl::MaxSplits('\t', 1));
          if (f.size() == 2) feed(memories.back().get(), "h" + f[0], f[1], history_relevant[f[0]]);
          return absl::OkStatus();
        });
    if (!hr.ok() || !hq.ok()) {
      std::cerr << (hr.ok() ? hq : hr) << "\n";
      return 1;
    }
  }
  if (memories.empty()) {
    if (int code = run_grid(); code != 0) return code;
    std::cout << evaluate(absl::GetFlag(FLAGS_latency_rounds)) << "\n";
    return 0;
  }
  size_t remembered = 0, bytes = 0;
  for (const auto& m : memories) {
    remembered += m->size();
    bytes += m->MemoryBytes();
  }
  std::cout << "cold    " << evaluate(absl::GetFlag(FLAGS_latency_rounds)) << "\n";
  memory_for = [&](const std::string& qid) -> const AnswerMemory* {
    if (fold_of.empty()) return memories.front().get();
    auto it = fold_of.find(qid);
    return it == fold_of.end() ? nullptr : memories[it->second].get();
  };
  if (int code = run_grid(); code != 0) return code;
  std::cout << absl::StrFormat("memory  %d judgements in %d memories, %.0f bytes each\n",
                               remembered, memories.size(),
                               static_cast<double>(bytes) / std::max<size_t>(1, remembered));
  if (absl::GetFlag(FLAGS_show)) {
    // How well the votes alone point at the answer: the share of questions whose best vote,
    // or any vote, is a labelled answer.
    int any = 0, top = 0, voted = 0, n = 0;
    for (const auto& [qid, question] : queries) {
      const AnswerMemory* memory = memory_for(qid);
      if (memory == nullptr || relevant[qid].empty()) continue;
      ++n;
      std::vector<PassageVote> votes = memory->Votes(question, now).passages;
      if (!votes.empty()) ++voted;
      bool hit = false;
      for (size_t i = 0; i < votes.size(); ++i) {
        if (relevant[qid].count({votes[i].entry_id, votes[i].passage_label})) {
          hit = true;
          if (i == 0) ++top;
        }
      }
      any += hit;
    }
    std::cerr << absl::StrFormat(
        "votes: %d of %d questions have votes; best vote right %d, "
        "some vote right %d\n",
        voted, n, top, any);
  }
  std::cout << "history " << evaluate(absl::GetFlag(FLAGS_latency_rounds)) << "\n";
  return 0;
}

}  // namespace
}  // namespace hotline::kb

int main(int argc, char** argv) {
  hotline::InitProgram(argc, argv,
                       "kb_eval --corpus FILE --queries FILE --qrels FILE: retrieval quality");
  return hotline::kb::Main();
}
