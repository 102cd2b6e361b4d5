// SearchIndex::Search: a query's analysis and expansion, BM25F scoring with the common terms
// re-scored only for the best candidates, pseudo-relevance feedback, filters and facets, the
// lifts of entry context, confirmations and votes, proximity, and the page with its snippets.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "services/kb/engine/internal/index_impl.h"
#include "services/kb/engine/search_index.h"

namespace hotline::kb {

namespace {

struct QueryTerm {
  uint32_t id;
  double weight;
  bool word;  // A dictionary word (counts for proximity and highlighting).
  std::string text;
};

// Per-thread scratch space for score accumulation, reused across searches so a query costs
// time proportional to the postings it reads, not to the size of the index.
struct Scratch {
  std::vector<float> scores;
  std::vector<uint32_t> touched;
  std::vector<int8_t> doc_ok;  // -1 unknown, 0 filtered out, 1 passes
  std::vector<uint8_t> doc_counted;
  std::vector<float> best;
  std::vector<uint32_t> docs_seen;
  // Per entry, for the votes of similar questions: the entry's lift, and 1 when one of its
  // passages has a vote of its own.
  std::vector<float> entry_lift;
  std::vector<uint8_t> passage_voted;
};

}  // namespace

absl::StatusOr<SearchResult> SearchIndex::Search(const SearchQuery& query) const {
  const RankingParams& P = params_;
  if (query.offset < 0 || query.limit < 0) {
    return absl::InvalidArgumentError("offset and limit must not be negative");
  }
  // Cut very long input: no question needs more, and it bounds the work.
  std::string text = query.text;
  {
    std::vector<size_t> starts = CodePointStarts(text);
    if (starts.size() > 257) text.resize(starts[256]);
  }
  const bool browse = text.empty();
  if (browse && query.order == SearchOrder::kRelevance) {
    return absl::InvalidArgumentError("query: required to order by relevance");
  }
  std::vector<Token> tokens;
  if (!browse) {
    absl::StatusOr<std::vector<Token>> analyzed = analyzer_->Analyze(text, AnalyzeMode::kQuery);
    if (!analyzed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("query: ", analyzed.status().message()));
    }
    tokens = std::move(*analyzed);
    if (tokens.empty()) {
      return absl::InvalidArgumentError("query: has no searchable words or characters");
    }
  }
  // Query keys with weights; a synonym adds the official terms it stands for.
  absl::flat_hash_map<std::string, std::pair<double, bool>> wanted;
  auto want = [&](const std::string& key, double w, bool word) {
    auto& slot = wanted[key];
    slot.first = std::max(slot.first, w);
    slot.second = slot.second || word;
  };
  std::vector<std::string> query_words;
  for (const Token& t : tokens) {
    switch (t.kind) {
      case TokenKind::kWord:
        want(t.text, P.word, true);
        query_words.push_back(t.text);
        break;
      case TokenKind::kSubWord:
        want(t.text, P.subword, true);
        break;
      case TokenKind::kBigram:
        want(BigramKey(t.text), P.bigram, false);
        break;
      case TokenKind::kUnigram:
        want(UnigramKey(t.text), P.unigram, false);
        break;
    }
    if (IsWordKind(t.kind)) {
      auto syn = impl_->synonyms.find(t.text);
      if (syn == impl_->synonyms.end()) continue;
      for (const std::string& official : syn->second) {
        absl::StatusOr<std::vector<Token>> expanded =
            analyzer_->Analyze(official, AnalyzeMode::kQuery);
        if (!expanded.ok()) continue;
        for (const Token& e : *expanded) {
          if (e.kind == TokenKind::kWord) {
            want(e.text, P.synonym, true);
            query_words.push_back(e.text);
          }
        }
      }
    }
  }

  const Impl& I = *impl_;
  absl::ReaderMutexLock lock(&I.mu);
  SearchResult result;
  result.query_terms = query_words;
  std::vector<QueryTerm> terms;
  for (const auto& [key, wf] : wanted) {
    auto it = I.term_ids.find(key);
    if (it == I.term_ids.end()) continue;
    terms.push_back({it->second, wf.first, wf.second, key});
  }
  // `wanted` iterates in an order that changes from call to call; the terms are scored in
  // order, and which passages a common term reaches depends on it.
  std::sort(terms.begin(), terms.end(),
            [](const QueryTerm& a, const QueryTerm& b) { return a.id < b.id; });
  const double n = std::max<int64_t>(1, I.live_passages);
  std::array<double, kFieldCount> average;
  for (int f = 0; f < kFieldCount; ++f) average[f] = std::max(1.0, I.length_sums[f] / n);

  thread_local Scratch scratch;
  scratch.scores.resize(I.passages.size(), 0.0f);
  scratch.doc_ok.resize(I.docs.size(), -1);
  std::vector<double> idf;

  const SearchFilterSpec& filter = query.filter;
  const bool unfiltered = filter.kinds.empty() && filter.regions.empty() &&
                          filter.category_prefixes.empty() && filter.agencies.empty() &&
                          filter.statuses.empty() && filter.levels.empty() && filter.tags.empty() &&
                          filter.publish_from.empty() && filter.publish_to.empty() &&
                          filter.effective_from.empty() && filter.effective_to.empty();
  auto passes = [&](uint32_t d) ABSL_SHARED_LOCKS_REQUIRED(I.mu) -> bool {
    // The agents' usual search: no filter, so only the status decides, from the compact array.
    if (unfiltered) return query.include_inactive || I.doc_scoring[d].active;
    int8_t& known = scratch.doc_ok[d];
    if (known >= 0) return known;
    scratch.docs_seen.push_back(d);
    const DocumentInput& m = I.docs[d].doc->meta;
    const SearchFilterSpec& f = query.filter;
    auto in = [](const auto& list, const auto& v) {
      return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
    };
    bool ok = (query.include_inactive ||
               ((!f.statuses.empty() || !IsInactive(m.status)) && !m.source_inactive)) &&
              in(f.kinds, m.kind) && in(f.statuses, m.status) && in(f.levels, m.level) &&
              in(f.regions, m.region);
    if (ok && !f.category_prefixes.empty()) {
      ok = std::any_of(f.category_prefixes.begin(), f.category_prefixes.end(),
                       [&](const std::string& p) { return PathHasPrefix(m.category_path, p); });
    }
    if (ok && !f.agencies.empty()) {
      ok = std::any_of(m.agencies.begin(), m.agencies.end(),
                       [&](const std::string& a) { return in(f.agencies, a); });
    }
    if (ok && !f.tags.empty()) {
      ok = std::any_of(m.tags.begin(), m.tags.end(),
                       [&](const std::string& t) { return in(f.tags, t); });
    }
    auto within = [](const std::string& date, const std::string& from, const std::string& to) {
      if (from.empty() && to.empty()) return true;
      return !date.empty() && (from.empty() || date >= from) && (to.empty() || date <= to);
    };
    ok = ok && within(m.publish_date, f.publish_from, f.publish_to) &&
         within(m.effective_date, f.effective_from, f.effective_to);
    known = ok;
    return ok;
  };

  // Postings of passages that the filter would drop anyway are not scored: removed ones, and
  // for the usual search (no status filter) those of inactive entries.
  const std::vector<uint64_t>& unscored =
      !query.include_inactive && query.filter.statuses.empty() ? I.passage_hidden : I.passage_dead;
  auto alive = [&](uint32_t p) { return !((unscored[p / 64] >> (p % 64)) & 1); };
  // BM25 length normalisation, 1 - b + b * length / average, as norm0 + norm1 * length.
  const double body_norm0 = 1 - P.b_body, body_norm1 = P.b_body / average[kBody];
  const double title_norm0 = 1 - P.b_title, title_norm1 = P.b_title / average[kTitle];
  // A term is "common" above a share of the collection, capped so that the work of a query
  // stops growing with the size of the index.
  const double common = std::min(P.common_fraction * n, static_cast<double>(P.common_postings));
  const double k1_body_norm0 = P.k1 * body_norm0, k1_body_norm1 = P.k1 * body_norm1;
  // Adds one posting of a term of query weight `qw` (weight * idf) to its passage's score.
  auto add_posting = [&](double qw, const Posting& post) ABSL_SHARED_LOCKS_REQUIRED(I.mu) {
    float& score = scratch.scores[post.passage];
    if (score == 0.0f) scratch.touched.push_back(post.passage);
    // Most postings are of the body alone: qw * tf / (k1 + tf) with tf = w * n / norm is
    // qw * w * n / (w * n + k1 * norm), one division.
    if ((post.title | post.heading | post.question | post.tags) == 0) {
      const double x = P.weight_body * post.body;
      score += static_cast<float>(qw * x / (x + k1_body_norm0 + k1_body_norm1 * post.body_length));
      return;
    }
    double tf = 0;
    if (post.body) {
      tf += P.weight_body * post.body / (body_norm0 + body_norm1 * post.body_length);
    }
    if (post.title) {
      const uint32_t doc = I.passage_doc[post.passage];
      tf += P.weight_title * post.title /
            (title_norm0 + title_norm1 * I.doc_scoring[doc].title_length);
    }
    if (post.heading) tf += P.weight_heading * post.heading;
    if (post.question) tf += P.weight_question * post.question;
    if (post.tags) tf += P.weight_tags * post.tags;
    score += static_cast<float>(qw * tf / (P.k1 + tf));
  };
  // The best `k` candidates so far by score, in passage order.
  auto best_candidates = [&](size_t k) {
    std::vector<uint32_t> pool(scratch.touched.begin(), scratch.touched.end());
    if (pool.size() > k) {
      std::nth_element(pool.begin(), pool.begin() + k, pool.end(), [&](uint32_t x, uint32_t y) {
        return scratch.scores[x] != scratch.scores[y] ? scratch.scores[x] > scratch.scores[y]
                                                      : x < y;
      });
      pool.resize(k);
    }
    std::sort(pool.begin(), pool.end());
    return pool;
  };
  // The common terms scored so far, and the candidates they re-scored.
  std::vector<size_t> common_terms;
  std::vector<uint32_t> rescored;
  // Adds a common term's scores to the sorted candidates `pool`, found in its passage-ordered
  // postings by search.
  auto rescore = [&](size_t i, const std::vector<uint32_t>& pool) ABSL_SHARED_LOCKS_REQUIRED(I.mu) {
    const std::vector<Posting>& list = I.postings[terms[i].id];
    const double qw = terms[i].weight * idf[i];
    if (pool.size() * 16 > list.size()) {
      // Many candidates for this list: one pass over it is cheaper than a search each.
      size_t next = 0;
      for (const Posting& post : list) {
        while (next < pool.size() && pool[next] < post.passage) ++next;
        if (next == pool.size()) break;
        if (pool[next] == post.passage && alive(post.passage)) add_posting(qw, post);
      }
      return;
    }
    // Galloping search: the candidates are sorted, so each one is found by doubling steps
    // from where the last one was, which stays within nearby cache lines of a long list.
    auto before = [](const Posting& post, uint32_t passage) { return post.passage < passage; };
    auto from = list.begin();
    for (uint32_t p : pool) {
      size_t step = 1;
      auto probe = from;
      while (list.end() - probe > static_cast<ptrdiff_t>(step) && (probe + step)->passage < p) {
        probe += step;
        step *= 2;
      }
      auto limit =
          list.end() - probe > static_cast<ptrdiff_t>(step) ? probe + step + 1 : list.end();
      from = std::lower_bound(probe, limit, p, before);
      if (from == list.end()) break;
      if (from->passage == p) add_posting(qw, *from);
    }
  };
  // Adds the scores of terms[first_term...] to the passages' scores.
  auto accumulate = [&](size_t first_term) ABSL_SHARED_LOCKS_REQUIRED(I.mu) {
    idf.resize(terms.size());
    for (size_t i = 0; i < terms.size(); ++i) {
      double df = static_cast<double>(I.postings[terms[i].id].size());
      idf[i] = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
    }
    // Rare terms first. Once there are enough candidates, a common term (in more than
    // `common_fraction` of the passages) only adds to passages already found: it can reorder
    // candidates but would mostly add passages that cannot reach the top, and reading all of
    // its postings would dominate the query's cost.
    std::vector<size_t> order;
    for (size_t i = first_term; i < terms.size(); ++i) order.push_back(i);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return idf[a] > idf[b]; });
    for (size_t i : order) {
      const std::vector<Posting>& list = I.postings[terms[i].id];
      const bool only_existing =
          scratch.touched.size() >= P.min_candidates && static_cast<double>(list.size()) > common;
      if (!only_existing) {
        const double qw = terms[i].weight * idf[i];
        for (const Posting& post : list) {
          if (alive(post.passage)) add_posting(qw, post);
        }
        continue;
      }
      // A common term (low idf) can only reorder passages whose scores are already close, so
      // it re-scores just the best `rescore_pool` candidates so far. Terms come rare-first:
      // once here, every later term is common too and no candidate is added.
      result.total_is_estimate = true;
      if (rescored.empty()) rescored = best_candidates(P.rescore_pool);
      common_terms.push_back(i);
      rescore(i, rescored);
    }
  };
  if (browse) {
    // Every entry is a candidate, by its first passage; the filter below decides.
    for (const Impl::DocInfo& doc : I.docs) {
      if (doc.alive && !doc.passages.empty()) scratch.touched.push_back(doc.passages[0]);
    }
  } else {
    accumulate(0);
  }

  // Pseudo-relevance feedback: the words that the best first-pass passages share, and that are
  // rare in the collection, are likely the vocabulary of the answer; search again with them
  // added at a low weight. Generic query expansion, not tied to any question.
  if (!browse && P.feedback_passages > 0 && P.feedback_terms > 0 && !scratch.touched.empty()) {
    // The best passages that pass the filter: look among the best by score first, which spares
    // reading the entry of every candidate; only a filter that rejects most of them needs all.
    auto best_passing = [&](size_t shortlist) {
      std::vector<std::pair<float, uint32_t>> out;
      out.reserve(scratch.touched.size());
      for (uint32_t p : scratch.touched) out.emplace_back(scratch.scores[p], p);
      // Ties go to the lower passage id: the same query must give the same pages.
      auto higher = [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
      };
      if (shortlist < out.size()) {
        std::nth_element(out.begin(), out.begin() + shortlist, out.end(), higher);
        out.resize(shortlist);
      }
      out.erase(std::remove_if(out.begin(), out.end(),
                               [&](const auto& c) ABSL_SHARED_LOCKS_REQUIRED(I.mu) {
                                 return !passes(I.passage_doc[c.second]);
                               }),
                out.end());
      std::sort(out.begin(), out.end(), higher);
      return out;
    };
    const size_t wanted_first = static_cast<size_t>(P.feedback_passages);
    std::vector<std::pair<float, uint32_t>> first =
        best_passing(std::max<size_t>(64, wanted_first * 8));
    if (first.size() < wanted_first) first = best_passing(scratch.touched.size());
    const size_t top = std::min(first.size(), wanted_first);
    absl::flat_hash_set<uint32_t> known;
    for (const QueryTerm& t : terms) known.insert(t.id);
    absl::flat_hash_map<uint32_t, double> weight;
    for (size_t r = 0; r < top; ++r) {
      const std::vector<uint32_t>& words = I.passages[first[r].second].words;
      if (words.empty()) continue;
      double share = 1.0 / (r + 1) / words.size();
      for (uint32_t w : words) {
        if (!known.contains(w)) weight[w] += share;
      }
    }
    std::vector<std::pair<double, uint32_t>> ranked;
    for (const auto& [w, v] : weight) {
      double df = static_cast<double>(I.postings[w].size());
      if (df < 2 || df > common) continue;  // Unique or common: no evidence.
      ranked.emplace_back(v * std::log(1.0 + (n - df + 0.5) / (df + 0.5)), w);
    }
    size_t take = std::min<size_t>(ranked.size(), P.feedback_terms);
    // `ranked` follows the hash map's order, which differs from call to call (absl salts it
    // with the table's address): ties go to the lower word id, or the expansion (and so the
    // scores and the pages) would change between two identical searches.
    std::partial_sort(ranked.begin(), ranked.begin() + take, ranked.end(),
                      [](const auto& a, const auto& b) {
                        return a.first != b.first ? a.first > b.first : a.second < b.second;
                      });
    const size_t first_feedback_term = terms.size();
    for (size_t i = 0; i < take; ++i) {
      terms.push_back({ranked[i].second, P.feedback_weight, /*word=*/false, ""});
    }
    // The first pass's scores stand; only the new terms are added. (They are never common,
    // so they reach every passage that has them, as a full second pass would.)
    accumulate(first_feedback_term);
    // The new terms may have lifted passages among the best that the common terms never
    // re-scored; a full second pass would have re-scored them, so they are re-scored now.
    if (!common_terms.empty()) {
      std::vector<uint32_t> best = best_candidates(P.rescore_pool), lifted;
      std::set_difference(best.begin(), best.end(), rescored.begin(), rescored.end(),
                          std::back_inserter(lifted));
      for (size_t i : common_terms) rescore(i, lifted);
    }
  }

  // Filter, count, facet.
  std::vector<std::pair<double, uint32_t>> candidates;
  candidates.reserve(scratch.touched.size());
  // The entry of each candidate, kept beside it so that the entry context below reads it in
  // order instead of looking every passage up again.
  std::vector<uint32_t> candidate_docs;
  candidate_docs.reserve(scratch.touched.size());
  std::vector<uint32_t> entries;  // Distinct matching entries, for counts and facets.
  scratch.doc_counted.resize(I.docs.size(), 0);
  // The two best passage scores of each entry (for the entry context).
  scratch.best.resize(I.docs.size() * 2, 0.0f);
  for (uint32_t p : scratch.touched) {
    double score = scratch.scores[p];
    scratch.scores[p] = 0.0f;
    uint32_t d = I.passage_doc[p];
    if (!passes(d)) continue;
    const Impl::DocScoring& meta = I.doc_scoring[d];
    v1::EntryStatus status = meta.status;
    if (status == v1::ENTRY_STATUS_AMENDED) score *= P.prior_amended;
    if (status == v1::ENTRY_STATUS_REPEALED || status == v1::ENTRY_STATUS_EXPIRED ||
        meta.source_inactive) {
      score *= P.prior_repealed;
    }
    if (status == v1::ENTRY_STATUS_NOT_YET_EFFECTIVE) score *= P.prior_not_yet_effective;
    switch (query.regional ? v1::POLICY_LEVEL_UNSPECIFIED : meta.level) {
      case v1::POLICY_LEVEL_ADMINISTRATIVE_REGULATION:
      case v1::POLICY_LEVEL_SUPERVISORY_REGULATION:
      case v1::POLICY_LEVEL_DEPARTMENTAL_RULE:
        score *= P.prior_national_regulation;
        break;
      case v1::POLICY_LEVEL_LOCAL_REGULATION:
      case v1::POLICY_LEVEL_LOCAL_GOVERNMENT_RULE:
      case v1::POLICY_LEVEL_NORMATIVE_DOCUMENT:
        score *= P.prior_local;
        break;
      default:
        break;
    }
    candidates.emplace_back(score, p);
    candidate_docs.push_back(d);
    float* best = &scratch.best[d * 2];
    if (score > best[0]) {
      best[1] = best[0];
      best[0] = static_cast<float>(score);
    } else if (score > best[1]) {
      best[1] = static_cast<float>(score);
    }
    if (!scratch.doc_counted[d]) {
      scratch.doc_counted[d] = 1;
      entries.push_back(d);
    }
  }
  for (uint32_t d : entries) scratch.doc_counted[d] = 0;
  if (P.entry_context > 0) {
    for (size_t i = 0; i < candidates.size(); ++i) {
      double& score = candidates[i].first;
      const float* best = &scratch.best[candidate_docs[i] * 2];
      // The best passage of the entry other than this one.
      double other = score >= best[0] ? best[1] : best[0];
      score += P.entry_context * other;
    }
  }
  for (uint32_t d : entries) scratch.best[d * 2] = scratch.best[d * 2 + 1] = 0.0f;
  if (!query.passage_lift.empty() && !candidates.empty()) {
    // Agents' judgements for this question, on the scale of this search's best score.
    absl::flat_hash_map<uint32_t, double> lift;
    for (const auto& [key, value] : query.passage_lift) {
      auto it = I.doc_by_id.find(key.first);
      if (it == I.doc_by_id.end()) continue;
      const std::vector<uint32_t>& ps = I.docs[it->second].passages;
      if (key.second >= 0 && key.second < static_cast<int>(ps.size())) lift[ps[key.second]] = value;
    }
    double best = 0;
    for (const auto& c : candidates) best = std::max(best, c.first);
    for (auto& [score, p] : candidates) {
      auto it = lift.find(p);
      if (it == lift.end()) continue;
      score = it->second > 0 ? score + it->second * best : score * std::exp(it->second);
    }
  }
  // The passage of an entry with a label (agents' judgements name clauses by label).
  auto passage_of = [&](const std::string& id, const std::string& label)
                        ABSL_SHARED_LOCKS_REQUIRED(I.mu) -> std::optional<uint32_t> {
    auto it = I.doc_by_id.find(id);
    if (it == I.doc_by_id.end()) return std::nullopt;
    const auto& by_label = I.docs[it->second].passage_by_label;
    auto p = by_label.find(std::string_view(label));
    if (p == by_label.end()) return std::nullopt;
    return p->second;
  };
  if (!query.passage_confirmations.empty() && P.confirmed_weight > 0 && !candidates.empty()) {
    double best = 0;
    for (const auto& c : candidates) best = std::max(best, c.first);
    absl::flat_hash_map<uint32_t, int> confirmed;
    for (const auto& [key, n] : query.passage_confirmations) {
      if (std::optional<uint32_t> p = passage_of(key.first, key.second)) confirmed[*p] = n;
    }
    for (auto& [score, p] : candidates) {
      auto it = confirmed.find(p);
      if (it != confirmed.end()) score += P.confirmed_weight * std::log2(1.0 + it->second) * best;
    }
  }
  if (!query.passage_votes.empty() || !query.entry_votes.empty()) {
    // Similar questions' confirmed answers, on the scale of the best text score, so that a
    // strong vote competes with the best text match whatever the query's own score range.
    double best = 0;
    for (const auto& c : candidates) best = std::max(best, c.first);
    if (best <= 0) best = 1.0;
    best *= std::clamp(query.vote_confidence, 0.0, 1.0);
    absl::flat_hash_map<uint32_t, double> vote;
    double strongest = 0;
    for (const auto& [key, value] : query.passage_votes) {
      if (std::optional<uint32_t> p = passage_of(key.first, key.second)) {
        vote[*p] = value;
        strongest = std::max(strongest, value);
      }
    }
    // Most candidates are of entries nobody voted for, and most of the rest have an entry
    // vote only: arrays by entry spare both a lookup.
    scratch.entry_lift.resize(I.docs.size(), 0.0f);
    scratch.passage_voted.resize(I.docs.size(), 0);
    double strongest_entry = 0;
    for (const auto& [id, value] : query.entry_votes) {
      strongest_entry = std::max(strongest_entry, value);
    }
    std::vector<uint32_t> lifted;  // The entries with a lift, to clear it after.
    for (const auto& [id, value] : query.entry_votes) {
      auto it = I.doc_by_id.find(id);
      if (it == I.doc_by_id.end() || value <= 0) continue;
      scratch.entry_lift[it->second] = static_cast<float>(
          P.entry_vote_weight * std::pow(value / strongest_entry, P.entry_vote_power) * best);
      lifted.push_back(it->second);
    }
    for (const auto& [p, v] : vote) scratch.passage_voted[I.passage_doc[p]] = 1;
    auto lift = [&](uint32_t d, double v) {
      return (v > 0 ? P.vote_weight * v / strongest * best : 0.0) + scratch.entry_lift[d];
    };
    for (size_t i = 0; i < candidates.size(); ++i) {
      const uint32_t d = candidate_docs[i];
      if (!scratch.passage_voted[d]) {
        candidates[i].first += scratch.entry_lift[d];
        continue;
      }
      auto& [score, p] = candidates[i];
      auto it = vote.find(p);
      const double v = it == vote.end() ? 0.0 : it->second;
      if (v < 0) score *= std::exp(P.vote_penalty * v);
      score += lift(d, v);
      if (it != vote.end()) it->second = 0;  // Counted.
    }
    // Confirmed passages the text did not find at all: callers' words and the law's differ.
    for (const auto& [p, v] : vote) {
      if (v <= 0) continue;
      uint32_t d = I.passage_doc[p];
      if (passes(d)) candidates.emplace_back(lift(d, v), p);
    }
    for (uint32_t d : lifted) scratch.entry_lift[d] = 0.0f;
    for (const auto& [p, v] : vote) scratch.passage_voted[I.passage_doc[p]] = 0;
  }
  scratch.touched.clear();
  for (uint32_t d : scratch.docs_seen) scratch.doc_ok[d] = -1;
  scratch.docs_seen.clear();
  if (query.max_hits_per_entry > 0) {
    // Only an entry's best passages compete for the page, so that a page fills with further
    // entries instead of ending where the best entries' other passages would have been.
    const size_t k = static_cast<size_t>(query.max_hits_per_entry);
    absl::flat_hash_map<uint32_t, std::vector<std::pair<double, uint32_t>>> best_of;
    for (const auto& c : candidates) {
      std::vector<std::pair<double, uint32_t>>& kept = best_of[I.passages[c.second].doc];
      if (kept.size() < k) {
        kept.push_back(c);
      } else {
        auto worst = std::min_element(kept.begin(), kept.end());
        if (c.first > worst->first) *worst = c;
      }
    }
    candidates.clear();
    for (const auto& [doc, kept] : best_of) {
      candidates.insert(candidates.end(), kept.begin(), kept.end());
    }
  }
  result.total_passages = static_cast<int64_t>(candidates.size());
  result.total_entries = static_cast<int64_t>(entries.size());

  for (v1::FacetField field : query.facets) {
    absl::flat_hash_map<std::string, int64_t> counts;
    for (uint32_t d : entries) {
      const DocumentInput& m = I.docs[d].doc->meta;
      switch (field) {
        case v1::FACET_FIELD_KIND:
          counts[v1::EntryKind_Name(m.kind)]++;
          break;
        case v1::FACET_FIELD_STATUS:
          counts[v1::EntryStatus_Name(m.status)]++;
          break;
        case v1::FACET_FIELD_REGION:
          counts[m.region]++;
          break;
        case v1::FACET_FIELD_CATEGORY:
          counts[m.category_path]++;
          break;
        case v1::FACET_FIELD_LEVEL:
          counts[v1::PolicyLevel_Name(m.level)]++;
          break;
        case v1::FACET_FIELD_PUBLISH_YEAR:
          counts[m.publish_date.substr(0, 4)]++;
          break;
        case v1::FACET_FIELD_ISSUING_AGENCY:
          for (const std::string& a : m.agencies) counts[a]++;
          break;
        case v1::FACET_FIELD_TAG:
          for (const std::string& t : m.tags) counts[t]++;
          break;
        default:
          break;
      }
    }
    std::vector<std::pair<std::string, int64_t>> values(counts.begin(), counts.end());
    std::sort(values.begin(), values.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    result.facets.emplace_back(field, std::move(values));
  }

  if (query.order != SearchOrder::kRelevance) {
    // A date order: the newest first, entries without the date last; then the newest change,
    // then relevance (zero when browsing), then a stable position.
    auto date_of = [&](uint32_t p) ABSL_SHARED_LOCKS_REQUIRED(I.mu) -> const std::string& {
      const DocumentInput& m = I.docs[I.passages[p].doc].doc->meta;
      static const std::string kNone;
      switch (query.order) {
        case SearchOrder::kPublishDate:
          return m.publish_date;
        case SearchOrder::kEffectiveDate:
          return m.effective_date;
        default:
          return kNone;
      }
    };
    std::sort(candidates.begin(), candidates.end(),
              [&](const auto& a, const auto& b) ABSL_SHARED_LOCKS_REQUIRED(I.mu) {
                const std::string& da = date_of(a.second);
                const std::string& db = date_of(b.second);
                if (da != db) return db.empty() || (!da.empty() && da > db);
                const int64_t ua = I.docs[I.passages[a.second].doc].doc->meta.update_micros;
                const int64_t ub = I.docs[I.passages[b.second].doc].doc->meta.update_micros;
                if (ua != ub) return ua > ub;
                return a.first != b.first ? a.first > b.first : a.second < b.second;
              });
  }
  // Re-rank the best candidates by how close together the query words occur.
  size_t window = std::min<size_t>(
      candidates.size(), std::max<size_t>(P.rerank_window, static_cast<size_t>(query.offset) +
                                                               static_cast<size_t>(query.limit)));
  auto by_score = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };
  if (query.order == SearchOrder::kRelevance) {
    std::partial_sort(candidates.begin(), candidates.begin() + window, candidates.end(), by_score);
    candidates.resize(window);
  }
  std::vector<size_t> word_terms;
  for (size_t i = 0; i < terms.size(); ++i) {
    if (terms[i].word) word_terms.push_back(i);
  }
  if (query.order == SearchOrder::kRelevance && P.proximity > 0 && word_terms.size() > 1) {
    // The query's word ids, and a 64-bit mask of them for rejecting most of a passage's words
    // with one test: this loop reads every word of the candidates.
    std::vector<uint32_t> word_ids;
    uint64_t word_mask = 0;
    for (size_t k : word_terms) {
      word_ids.push_back(terms[k].id);
      word_mask |= uint64_t{1} << (terms[k].id % 64);
    }
    auto slot_of = [&](uint32_t word) -> int {
      if (!((word_mask >> (word % 64)) & 1)) return -1;
      for (size_t k = 0; k < word_ids.size(); ++k) {
        if (word_ids[k] == word) return static_cast<int>(k);
      }
      return -1;
    };
    std::vector<int64_t> last(word_terms.size());
    std::vector<double> best(word_terms.size() * word_terms.size());
    for (auto& [score, p] : candidates) {
      std::fill(last.begin(), last.end(), -1);
      std::fill(best.begin(), best.end(), 0.0);
      const std::vector<uint32_t>& words = I.passages[p].words;
      for (size_t pos = 0; pos < words.size(); ++pos) {
        const int slot = slot_of(words[pos]);
        if (slot < 0) continue;
        const size_t a = static_cast<size_t>(slot);
        for (size_t b = 0; b < last.size(); ++b) {
          if (b == a || last[b] < 0) continue;
          double d = static_cast<double>(pos - last[b]);
          double closeness = 1.0 / (d * d);
          size_t key = std::min(a, b) * last.size() + std::max(a, b);
          best[key] = std::max(best[key], closeness);
        }
        last[a] = static_cast<int64_t>(pos);
      }
      double bonus = 0;
      for (size_t a = 0; a < word_terms.size(); ++a) {
        for (size_t b = a + 1; b < word_terms.size(); ++b) {
          double c = best[a * last.size() + b];
          if (c > 0) bonus += c * std::min(idf[word_terms[a]], idf[word_terms[b]]);
        }
      }
      score += P.proximity * bonus;
    }
    std::sort(candidates.begin(), candidates.end(), by_score);
  }

  // Page, at most max_hits_per_entry from one entry.
  absl::flat_hash_map<uint32_t, int> per_entry;
  int skipped = 0;
  for (const auto& [score, p] : candidates) {
    uint32_t d = I.passages[p].doc;
    if (query.max_hits_per_entry > 0 && ++per_entry[d] > query.max_hits_per_entry) continue;
    if (skipped++ < query.offset) continue;
    if (static_cast<int>(result.hits.size()) == query.limit) break;
    const Impl::StoredDocument& doc = *I.docs[d].doc;
    const PassageText& ap = doc.passages[I.passages[p].ordinal];
    PassageHit& hit = result.hits.emplace_back();
    hit.entry_id = I.docs[d].id;
    hit.title = doc.meta.title;
    hit.kind = doc.meta.kind;
    hit.status = doc.meta.status;
    hit.passage_label = ap.label;
    hit.heading = ap.heading;
    hit.passage_ordinal = static_cast<int>(I.passages[p].ordinal);
    hit.score = score;
    hit.snippet = ap.text;
  }
  // Snippets and highlights, for the few passages shown: the query's words and bigrams.
  std::vector<std::string> highlight_keys;
  for (const QueryTerm& t : terms) {
    if (t.word) highlight_keys.push_back(t.text);
    if (absl::StartsWith(t.text,
                         "\x01"
                         "b"))
      highlight_keys.push_back(t.text.substr(2));
  }
  const Highlighter highlighter(analyzer_->normalizer(), highlight_keys);
  auto highlight = [&](const std::string& text) { return highlighter.Ranges(text); };
  for (PassageHit& hit : result.hits) {
    hit.title_highlights = highlight(hit.title);
    std::vector<std::pair<int, int>> ranges = highlight(hit.snippet);
    std::vector<size_t> starts = CodePointStarts(hit.snippet);
    int length = static_cast<int>(starts.size()) - 1;
    int begin = 0;
    if (length > query.snippet_length) {
      // The window start that covers the most highlighted ranges.
      int best_count = -1;
      for (const auto& r : ranges) {
        int from = std::max(0, std::min(r.first - 10, length - query.snippet_length));
        int count = 0;
        for (const auto& q : ranges)
          count += q.first >= from && q.second <= from + query.snippet_length;
        if (count > best_count) {
          best_count = count;
          begin = from;
        }
      }
      int end = std::min(length, begin + query.snippet_length);
      hit.starts_mid_passage = begin > 0;
      hit.ends_mid_passage = end < length;
      hit.snippet = hit.snippet.substr(starts[begin], starts[end] - starts[begin]);
      std::vector<std::pair<int, int>> shifted;
      for (const auto& r : ranges) {
        if (r.first >= begin && r.second <= end)
          shifted.emplace_back(r.first - begin, r.second - begin);
      }
      ranges = std::move(shifted);
    }
    hit.highlights = std::move(ranges);
  }
  return result;
}

}  // namespace hotline::kb
