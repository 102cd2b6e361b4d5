// The knowledge base's gRPC face: start-up (the index, the links, the memory of confirmed answers
// and the schedule rebuilt from the store), entries in storage and in memory, links between
// entries, idempotent mutations and their records, and the statistics. The rpcs live by
// concern: kb_entries.cc, kb_search.cc, kb_feedback.cc, kb_suggest.cc, kb_drafts.cc,
// kb_classify.cc and kb_public.cc.
#include "services/kb/kb_service.h"

#include <glog/logging.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/unary_call.h"
#include "services/kb/internal/entry_rules.h"
#include "services/kb/internal/idempotent_mutation.h"
#include "services/kb/internal/kb_records.pb.h"

namespace hotline::kb {

std::vector<std::string> KnowledgeBaseService::Families() {
  return {kEntriesFamily, kRequestsFamily, kGapsFamily, kSourcesFamily,
          PersistentIndex::kDocumentsFamily};
}

KnowledgeBaseService::KnowledgeBaseService(std::shared_ptr<const TokenRegistry> tokens,
                                           RocksStore* store, KnowledgeBaseServiceOptions options)
    : tokens_(std::move(tokens)),
      store_(store),
      options_(std::move(options)),
      workers_(std::make_unique<WorkerPool>("kb-worker", options_.worker_threads)),
      public_lane_(
          std::make_unique<WorkerPool>("kb-public", std::max(1, options_.public_threads))) {}

KnowledgeBaseService::~KnowledgeBaseService() {
  public_lane_.reset();
  workers_.reset();
  if (absl::Status s = FlushQueryLog(); !s.ok()) LOG(WARNING) << "query counts: " << s;
}

absl::Status KnowledgeBaseService::Init() {
  auto index = std::make_unique<SearchIndex>(options_.analyzer, options_.ranking);
  if (!options_.synonyms_path.empty()) {
    RETURN_IF_ERROR(index->LoadSynonyms(options_.synonyms_path));
  }
  ASSIGN_OR_RETURN(index_, PersistentIndex::Open(store_, std::move(index)));
  NoteIndexChange();
  dedup_ = std::make_unique<ingest::DedupIndex>(options_.analyzer);
  answer_memory_ = std::make_unique<AnswerMemory>(options_.analyzer, options_.answer_memory);
  citizen_feedback_ = std::make_unique<CitizenFeedback>(store_, store_->Family(kGapsFamily));
  RETURN_IF_ERROR(citizen_feedback_->Load());
  absl::Status parse_error;
  RETURN_IF_ERROR(store_->ScanPrefix(
      store_->Family(kEntriesFamily), "", [&](absl::string_view key, absl::string_view value) {
        v1::Entry e;
        if (!e.ParseFromString(std::string(value))) {
          parse_error = absl::DataLossError(absl::StrCat("entry '", key, "' is corrupt"));
          return false;
        }
        {
          absl::MutexLock lock(&links_mu_);
          IndexLinks(e);
        }
        IndexSuggestions(e);
        Schedule(e);
        SetHead(e);
        if (auto d = DedupInput(e); d.has_value()) {
          parse_error = dedup_->Insert(*d);
          if (!parse_error.ok()) return false;
        }
        return true;
      }));
  RETURN_IF_ERROR(parse_error);
  // When each judgement was given (kept beside it, "t" + its key, since answers fade): read in
  // one pass rather than one lookup per judgement.
  absl::flat_hash_map<std::string, absl::Time> given;
  RETURN_IF_ERROR(store_->ScanPrefix(store_->Family(kGapsFamily), "tf/",
                                     [&](absl::string_view key, absl::string_view value) {
                                       int64_t micros = 0;
                                       if (absl::SimpleAtoi(value, &micros))
                                         given[key.substr(1)] = absl::FromUnixMicros(micros);
                                       return true;
                                     }));
  // Agents' judgements, for ranking: the stored feedback is the latest of each judge.
  RETURN_IF_ERROR(store_->ScanPrefix(
      store_->Family(kGapsFamily), "f/", [&](absl::string_view key, absl::string_view value) {
        v1::RecordFeedbackRequest r;
        if (!r.ParseFromString(std::string(value))) {
          parse_error = absl::DataLossError(absl::StrCat("feedback '", key, "' is corrupt"));
          return false;
        }
        // Records older than the times have none: they count as given now.
        auto when = given.find(key);
        CountFeedback(r, +1, std::string(key),
                      when == given.end() ? options_.clock->Now() : when->second);
        return true;
      }));
  RETURN_IF_ERROR(parse_error);
  // Whatever fell due while the server was down happens now, not at the first sweep.
  return ApplyDueStatusChanges().status();
}

// ---------------------------------------------------------------------------------------------
// Links
// ---------------------------------------------------------------------------------------------

void KnowledgeBaseService::IndexLinks(const v1::Entry& e) {
  for (const std::string& target : BasisTargets(e)) derived_[target].insert(e.id());
  for (const v1::EntryLink& l : e.links()) {
    if (l.relation() == v1::LINK_RELATION_RELATED) related_[l.target_id()].insert(e.id());
  }
}

void KnowledgeBaseService::UnindexLinks(const v1::Entry& e) {
  for (const std::string& target : BasisTargets(e)) derived_[target].erase(e.id());
  for (const v1::EntryLink& l : e.links()) {
    if (l.relation() == v1::LINK_RELATION_RELATED) related_[l.target_id()].erase(e.id());
  }
}

std::set<std::string> KnowledgeBaseService::DerivedFrom(const std::string& id) const {
  absl::ReaderMutexLock lock(&links_mu_);
  auto it = derived_.find(id);
  return it == derived_.end() ? std::set<std::string>{} : it->second;
}

std::set<std::string> KnowledgeBaseService::RelatedTo(const std::string& id) const {
  absl::ReaderMutexLock lock(&links_mu_);
  auto it = related_.find(id);
  return it == related_.end() ? std::set<std::string>{} : it->second;
}

absl::StatusOr<std::optional<v1::Entry>> KnowledgeBaseService::LoadEntry(
    const std::string& id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> stored,
                   store_->Get(store_->Family(kEntriesFamily), id));
  if (!stored.has_value()) return std::optional<v1::Entry>();
  v1::Entry e;
  if (!e.ParseFromString(*stored)) {
    return absl::DataLossError(absl::StrCat("entry '", id, "' is corrupt"));
  }
  return std::optional<v1::Entry>(std::move(e));
}

absl::Status KnowledgeBaseService::SaveEntry(const v1::Entry& entry) {
  // Only editor-set links are stored; targets' summaries are filled in when read.
  v1::Entry stored = entry;
  stored.clear_links();
  for (const v1::EntryLink& l : entry.links()) {
    if (l.relation() == v1::LINK_RELATION_DERIVED) continue;
    v1::EntryLink* out = stored.add_links();
    out->set_relation(l.relation());
    out->set_target_id(l.target_id());
    out->set_target_passage_label(l.target_passage_label());
    out->set_note(l.note());
  }
  // A Q&A pair records its source's status, so that search can leave it out when the source
  // is no longer in force without reading the source on every query.
  if (stored.has_qa_pair() && !stored.qa_pair().source_document_id().empty()) {
    ASSIGN_OR_RETURN(std::optional<v1::Entry> source,
                     LoadEntry(stored.qa_pair().source_document_id()));
    if (source.has_value()) {
      stored.mutable_qa_pair()->set_source_document_status(source->status());
      stored.mutable_qa_pair()->set_source_document_title(source->title());
    }
  }
  stored.set_inactive(EntryInactive(stored));
  ASSIGN_OR_RETURN(std::optional<v1::Entry> previous, LoadEntry(entry.id()));
  RETURN_IF_ERROR(
      store_->Put(store_->Family(kEntriesFamily), entry.id(), stored.SerializeAsString()));
  {
    absl::MutexLock lock(&links_mu_);
    if (previous.has_value()) UnindexLinks(*previous);
    IndexLinks(stored);
  }
  IndexSuggestions(stored);
  Schedule(stored);
  SetHead(stored);
  dedup_->Remove(entry.id());
  if (auto d = DedupInput(stored); d.has_value()) RETURN_IF_ERROR(dedup_->Insert(*d));
  RETURN_IF_ERROR(index_->Upsert(ToDocument(stored)));
  NoteIndexChange();
  // The Q&A pairs that rest on a document follow it out of (or back into) force.
  if (stored.has_policy_document() && previous.has_value() &&
      IsInactive(previous->status()) != IsInactive(stored.status())) {
    for (const std::string& id : DerivedFrom(stored.id())) {
      ASSIGN_OR_RETURN(std::optional<v1::Entry> qa, LoadEntry(id));
      if (qa.has_value() && qa->has_qa_pair() &&
          qa->qa_pair().source_document_id() == stored.id()) {
        RETURN_IF_ERROR(SaveEntry(*qa));
      }
    }
  }
  return absl::OkStatus();
}

void KnowledgeBaseService::NoteIndexChange() {
  absl::MutexLock lock(&index_time_mu_);
  index_update_time_ = options_.clock->Now();
}

void KnowledgeBaseService::Schedule(const v1::Entry& entry) {
  std::optional<DueStatusChange> due = NextDueStatusChange(entry);
  absl::MutexLock lock(&schedule_mu_);
  if (due.has_value()) {
    due_dates_[entry.id()] = due->due_date;
  } else {
    due_dates_.erase(entry.id());
  }
}

absl::StatusOr<int> KnowledgeBaseService::ApplyDueStatusChanges() {
  absl::MutexLock write_lock(&write_mu_);
  const std::string today = Today(*options_.clock);
  std::vector<std::string> due_ids;
  {
    absl::MutexLock lock(&schedule_mu_);
    for (const auto& [id, date] : due_dates_) {
      if (date <= today) due_ids.push_back(id);
    }
  }
  int changed = 0;
  const absl::Time now = options_.clock->Now();
  for (const std::string& id : due_ids) {
    ASSIGN_OR_RETURN(std::optional<v1::Entry> entry, LoadEntry(id));
    if (!entry.has_value()) {
      absl::MutexLock lock(&schedule_mu_);
      due_dates_.erase(id);
      continue;
    }
    // Several changes may have fallen due while the server was down (in force, then expired):
    // each is made in turn, each recorded.
    bool any = false;
    for (std::optional<DueStatusChange> due = NextDueStatusChange(*entry);
         due.has_value() && due->due_date <= today; due = NextDueStatusChange(*entry)) {
      v1::StatusChange change = due->change;
      change.set_from_status(entry->status());
      if (change.to_status() == entry->status() ||
          !TransitionAllowed(entry->status(), change.to_status())) {
        // The entry moved on since the change was scheduled (e.g. repealed in the meantime):
        // the stale plan is dropped, and the history says so.
        LOG(WARNING) << "entry " << id << ": scheduled " << v1::EntryStatus_Name(change.to_status())
                     << " dropped, the entry is " << v1::EntryStatus_Name(entry->status());
        entry->clear_pending_status_change();
        any = true;
        continue;
      }
      if (change.changed_by().empty()) change.set_changed_by("system");
      SetTime(now, change.mutable_change_time());
      ApplyStatusChange(change, &*entry);
      any = true;
      if (!change.superseded_by().empty()) {
        ASSIGN_OR_RETURN(std::optional<v1::Entry> successor, LoadEntry(change.superseded_by()));
        if (successor.has_value() &&
            std::find(successor->supersedes().begin(), successor->supersedes().end(), id) ==
                successor->supersedes().end()) {
          successor->add_supersedes(id);
          successor->set_version(successor->version() + 1);
          SetTime(now, successor->mutable_update_time());
          RETURN_IF_ERROR(SaveEntry(*successor));
        }
      }
    }
    if (!any) continue;
    entry->set_version(entry->version() + 1);
    SetTime(now, entry->mutable_update_time());
    entry->set_updated_by("system");
    RETURN_IF_ERROR(SaveEntry(*entry));
    ++changed;
  }
  if (changed > 0) LOG(INFO) << changed << " entries changed status on " << today;
  return changed;
}

std::shared_ptr<const v1::Entry> KnowledgeBaseService::Head(const std::string& id) const {
  absl::ReaderMutexLock lock(&heads_mu_);
  auto it = heads_.find(id);
  return it == heads_.end() ? nullptr : it->second;
}

void KnowledgeBaseService::SetHead(const v1::Entry& entry) {
  auto head = std::make_shared<v1::Entry>(entry);
  head->clear_passages();
  absl::MutexLock lock(&heads_mu_);
  heads_[entry.id()] = std::move(head);
}

absl::StatusOr<v1::EntryLink> KnowledgeBaseService::LinkTo(v1::LinkRelation relation,
                                                           const std::string& id) const {
  v1::EntryLink link;
  link.set_relation(relation);
  link.set_target_id(id);
  std::shared_ptr<const v1::Entry> target = Head(id);
  if (target == nullptr) return link;  // A dangling link still names its target.
  link.set_target_kind(target->kind());
  link.set_target_title(target->title());
  link.set_target_status(target->status());
  link.set_target_inactive(IsInactive(target->status()));
  if (target->has_service_guide()) {
    link.set_target_online_service_url(target->service_guide().online_service_url());
  }
  return link;
}

absl::Status KnowledgeBaseService::ResolveLinks(v1::Entry* entry) const {
  std::vector<v1::EntryLink> links;
  std::set<std::string> related_seen;
  for (const v1::EntryLink& l : entry->links()) {
    ASSIGN_OR_RETURN(v1::EntryLink resolved, LinkTo(l.relation(), l.target_id()));
    resolved.set_target_passage_label(l.target_passage_label());
    resolved.set_note(l.note());
    if (l.relation() == v1::LINK_RELATION_RELATED) related_seen.insert(l.target_id());
    links.push_back(std::move(resolved));
  }
  if (entry->has_qa_pair() && !entry->qa_pair().source_document_id().empty()) {
    ASSIGN_OR_RETURN(v1::EntryLink basis,
                     LinkTo(v1::LINK_RELATION_BASIS, entry->qa_pair().source_document_id()));
    basis.set_target_passage_label(entry->qa_pair().source_passage_label());
    v1::QaPair* qa = entry->mutable_qa_pair();
    qa->set_source_document_title(basis.target_title());
    qa->set_source_document_status(basis.target_status());
    links.push_back(std::move(basis));
  }
  for (const std::string& id : DerivedFrom(entry->id())) {
    ASSIGN_OR_RETURN(v1::EntryLink derived, LinkTo(v1::LINK_RELATION_DERIVED, id));
    links.push_back(std::move(derived));
  }
  // RELATED is symmetric: show the links other entries hold to this one too.
  for (const std::string& id : RelatedTo(entry->id())) {
    if (related_seen.count(id) > 0) continue;
    ASSIGN_OR_RETURN(v1::EntryLink related, LinkTo(v1::LINK_RELATION_RELATED, id));
    links.push_back(std::move(related));
  }
  entry->clear_links();
  for (v1::EntryLink& l : links) *entry->add_links() = std::move(l);
  entry->set_inactive(EntryInactive(*entry));
  return absl::OkStatus();
}

absl::Status KnowledgeBaseService::FillLookAskDo(const v1::Entry& entry, int max_per_group,
                                                 v1::LookAskDo* out) const {
  // The policies this hit is about: itself, or the policies it rests on.
  std::vector<std::string> policies;
  if (entry.kind() == v1::ENTRY_KIND_POLICY_DOCUMENT) {
    policies.push_back(entry.id());
  } else {
    policies = BasisTargets(entry);
  }
  std::set<std::string> seen = {entry.id()};
  auto add = [&](google::protobuf::RepeatedPtrField<v1::EntryLink>* group,
                 v1::LinkRelation relation, const std::string& id) -> absl::Status {
    if (group->size() >= max_per_group || !seen.insert(id).second) return absl::OkStatus();
    ASSIGN_OR_RETURN(v1::EntryLink link, LinkTo(relation, id));
    *group->Add() = std::move(link);
    return absl::OkStatus();
  };
  for (const std::string& policy : policies) {
    if (policy != entry.id()) {
      RETURN_IF_ERROR(add(out->mutable_policies(), v1::LINK_RELATION_BASIS, policy));
    }
    for (const std::string& id : DerivedFrom(policy)) {
      std::shared_ptr<const v1::Entry> derived = Head(id);
      if (derived == nullptr) continue;
      if (derived->kind() == v1::ENTRY_KIND_QA_PAIR) {
        RETURN_IF_ERROR(add(out->mutable_qa_pairs(), v1::LINK_RELATION_DERIVED, id));
      } else if (derived->kind() == v1::ENTRY_KIND_SERVICE_GUIDE) {
        RETURN_IF_ERROR(add(out->mutable_service_guides(), v1::LINK_RELATION_DERIVED, id));
      }
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Idempotency
// ---------------------------------------------------------------------------------------------

absl::Status KnowledgeBaseService::MutateAcceptDraft(const Principal& principal,
                                                     const v1::AcceptQaDraftRequest& r,
                                                     v1::AcceptQaDraftResponse* response) {
  return Mutate("accept-draft", r, response, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    return DoAcceptDraft(principal, r, response);
  });
}

std::string EncodeRequestRecord(absl::Time time, absl::string_view fingerprint,
                                absl::string_view response) {
  return absl::StrCat("t", absl::Hex(absl::ToUnixMicros(time), absl::kZeroPad16), fingerprint,
                      response);
}

std::optional<RequestRecord> DecodeRequestRecord(absl::string_view value) {
  constexpr size_t kFingerprint = 64;  // Hex SHA-256: never starts with 't'.
  RequestRecord record;
  if (!value.empty() && value[0] == 't') {
    uint64_t micros = 0;
    if (value.size() < 17 + kFingerprint || !absl::SimpleHexAtoi(value.substr(1, 16), &micros)) {
      return std::nullopt;
    }
    record.time = absl::FromUnixMicros(static_cast<int64_t>(micros));
    value.remove_prefix(17);
  } else {
    // Written before records had a time: as old as can be.
    record.time = absl::UnixEpoch();
  }
  if (value.size() < kFingerprint) return std::nullopt;
  record.fingerprint = std::string(value.substr(0, kFingerprint));
  record.response = std::string(value.substr(kFingerprint));
  return record;
}

absl::StatusOr<int> KnowledgeBaseService::PruneRecords() {
  const absl::Time now = options_.clock->Now();
  int pruned = 0;
  {
    absl::MutexLock lock(&write_mu_);
    rocksdb::ColumnFamilyHandle* family = store_->Family(kRequestsFamily);
    rocksdb::WriteBatch batch;
    RETURN_IF_ERROR(
        store_->ScanPrefix(family, "", [&](absl::string_view key, absl::string_view value) {
          std::optional<RequestRecord> record = DecodeRequestRecord(value);
          if (!record.has_value() || now - record->time > kRequestRetention) {
            batch.Delete(family, rocksdb::Slice(key.data(), key.size()));
            ++pruned;
          }
          return true;
        }));
    if (batch.Count() > 0) RETURN_IF_ERROR(store_->Write(&batch));
  }
  {
    absl::MutexLock lock(&gaps_mu_);
    rocksdb::ColumnFamilyHandle* family = store_->Family(kGapsFamily);
    rocksdb::WriteBatch batch;
    RETURN_IF_ERROR(
        store_->ScanPrefix(family, "o/", [&](absl::string_view key, absl::string_view value) {
          internal::GapOccurrence o;
          if (o.ParseFromString(std::string(value)) &&
              now - FromProtoTime(o.time()) > kGapOccurrenceRetention) {
            batch.Delete(family, rocksdb::Slice(key.data(), key.size()));
            ++pruned;
          }
          return true;
        }));
    if (batch.Count() > 0) RETURN_IF_ERROR(store_->Write(&batch));
  }
  if (pruned > 0) LOG(INFO) << "pruned " << pruned << " request records and gap occurrences";
  return pruned;
}

absl::StatusOr<KnowledgeBaseService::RunningRequest> KnowledgeBaseService::BeginRequest(
    absl::string_view rpc, const std::string& request_id) {
  if (request_id.empty()) return RunningRequest();
  std::string key = absl::StrCat(rpc, "/", request_id);
  absl::MutexLock lock(&running_mu_);
  if (!running_.insert(key).second) {
    return absl::AbortedError(
        absl::StrCat("request_id: '", request_id, "' is still running; retry later"));
  }
  return RunningRequest(this, std::move(key));
}

void KnowledgeBaseService::EndRequest(const std::string& key) {
  absl::MutexLock lock(&running_mu_);
  running_.erase(key);
}

// ---------------------------------------------------------------------------------------------
// Stats
// ---------------------------------------------------------------------------------------------

grpc::ServerUnaryReactor* KnowledgeBaseService::Stats(grpc::CallbackServerContext* context,
                                                      const v1::StatsRequest* request,
                                                      v1::StatsResponse* response) {
  return ServeOnPool(context, *workers_, [=]() -> absl::Status {
    RETURN_IF_ERROR(
        AuthenticateAndAuthorize(*tokens_, *context, {Role::kEditor, Role::kSupervisor}, *request)
            .status());
    std::map<std::pair<int, int>, int64_t> counts;
    std::map<std::string, v1::SourceStats> sources;
    absl::Status parse_error;
    RETURN_IF_ERROR(store_->ScanPrefix(
        store_->Family(kEntriesFamily), "", [&](absl::string_view key, absl::string_view value) {
          v1::Entry e;
          if (!e.ParseFromString(std::string(value))) {
            parse_error = absl::DataLossError(absl::StrCat("entry '", key, "' is corrupt"));
            return false;
          }
          ++counts[{e.kind(), e.status()}];
          response->set_total_entries(response->total_entries() + 1);
          response->set_total_passages(response->total_passages() + e.passages_size());
          if (!IsInactive(e.status())) {
            response->set_active_entries(response->active_entries() + 1);
            response->set_active_passages(response->active_passages() + e.passages_size());
          }
          if (!e.merged_ids().empty()) {
            response->set_entries_with_merged_duplicates(
                response->entries_with_merged_duplicates() + 1);
          }
          if (!e.supersedes().empty()) {
            response->set_entries_superseding(response->entries_superseding() + 1);
          }
          for (const v1::SourceReference& s : e.sources()) {
            v1::SourceStats& stats = sources[s.source_name()];
            stats.set_source_name(s.source_name());
            stats.set_entry_count(stats.entry_count() + 1);
            if (s.merged_duplicate()) {
              stats.set_merged_duplicate_count(stats.merged_duplicate_count() + 1);
            }
          }
          return true;
        }));
    RETURN_IF_ERROR(parse_error);
    for (const auto& [kind_status, count] : counts) {
      v1::EntryCount* c = response->add_entry_counts();
      c->set_kind(static_cast<v1::EntryKind>(kind_status.first));
      c->set_status(static_cast<v1::EntryStatus>(kind_status.second));
      c->set_count(count);
    }
    RETURN_IF_ERROR(store_->ScanPrefix(
        store_->Family(kSourcesFamily), "stats\n", [&](absl::string_view, absl::string_view value) {
          v1::SourceStats imports;
          if (!imports.ParseFromString(std::string(value))) return true;
          v1::SourceStats& stats = sources[imports.source_name()];
          stats.set_source_name(imports.source_name());
          stats.set_import_count(imports.import_count());
          stats.set_last_import_id(imports.last_import_id());
          *stats.mutable_last_import_time() = imports.last_import_time();
          *stats.mutable_last_import_totals() = imports.last_import_totals();
          return true;
        }));
    for (auto& [name, stats] : sources) *response->add_sources() = std::move(stats);
    const absl::Time now = options_.clock->Now();
    ASSIGN_OR_RETURN(std::vector<v1::Gap> gaps,
                     CollectGaps(now - absl::Hours(24 * 30), now + absl::Nanoseconds(1)));
    response->set_open_gaps(
        std::count_if(gaps.begin(), gaps.end(), [](const v1::Gap& g) { return !g.resolved(); }));
    response->set_index_size_bytes(static_cast<int64_t>(index_->index().MemoryBytes()));
    response->set_index_term_count(static_cast<int64_t>(index_->index().term_count()));
    {
      absl::MutexLock lock(&index_time_mu_);
      SetTime(index_update_time_, response->mutable_index_update_time());
    }
    // Tables of every column family, plus the write-ahead log, which holds what has not been
    // flushed to tables yet.
    uint64_t store_bytes = 0;
    store_->db()->GetAggregatedIntProperty("rocksdb.total-sst-files-size", &store_bytes);
    rocksdb::VectorLogPtr logs;
    if (store_->db()->GetSortedWalFiles(logs).ok()) {
      for (const auto& log : logs) store_bytes += log->SizeFileBytes();
    }
    response->set_store_size_bytes(static_cast<int64_t>(store_bytes));
    SetTime(now, response->mutable_compute_time());
    return absl::OkStatus();
  });
}

}  // namespace hotline::kb
