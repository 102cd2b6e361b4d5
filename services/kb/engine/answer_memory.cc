#include "services/kb/engine/answer_memory.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hotline::kb {
namespace {

// The order of scored questions, (score, question index): the higher score first, and on a tie
// the older question, so that two identical searches find the same questions.
bool HigherThenOlder(const std::pair<double, uint32_t>& a, const std::pair<double, uint32_t>& b) {
  return a.first != b.first ? a.first > b.first : a.second < b.second;
}

}  // namespace

AnswerMemory::AnswerMemory(std::shared_ptr<const Analyzer> analyzer, AnswerMemoryParams params)
    : analyzer_(std::move(analyzer)), params_(params) {}

absl::StatusOr<std::map<std::string, int>> AnswerMemory::Terms(const std::string& text) const {
  absl::StatusOr<std::vector<Token>> tokens = analyzer_->Analyze(text, AnalyzeMode::kQuery);
  if (!tokens.ok()) return tokens.status();
  std::map<std::string, int> terms;
  for (const Token& t : *tokens) ++terms[t.text];
  return terms;
}

absl::Status AnswerMemory::Add(const RememberedAnswer& answer) {
  absl::StatusOr<std::map<std::string, int>> terms = Terms(answer.question);
  if (!terms.ok()) return terms.status();
  if (terms->empty()) return absl::InvalidArgumentError("question: nothing to remember");
  std::vector<std::string> keys;
  for (const auto& [t, n] : *terms) keys.push_back(absl::StrCat(t, ":", n));
  const std::string text_key = absl::StrJoin(keys, " ");
  absl::MutexLock lock(&mu_);
  if (auto it = by_id_.find(answer.id); it != by_id_.end()) {
    std::vector<RememberedAnswer>& list = questions_[it->second].answers;
    for (const RememberedAnswer& a : list) {
      if (a.id == answer.id) Confirm(it->second, a, -1);
    }
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const RememberedAnswer& a) { return a.id == answer.id; }),
               list.end());
    --judgements_;
    by_id_.erase(it);
  }
  uint32_t q;
  if (auto it = by_text_.find(text_key); it != by_text_.end()) {
    q = it->second;
  } else {
    q = static_cast<uint32_t>(questions_.size());
    Question question;
    for (const auto& [text, count] : *terms) {
      auto [id, inserted] = term_ids_.try_emplace(text, static_cast<uint32_t>(postings_.size()));
      if (inserted) postings_.emplace_back();
      postings_[id->second].push_back(q);
      question.terms.emplace_back(id->second, static_cast<uint16_t>(std::min(count, 65535)));
      question.length += count;
    }
    std::sort(question.terms.begin(), question.terms.end());
    total_length_ += question.length;
    questions_.push_back(std::move(question));
    by_text_.emplace(text_key, q);
  }
  questions_[q].answers.push_back(answer);
  Confirm(q, answer, +1);
  by_id_[answer.id] = q;
  ++judgements_;
  return absl::OkStatus();
}

void AnswerMemory::Remove(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  std::vector<RememberedAnswer>& list = questions_[it->second].answers;
  for (const RememberedAnswer& a : list) {
    if (a.id == id) Confirm(it->second, a, -1);
  }
  list.erase(std::remove_if(list.begin(), list.end(),
                            [&](const RememberedAnswer& a) { return a.id == id; }),
             list.end());
  --judgements_;
  by_id_.erase(it);
}

void AnswerMemory::Confirm(uint32_t question, const RememberedAnswer& a, int delta) {
  if (a.sign <= 0) return;
  auto passage = confirmed_by_.find({a.entry_id, a.passage_label});
  if (passage == confirmed_by_.end()) {
    if (delta < 0) return;
    passage = confirmed_by_.try_emplace({a.entry_id, a.passage_label}).first;
  }
  int& n = passage->second[question];
  n += delta;
  if (n <= 0) passage->second.erase(question);
  if (passage->second.empty()) confirmed_by_.erase(passage);
}

std::vector<std::pair<double, uint32_t>> AnswerMemory::Score(
    const std::map<std::string, int>& terms, double* ideal) const {
  const double n = static_cast<double>(questions_.size());
  const double average = questions_.empty() ? 1.0 : static_cast<double>(total_length_) / n;
  const double k1 = params_.k1, b = params_.b;
  absl::flat_hash_map<uint32_t, double> scores;
  double query_length = 0;
  for (const auto& [text, count] : terms) query_length += count;
  *ideal = 0;
  // Rarer terms first: they find the candidates; common ones only add to those found.
  struct QueryTerm {
    double idf;
    int count;
    const std::vector<uint32_t>* postings;
    uint32_t id;
  };
  std::vector<QueryTerm> known;
  for (const auto& [text, count] : terms) {
    auto id = term_ids_.find(text);
    const double df = id == term_ids_.end() ? 0.0 : postings_[id->second].size();
    const double idf = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
    // The query as if it were one of the questions: the most any question could score.
    const double self = count * (k1 + 1) / (count + k1 * (1 - b + b * query_length / average));
    *ideal += idf * self;
    if (id != term_ids_.end()) known.push_back({idf, count, &postings_[id->second], id->second});
  }
  std::sort(known.begin(), known.end(), [](const QueryTerm& a, const QueryTerm& c) {
    return a.postings->size() < c.postings->size();
  });
  auto contribution = [&](const Question& question, uint32_t term, double idf) {
    auto t = std::lower_bound(question.terms.begin(), question.terms.end(),
                              std::make_pair(term, uint16_t{0}));
    if (t == question.terms.end() || t->first != term) return 0.0;
    const double tf = t->second;
    return idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * question.length / average));
  };
  std::vector<std::pair<double, uint32_t>> pool;  // The best candidates, once terms are common.
  for (const QueryTerm& term : known) {
    if (term.postings->size() <= params_.common_postings || scores.empty()) {
      for (uint32_t q : *term.postings) {
        const Question& question = questions_[q];
        if (question.answers.empty()) continue;
        scores[q] += contribution(question, term.id, term.idf);
      }
      continue;
    }
    // Terms come rare-first: from here on every term is common, and no candidate is added.
    if (pool.empty()) {
      pool.reserve(scores.size());
      for (const auto& [q, score] : scores) pool.emplace_back(score, q);
      if (pool.size() > params_.rescore_pool) {
        std::nth_element(pool.begin(), pool.begin() + params_.rescore_pool, pool.end(),
                         HigherThenOlder);
        for (auto it = pool.begin() + params_.rescore_pool; it != pool.end(); ++it) {
          scores.erase(it->second);
        }
        pool.resize(params_.rescore_pool);
      }
    }
    for (const auto& [ignored, q] : pool)
      scores[q] += contribution(questions_[q], term.id, term.idf);
  }
  std::vector<std::pair<double, uint32_t>> ranked;
  ranked.reserve(scores.size());
  for (const auto& [q, score] : scores) ranked.emplace_back(score, q);
  return ranked;
}

SimilarQuestionVotes AnswerMemory::Votes(const std::string& question, absl::Time now) const {
  absl::StatusOr<std::map<std::string, int>> terms = Terms(question);
  if (!terms.ok() || terms->empty()) return {};
  absl::ReaderMutexLock lock(&mu_);
  double ideal = 0;
  std::vector<std::pair<double, uint32_t>> ranked = Score(*terms, &ideal);
  if (ideal <= 0) return {};
  for (auto& [score, q] : ranked) score = std::min(1.0, score / ideal);
  if (ranked.empty()) return {};
  const size_t take = std::min<size_t>(ranked.size(), std::max(0, params_.max_voters));
  std::partial_sort(ranked.begin(), ranked.begin() + take, ranked.end(), HigherThenOlder);
  std::map<std::pair<std::string, std::string>, PassageVote> votes;
  std::map<std::string, double> entry_votes;
  const double half_life_hours = std::max(1.0, absl::ToDoubleHours(params_.half_life));
  for (size_t i = 0; i < take; ++i) {
    const double similarity = ranked[i].first;
    if (similarity < params_.min_similarity) break;
    const double weight = std::pow(similarity, params_.similarity_power);
    const bool explained = similarity >= params_.explained_similarity;
    std::set<std::pair<std::string, std::string>> counted;
    // The freshest confirmation of each entry by this question.
    std::map<std::string, double> entries;
    for (const RememberedAnswer& a : questions_[ranked[i].second].answers) {
      const double age_hours = std::max(0.0, absl::ToDoubleHours(now - a.time));
      const double fade = std::exp2(-age_hours / half_life_hours);
      PassageVote& v = votes[{a.entry_id, a.passage_label}];
      v.entry_id = a.entry_id;
      v.passage_label = a.passage_label;
      v.weight += a.sign * weight * fade;
      // One question counts once per passage, however many agents judged it.
      if (explained && counted.insert({a.entry_id, a.passage_label}).second) {
        (a.sign > 0 ? v.confirmations : v.rejections) += 1;
      }
      if (a.sign > 0) entries[a.entry_id] = std::max(entries[a.entry_id], fade);
    }
    for (const auto& [entry, fade] : entries) entry_votes[entry] += weight * fade;
  }
  SimilarQuestionVotes out;
  if (take > 0 && ranked[0].first >= params_.min_similarity) {
    out.confidence = std::min(1.0, ranked[0].first / std::max(1e-9, params_.confident_similarity));
  }
  for (auto& [key, v] : votes) out.passages.push_back(std::move(v));
  std::stable_sort(out.passages.begin(), out.passages.end(),
                   [](const PassageVote& a, const PassageVote& b) { return a.weight > b.weight; });
  for (const auto& [entry, weight] : entry_votes) out.entries.push_back({entry, weight});
  std::stable_sort(out.entries.begin(), out.entries.end(),
                   [](const EntryVote& a, const EntryVote& b) { return a.weight > b.weight; });
  return out;
}

std::vector<RememberedAnswer> AnswerMemory::AnswersFor(const std::string& entry_id,
                                                       const std::string& passage_label) const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<RememberedAnswer> out;
  auto passage = confirmed_by_.find({entry_id, passage_label});
  if (passage == confirmed_by_.end()) return out;
  for (const auto& [q, n] : passage->second) {
    for (const RememberedAnswer& a : questions_[q].answers) {
      if (a.sign > 0 && a.entry_id == entry_id && a.passage_label == passage_label)
        out.push_back(a);
    }
  }
  return out;
}

std::map<std::pair<std::string, std::string>, int> AnswerMemory::ConfirmationCounts() const {
  absl::ReaderMutexLock lock(&mu_);
  std::map<std::pair<std::string, std::string>, int> count;
  for (const auto& [passage, questions] : confirmed_by_) {
    count[passage] = static_cast<int>(questions.size());
  }
  return count;
}

double AnswerMemory::Similarity(const std::string& a, const std::string& b) const {
  absl::StatusOr<std::map<std::string, int>> ta = Terms(a), tb = Terms(b);
  if (!ta.ok() || !tb.ok() || ta->empty()) return 0;
  // Cosine of the term counts: symmetric, needs no collection.
  double dot = 0, na = 0, nb = 0;
  for (const auto& [t, n] : *ta) {
    na += n * n;
    if (auto it = tb->find(t); it != tb->end()) dot += n * it->second;
  }
  for (const auto& [t, n] : *tb) nb += n * n;
  return na > 0 && nb > 0 ? dot / std::sqrt(na * nb) : 0;
}

size_t AnswerMemory::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return judgements_;
}

size_t AnswerMemory::MemoryBytes() const {
  absl::ReaderMutexLock lock(&mu_);
  size_t bytes = questions_.capacity() * sizeof(Question);
  for (const Question& q : questions_) {
    bytes +=
        q.terms.capacity() * sizeof(q.terms[0]) + q.answers.capacity() * sizeof(RememberedAnswer);
    for (const RememberedAnswer& a : q.answers) {
      bytes += a.id.capacity() + a.question.capacity() + a.entry_id.capacity() +
               a.passage_label.capacity();
    }
  }
  for (const auto& p : postings_) bytes += p.capacity() * sizeof(uint32_t) + sizeof(p);
  for (const auto& [t, id] : term_ids_) bytes += t.capacity() + sizeof(uint32_t) + 16;
  bytes += (by_id_.size() + by_text_.size()) * 64;
  return bytes;
}

}  // namespace hotline::kb
