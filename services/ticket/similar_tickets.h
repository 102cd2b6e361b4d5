// Similar tickets and dispatch suggestions (智能派单), in memory and without I/O: the ticket
// service feeds the index with every committed ticket and answers FindSimilarTickets and
// SuggestDepartments from it (proto/hotline/ticket/v1/ticket.proto has the contract).
//
// Text model: the content is normalised (full-width ASCII folded to half-width, lower case;
// punctuation, white space, digits and single Latin letters are breaks, so phone numbers, house
// numbers, dates and amounts do not make tickets similar; a run of two or more Latin letters is
// one token), then cut into bigrams of adjacent tokens (CJK characters, words) within a run.
// Weights are (1 + ln tf) x ln(1 + N / df), with document frequencies kept incrementally over the
// live tickets; similarity is the cosine of the L2-normalised vectors. Nothing is tuned to
// particular matters, places or departments.
#ifndef HOTLINE_SERVICES_TICKET_SIMILAR_TICKETS_H_
#define HOTLINE_SERVICES_TICKET_SIMILAR_TICKETS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace hotline::ticket {

// One ticket as the index knows it.
struct TicketDoc {
  std::string id;
  std::string content;        // the caller's words (Chinese)
  std::string district_code;  // may be empty
  absl::Time create_time;
  bool open = true;  // not CLOSED/REJECTED/MERGED
  // For closed tickets: departments that replied its work orders (handled), and departments
  // whose work order was returned as misrouted and the return accepted (returned).
  std::vector<std::string> handled_by;
  std::vector<std::string> returned_by;
};

// The bigram terms of a text, as the index counts them: 64-bit keys, sorted, a term that
// occurs k times listed k times. Exposed for tests and tools.
std::vector<uint64_t> ContentTerms(absl::string_view content);

struct SimilarTicketIndexOptions {
  // At query time, bigrams in more than this share of the live tickets are left out of the
  // candidate search (they say nothing about the matter, and their postings are the longest);
  // the reported similarity is still the full cosine. Only once the index holds at least
  // `common_min_docs` tickets, so that a small index is searched exactly.
  double common_df_fraction = 0.3;
  size_t common_min_docs = 200;
  // Candidates ranked by the approximate score (stale norms, common bigrams left out) before
  // the exact cosine decides: this many times the number asked for, at least `min_rescore`.
  int rescore_factor = 3;
  int min_rescore = 20;
  // Closed tickets less similar than this do not vote: they share no more than a stock phrase.
  double vote_min_similarity = 0.02;
  // A neighbour votes with its similarity s, damped to s x s / full_vote_similarity below this:
  // a loosely similar ticket is weak evidence, and thirty of them must not weigh as much as a
  // few that are clearly about the same matter (see DepartmentSuggester::Suggest).
  double full_vote_similarity = 0.5;
  // A neighbour that a department returned as misrouted counts against it this many times its
  // vote (a handled neighbour counts its vote once, for it).
  double return_penalty = 1.0;
  // Tombstoned tickets are purged once they are this share of all slots (and at least
  // `compact_min_dead`), which keeps Remove and changing Upserts O(ticket length) amortised.
  double compact_dead_fraction = 0.25;
  size_t compact_min_dead = 64;
  // Document norms are computed with the idf of the moment; they are recomputed for all
  // tickets when the number of live tickets has changed by this factor since the last time.
  double renorm_growth = 1.1;
};

class SimilarTicketIndex {  // thread-safe: many readers, one writer (absl::Mutex)
 public:
  SimilarTicketIndex() : SimilarTicketIndex(SimilarTicketIndexOptions()) {}
  explicit SimilarTicketIndex(SimilarTicketIndexOptions options);
  SimilarTicketIndex(const SimilarTicketIndex&) = delete;
  SimilarTicketIndex& operator=(const SimilarTicketIndex&) = delete;

  // Replaces an earlier doc with the same id. When only the metadata changed (state,
  // departments), the postings are kept.
  void Upsert(TicketDoc doc);
  // No effect for an unknown id.
  void Remove(const std::string& id);
  // Live tickets.
  size_t size() const;

  struct Query {
    std::string content;
    std::string district_code;                        // empty: any
    absl::Time created_after = absl::InfinitePast();  // created at or after
    bool open_only = false;
    std::string exclude_id;
    int limit = 5;  // non-positive: nothing
    double min_similarity = 0.3;
  };
  struct Match {
    std::string id;
    double similarity;
  };  // cosine in [0,1], best first
  std::vector<Match> Find(const Query& query) const;

  // Closed tickets most similar to `content` vote for the departments that handled them, and
  // against those that returned them as misrouted.
  struct DepartmentVote {
    std::string department_id;
    double score;  // sum of the votes of handled, minus return_penalty x those of returned
    int handled;
    int returned;
  };
  // Best first (ties by department id).
  std::vector<DepartmentVote> VoteDepartments(absl::string_view content, int neighbours = 30) const;

  // The votes together with the evidence behind them, for blending with other sources.
  struct Votes {
    std::vector<DepartmentVote> departments;  // as VoteDepartments
    int neighbours = 0;                       // closed tickets that voted
    double mass = 0;  // the sum of their votes: what one unanimous department scores
  };
  Votes Vote(absl::string_view content, int neighbours = 30) const;

  // Approximate heap bytes held by the index (postings, documents, vocabulary).
  size_t MemoryBytes() const;

 private:
  struct Posting {
    uint32_t doc;
    float tf_weight;  // 1 + ln tf
  };
  struct Doc {
    std::string id;
    std::string district_code;
    absl::Time create_time;
    bool open = true;
    bool alive = true;
    float norm = 1;  // L2 norm with the idf of the last renormalisation (or of insertion)
    std::vector<uint32_t> terms;  // term ids, sorted, repeated tf times
    std::vector<std::string> handled_by;
    std::vector<std::string> returned_by;
  };
  // One term of the query vector.
  struct QueryTerm {
    uint32_t term;
    double weight;  // (1 + ln tf) x idf
    double idf;
    bool common;  // left out of the candidate search
  };
  struct Candidate {
    uint32_t doc;
    double similarity;
  };

  double Idf(uint32_t df) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  double DocNorm(const Doc& doc) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The query vector over the terms some live ticket has, sorted by term id, and its norm
  // (which also counts the bigrams no live ticket has).
  std::vector<QueryTerm> QueryVector(absl::string_view content, double* norm) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The `want` best documents accepted by `accept`, by exact cosine, best first.
  template <typename Accept>
  std::vector<Candidate> Search(absl::string_view content, int want, double min_similarity,
                                Accept accept) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  double ExactCosine(const std::vector<QueryTerm>& query, double query_norm, const Doc& doc) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  void RemoveLocked(uint32_t doc) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeCompact() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeRenormalise() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SimilarTicketIndexOptions options_;
  mutable absl::Mutex mu_;
  std::vector<Doc> docs_ ABSL_GUARDED_BY(mu_);  // by ordinal; dead slots until compaction
  absl::flat_hash_map<std::string, uint32_t> ordinal_by_id_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, uint32_t> term_by_key_ ABSL_GUARDED_BY(mu_);
  std::vector<std::vector<Posting>> postings_ ABSL_GUARDED_BY(mu_);  // by term id
  std::vector<uint32_t> df_ ABSL_GUARDED_BY(mu_);                    // live documents, by term id
  size_t live_ ABSL_GUARDED_BY(mu_) = 0;
  size_t dead_ ABSL_GUARDED_BY(mu_) = 0;
  size_t live_at_last_norm_ ABSL_GUARDED_BY(mu_) = 0;
};

// Blends the configured category routes with the votes of similar closed tickets.
struct CategoryRouteRule {
  std::string category_prefix;
  std::vector<std::string> department_ids;  // the first leads
};
// A department's remit (职责清单) in the words callers use: what the configuration says it
// handles. The third source of suggestions, for matters no closed ticket resembles yet.
struct DepartmentRemit {
  std::string department_id;
  std::string text;
};
struct DepartmentSuggestion {
  std::string department_id;
  double score;
  bool from_route = false;   // a configured route for the category names it
  std::string route_prefix;  // the matching prefix
  int similar_handled = 0, similar_returned = 0;
  // The caller's words match the department's remit; the cosine of the match.
  bool from_remit = false;
  double remit_similarity = 0;
};

struct DepartmentSuggesterOptions {
  // Closed tickets asked for their votes.
  int neighbours = 30;
  // A route's prior, as a share of the vote scale (see Suggest): the lead department of the
  // route, and each assisting one.
  double route_lead_share = 0.5;
  double route_assist_share = 0.25;
  // The vote scale never falls below this vote mass (four tickets clearly about the same
  // matter), so that thin or weak history does not outvote a route.
  double min_vote_scale = 2.0;
  // The remits most like the caller's words (at least remit_min_similarity) add, each, its
  // similarity relative to the best one's, times remit_share x scale.
  int remit_candidates = 3;
  double remit_min_similarity = 0.02;
  double remit_share = 0.4;
};

class DepartmentSuggester {
 public:
  // `index` must outlive the suggester.
  DepartmentSuggester(const SimilarTicketIndex* index, std::vector<CategoryRouteRule> routes,
                      DepartmentSuggesterOptions options = {});
  DepartmentSuggester(const SimilarTicketIndex* index, std::vector<CategoryRouteRule> routes,
                      const std::vector<DepartmentRemit>& remits,
                      DepartmentSuggesterOptions options = {});

  // Longest matching prefix of category_path wins (segment-wise: "城乡建设/供水" matches
  // "城乡建设/供水/水压" but not "城乡建设/供水站"). Empty category: votes only.
  //
  // The blend: votes come from SimilarTicketIndex::Vote (each similar closed ticket adds its
  // vote, its similarity damped when low, to the departments that handled it, and subtracts it
  // for those that returned it as misrouted). The vote scale is max(mass, min_vote_scale), where
  // mass is what a department would score if every voting neighbour had been its own. The route's
  // lead department gets route_lead_share x scale on top of its votes, each assisting one
  // route_assist_share x scale. So with a route and no history the route decides; a department of
  // the route keeps first place unless another one handled clearly more of the similar tickets
  // (with the defaults, over three quarters of the vote mass against none for the route's lead).
  // The remits most like the caller's words add remit_share x scale for the best and in
  // proportion to their similarity for the next ones: enough to name the department of a
  // matter without history or category, less than a route or consistent history.
  // Departments named only by votes are listed when their score is positive. Best first; ties
  // go to the route's order, then to the department id.
  std::vector<DepartmentSuggestion> Suggest(absl::string_view content,
                                            absl::string_view category_path, int limit) const;

  // The route whose prefix matches `category_path` longest, or nullptr.
  const CategoryRouteRule* RouteFor(absl::string_view category_path) const;

 private:
  const SimilarTicketIndex* index_;
  std::vector<CategoryRouteRule> routes_;
  DepartmentSuggesterOptions options_;
  // The remits as documents of their own (their bigrams weighted by rarity among remits).
  std::unique_ptr<SimilarTicketIndex> remits_;
};

}  // namespace hotline::ticket

#endif  // HOTLINE_SERVICES_TICKET_SIMILAR_TICKETS_H_
