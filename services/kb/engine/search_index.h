// The in-memory search index of the knowledge base: BM25F over weighted fields (title,
// heading, question, body, tags), query expansion by a synonym table, a proximity bonus for
// query words that appear close together, and a prior by document status. Entries are
// analysed outside the index lock (AnalyzeDocument) and inserted under it, so a bulk load can
// analyse on several threads. Searches run concurrently with each other; an upsert or a
// delete briefly excludes them.
#ifndef HOTLINE_SERVICES_KB_ENGINE_SEARCH_INDEX_H_
#define HOTLINE_SERVICES_KB_ENGINE_SEARCH_INDEX_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "hotline/kb/v1/kb.pb.h"
#include "services/kb/engine/passages.h"
#include "services/kb/text/analyzer.h"

namespace hotline::kb {

// What the index needs to know of an entry.
struct DocumentInput {
  std::string id;
  std::string title;
  std::vector<std::string> other_titles;  // Short titles, aliases.
  v1::EntryKind kind = v1::ENTRY_KIND_POLICY_DOCUMENT;
  v1::EntryStatus status = v1::ENTRY_STATUS_IN_FORCE;
  v1::PolicyLevel level = v1::POLICY_LEVEL_UNSPECIFIED;
  std::string region;         // "全国", "湖南/长沙"
  std::string category_path;  // "社会保障/医疗保险"
  std::vector<std::string> agencies;
  std::string publish_date;    // YYYY-MM-DD or empty
  std::string effective_date;  // YYYY-MM-DD or empty
  int64_t update_micros = 0;   // When the entry last changed (Unix microseconds), for ordering.
  std::vector<std::string> tags;
  std::string question;  // Q&A pairs: the question, a field of its own.
  // A Q&A pair whose source document is inactive: treated as inactive whatever its own status,
  // so an answer never outlives the clause it rests on.
  bool source_inactive = false;
  std::vector<PassageText> passages;
};

// Tunable weights. The defaults were chosen by a coarse grid on the STARD development
// questions (kb_eval --grid) and are generic: no rule mentions a question or a document.
struct RankingParams {
  double k1 = 0.9;
  double b_body = 0.5;
  double b_title = 0.8;
  double weight_body = 1.0;
  double weight_title = 0.5;
  double weight_heading = 4.0;
  double weight_question = 2.5;
  double weight_tags = 1.2;
  // Query-term weights by kind of token.
  double word = 1.0;
  double subword = 0.3;
  double bigram = 0.6;
  double unigram = 0.3;
  double synonym = 1.0;
  // Proximity bonus: gamma * sum over pairs of query words of min(idf) / distance^2.
  double proximity = 0.3;
  int rerank_window = 100;
  // Entry context: a passage gains this share of the best other matching passages of its
  // entry, so a clause from a document that answers the question as a whole ranks higher.
  double entry_context = 0.2;
  // Pseudo-relevance feedback: add the `feedback_terms` best words of the first
  // `feedback_passages` passages, each at `feedback_weight`. 0 passages: off.
  int feedback_passages = 3;
  int feedback_terms = 8;
  double feedback_weight = 0.2;
  // Query cost control: after `min_candidates` passages are found, terms that occur in more
  // than `common_fraction` of all passages (or `common_postings` passages, whichever is less)
  // only re-score passages already found.
  size_t min_candidates = 2000;
  double common_fraction = 0.02;
  size_t common_postings = 2000;
  size_t rescore_pool = 1000;
  // Multipliers by status when inactive entries are included.
  double prior_amended = 0.6;
  double prior_repealed = 0.4;
  double prior_not_yet_effective = 0.9;
  // Multipliers by legal effect (效力层级): without a region in the question, a statute of the
  // national legislature or the Supreme People's Court binds more widely than a State Council
  // regulation or ministry rule, and those more than a local regulation.
  double prior_national_regulation = 0.85;
  double prior_local = 0.6;
  // Votes of similar confirmed questions (SearchQuery::passage_votes and entry_votes), on the
  // scale of this search's best text score, and relative to the query's strongest vote (a
  // loosely similar history is all most questions have, and it still points the right way):
  //  - the most-voted passage gains vote_weight x the best score, the others in proportion;
  //  - every passage of an entry similar questions were answered from gains entry_vote_weight
  //    x (its vote / the strongest entry vote)^entry_vote_power x the best score: callers with
  //    a similar matter needed that law, often through another of its articles;
  //  - a passage the text did not match enters with these lifts alone;
  //  - a negative passage vote v (not helpful) scales the score by e^(vote_penalty x v);
  //  - the lifts are scaled by SearchQuery::vote_confidence.
  double vote_weight = 0.3;
  double entry_vote_weight = 0.8;
  double entry_vote_power = 0.3;
  double vote_penalty = 1.0;
  // Passages agents have confirmed for any question (SearchQuery::passage_confirmations): a
  // matching passage confirmed n times gains confirmed_weight x log2(1 + n) of the best score.
  double confirmed_weight = 0.0;
};

struct SearchFilterSpec {
  std::vector<v1::EntryKind> kinds;
  std::vector<std::string> regions;            // Exact region paths.
  std::vector<std::string> category_prefixes;  // Whole-segment prefixes.
  std::vector<std::string> agencies;
  std::vector<v1::EntryStatus> statuses;
  std::vector<v1::PolicyLevel> levels;
  std::vector<std::string> tags;
  std::string publish_from, publish_to;  // Inclusive YYYY-MM-DD bounds; empty: open.
  std::string effective_from, effective_to;
};

// Order of hits. By a date: newest first, entries without the date last, then by update time.
enum class SearchOrder { kRelevance, kPublishDate, kEffectiveDate, kUpdateTime };

struct SearchQuery {
  // Empty: browse by the filter, one hit (the first passage) per entry, in a date order.
  std::string text;
  SearchOrder order = SearchOrder::kRelevance;
  SearchFilterSpec filter;
  bool include_inactive = false;
  int offset = 0;
  int limit = 10;
  int max_hits_per_entry = 0;  // 0: no limit.
  std::vector<v1::FacetField> facets;
  int snippet_length = 120;  // Code points.
  // The caller's region is known (applicable_region): the rules of that region are what applies
  // to them, so the legal-effect priors that favour national law over local rules are off.
  bool regional = false;
  // Agents' judgements of earlier searches for the same question, by (entry id, passage
  // ordinal): a positive lift adds lift x the best score of this search (so a lift of 1 puts a
  // matching passage at the top, whatever the text alone says); a negative one multiplies the
  // score by e^lift. Applied before the re-rank window is cut, so a confirmed answer that the
  // text ranks low still gets in. Passages that do not match the query are not added.
  std::map<std::pair<std::string, int>, double> passage_lift;
  // Votes of earlier, similar questions for passages by (entry id, passage label), from the
  // memory of confirmed answers (answer_memory.h); blended as RankingParams::vote_weight says.
  std::map<std::pair<std::string, std::string>, double> passage_votes;
  // ... and for entries, by entry id (positive: the similar questions answered from the entry).
  std::map<std::string, double> entry_votes;
  // How far to trust these votes, in [0, 1] (SimilarQuestionVotes::confidence).
  double vote_confidence = 1.0;
  // How many distinct questions confirmed each passage, whatever the question: a clause agents
  // keep answering with is likelier an answer than one never used. Only passages the text
  // matched gain.
  std::map<std::pair<std::string, std::string>, int> passage_confirmations;
};

struct PassageHit {
  std::string entry_id;
  std::string title;
  v1::EntryKind kind = v1::ENTRY_KIND_UNSPECIFIED;
  v1::EntryStatus status = v1::ENTRY_STATUS_UNSPECIFIED;
  std::string passage_label;
  std::string heading;
  int passage_ordinal = 0;
  double score = 0;
  std::string snippet;
  std::vector<std::pair<int, int>> highlights;  // [start, end) in code points of `snippet`.
  std::vector<std::pair<int, int>> title_highlights;
  bool starts_mid_passage = false;
  bool ends_mid_passage = false;
};

struct SearchResult {
  std::vector<PassageHit> hits;
  int64_t total_passages = 0;  // Matching passages, after filters.
  // The count is a lower bound: common query terms were only used to re-score passages that
  // rarer terms had found, so passages matching only common terms were not counted.
  bool total_is_estimate = false;
  int64_t total_entries = 0;  // Distinct entries among them.
  std::vector<std::pair<v1::FacetField, std::vector<std::pair<std::string, int64_t>>>> facets;
  std::vector<std::string> query_terms;  // The words searched for, after expansion.
};

// A passage after analysis: term counts of its body and heading, and its body words in order.
struct AnalyzedPassage {
  PassageText text;
  // Per term: frequency in the body and heading of this passage.
  absl::flat_hash_map<std::string, std::array<uint32_t, 2>> terms;
  std::vector<std::string> words;  // Body words in order, for proximity.
  uint32_t body_length = 0;
  uint32_t heading_length = 0;
};

// An entry after analysis, ready to insert; shared by copies of it in the index.
struct AnalyzedDocument {
  DocumentInput meta;  // Passages moved out into `passages`.
  // Per term: frequency in the title, question and tags (shared by all passages).
  absl::flat_hash_map<std::string, std::array<uint32_t, 3>> doc_terms;
  uint32_t title_length = 0, question_length = 0, tags_length = 0;
  std::vector<AnalyzedPassage> passages;
};

class SearchIndex {
 public:
  SearchIndex(std::shared_ptr<const Analyzer> analyzer, RankingParams params = {});
  ~SearchIndex();

  // Synonym lines: "医保 => 基本医疗保险, 医疗保险". Errors name the line.
  absl::Status LoadSynonyms(const std::string& path);
  absl::Status ParseSynonyms(absl::string_view text);

  // Pure and thread-safe: may run on many threads at once.
  absl::StatusOr<std::shared_ptr<const AnalyzedDocument>> Analyze(DocumentInput doc) const;
  // Adds or replaces the entry with this id.
  void Insert(std::shared_ptr<const AnalyzedDocument> doc);
  // The same analysed entry under another id (benchmarks replicate a corpus this way).
  void InsertCopy(const std::shared_ptr<const AnalyzedDocument>& doc, const std::string& new_id);
  absl::Status Upsert(DocumentInput doc);
  bool Remove(const std::string& id);

  // INVALID_ARGUMENT for a query that is not valid UTF-8 or has no searchable characters
  // (empty, only punctuation); an over-long query is truncated to its first 256 code points.
  absl::StatusOr<SearchResult> Search(const SearchQuery& query) const;

  size_t passage_count() const;
  size_t entry_count() const;
  // Distinct terms with postings (postings of removed entries count until they are rebuilt).
  size_t term_count() const;
  size_t MemoryBytes() const;  // Approximate: postings, token arrays, texts.

  const RankingParams& params() const { return params_; }
  // For tuning tools: the weights apply from the next search on. Not thread-safe with Search.
  void set_params(const RankingParams& params) { params_ = params; }

 private:
  struct Impl;
  std::shared_ptr<const Analyzer> analyzer_;
  RankingParams params_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hotline::kb

#endif  // HOTLINE_SERVICES_KB_ENGINE_SEARCH_INDEX_H_
