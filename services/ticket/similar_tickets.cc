#include "services/ticket/similar_tickets.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace hotline::ticket {

namespace {

// Token codes: a CJK character is its code point; a run of two or more Latin letters (app, ktv)
// is a 31-bit hash of its lower-case letters with the top bit set. Digits and single letters
// are breaks: phone numbers, house numbers (8栋1203室, A座), dates and amounts say nothing about
// the matter.
constexpr uint32_t kWordBit = 0x80000000u;

// Decodes one UTF-8 code point at s[*i], advancing *i; malformed bytes give U+FFFD.
uint32_t NextCodePoint(absl::string_view s, size_t* i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(*i);
  if (b0 < 0x80) {
    ++*i;
    return b0;
  }
  int extra = 0;
  uint32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    extra = 1;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    extra = 2;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    extra = 3;
    cp = b0 & 0x07;
  } else {
    ++*i;
    return 0xFFFD;
  }
  if (*i + extra >= s.size()) {  // truncated
    *i = s.size();
    return 0xFFFD;
  }
  for (int k = 1; k <= extra; ++k) {
    const unsigned char b = byte(*i + k);
    if ((b & 0xC0) != 0x80) {
      *i += k;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  *i += extra + 1;
  return cp;
}

bool IsCjk(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x2FA1F) || c == 0x3007;  // 〇
}

// Full-width ASCII (！ to ～) to half-width, upper to lower case.
uint32_t Fold(uint32_t c) {
  if (c >= 0xFF01 && c <= 0xFF5E) c -= 0xFEE0;
  if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
  return c;
}

bool IsLetter(uint32_t c) { return c >= 'a' && c <= 'z'; }

double TfWeight(uint32_t tf) { return 1.0 + std::log(static_cast<double>(tf)); }

}  // namespace

std::vector<uint64_t> ContentTerms(absl::string_view content) {
  std::vector<uint64_t> terms;
  terms.reserve(content.size() / 3 + 1);
  bool have_prev = false;  // a token earlier in the current run
  uint32_t prev = 0;
  const auto emit = [&](uint32_t token) {
    if (have_prev) terms.push_back((static_cast<uint64_t>(prev) << 32) | token);
    prev = token;
    have_prev = true;
  };
  size_t i = 0;
  while (i < content.size()) {
    const uint32_t c = Fold(NextCodePoint(content, &i));
    if (IsCjk(c)) {
      emit(c);
    } else if (IsLetter(c)) {
      uint32_t hash = (2166136261u ^ c) * 16777619u;  // FNV-1a over the lower-case letters
      int length = 1;
      while (i < content.size()) {
        size_t next = i;
        const uint32_t l = Fold(NextCodePoint(content, &next));
        if (!IsLetter(l)) break;
        hash = (hash ^ l) * 16777619u;
        ++length;
        i = next;
      }
      if (length > 1) {
        emit(kWordBit | (hash & ~kWordBit));
      } else {
        have_prev = false;
      }
    } else {
      have_prev = false;  // punctuation, white space, symbols: a break
    }
  }
  std::sort(terms.begin(), terms.end());
  return terms;
}

SimilarTicketIndex::SimilarTicketIndex(SimilarTicketIndexOptions options)
    : options_(std::move(options)) {}

size_t SimilarTicketIndex::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return live_;
}

double SimilarTicketIndex::Idf(uint32_t df) const {
  // Smoothed so that a bigram of every ticket still weighs a little and a new one (df 0, only
  // in a query) weighs as a bigram of one ticket.
  const double n = static_cast<double>(std::max<size_t>(live_, 1));
  return std::log(1.0 + n / static_cast<double>(std::max<uint32_t>(df, 1)));
}

double SimilarTicketIndex::DocNorm(const Doc& doc) const {
  double sum = 0;
  for (size_t i = 0; i < doc.terms.size();) {
    size_t j = i;
    while (j < doc.terms.size() && doc.terms[j] == doc.terms[i]) ++j;
    const double w = TfWeight(static_cast<uint32_t>(j - i)) * Idf(df_[doc.terms[i]]);
    sum += w * w;
    i = j;
  }
  return std::sqrt(sum);
}

void SimilarTicketIndex::Upsert(TicketDoc doc) {
  const std::vector<uint64_t> keys = ContentTerms(doc.content);  // outside the lock
  absl::MutexLock lock(&mu_);
  std::vector<uint32_t> terms;
  terms.reserve(keys.size());
  for (uint64_t key : keys) {
    auto [it, inserted] = term_by_key_.try_emplace(key, static_cast<uint32_t>(postings_.size()));
    if (inserted) {
      postings_.emplace_back();
      df_.push_back(0);
    }
    terms.push_back(it->second);
  }
  std::sort(terms.begin(), terms.end());

  if (auto it = ordinal_by_id_.find(doc.id); it != ordinal_by_id_.end()) {
    Doc& old = docs_[it->second];
    if (old.terms == terms) {  // The usual update: a state change, same words.
      old.district_code = std::move(doc.district_code);
      old.create_time = doc.create_time;
      old.open = doc.open;
      old.handled_by = std::move(doc.handled_by);
      old.returned_by = std::move(doc.returned_by);
      return;
    }
    RemoveLocked(it->second);
  }

  const uint32_t ordinal = static_cast<uint32_t>(docs_.size());
  Doc& d = docs_.emplace_back();
  d.id = doc.id;
  d.district_code = std::move(doc.district_code);
  d.create_time = doc.create_time;
  d.open = doc.open;
  d.handled_by = std::move(doc.handled_by);
  d.returned_by = std::move(doc.returned_by);
  d.terms = std::move(terms);
  for (size_t i = 0; i < d.terms.size();) {
    size_t j = i;
    while (j < d.terms.size() && d.terms[j] == d.terms[i]) ++j;
    postings_[d.terms[i]].push_back(
        {ordinal, static_cast<float>(TfWeight(static_cast<uint32_t>(j - i)))});
    ++df_[d.terms[i]];
    i = j;
  }
  ordinal_by_id_[std::move(doc.id)] = ordinal;
  ++live_;
  d.norm = static_cast<float>(DocNorm(d));
  MaybeRenormalise();
  MaybeCompact();
}

void SimilarTicketIndex::Remove(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = ordinal_by_id_.find(id);
  if (it == ordinal_by_id_.end()) return;
  RemoveLocked(it->second);
  MaybeRenormalise();
  MaybeCompact();
}

void SimilarTicketIndex::RemoveLocked(uint32_t ordinal) {
  Doc& d = docs_[ordinal];
  // The postings stay (searches skip dead documents) until compaction; the document
  // frequencies follow at once, so the idf is that of the live tickets.
  for (size_t i = 0; i < d.terms.size(); ++i) {
    if (i == 0 || d.terms[i] != d.terms[i - 1]) --df_[d.terms[i]];
  }
  ordinal_by_id_.erase(d.id);
  d = Doc();  // frees its strings and terms
  d.alive = false;
  --live_;
  ++dead_;
}

void SimilarTicketIndex::MaybeCompact() {
  if (dead_ < options_.compact_min_dead ||
      static_cast<double>(dead_) < options_.compact_dead_fraction * docs_.size()) {
    return;
  }
  std::vector<uint32_t> renumbered(docs_.size(), std::numeric_limits<uint32_t>::max());
  std::vector<Doc> kept;
  kept.reserve(live_);
  for (uint32_t i = 0; i < docs_.size(); ++i) {
    if (!docs_[i].alive) continue;
    renumbered[i] = static_cast<uint32_t>(kept.size());
    kept.push_back(std::move(docs_[i]));
  }
  docs_ = std::move(kept);
  for (std::vector<Posting>& list : postings_) {
    size_t out = 0;
    for (const Posting& p : list) {
      if (renumbered[p.doc] != std::numeric_limits<uint32_t>::max())
        list[out++] = {renumbered[p.doc], p.tf_weight};
    }
    list.resize(out);
    if (list.capacity() > 2 * out + 4) list.shrink_to_fit();
  }
  for (auto& [id, ordinal] : ordinal_by_id_) ordinal = renumbered[ordinal];
  dead_ = 0;
}

void SimilarTicketIndex::MaybeRenormalise() {
  const double now = static_cast<double>(live_);
  const double then = static_cast<double>(live_at_last_norm_);
  if (now <= then * options_.renorm_growth && now * options_.renorm_growth >= then) return;
  for (Doc& d : docs_) {
    if (d.alive) d.norm = static_cast<float>(DocNorm(d));
  }
  live_at_last_norm_ = live_;
}

std::vector<SimilarTicketIndex::QueryTerm> SimilarTicketIndex::QueryVector(
    absl::string_view content, double* norm) const {
  const std::vector<uint64_t> keys = ContentTerms(content);
  std::vector<QueryTerm> query;
  double sum = 0;
  const double common_df = live_ >= options_.common_min_docs
                               ? options_.common_df_fraction * static_cast<double>(live_)
                               : std::numeric_limits<double>::infinity();
  bool any_rare = false;
  for (size_t i = 0; i < keys.size();) {
    size_t j = i;
    while (j < keys.size() && keys[j] == keys[i]) ++j;
    const double tf_weight = TfWeight(static_cast<uint32_t>(j - i));
    auto it = term_by_key_.find(keys[i]);
    const uint32_t df = it == term_by_key_.end() ? 0 : df_[it->second];
    const double idf = Idf(df);
    const double weight = tf_weight * idf;
    sum += weight * weight;
    if (df > 0) {
      const bool common = static_cast<double>(df) > common_df;
      any_rare = any_rare || !common;
      query.push_back({it->second, weight, idf, common});
    }
    i = j;
  }
  // A query made only of common bigrams is searched with them: they are all it has.
  if (!any_rare) {
    for (QueryTerm& t : query) t.common = false;
  }
  std::sort(query.begin(), query.end(),
            [](const QueryTerm& a, const QueryTerm& b) { return a.term < b.term; });
  *norm = std::sqrt(sum);
  return query;
}

double SimilarTicketIndex::ExactCosine(const std::vector<QueryTerm>& query, double query_norm,
                                       const Doc& doc) const {
  double dot = 0, doc_sum = 0;
  size_t q = 0;
  for (size_t i = 0; i < doc.terms.size();) {
    size_t j = i;
    while (j < doc.terms.size() && doc.terms[j] == doc.terms[i]) ++j;
    const uint32_t term = doc.terms[i];
    const double idf = Idf(df_[term]);
    const double w = TfWeight(static_cast<uint32_t>(j - i)) * idf;
    doc_sum += w * w;
    while (q < query.size() && query[q].term < term) ++q;
    if (q < query.size() && query[q].term == term) dot += query[q].weight * w;
    i = j;
  }
  if (dot <= 0 || doc_sum <= 0 || query_norm <= 0) return 0;
  return std::min(1.0, dot / (std::sqrt(doc_sum) * query_norm));
}

template <typename Accept>
std::vector<SimilarTicketIndex::Candidate> SimilarTicketIndex::Search(absl::string_view content,
                                                                      int want,
                                                                      double min_similarity,
                                                                      Accept accept) const {
  std::vector<Candidate> result;
  if (want <= 0) return result;
  double query_norm = 0;
  const std::vector<QueryTerm> query = QueryVector(content, &query_norm);
  if (query.empty() || query_norm <= 0) return result;

  // Per thread, reused across calls: a dense accumulator over the ordinals (zero between
  // calls) and the ordinals it touched.
  thread_local std::vector<float> acc;
  thread_local std::vector<uint32_t> touched;
  if (acc.size() < docs_.size()) acc.resize(docs_.size(), 0.0f);
  touched.clear();
  for (const QueryTerm& t : query) {
    if (t.common) continue;
    const float factor = static_cast<float>(t.weight * t.idf);
    for (const Posting& p : postings_[t.term]) {
      float& a = acc[p.doc];
      if (a == 0.0f) touched.push_back(p.doc);
      a += factor * p.tf_weight;
    }
  }

  std::vector<Candidate> pool;
  for (uint32_t d : touched) {
    const Doc& doc = docs_[d];
    if (doc.alive && doc.norm > 0 && accept(doc)) {
      pool.push_back({d, acc[d] / (doc.norm * query_norm)});
    }
    acc[d] = 0.0f;
  }
  // Approximate order first (norms of the last renormalisation, common bigrams left out),
  // then the exact cosine over a few times more candidates than wanted.
  const size_t rescore = static_cast<size_t>(
      std::max(options_.min_rescore, want * std::max(1, options_.rescore_factor)));
  const auto better = [&](const Candidate& a, const Candidate& b) ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    if (a.similarity != b.similarity) return a.similarity > b.similarity;
    return docs_[a.doc].id < docs_[b.doc].id;
  };
  if (pool.size() > rescore) {
    std::nth_element(pool.begin(), pool.begin() + rescore, pool.end(), better);
    pool.resize(rescore);
  }
  for (Candidate& c : pool) {
    c.similarity = ExactCosine(query, query_norm, docs_[c.doc]);
    if (c.similarity >= min_similarity && c.similarity > 0) result.push_back(c);
  }
  std::sort(result.begin(), result.end(), better);
  if (result.size() > static_cast<size_t>(want)) result.resize(want);
  return result;
}

std::vector<SimilarTicketIndex::Match> SimilarTicketIndex::Find(const Query& query) const {
  absl::ReaderMutexLock lock(&mu_);
  const std::vector<Candidate> found =
      Search(query.content, query.limit, query.min_similarity, [&](const Doc& doc) {
        return (!query.open_only || doc.open) &&
               (query.district_code.empty() || doc.district_code == query.district_code) &&
               doc.create_time >= query.created_after &&
               (query.exclude_id.empty() || doc.id != query.exclude_id);
      });
  std::vector<Match> matches;
  matches.reserve(found.size());
  for (const Candidate& c : found) matches.push_back({docs_[c.doc].id, c.similarity});
  return matches;
}

SimilarTicketIndex::Votes SimilarTicketIndex::Vote(absl::string_view content,
                                                   int neighbours) const {
  Votes votes;
  absl::ReaderMutexLock lock(&mu_);
  const std::vector<Candidate> found =
      Search(content, neighbours, options_.vote_min_similarity, [](const Doc& doc) {
        return !doc.open && (!doc.handled_by.empty() || !doc.returned_by.empty());
      });
  absl::flat_hash_map<std::string, size_t> slot;
  const auto department = [&](const std::string& id) -> DepartmentVote& {
    auto [it, inserted] = slot.try_emplace(id, votes.departments.size());
    if (inserted) votes.departments.push_back({id, 0.0, 0, 0});
    return votes.departments[it->second];
  };
  for (const Candidate& c : found) {
    const Doc& doc = docs_[c.doc];
    const double vote =
        c.similarity * std::min(1.0, c.similarity / std::max(options_.full_vote_similarity, 1e-9));
    ++votes.neighbours;
    votes.mass += vote;
    // A department listed twice on one ticket (two cycles) votes once for it.
    for (size_t i = 0; i < doc.handled_by.size(); ++i) {
      if (std::find(doc.handled_by.begin(), doc.handled_by.begin() + i, doc.handled_by[i]) !=
          doc.handled_by.begin() + i) {
        continue;
      }
      DepartmentVote& v = department(doc.handled_by[i]);
      v.score += vote;
      ++v.handled;
    }
    for (size_t i = 0; i < doc.returned_by.size(); ++i) {
      if (std::find(doc.returned_by.begin(), doc.returned_by.begin() + i, doc.returned_by[i]) !=
          doc.returned_by.begin() + i) {
        continue;
      }
      DepartmentVote& v = department(doc.returned_by[i]);
      v.score -= options_.return_penalty * vote;
      ++v.returned;
    }
  }
  std::sort(votes.departments.begin(), votes.departments.end(),
            [](const DepartmentVote& a, const DepartmentVote& b) {
              if (a.score != b.score) return a.score > b.score;
              return a.department_id < b.department_id;
            });
  return votes;
}

std::vector<SimilarTicketIndex::DepartmentVote> SimilarTicketIndex::VoteDepartments(
    absl::string_view content, int neighbours) const {
  return Vote(content, neighbours).departments;
}

size_t SimilarTicketIndex::MemoryBytes() const {
  absl::ReaderMutexLock lock(&mu_);
  size_t bytes = docs_.capacity() * sizeof(Doc);
  const auto string_bytes = [](const std::string& s) {
    return s.capacity() > 15 ? s.capacity() + 1 : 0;  // beyond the small-string buffer
  };
  for (const Doc& d : docs_) {
    bytes += string_bytes(d.id) + string_bytes(d.district_code);
    bytes += d.terms.capacity() * sizeof(uint32_t);
    for (const auto* list : {&d.handled_by, &d.returned_by}) {
      bytes += list->capacity() * sizeof(std::string);
      for (const std::string& s : *list) bytes += string_bytes(s);
    }
  }
  bytes += postings_.capacity() * sizeof(std::vector<Posting>);
  for (const auto& list : postings_) bytes += list.capacity() * sizeof(Posting);
  bytes += df_.capacity() * sizeof(uint32_t);
  bytes += term_by_key_.capacity() * (sizeof(std::pair<uint64_t, uint32_t>) + 1);
  bytes += ordinal_by_id_.capacity() * (sizeof(std::pair<std::string, uint32_t>) + 1);
  for (const auto& [id, ordinal] : ordinal_by_id_) bytes += string_bytes(id);
  return bytes;
}

// ---- DepartmentSuggester -----------------------------------------------------------------

namespace {

absl::string_view TrimPath(absl::string_view path) {
  path = absl::StripAsciiWhitespace(path);
  while (absl::ConsumeSuffix(&path, "/")) {
  }
  return path;
}

}  // namespace

DepartmentSuggester::DepartmentSuggester(const SimilarTicketIndex* index,
                                         std::vector<CategoryRouteRule> routes,
                                         DepartmentSuggesterOptions options)
    : index_(index), routes_(std::move(routes)), options_(options) {}

DepartmentSuggester::DepartmentSuggester(const SimilarTicketIndex* index,
                                         std::vector<CategoryRouteRule> routes,
                                         const std::vector<DepartmentRemit>& remits,
                                         DepartmentSuggesterOptions options)
    : DepartmentSuggester(index, std::move(routes), options) {
  // A dozen documents: searched exactly (no common-bigram shortcut), all of them at once.
  SimilarTicketIndexOptions remit_options;
  remit_options.common_min_docs = std::numeric_limits<size_t>::max();
  remits_ = std::make_unique<SimilarTicketIndex>(remit_options);
  for (const DepartmentRemit& r : remits) {
    if (r.text.empty()) continue;
    TicketDoc doc;
    doc.id = r.department_id;
    doc.content = r.text;
    doc.open = false;
    remits_->Upsert(std::move(doc));
  }
}

const CategoryRouteRule* DepartmentSuggester::RouteFor(absl::string_view category_path) const {
  const absl::string_view path = TrimPath(category_path);
  if (path.empty()) return nullptr;
  const CategoryRouteRule* best = nullptr;
  size_t best_length = 0;
  for (const CategoryRouteRule& rule : routes_) {
    const absl::string_view prefix = TrimPath(rule.category_prefix);
    if (prefix.empty() || rule.department_ids.empty() || prefix.size() <= best_length) continue;
    // Segment-wise: the prefix is the whole path or ends where a segment does.
    if (absl::StartsWith(path, prefix) &&
        (path.size() == prefix.size() || path[prefix.size()] == '/')) {
      best = &rule;
      best_length = prefix.size();
    }
  }
  return best;
}

std::vector<DepartmentSuggestion> DepartmentSuggester::Suggest(absl::string_view content,
                                                               absl::string_view category_path,
                                                               int limit) const {
  std::vector<DepartmentSuggestion> out;
  if (limit <= 0) return out;
  SimilarTicketIndex::Votes votes;
  if (!absl::StripAsciiWhitespace(content).empty()) {
    votes = index_->Vote(content, options_.neighbours);
  }
  const CategoryRouteRule* route = RouteFor(category_path);
  const double scale = std::max(votes.mass, options_.min_vote_scale);

  struct Entry {
    DepartmentSuggestion suggestion;
    int route_rank = std::numeric_limits<int>::max();  // position in the route, for ties
  };
  std::vector<Entry> entries;
  absl::flat_hash_map<std::string, size_t> slot;
  const auto entry = [&](const std::string& id) -> Entry& {
    auto [it, inserted] = slot.try_emplace(id, entries.size());
    if (inserted) {
      entries.emplace_back();
      entries.back().suggestion.department_id = id;
      entries.back().suggestion.score = 0;
    }
    return entries[it->second];
  };
  for (const SimilarTicketIndex::DepartmentVote& v : votes.departments) {
    Entry& e = entry(v.department_id);
    e.suggestion.score += v.score;
    e.suggestion.similar_handled = v.handled;
    e.suggestion.similar_returned = v.returned;
  }
  if (route != nullptr) {
    for (size_t i = 0; i < route->department_ids.size(); ++i) {
      Entry& e = entry(route->department_ids[i]);
      if (e.suggestion.from_route) continue;  // listed twice in the route
      e.suggestion.score +=
          (i == 0 ? options_.route_lead_share : options_.route_assist_share) * scale;
      e.suggestion.from_route = true;
      e.suggestion.route_prefix = route->category_prefix;
      e.route_rank = static_cast<int>(i);
    }
  }
  if (remits_ != nullptr && remits_->size() > 0 && !absl::StripAsciiWhitespace(content).empty()) {
    SimilarTicketIndex::Query query;
    query.content = std::string(content);
    query.limit = options_.remit_candidates;
    query.min_similarity = options_.remit_min_similarity;
    const std::vector<SimilarTicketIndex::Match> matches = remits_->Find(query);
    for (const SimilarTicketIndex::Match& m : matches) {
      Entry& e = entry(m.id);
      e.suggestion.score += options_.remit_share * scale * (m.similarity / matches[0].similarity);
      e.suggestion.from_remit = true;
      e.suggestion.remit_similarity = m.similarity;
    }
  }
  std::vector<Entry> kept;
  for (Entry& e : entries) {
    if (e.suggestion.from_route || e.suggestion.score > 0) kept.push_back(std::move(e));
  }
  std::sort(kept.begin(), kept.end(), [](const Entry& a, const Entry& b) {
    if (a.suggestion.score != b.suggestion.score) return a.suggestion.score > b.suggestion.score;
    if (a.route_rank != b.route_rank) return a.route_rank < b.route_rank;
    return a.suggestion.department_id < b.suggestion.department_id;
  });
  for (Entry& e : kept) {
    if (out.size() == static_cast<size_t>(limit)) break;
    out.push_back(std::move(e.suggestion));
  }
  return out;
}

}  // namespace hotline::ticket
