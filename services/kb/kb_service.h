// The knowledge-base gRPC service (hotline.kb.v1.KnowledgeBaseService).
//
// Entries (v1::Entry, with version and history) live in RocksDB under their id; the search
// documents derived from them live in the PersistentIndex, which rebuilds the in-memory index at
// start-up. The look-ask-do links that the server derives (a policy's Q&A pairs and service
// guides) are not stored but kept in memory, rebuilt from the entries at start-up, so they can
// never disagree with the entries they come from.
#ifndef HOTLINE_SERVICES_KB_KB_SERVICE_H_
#define HOTLINE_SERVICES_KB_KB_SERVICE_H_

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth.h"
#include "common/clock.h"
#include "common/rocks_store.h"
#include "common/thread_priority.h"
#include "common/unary_call.h"
#include "common/worker_pool.h"
#include "hotline/kb/v1/kb.grpc.pb.h"
#include "services/kb/citizen_feedback.h"
#include "services/kb/engine/answer_memory.h"
#include "services/kb/engine/persistent_index.h"
#include "services/kb/ingest/classifier.h"
#include "services/kb/ingest/dedup.h"
#include "services/kb/ingest/tagger.h"

namespace hotline::kb {

// Column families of the knowledge-base store.
inline constexpr char kEntriesFamily[] = "entries";
// Responses of mutating calls by request_id, for idempotent retries.
inline constexpr char kRequestsFamily[] = "requests";
// Knowledge gaps (queries without a useful answer) and agents' feedback.
inline constexpr char kGapsFamily[] = "gaps";
// Imported items: (source name, source_id) -> entry id and content signature.
inline constexpr char kSourcesFamily[] = "sources";

// How long a request_id is remembered (the contract promises at least 24 hours), and how long
// a gap occurrence is kept (ListGaps counts windows of up to a year).
inline constexpr absl::Duration kRequestRetention = absl::Hours(24 * 7);
inline constexpr absl::Duration kGapOccurrenceRetention = absl::Hours(24 * 400);

// A stored response of an idempotent call: when, the request's fingerprint (hex SHA-256) and
// the serialised response.
struct RequestRecord {
  absl::Time time;
  std::string fingerprint;
  std::string response;
};
std::string EncodeRequestRecord(absl::Time time, absl::string_view fingerprint,
                                absl::string_view response);
std::optional<RequestRecord> DecodeRequestRecord(absl::string_view value);

struct KnowledgeBaseServiceOptions {
  std::shared_ptr<const Analyzer> analyzer;
  RankingParams ranking;
  // Optional synonym file for query expansion; empty: none.
  std::string synonyms_path;
  Clock* clock = Clock::Real();
  int worker_threads = 4;
  // Import steps that need data files; without them an import keeps the category path and
  // tags it is given.
  std::shared_ptr<const ingest::Classifier> classifier;
  std::shared_ptr<const ingest::Tagger> tagger;
  // The memory of agents' confirmed answers: similar past questions vote in the ranking.
  AnswerMemoryParams answer_memory;
  // Reads from the public scope (the citizens' portal) run on a lane of their own: this many
  // threads, `public_niceness` lower in priority than the rest, and at most
  // `public_max_waiting` calls queued (beyond: UNAVAILABLE), so that a crowd of citizens
  // never takes the CPU the agents' searches need.
  int public_threads = 2;
  int public_niceness = 10;
  size_t public_max_waiting = 64;
};

// The state of one Import stream (see kb_import.cc).
struct ImportRun {
  v1::ImportHeader header;
  std::string import_id;
  std::set<std::string> seen_source_ids;
  int64_t passages = 0;  // In the entries created or updated so far.
};

class KnowledgeBaseService final : public v1::KnowledgeBaseService::CallbackService {
 public:
  static constexpr char kName[] = "hotline.kb.v1.KnowledgeBaseService";

  // Every column family the service needs, for RocksStore::Open.
  static std::vector<std::string> Families();

  KnowledgeBaseService(std::shared_ptr<const TokenRegistry> tokens, RocksStore* store,
                       KnowledgeBaseServiceOptions options);
  ~KnowledgeBaseService() override;

  // Loads the search index and the link maps from the store. Call once before serving.
  absl::Status Init();

  // Calls waiting for a worker thread (an exported gauge).
  size_t worker_queue_length() const { return workers_ ? workers_->queue_length() : 0; }

  // Runs items through the Import pipeline in process (the demo loader, start-up imports), as
  // `principal`. Rejected items are reported in the response, not as an error.
  absl::StatusOr<v1::ImportResponse> ImportItems(const Principal& principal,
                                                 const v1::ImportHeader& header,
                                                 const std::vector<v1::ImportItem>& items);
  // Whether the store holds any entry (a fresh store gets the demo data).
  absl::StatusOr<bool> HasEntries() const;

  // Makes the changes of status whose day has come (in China Standard Time, by the service's
  // clock): scheduled changes, policies coming into force, expiries. Init calls it, and the
  // server calls it periodically; returns how many entries changed.
  absl::StatusOr<int> ApplyDueStatusChanges();
  // Forgets request ids older than kRequestRetention and gap occurrences older than
  // kGapOccurrenceRetention, so that neither grows without end; returns how many went.
  absl::StatusOr<int> PruneRecords();

  grpc::ServerUnaryReactor* Search(grpc::CallbackServerContext* context,
                                   const v1::SearchRequest* request,
                                   v1::SearchResponse* response) override;
  grpc::ServerUnaryReactor* Suggest(grpc::CallbackServerContext* context,
                                    const v1::SuggestRequest* request,
                                    v1::SuggestResponse* response) override;
  grpc::ServerUnaryReactor* GetEntry(grpc::CallbackServerContext* context,
                                     const v1::GetEntryRequest* request,
                                     v1::Entry* response) override;
  grpc::ServerReadReactor<v1::ImportRequest>* Import(grpc::CallbackServerContext* context,
                                                     v1::ImportResponse* response) override;
  grpc::ServerUnaryReactor* UpsertEntry(grpc::CallbackServerContext* context,
                                        const v1::UpsertEntryRequest* request,
                                        v1::UpsertEntryResponse* response) override;
  grpc::ServerUnaryReactor* DeleteEntry(grpc::CallbackServerContext* context,
                                        const v1::DeleteEntryRequest* request,
                                        v1::DeleteEntryResponse* response) override;
  grpc::ServerUnaryReactor* SetStatus(grpc::CallbackServerContext* context,
                                      const v1::SetStatusRequest* request,
                                      v1::SetStatusResponse* response) override;
  grpc::ServerUnaryReactor* ListQaDrafts(grpc::CallbackServerContext* context,
                                         const v1::ListQaDraftsRequest* request,
                                         v1::ListQaDraftsResponse* response) override;
  grpc::ServerUnaryReactor* AcceptQaDraft(grpc::CallbackServerContext* context,
                                          const v1::AcceptQaDraftRequest* request,
                                          v1::AcceptQaDraftResponse* response) override;
  grpc::ServerUnaryReactor* DismissQaDraft(grpc::CallbackServerContext* context,
                                           const v1::DismissQaDraftRequest* request,
                                           v1::QaDraft* response) override;
  grpc::ServerUnaryReactor* RecordFeedback(grpc::CallbackServerContext* context,
                                           const v1::RecordFeedbackRequest* request,
                                           v1::RecordFeedbackResponse* response) override;
  grpc::ServerUnaryReactor* ListGaps(grpc::CallbackServerContext* context,
                                     const v1::ListGapsRequest* request,
                                     v1::ListGapsResponse* response) override;
  grpc::ServerUnaryReactor* Stats(grpc::CallbackServerContext* context,
                                  const v1::StatsRequest* request,
                                  v1::StatsResponse* response) override;
  grpc::ServerUnaryReactor* ClassifyText(grpc::CallbackServerContext* context,
                                         const v1::ClassifyTextRequest* request,
                                         v1::ClassifyTextResponse* response) override;
  // The citizens' portal (kb_public.cc).
  grpc::ServerUnaryReactor* RecordCitizenFeedback(
      grpc::CallbackServerContext* context, const v1::RecordCitizenFeedbackRequest* request,
      v1::RecordCitizenFeedbackResponse* response) override;

 private:
  friend class ImportReactor;

  // Imports one item (clean, metadata, dedup, classify, tag, store); a bad item is reported in
  // `result` as REJECTED, only a failure of the store is an error.
  absl::Status ImportOne(const Principal& principal, ImportRun& run, const v1::ImportItem& item,
                         v1::ImportItemResult* result) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Counts a finished import in its source's statistics (Stats).
  absl::Status RecordImport(const v1::ImportResponse& response);
  absl::Status DoSearch(const Principal& principal, const v1::SearchRequest& request,
                        v1::SearchResponse* response);
  absl::Status DoUpsert(const Principal& principal, const v1::UpsertEntryRequest& request,
                        v1::UpsertEntryResponse* response) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status DoDelete(const v1::DeleteEntryRequest& request, v1::DeleteEntryResponse* response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status DoSetStatus(const Principal& principal, const v1::SetStatusRequest& request,
                           v1::SetStatusResponse* response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status DoFeedback(const Principal& principal, const v1::RecordFeedbackRequest& request,
                          v1::RecordFeedbackResponse* response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  // A mutation in progress, by "rpc/request_id"; ends when destroyed. Empty for no request_id.
  class RunningRequest {
   public:
    RunningRequest() = default;
    RunningRequest(KnowledgeBaseService* service, std::string key)
        : service_(service), key_(std::move(key)) {}
    RunningRequest(RunningRequest&& other) noexcept
        : service_(std::exchange(other.service_, nullptr)), key_(std::move(other.key_)) {}
    RunningRequest& operator=(RunningRequest&&) = delete;
    ~RunningRequest() {
      if (service_ != nullptr) service_->EndRequest(key_);
    }

   private:
    KnowledgeBaseService* service_ = nullptr;
    std::string key_;
  };
  // Claims `request_id` for `rpc` while the call runs: a retry arriving meanwhile is ABORTED
  // (kb.proto, Idempotency) instead of queueing behind its original.
  absl::StatusOr<RunningRequest> BeginRequest(absl::string_view rpc, const std::string& request_id);
  void EndRequest(const std::string& key);

  // Runs a mutation: checks request.request_id(), claims it while the call runs (a retry
  // meanwhile is ABORTED, see BeginRequest), serialises the mutation with every other under
  // write_mu_, and runs `act` at most once per request_id: a retry of an identical request gets
  // the stored response back; the same id with another request is INVALID_ARGUMENT naming
  // request_id. Only successful responses are stored, so a request that failed may be retried
  // with the same id. Records are kept for kRequestRetention (PruneRecords).
  template <typename Request, typename Response, typename Act>
  absl::Status Mutate(absl::string_view rpc, const Request& request, Response* response, Act act)
      ABSL_LOCKS_EXCLUDED(write_mu_);

  absl::StatusOr<std::optional<v1::Entry>> LoadEntry(const std::string& id) const;
  // The entry as stored but without its passages, from memory: what a search hit or a link
  // shows. Null if there is no such entry. Reading and parsing whole documents (a law is
  // tens of kilobytes) for every hit of every search would cost more than the search itself.
  std::shared_ptr<const v1::Entry> Head(const std::string& id) const;
  void SetHead(const v1::Entry& entry);
  // Writes the entry and its search document; the entry first, so the index never shows an
  // entry that a restart would not find.
  absl::Status SaveEntry(const v1::Entry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Fills links (stored, derived and reverse-related) with summaries of their targets.
  absl::Status ResolveLinks(v1::Entry* entry) const;
  absl::StatusOr<v1::EntryLink> LinkTo(v1::LinkRelation relation, const std::string& id) const;
  // Look-ask-do groups for a hit on `entry`.
  absl::Status FillLookAskDo(const v1::Entry& entry, int max_per_group, v1::LookAskDo* out) const;
  // Records one occurrence of a gap: `occurrence` identifies the search (or report) it belongs
  // to, so that one search counts once however much is said about it. `now` is when it
  // happened (a search's gap is written later, by a worker).
  absl::Status NoteGap(const std::string& query, const std::string& principal, v1::GapReason reason,
                       const std::string& occurrence, const std::string& entry_id,
                       const std::string& passage_label, absl::Time now);
  // An answer was confirmed for `query` on search `occurrence`: that search is no longer a
  // gap, and the question's gap is resolved by `entry_id`.
  absl::Status ResolveGap(const std::string& query, const std::string& occurrence,
                          const std::string& entry_id);
  // The gaps with occurrences in [start, end), counted in that window.
  absl::StatusOr<std::vector<v1::Gap>> CollectGaps(absl::Time start, absl::Time end) const;

  // Agents' judgements, counted per normalised question and passage, for ranking.
  struct FeedbackTally {
    int answered = 0;
    int not_helpful = 0;
  };
  // Draft Q&A pairs (kb_drafts.cc).
  absl::StatusOr<std::optional<v1::QaDraft>> LoadDraft(const std::string& id) const;
  // The draft an editor decides on: NOT_FOUND naming draft_id, or FAILED_PRECONDITION once
  // decided.
  absl::StatusOr<v1::QaDraft> LoadPendingDraft(const std::string& id) const;
  absl::Status SaveDraft(const v1::QaDraft& draft);
  // Proposes (or brings up to date) the draft of a passage confirmed for enough similar
  // questions.
  absl::Status ProposeDraft(const std::string& entry_id, const std::string& label);
  absl::Status DoAcceptDraft(const Principal& principal, const v1::AcceptQaDraftRequest& r,
                             v1::AcceptQaDraftResponse* response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status MutateAcceptDraft(const Principal& principal, const v1::AcceptQaDraftRequest& r,
                                 v1::AcceptQaDraftResponse* response);
  absl::Mutex drafts_mu_;

  // `key` names the judgement (its store key), `time` when it was given.
  void CountFeedback(const v1::RecordFeedbackRequest& r, int delta, const std::string& key = "",
                     absl::Time time = absl::InfinitePast());
  // The votes of similar confirmed questions for `query`, moved to the versions in force:
  // a vote for a clause of an amended or repealed entry goes to the same clause of its
  // successor (found by label in the search), or is dropped; an entry's vote goes to its
  // successor, or is dropped.
  using VotesByPassage = std::map<std::pair<std::string, std::string>, PassageVote>;
  struct CurrentVoteSet {
    VotesByPassage passages;
    std::map<std::string, double> entries;
    double confidence = 0;
  };
  CurrentVoteSet CurrentVotes(const std::string& query, absl::Time now) const;
  // The version in force that `entry_id` leads to through its supersede links, or null.
  std::shared_ptr<const v1::Entry> InForceSuccessor(const std::string& entry_id) const;
  std::map<std::pair<std::string, int>, double> FeedbackLift(
      const std::string& normalized_query) const;

  // Records that the search index changed now (Stats.index_update_time).
  void NoteIndexChange();
  // Keeps due_dates_ in step with a saved entry.
  void Schedule(const v1::Entry& entry);

  // Counts a search for frequent-query suggestions: in memory, with no lock another search
  // waits on for long and no store access; a worker writes the counts about once a second
  // (FlushQueryLog), and Suggest and the destructor write what is pending first.
  void NoteQuery(const std::string& query, const std::string& principal);
  absl::Status FlushQueryLog();
  // Keeps the completion table in step with the stored entries.
  void IndexSuggestions(const v1::Entry& entry);

  // The server-derived links: basis target -> entries that rest on it.
  void IndexLinks(const v1::Entry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(links_mu_);
  void UnindexLinks(const v1::Entry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(links_mu_);
  std::set<std::string> DerivedFrom(const std::string& id) const;
  std::set<std::string> RelatedTo(const std::string& id) const;

  std::shared_ptr<const TokenRegistry> tokens_;
  RocksStore* store_;
  KnowledgeBaseServiceOptions options_;
  std::unique_ptr<PersistentIndex> index_;
  // Fingerprints of the policy documents, for duplicate and version detection on import.
  std::unique_ptr<ingest::DedupIndex> dedup_;

  // Serialises mutations: each one reads, checks the version and writes several keys (entry,
  // search document, linked entries, request record), which must not interleave.
  absl::Mutex write_mu_;
  absl::Mutex gaps_mu_;

  // Searches counted since the last FlushQueryLog, by normalised question.
  struct PendingQuery {
    std::string question;
    int64_t count = 0;
    std::set<std::string> principals;
    absl::Time last_seen;
  };
  absl::Mutex query_log_mu_;
  absl::flat_hash_map<std::string, PendingQuery> pending_queries_ ABSL_GUARDED_BY(query_log_mu_);
  absl::Time query_log_flushed_ ABSL_GUARDED_BY(query_log_mu_) = absl::Now();
  bool query_log_flush_scheduled_ ABSL_GUARDED_BY(query_log_mu_) = false;
  mutable absl::Mutex links_mu_;
  std::map<std::string, std::set<std::string>> derived_ ABSL_GUARDED_BY(links_mu_);
  std::map<std::string, std::set<std::string>> related_ ABSL_GUARDED_BY(links_mu_);

  mutable absl::Mutex heads_mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const v1::Entry>> heads_
      ABSL_GUARDED_BY(heads_mu_);

  absl::Mutex index_time_mu_;
  absl::Time index_update_time_ ABSL_GUARDED_BY(index_time_mu_);

  absl::Mutex running_mu_;
  std::set<std::string> running_ ABSL_GUARDED_BY(running_mu_);

  std::unique_ptr<AnswerMemory> answer_memory_;
  std::unique_ptr<CitizenFeedback> citizen_feedback_;
  mutable absl::Mutex feedback_mu_;
  std::map<std::string, std::map<std::pair<std::string, int>, FeedbackTally>> feedback_
      ABSL_GUARDED_BY(feedback_mu_);

  // Entries with a change of status due on a day (ApplyDueStatusChanges): id -> YYYY-MM-DD.
  absl::Mutex schedule_mu_;
  std::map<std::string, std::string> due_dates_ ABSL_GUARDED_BY(schedule_mu_);

  // Completion candidates (titles, questions) by entry id.
  struct Completion {
    std::string text;
    v1::SuggestionSource source;
    v1::EntryKind kind;
    v1::EntryStatus status;
    std::string region;
  };
  mutable absl::Mutex suggest_mu_;
  std::map<std::string, std::vector<Completion>> completions_ ABSL_GUARDED_BY(suggest_mu_);

  // Where a read runs: a call with the public scope's token on the public lane (see
  // KnowledgeBaseServiceOptions::public_threads); every other call inline on gRPC's thread or
  // on the workers, as `staff` says.
  enum class StaffLane { kInline, kWorkers };
  template <typename Handler>
  grpc::ServerUnaryReactor* ServeRead(grpc::CallbackServerContext* context, StaffLane staff,
                                      Handler handler) {
    if (tokens_->FileTokenRole(*context) == Role::kPublic) {
      if (public_lane_->queue_length() >= options_.public_max_waiting) {
        return ServeInline(context, [] {
          return absl::UnavailableError(
              "the knowledge base's share for the public is busy; try again shortly");
        });
      }
      return ServeOnPool(context, *public_lane_,
                         [handler = std::move(handler), niceness = options_.public_niceness] {
                           LowerThisThreadsPriority(niceness);
                           return handler();
                         });
    }
    if (staff == StaffLane::kInline) return ServeInline(context, std::move(handler));
    return ServeOnPool(context, *workers_, std::move(handler));
  }

  // Declared last so that they are destroyed first: queued calls finish before the state goes.
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<WorkerPool> public_lane_;
};

}  // namespace hotline::kb

#endif  // HOTLINE_SERVICES_KB_KB_SERVICE_H_
