// The knowledge base's memory of agents' confirmed answers (已确认答复): every question an
// agent answered from a passage (ANSWERED), or marked a passage not helpful for (NOT_HELPFUL),
// indexed with the corpus's own analysis. At search time the past questions most like the new
// one vote for the passages they were answered with; the votes are weighed by how alike the
// questions are and fade with age, and the search blends them with the text ranking
// (SearchQuery::passage_votes).
//
// Callers word one matter in countless ways, so an exact repeat of a question is rare; a
// similar one is not. Nothing here knows any law or question: similarity is BM25 over the
// remembered questions' terms, with their own document frequencies.
#ifndef HOTLINE_SERVICES_KB_ENGINE_ANSWER_MEMORY_H_
#define HOTLINE_SERVICES_KB_ENGINE_ANSWER_MEMORY_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/kb/text/analyzer.h"

namespace hotline::kb {

struct AnswerMemoryParams {
  // Past questions that may vote: the most similar ones, at least this similar to the query
  // (similarity is relative to the query's own best possible score, in [0, 1]). Callers word
  // one matter so differently that even a loosely similar confirmed question says something;
  // the search weighs each vote against the strongest one of the same query.
  int max_voters = 50;
  double min_similarity = 0.02;
  // A voter's weight is similarity^power.
  double similarity_power = 1.0;
  // Only voters at least this alike count in PassageVote::confirmations, the figure agents are
  // shown ("12 个相似问题确认过此条款"): loose matches still vote, but are not called similar.
  double explained_similarity = 0.15;
  // How far the search trusts the votes (SimilarQuestionVotes::confidence): fully once the
  // nearest remembered question is this alike, in proportion below. A young memory holds
  // only distant relatives of most questions, and their votes must not outweigh the text.
  double confident_similarity = 0.2;
  // A vote halves in weight every half_life.
  absl::Duration half_life = absl::Hours(24 * 180);
  // BM25 over questions.
  double k1 = 1.2;
  double b = 0.5;
  // Cost control: a query term found in more remembered questions than this only re-scores
  // questions that rarer terms already found (its postings are not walked), so a search costs
  // about the same with a hundred thousand remembered questions as with a thousand.
  size_t common_postings = 200;
  // ... and re-scores at most this many of those, the best so far: a common term has a low
  // weight, and can only reorder questions that are already close.
  size_t rescore_pool = 400;
};

struct RememberedAnswer {
  // Unique per judgement: a later Add with the same id replaces it (an agent changed her mind).
  std::string id;
  std::string question;
  std::string entry_id;
  std::string passage_label;
  // +1: confirmed (ANSWERED); -1: not helpful.
  int sign = 1;
  absl::Time time;
};

// What the similar past questions say about one passage.
struct PassageVote {
  std::string entry_id;
  std::string passage_label;
  double weight = 0;      // Sum of signed, similarity- and age-weighted votes.
  int confirmations = 0;  // Distinct similar questions that confirmed it.
  int rejections = 0;     // ... that marked it not helpful.
};

// What they say about one entry: the similar questions that were answered from any of its
// passages, each counted once. A law that callers with a similar matter needed is a likely
// source of the answer, often through another of its articles than the one confirmed.
struct EntryVote {
  std::string entry_id;
  double weight = 0;  // Sum of similarity- and age-weighted confirmations.
};

struct SimilarQuestionVotes {
  std::vector<PassageVote> passages;  // Strongest first.
  std::vector<EntryVote> entries;     // Strongest first; confirmations only.
  // In [0, 1]: the nearest voter's similarity over AnswerMemoryParams::confident_similarity.
  double confidence = 0;
};

class AnswerMemory {
 public:
  AnswerMemory(std::shared_ptr<const Analyzer> analyzer, AnswerMemoryParams params = {});

  // Remembers (or, for a known id, replaces) one judgement. INVALID_ARGUMENT when the question
  // cannot be analysed.
  absl::Status Add(const RememberedAnswer& answer);
  void Remove(const std::string& id);

  // The votes of the past questions similar to `question` at `now`.
  SimilarQuestionVotes Votes(const std::string& question, absl::Time now) const;

  // The confirmations of one passage (sign > 0), for the drafts of Q&A pairs.
  std::vector<RememberedAnswer> AnswersFor(const std::string& entry_id,
                                           const std::string& passage_label) const;
  // Distinct questions that confirmed each passage (for SearchQuery::passage_confirmations).
  // Kept up to date by Add and Remove; a copy.
  std::map<std::pair<std::string, std::string>, int> ConfirmationCounts() const;
  // How alike two questions are, in [0, 1]: the cosine of their terms.
  double Similarity(const std::string& a, const std::string& b) const;

  size_t size() const;
  size_t MemoryBytes() const;
  const AnswerMemoryParams& params() const { return params_; }
  void set_params(const AnswerMemoryParams& params) { params_ = params; }

 private:
  // One distinct question (by its analysed terms' text) and every judgement made for it.
  struct Question {
    std::vector<std::pair<uint32_t, uint16_t>> terms;  // (term, count), sorted by term
    uint32_t length = 0;
    std::vector<RememberedAnswer> answers;
  };
  // Distinct term texts of `text` with their counts (words, sub-words and bigrams).
  absl::StatusOr<std::map<std::string, int>> Terms(const std::string& text) const;
  // Scores of the remembered questions against `terms`, with the query's own ideal score.
  std::vector<std::pair<double, uint32_t>> Score(const std::map<std::string, int>& terms,
                                                 double* ideal) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  std::shared_ptr<const Analyzer> analyzer_;
  AnswerMemoryParams params_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, uint32_t> term_ids_ ABSL_GUARDED_BY(mu_);
  std::vector<std::vector<uint32_t>> postings_ ABSL_GUARDED_BY(mu_);  // term -> questions
  std::vector<Question> questions_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, uint32_t> by_id_ ABSL_GUARDED_BY(mu_);    // judgement
  absl::flat_hash_map<std::string, uint32_t> by_text_ ABSL_GUARDED_BY(mu_);  // terms' key
  uint64_t total_length_ ABSL_GUARDED_BY(mu_) = 0;
  // For each passage, the questions that confirmed it (with how many of their judgements
  // did): what the drafts and the confirmation counts read, without a walk over all questions.
  std::map<std::pair<std::string, std::string>, absl::flat_hash_map<uint32_t, int>> confirmed_by_
      ABSL_GUARDED_BY(mu_);
  void Confirm(uint32_t question, const RememberedAnswer& a, int delta)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  size_t judgements_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace hotline::kb

#endif  // HOTLINE_SERVICES_KB_ENGINE_ANSWER_MEMORY_H_
