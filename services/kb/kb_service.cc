#include "services/kb/kb_service.h"

#include <algorithm>
#include <cmath>

#include <glog/logging.h>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "common/sha256.h"
#include "common/unary_call.h"
#include "services/kb/internal/entry_rules.h"
#include "services/kb/internal/kb_records.pb.h"
#include "services/kb/public_scope.h"

namespace hotline::kb {
namespace {

constexpr int kMaxQueryCodePoints = 256;
constexpr int kDefaultPageSize = 10;
constexpr int kMaxPageSize = 50;
constexpr int kMaxFilterValues = 50;
constexpr int kDefaultLinksPerGroup = 5;
constexpr absl::Duration kPageTokenLifetime = absl::Hours(1);

// Deeper than any listing goes, and far from int's limit: a forged token (the hash in it is
// not a secret) must not overflow offset + page_size.
constexpr int kMaxPageOffset = 1 << 24;

// A page token: offset, a hash of the request without its token (so it cannot be reused with
// other parameters) and the issue time (so it expires).
std::string MakePageToken(int offset, absl::string_view request_hash, absl::Time now) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(offset, ":", request_hash, ":", absl::ToUnixSeconds(now)));
}

absl::StatusOr<int> ParsePageToken(absl::string_view token, absl::string_view request_hash,
                                   absl::Time now) {
  const absl::Status invalid = absl::InvalidArgumentError(
      "page_token: invalid, expired or reused with other parameters; start again from page 1");
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return invalid;
  std::vector<std::string> parts = absl::StrSplit(raw, ':');
  int offset = 0;
  int64_t issued = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &offset) || offset < 0 ||
      offset > kMaxPageOffset ||
      parts[1] != request_hash || !absl::SimpleAtoi(parts[2], &issued) ||
      now - absl::FromUnixSeconds(issued) > kPageTokenLifetime) {
    return invalid;
  }
  return offset;
}

template <typename Message>
std::string HashWithoutToken(Message m) {
  m.clear_page_token();
  return Sha256Hex(m.SerializeAsString()).substr(0, 16);
}

absl::StatusOr<int> PageSize(int requested) {
  if (requested < 0) return absl::InvalidArgumentError("page_size: must not be negative");
  return requested == 0 ? kDefaultPageSize : std::min(requested, kMaxPageSize);
}
}  // namespace

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
      public_lane_(std::make_unique<WorkerPool>("kb-public", std::max(1, options_.public_threads))) {}

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
  RETURN_IF_ERROR(store_->ScanPrefix(
      store_->Family(kGapsFamily), "tf/", [&](absl::string_view key, absl::string_view value) {
        int64_t micros = 0;
        if (absl::SimpleAtoi(value, &micros)) given[key.substr(1)] = absl::FromUnixMicros(micros);
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
  RETURN_IF_ERROR(store_->Put(store_->Family(kEntriesFamily), entry.id(),
                              stored.SerializeAsString()));
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

template <typename Request, typename Response, typename Act>
absl::Status KnowledgeBaseService::Mutate(absl::string_view rpc, const Request& request,
                                          Response* response, Act act) {
  const std::string& request_id = request.request_id();
  RETURN_IF_ERROR(CheckRequestId(request_id));
  ASSIGN_OR_RETURN(RunningRequest running, BeginRequest(rpc, request_id));
  absl::MutexLock lock(&write_mu_);
  if (request_id.empty()) return act();
  const std::string key = absl::StrCat(rpc, "/", request_id);
  const std::string fingerprint = Sha256Hex(request.SerializeAsString());
  rocksdb::ColumnFamilyHandle* family = store_->Family(kRequestsFamily);
  ASSIGN_OR_RETURN(std::optional<std::string> earlier, store_->Get(family, key));
  if (earlier.has_value()) {
    std::optional<RequestRecord> record = DecodeRequestRecord(*earlier);
    if (!record.has_value()) {
      return absl::DataLossError(absl::StrCat("stored record of ", key, " is corrupt"));
    }
    if (record->fingerprint != fingerprint) {
      return absl::InvalidArgumentError("request_id: already used for a different request");
    }
    if (!response->ParseFromString(record->response)) {
      return absl::DataLossError(absl::StrCat("stored response of ", key, " is corrupt"));
    }
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(act());
  return store_->Put(family, key,
                     EncodeRequestRecord(options_.clock->Now(), fingerprint,
                                         response->SerializeAsString()));
}

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
    if (value.size() < 17 + kFingerprint ||
        !absl::SimpleHexAtoi(value.substr(1, 16), &micros)) {
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
    RETURN_IF_ERROR(store_->ScanPrefix(family, "", [&](absl::string_view key,
                                                       absl::string_view value) {
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
    RETURN_IF_ERROR(store_->ScanPrefix(family, "o/", [&](absl::string_view key,
                                                         absl::string_view value) {
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
// GetEntry
// ---------------------------------------------------------------------------------------------

grpc::ServerUnaryReactor* KnowledgeBaseService::GetEntry(grpc::CallbackServerContext* context,
                                                         const v1::GetEntryRequest* request,
                                                         v1::Entry* response) {
  return ServeRead(context, StaffLane::kWorkers, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal principal,
                     AuthenticateAndAuthorize(*tokens_, *context, kReadersAndPublic, *request));
    if (request->entry_id().empty()) return absl::InvalidArgumentError("entry_id: required");
    if (!IsValidId(request->entry_id())) {
      return absl::InvalidArgumentError(
          absl::StrCat("entry_id: not a valid id: ", request->entry_id()));
    }
    ASSIGN_OR_RETURN(std::optional<v1::Entry> entry, LoadEntry(request->entry_id()));
    if (!entry.has_value()) {
      // An id merged into another entry as a duplicate names that entry.
      ASSIGN_OR_RETURN(
          std::optional<std::string> merged_into,
          store_->Get(store_->Family(kSourcesFamily), "alias\n" + request->entry_id()));
      if (merged_into.has_value()) {
        ASSIGN_OR_RETURN(entry, LoadEntry(*merged_into));
      }
    }
    const bool in_public = principal.role == Role::kPublic;
    if (!entry.has_value() || (in_public && !IsPublicKind(entry->kind()))) {
      return absl::NotFoundError(absl::StrCat("entry '", request->entry_id(), "' not found"));
    }
    *response = std::move(*entry);
    RETURN_IF_ERROR(ResolveLinks(response));
    if (request->view() == v1::ENTRY_VIEW_BASIC) response->clear_passages();
    if (in_public) ScrubForPublic(response);
    if (SeesCitizenFeedback(principal.role)) {
      *response->mutable_citizen_feedback() = citizen_feedback_->Counts(response->id());
    }
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------------------------
// UpsertEntry
// ---------------------------------------------------------------------------------------------

grpc::ServerUnaryReactor* KnowledgeBaseService::UpsertEntry(
    grpc::CallbackServerContext* context, const v1::UpsertEntryRequest* request,
    v1::UpsertEntryResponse* response) {
  return ServeOnPool(context, *workers_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal principal,
                     AuthenticateAndAuthorize(*tokens_, *context, kEditors, *request));
    RETURN_IF_ERROR(ValidateUpsert(*request));
    return Mutate("upsert", *request, response,
                  [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
                    return DoUpsert(principal, *request, response);
                  });
  });
}

absl::Status KnowledgeBaseService::DoUpsert(const Principal& principal,
                                            const v1::UpsertEntryRequest& r,
                                            v1::UpsertEntryResponse* response) {
  v1::Entry entry = r.entry();
  const absl::Time now = options_.clock->Now();
  std::optional<v1::Entry> existing;
  if (r.expected_version() == 0) {
    if (entry.id().empty()) entry.set_id(NewId("kb-"));
    ASSIGN_OR_RETURN(existing, LoadEntry(entry.id()));
    if (existing.has_value()) {
      return absl::AlreadyExistsError(absl::StrCat("entry.id: '", entry.id(), "' is taken"));
    }
  } else {
    ASSIGN_OR_RETURN(existing, LoadEntry(entry.id()));
    if (!existing.has_value()) {
      return absl::NotFoundError(absl::StrCat("entry.id: no entry '", entry.id(), "'"));
    }
  }
  // References must exist before anything else about the update is judged.
  for (int i = 0; i < entry.links_size(); ++i) {
    const v1::EntryLink& l = entry.links(i);
    if (l.relation() == v1::LINK_RELATION_DERIVED) continue;
    ASSIGN_OR_RETURN(std::optional<v1::Entry> target, LoadEntry(l.target_id()));
    if (!target.has_value()) {
      return absl::NotFoundError(
          absl::StrCat("entry.links[", i, "].target_id: no entry '", l.target_id(), "'"));
    }
  }
  if (entry.has_qa_pair() && !entry.qa_pair().source_document_id().empty()) {
    ASSIGN_OR_RETURN(std::optional<v1::Entry> source,
                     LoadEntry(entry.qa_pair().source_document_id()));
    if (!source.has_value()) {
      return absl::NotFoundError(absl::StrCat("entry.qa_pair.source_document_id: no entry '",
                                              entry.qa_pair().source_document_id(), "'"));
    }
    if (source->kind() != v1::ENTRY_KIND_POLICY_DOCUMENT) {
      return absl::FailedPreconditionError(
          "entry.qa_pair.source_document_id: names an entry that is not a policy document");
    }
    // Keep the quoted clause with the pair, so the answer shows its source text.
    for (const v1::Passage& p : source->passages()) {
      if (p.label() == entry.qa_pair().source_passage_label()) {
        entry.mutable_qa_pair()->set_source_passage_text(p.text());
      }
    }
  }
  if (existing.has_value()) {
    if (existing->kind() != entry.kind()) {
      return absl::FailedPreconditionError(
          "entry.kind: kinds never change; create a new entry instead");
    }
    if (existing->version() != r.expected_version()) {
      return absl::AbortedError(absl::StrCat("expected_version: ", r.expected_version(),
                                             " is stale, the entry is at version ",
                                             existing->version(), "; re-read and retry"));
    }
    if (entry.status() != v1::ENTRY_STATUS_UNSPECIFIED && entry.status() != existing->status()) {
      return absl::InvalidArgumentError(
          "entry.status: differs from the current status; change it with SetStatus");
    }
    // Server-maintained fields come from the stored entry, never from the client.
    entry.set_status(existing->status());
    entry.set_version(existing->version() + 1);
    *entry.mutable_create_time() = existing->create_time();
    entry.set_created_by(existing->created_by());
    *entry.mutable_status_history() = existing->status_history();
    *entry.mutable_pending_status_change() = existing->pending_status_change();
    entry.set_superseded_by(existing->superseded_by());
    *entry.mutable_supersedes() = existing->supersedes();
    *entry.mutable_merged_ids() = existing->merged_ids();
    *entry.mutable_sources() = existing->sources();
    if (!r.has_raw_content() && entry.passages().empty()) {
      *entry.mutable_passages() = existing->passages();
    }
  } else {
    if (entry.status() == v1::ENTRY_STATUS_UNSPECIFIED) {
      entry.set_status(InitialStatus(entry, *options_.clock));
    }
    entry.set_version(1);
    SetTime(now, entry.mutable_create_time());
    entry.set_created_by(principal.name);
    entry.clear_status_history();
    entry.clear_pending_status_change();
    entry.clear_superseded_by();
    entry.clear_supersedes();
    entry.clear_merged_ids();
    entry.clear_sources();
  }
  SetTime(now, entry.mutable_update_time());
  entry.set_updated_by(principal.name);
  entry.set_inactive(IsInactive(entry.status()));
  RETURN_IF_ERROR(ComputePassages(r.has_raw_content() ? &r.raw_content() : nullptr, &entry));
  if (entry.passages().empty()) {
    return absl::InvalidArgumentError(
        "raw_content: required for a policy document (its text has no passages)");
  }
  if (r.validate_only()) {
    *response->mutable_entry() = entry;
    response->set_created(!existing.has_value());
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(SaveEntry(entry));
  ASSIGN_OR_RETURN(std::optional<v1::Entry> saved, LoadEntry(entry.id()));
  *response->mutable_entry() = std::move(*saved);
  RETURN_IF_ERROR(ResolveLinks(response->mutable_entry()));
  response->set_created(!existing.has_value());
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// DeleteEntry
// ---------------------------------------------------------------------------------------------

grpc::ServerUnaryReactor* KnowledgeBaseService::DeleteEntry(grpc::CallbackServerContext* context,
                                                            const v1::DeleteEntryRequest* request,
                                                            v1::DeleteEntryResponse* response) {
  return ServeOnPool(context, *workers_, [=]() -> absl::Status {
    RETURN_IF_ERROR(AuthenticateAndAuthorize(*tokens_, *context, kEditors, *request).status());
    if (request->entry_id().empty()) return absl::InvalidArgumentError("entry_id: required");
    if (request->expected_version() <= 0) {
      return absl::InvalidArgumentError("expected_version: must be positive");
    }
    return Mutate("delete", *request, response, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
      return DoDelete(*request, response);
    });
  });
}

absl::Status KnowledgeBaseService::DoDelete(const v1::DeleteEntryRequest& r,
                                            v1::DeleteEntryResponse* response) {
  ASSIGN_OR_RETURN(std::optional<v1::Entry> entry, LoadEntry(r.entry_id()));
  if (!entry.has_value()) {
    return absl::NotFoundError(absl::StrCat("entry '", r.entry_id(), "' not found"));
  }
  std::vector<std::string> qa_sources;
  for (const std::string& id : DerivedFrom(r.entry_id())) {
    ASSIGN_OR_RETURN(std::optional<v1::Entry> derived, LoadEntry(id));
    if (derived.has_value() && derived->has_qa_pair() &&
        derived->qa_pair().source_document_id() == r.entry_id() && qa_sources.size() < 10) {
      qa_sources.push_back(id);
    }
  }
  if (!qa_sources.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("entry_id: the entry is the source document of Q&A pairs (",
                     absl::StrJoin(qa_sources, ", "),
                     "); repeal it instead, or delete or re-point those Q&A pairs first"));
  }
  if (entry->version() != r.expected_version()) {
    return absl::AbortedError(absl::StrCat("expected_version: ", r.expected_version(),
                                           " is stale, the entry is at version ",
                                           entry->version()));
  }
  const absl::Time now = options_.clock->Now();
  // Remove the links others hold to this entry, and supersession references, so that no
  // entry points to one that is gone.
  std::set<std::string> holders = DerivedFrom(r.entry_id());
  for (const std::string& id : RelatedTo(r.entry_id())) holders.insert(id);
  for (const std::string& id : entry->supersedes()) holders.insert(id);
  if (!entry->superseded_by().empty()) holders.insert(entry->superseded_by());
  for (const std::string& id : holders) {
    ASSIGN_OR_RETURN(std::optional<v1::Entry> other, LoadEntry(id));
    if (!other.has_value()) continue;
    bool changed = false;
    auto* links = other->mutable_links();
    for (int i = links->size() - 1; i >= 0; --i) {
      if (links->Get(i).target_id() == r.entry_id()) {
        links->DeleteSubrange(i, 1);
        changed = true;
      }
    }
    if (other->superseded_by() == r.entry_id()) {
      other->clear_superseded_by();
      changed = true;
    }
    auto* supersedes = other->mutable_supersedes();
    for (int i = supersedes->size() - 1; i >= 0; --i) {
      if (supersedes->Get(i) == r.entry_id()) {
        supersedes->DeleteSubrange(i, 1);
        changed = true;
      }
    }
    if (!changed) continue;
    other->set_version(other->version() + 1);
    SetTime(now, other->mutable_update_time());
    RETURN_IF_ERROR(SaveEntry(*other));
    response->add_unlinked_entry_ids(id);
  }
  rocksdb::WriteBatch batch;
  batch.Delete(store_->Family(kEntriesFamily), r.entry_id());
  RETURN_IF_ERROR(store_->Write(&batch));
  {
    absl::MutexLock lock(&links_mu_);
    UnindexLinks(*entry);
    derived_.erase(r.entry_id());
    related_.erase(r.entry_id());
  }
  dedup_->Remove(r.entry_id());
  {
    absl::MutexLock lock(&suggest_mu_);
    completions_.erase(r.entry_id());
  }
  {
    absl::MutexLock lock(&heads_mu_);
    heads_.erase(r.entry_id());
  }
  absl::Status removed = index_->Delete(r.entry_id());
  if (!removed.ok() && !absl::IsNotFound(removed)) return removed;
  NoteIndexChange();
  response->set_entry_id(r.entry_id());
  response->set_deleted_version(entry->version());
  SetTime(now, response->mutable_delete_time());
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// SetStatus
// ---------------------------------------------------------------------------------------------

grpc::ServerUnaryReactor* KnowledgeBaseService::SetStatus(grpc::CallbackServerContext* context,
                                                          const v1::SetStatusRequest* request,
                                                          v1::SetStatusResponse* response) {
  return ServeOnPool(context, *workers_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal principal,
                     AuthenticateAndAuthorize(*tokens_, *context, kEditors, *request));
    const v1::SetStatusRequest& r = *request;
    if (r.entry_id().empty()) return absl::InvalidArgumentError("entry_id: required");
    if (r.cancel_pending_change()) {
      if (r.status() != v1::ENTRY_STATUS_UNSPECIFIED || !r.effective_date().empty()) {
        return absl::InvalidArgumentError(
            "cancel_pending_change: must not be combined with status or effective_date");
      }
    } else {
      if (r.status() == v1::ENTRY_STATUS_UNSPECIFIED) {
        return absl::InvalidArgumentError("status: required");
      }
      if (IsInactive(r.status()) && r.effective_date().empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "effective_date: required for ", v1::EntryStatus_Name(r.status())));
      }
      RETURN_IF_ERROR(CheckDate(r.effective_date(), "effective_date"));
    }
    if (!r.superseded_by().empty() && r.superseded_by() == r.entry_id()) {
      return absl::InvalidArgumentError("superseded_by: equals entry_id");
    }
    if (r.expected_version() <= 0) {
      return absl::InvalidArgumentError("expected_version: must be positive");
    }
    return Mutate("status", r, response,
                  [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
                    return DoSetStatus(principal, r, response);
                  });
  });
}

absl::Status KnowledgeBaseService::DoSetStatus(const Principal& principal,
                                               const v1::SetStatusRequest& r,
                                               v1::SetStatusResponse* response) {
  ASSIGN_OR_RETURN(std::optional<v1::Entry> entry, LoadEntry(r.entry_id()));
  if (!entry.has_value()) {
    return absl::NotFoundError(absl::StrCat("entry_id: no entry '", r.entry_id(), "'"));
  }
  // Q&A pairs resting on this entry are listed if it leaves or re-enters force.
  const bool was_inactive = IsInactive(entry->status());
  std::optional<v1::Entry> successor;
  if (!r.superseded_by().empty()) {
    ASSIGN_OR_RETURN(successor, LoadEntry(r.superseded_by()));
    if (!successor.has_value()) {
      return absl::NotFoundError(absl::StrCat("superseded_by: no entry '", r.superseded_by(), "'"));
    }
  }
  if (!r.basis_entry_id().empty()) {
    ASSIGN_OR_RETURN(std::optional<v1::Entry> basis, LoadEntry(r.basis_entry_id()));
    if (!basis.has_value()) {
      return absl::NotFoundError(
          absl::StrCat("basis_entry_id: no entry '", r.basis_entry_id(), "'"));
    }
  }
  const absl::Time now = options_.clock->Now();
  const std::string today = Today(*options_.clock);
  if (r.cancel_pending_change()) {
    if (!entry->has_pending_status_change()) {
      return absl::FailedPreconditionError("cancel_pending_change: nothing is pending");
    }
  } else {
    if (entry->status() == r.status()) {
      return absl::FailedPreconditionError(
          absl::StrCat("status: the entry already is ", v1::EntryStatus_Name(r.status())));
    }
    if (!TransitionAllowed(entry->status(), r.status())) {
      return absl::FailedPreconditionError(
          absl::StrCat("status: ", v1::EntryStatus_Name(entry->status()), " cannot become ",
                       v1::EntryStatus_Name(r.status())));
    }
    // Back from repealed or expired is only the correction of a mistake, so it must say why.
    if (IsInactive(entry->status()) && r.reason().empty()) {
      return absl::InvalidArgumentError("reason: required to correct a repealed or expired entry");
    }
    if (successor.has_value() &&
        (successor->kind() != entry->kind() || IsInactive(successor->status()))) {
      return absl::FailedPreconditionError(
          "superseded_by: names an entry of another kind or one that is itself inactive");
    }
  }
  if (entry->version() != r.expected_version()) {
    return absl::AbortedError(absl::StrCat("expected_version: ", r.expected_version(),
                                           " is stale, the entry is at version ",
                                           entry->version()));
  }
  if (r.cancel_pending_change()) {
    entry->clear_pending_status_change();
  } else {
    v1::StatusChange change;
    change.set_from_status(entry->status());
    change.set_to_status(r.status());
    change.set_effective_date(r.effective_date().empty() ? today : r.effective_date());
    change.set_reason(r.reason());
    change.set_superseded_by(r.superseded_by());
    change.set_basis_doc_number(r.basis_doc_number());
    change.set_basis_entry_id(r.basis_entry_id());
    change.set_changed_by(principal.name);
    SetTime(now, change.mutable_change_time());
    if (change.effective_date() > today) {
      // Scheduled: the entry keeps its status until the day comes.
      *entry->mutable_pending_status_change() = change;
      response->set_scheduled(true);
    } else {
      ApplyStatusChange(change, &*entry);
    }
  }
  entry->set_version(entry->version() + 1);
  SetTime(now, entry->mutable_update_time());
  entry->set_updated_by(principal.name);
  entry->set_inactive(EntryInactive(*entry));
  if (successor.has_value() && !response->scheduled()) {
    if (std::find(successor->supersedes().begin(), successor->supersedes().end(), entry->id()) ==
        successor->supersedes().end()) {
      successor->add_supersedes(entry->id());
      successor->set_version(successor->version() + 1);
      SetTime(now, successor->mutable_update_time());
      RETURN_IF_ERROR(SaveEntry(*successor));
    }
  }
  RETURN_IF_ERROR(SaveEntry(*entry));
  if (was_inactive != IsInactive(entry->status())) {
    for (const std::string& id : DerivedFrom(entry->id())) {
      std::shared_ptr<const v1::Entry> derived = Head(id);
      if (derived != nullptr && derived->has_qa_pair() &&
          derived->qa_pair().source_document_id() == entry->id()) {
        response->add_affected_qa_pair_ids(id);
      }
    }
  }
  *response->mutable_entry() = std::move(*entry);
  return ResolveLinks(response->mutable_entry());
}

// ---------------------------------------------------------------------------------------------
// Search
// ---------------------------------------------------------------------------------------------

grpc::ServerUnaryReactor* KnowledgeBaseService::Search(grpc::CallbackServerContext* context,
                                                       const v1::SearchRequest* request,
                                                       v1::SearchResponse* response) {
  // Searching is CPU work of a millisecond or two; see ServeInline.
  return ServeRead(context, StaffLane::kInline, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal principal,
                     AuthenticateAndAuthorize(*tokens_, *context, kReadersAndPublic, *request));
    if (principal.role != Role::kPublic) return DoSearch(principal, *request, response);
    v1::SearchRequest narrowed = *request;
    RETURN_IF_ERROR(NarrowSearchForPublic(&narrowed));
    RETURN_IF_ERROR(DoSearch(principal, narrowed, response));
    // The id ties agents' feedback to a search; citizens answer by entry instead.
    response->clear_search_id();
    for (v1::SearchHit& hit : *response->mutable_hits()) ScrubForPublic(&hit);
    return absl::OkStatus();
  });
}

namespace {

absl::Status CheckListSize(int size, absl::string_view field) {
  if (size <= kMaxFilterValues) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": at most ", kMaxFilterValues, " values, got ", size));
}

absl::Status CheckRange(const v1::DateRange& range, absl::string_view field) {
  RETURN_IF_ERROR(CheckDate(range.start_date(), absl::StrCat(field, ".start_date")));
  RETURN_IF_ERROR(CheckDate(range.end_date(), absl::StrCat(field, ".end_date")));
  if (!range.start_date().empty() && !range.end_date().empty() &&
      range.start_date() > range.end_date()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": start_date after end_date"));
  }
  return absl::OkStatus();
}

// The request's filter in the engine's terms; INVALID_ARGUMENT names the bad field.
absl::StatusOr<SearchFilterSpec> ToFilterSpec(const v1::SearchRequest& r) {
  const v1::SearchFilter& f = r.filter();
  RETURN_IF_ERROR(CheckListSize(f.kinds_size(), "filter.kinds"));
  RETURN_IF_ERROR(CheckListSize(f.regions_size(), "filter.regions"));
  RETURN_IF_ERROR(CheckListSize(f.category_prefixes_size(), "filter.category_prefixes"));
  RETURN_IF_ERROR(CheckListSize(f.issuing_agencies_size(), "filter.issuing_agencies"));
  RETURN_IF_ERROR(CheckListSize(f.statuses_size(), "filter.statuses"));
  RETURN_IF_ERROR(CheckListSize(f.levels_size(), "filter.levels"));
  RETURN_IF_ERROR(CheckListSize(f.tags_size(), "filter.tags"));
  for (const std::string& region : f.regions()) {
    RETURN_IF_ERROR(CheckPath(region, "filter.regions"));
  }
  for (const std::string& prefix : f.category_prefixes()) {
    RETURN_IF_ERROR(CheckPath(prefix, "filter.category_prefixes"));
  }
  RETURN_IF_ERROR(CheckRange(f.publish_date_range(), "filter.publish_date_range"));
  RETURN_IF_ERROR(CheckRange(f.effective_date_range(), "filter.effective_date_range"));
  SearchFilterSpec spec;
  for (int kind : f.kinds()) spec.kinds.push_back(static_cast<v1::EntryKind>(kind));
  for (int s : f.statuses()) {
    const auto status = static_cast<v1::EntryStatus>(s);
    if (IsInactive(status) && !r.include_inactive()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "filter.statuses: ", v1::EntryStatus_Name(status),
          " is inactive; set include_inactive to search inactive entries"));
    }
    spec.statuses.push_back(status);
  }
  for (int level : f.levels()) spec.levels.push_back(static_cast<v1::PolicyLevel>(level));
  spec.regions.assign(f.regions().begin(), f.regions().end());
  if (!f.applicable_region().empty()) {
    RETURN_IF_ERROR(CheckPath(f.applicable_region(), "filter.applicable_region"));
    // The entries that apply to a caller's region are those of the region itself, of every
    // region above it, and the national ones; the engine filters by exact regions.
    std::vector<std::string> applicable = {"全国"};
    std::string path;
    for (absl::string_view segment : absl::StrSplit(f.applicable_region(), '/')) {
      path = path.empty() ? std::string(segment) : absl::StrCat(path, "/", segment);
      applicable.push_back(path);
    }
    if (spec.regions.empty()) {
      spec.regions = std::move(applicable);
    } else {
      // Both given: the regions listed that also apply to the caller.
      std::vector<std::string> both;
      for (const std::string& r : spec.regions) {
        if (std::find(applicable.begin(), applicable.end(), r) != applicable.end())
          both.push_back(r);
      }
      if (both.empty()) {
        return absl::InvalidArgumentError(
            "filter.regions: none of them applies to filter.applicable_region");
      }
      spec.regions = std::move(both);
    }
  }
  spec.category_prefixes.assign(f.category_prefixes().begin(), f.category_prefixes().end());
  spec.agencies.assign(f.issuing_agencies().begin(), f.issuing_agencies().end());
  spec.tags.assign(f.tags().begin(), f.tags().end());
  spec.publish_from = f.publish_date_range().start_date();
  spec.publish_to = f.publish_date_range().end_date();
  spec.effective_from = f.effective_date_range().start_date();
  spec.effective_to = f.effective_date_range().end_date();
  return spec;
}

}  // namespace

absl::Status KnowledgeBaseService::DoSearch(const Principal& principal,
                                            const v1::SearchRequest& r,
                                            v1::SearchResponse* response) {
  if (CodePointCount(r.query()) > kMaxQueryCodePoints) {
    return absl::InvalidArgumentError(
        absl::StrCat("query: longer than ", kMaxQueryCodePoints, " code points"));
  }
  SearchOrder order = SearchOrder::kRelevance;
  switch (r.order_by()) {
    case v1::SEARCH_ORDER_UNSPECIFIED:
      // Relevance needs words to be relevant to; without them the newest come first.
      order = r.query().empty() ? SearchOrder::kPublishDate : SearchOrder::kRelevance;
      break;
    case v1::SEARCH_ORDER_RELEVANCE:
      if (r.query().empty()) {
        return absl::InvalidArgumentError("order_by: RELEVANCE needs a query");
      }
      break;
    case v1::SEARCH_ORDER_PUBLISH_DATE_DESC: order = SearchOrder::kPublishDate; break;
    case v1::SEARCH_ORDER_EFFECTIVE_DATE_DESC: order = SearchOrder::kEffectiveDate; break;
    case v1::SEARCH_ORDER_UPDATE_TIME_DESC: order = SearchOrder::kUpdateTime; break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("order_by: unknown value ", static_cast<int>(r.order_by())));
  }
  ASSIGN_OR_RETURN(int page_size, PageSize(r.page_size()));
  ASSIGN_OR_RETURN(SearchFilterSpec filter, ToFilterSpec(r));
  std::set<int> facet_fields;
  SearchQuery query;
  for (int i = 0; i < r.facets_size(); ++i) {
    if (r.facets(i).field() == v1::FACET_FIELD_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat("facets[", i, "].field: required"));
    }
    if (!facet_fields.insert(r.facets(i).field()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("facets[", i, "].field: requested twice"));
    }
    query.facets.push_back(r.facets(i).field());
  }
  const absl::Time now = options_.clock->Now();
  const std::string request_hash = HashWithoutToken(r);
  int offset = 0;
  if (!r.page_token().empty()) {
    ASSIGN_OR_RETURN(offset, ParsePageToken(r.page_token(), request_hash, now));
  }
  query.text = r.query();
  query.order = order;
  query.filter = std::move(filter);
  query.include_inactive = r.include_inactive();
  query.offset = offset;
  query.limit = page_size;
  query.max_hits_per_entry = std::max(0, r.max_hits_per_entry());
  query.regional = !r.filter().applicable_region().empty();
  query.passage_lift = FeedbackLift(NormalizeQuery(r.query()));
  // Similar questions' confirmed answers, by (entry, label), with how many confirmed each.
  const CurrentVoteSet vote_set =
      r.query().empty() ? CurrentVoteSet() : CurrentVotes(r.query(), now);
  const VotesByPassage& votes = vote_set.passages;
  for (const auto& [passage, v] : votes) query.passage_votes[passage] = v.weight;
  query.entry_votes = vote_set.entries;
  query.vote_confidence = vote_set.confidence;
  absl::StatusOr<SearchResult> result = index_->index().Search(query);
  if (!result.ok()) {
    if (absl::IsInvalidArgument(result.status())) {
      return absl::InvalidArgumentError(absl::StrCat("query: ", result.status().message()));
    }
    return result.status();
  }
  response->set_search_id(NewId("s-"));
  response->set_total_size(result->total_passages);
  response->set_total_size_is_estimate(result->total_is_estimate);
  response->set_total_entries(result->total_entries);
  for (const std::string& term : result->query_terms) response->add_query_terms(term);
  if (offset + static_cast<int64_t>(result->hits.size()) < result->total_passages) {
    response->set_next_page_token(MakePageToken(offset + page_size, request_hash, now));
  }
  const int max_links = r.max_links_per_group() > 0 ? r.max_links_per_group()
                                                     : kDefaultLinksPerGroup;
  for (const PassageHit& h : result->hits) {
    std::shared_ptr<const v1::Entry> entry = Head(h.entry_id);
    if (entry == nullptr) continue;  // Deleted between search and read.
    v1::SearchHit* hit = response->add_hits();
    hit->set_entry_id(h.entry_id);
    hit->set_entry_version(entry->version());
    hit->set_kind(entry->kind());
    hit->set_title(entry->title());
    for (const auto& [start, end] : h.title_highlights) {
      v1::TextRange* range = hit->add_title_highlights();
      range->set_start(start);
      range->set_end(end);
    }
    hit->set_passage_label(h.passage_label);
    hit->set_passage_ordinal(h.passage_ordinal);
    if (!h.heading.empty()) hit->add_passage_headings(h.heading);
    v1::Snippet* snippet = hit->mutable_snippet();
    snippet->set_text(h.snippet);
    for (const auto& [start, end] : h.highlights) {
      v1::TextRange* range = snippet->add_highlights();
      range->set_start(start);
      range->set_end(end);
    }
    snippet->set_starts_mid_passage(h.starts_mid_passage);
    snippet->set_ends_mid_passage(h.ends_mid_passage);
    hit->set_score(h.score);
    if (auto v = votes.find({h.entry_id, h.passage_label});
        v != votes.end() && v->second.weight > 0 && v->second.confirmations > 0) {
      // Why it ranks where it does, in the agents' words, so that they can trust it.
      hit->set_similar_confirmations(v->second.confirmations);
      hit->set_ranking_note(absl::StrCat(v->second.confirmations, " 个相似问题确认过此条款"));
    }
    hit->set_status(entry->status());
    hit->set_inactive(EntryInactive(*entry));
    hit->set_superseded_by(entry->superseded_by());
    hit->set_region(entry->region());
    hit->set_category_path(entry->category_path());
    if (entry->has_policy_document()) {
      const v1::PolicyDocument& p = entry->policy_document();
      hit->set_doc_number(p.doc_number());
      *hit->mutable_issuing_agencies() = p.issuing_agencies();
      hit->set_level(p.level());
      hit->set_publish_date(p.publish_date());
      hit->set_effective_date(p.effective_date());
    }
    if (entry->has_qa_pair() && !entry->qa_pair().source_document_id().empty()) {
      ASSIGN_OR_RETURN(v1::EntryLink source,
                       LinkTo(v1::LINK_RELATION_BASIS, entry->qa_pair().source_document_id()));
      source.set_target_passage_label(entry->qa_pair().source_passage_label());
      *hit->mutable_answer_source() = std::move(source);
    }
    if (entry->has_service_guide()) {
      hit->set_online_service_url(entry->service_guide().online_service_url());
    }
    *hit->mutable_sources() = entry->sources();
    RETURN_IF_ERROR(FillLookAskDo(*entry, max_links, hit->mutable_look_ask_do()));
    if (SeesCitizenFeedback(principal.role)) {
      *hit->mutable_citizen_feedback() = citizen_feedback_->Counts(h.entry_id);
    }
  }
  for (const auto& [field, values] : result->facets) {
    v1::Facet* facet = response->add_facets();
    facet->set_field(field);
    int max_values = 0;
    for (const v1::FacetRequest& fr : r.facets()) {
      if (fr.field() == field) max_values = fr.max_values();
    }
    for (const auto& [value, count] : values) {
      if (max_values > 0 && facet->values_size() >= max_values) break;
      v1::FacetValue* out = facet->add_values();
      out->set_value(value);
      out->set_count(count);
    }
  }
  if (!r.exclude_from_statistics() && offset == 0 && !r.query().empty()) {
    if (result->total_passages == 0) {
      // Written by a worker: a search runs on gRPC's own thread and must neither wait for a
      // synced write nor fail with the disk. The gap is the knowledge base's bookkeeping, not
      // a write the agent asked for; a crash in between loses this one occurrence.
      workers_->Schedule([this, query = r.query(), principal = principal.name,
                          search = response->search_id(), now = options_.clock->Now()] {
        absl::Status noted = NoteGap(query, principal, v1::GAP_REASON_NO_HITS, search, "", "", now);
        LOG_IF(WARNING, !noted.ok()) << "the gap of search " << search << " was not recorded: "
                                     << noted;
      });
    } else {
      NoteQuery(r.query(), principal.name);
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Feedback and gaps
// ---------------------------------------------------------------------------------------------

namespace {

// Gap records: "g/<normalized question>" holds what belongs to the question (its id, first
// sighting, resolution); "o/<normalized question>\n<occurrence>" one occurrence each, so that
// any window can be counted.
std::string GapKey(const std::string& normalized) { return "g/" + normalized; }
std::string OccurrencePrefix(const std::string& normalized) { return "o/" + normalized + "\n"; }

// The stronger reason names an occurrence: an agent's report, then no hits, then unhelpful hits.
int ReasonStrength(v1::GapReason reason) {
  switch (reason) {
    case v1::GAP_REASON_REPORTED_NO_ANSWER: return 3;
    case v1::GAP_REASON_NO_HITS: return 2;
    case v1::GAP_REASON_ONLY_UNHELPFUL: return 1;
    default: return 0;
  }
}

// How far agents' judgements move a passage for a question (SearchQuery::passage_lift):
// half a point per doubling of confirmations, less per doubling of "not helpful". One
// confirmation adds half the best score of the search, three put the passage at the top; one
// "not helpful" alone scales it by e^-0.5 = 0.61.
double FeedbackLiftOf(int answered, int not_helpful) {
  return 0.5 * std::log2((1.0 + std::max(0, answered)) / (1.0 + std::max(0, not_helpful)));
}

}  // namespace

void KnowledgeBaseService::CountFeedback(const v1::RecordFeedbackRequest& r, int delta,
                                         const std::string& key, absl::Time time) {
  if (r.entry_id().empty() || r.type() == v1::FEEDBACK_TYPE_NO_ANSWER) return;
  if (!key.empty()) {
    if (delta > 0) {
      // A question that cannot be analysed (punctuation only) is simply not remembered.
      answer_memory_
          ->Add(RememberedAnswer{key, r.query(), r.entry_id(), r.passage_label(),
                                 r.type() == v1::FEEDBACK_TYPE_ANSWERED ? 1 : -1, time})
          .IgnoreError();
    } else {
      answer_memory_->Remove(key);
    }
  }
  const std::string normalized = NormalizeQuery(r.query());
  absl::MutexLock lock(&feedback_mu_);
  FeedbackTally& tally = feedback_[normalized][{r.entry_id(), r.passage_ordinal()}];
  if (r.type() == v1::FEEDBACK_TYPE_ANSWERED) tally.answered += delta;
  if (r.type() == v1::FEEDBACK_TYPE_NOT_HELPFUL) tally.not_helpful += delta;
}

std::shared_ptr<const v1::Entry> KnowledgeBaseService::InForceSuccessor(
    const std::string& entry_id) const {
  // Follow the supersede links to the version in force (a chain, bounded against loops).
  std::shared_ptr<const v1::Entry> entry = Head(entry_id);
  for (int hops = 0; entry != nullptr && EntryInactive(*entry) && hops < 8; ++hops) {
    entry = entry->superseded_by().empty() ? nullptr : Head(entry->superseded_by());
  }
  if (entry == nullptr || EntryInactive(*entry)) return nullptr;  // Nothing in force.
  return entry;
}

KnowledgeBaseService::CurrentVoteSet KnowledgeBaseService::CurrentVotes(const std::string& query,
                                                                        absl::Time now) const {
  CurrentVoteSet current;
  SimilarQuestionVotes votes = answer_memory_->Votes(query, now);
  current.confidence = votes.confidence;
  for (PassageVote v : votes.passages) {
    std::shared_ptr<const v1::Entry> entry = InForceSuccessor(v.entry_id);
    if (entry == nullptr) continue;
    // The same clause label in the successor: the search applies a vote only where the entry
    // has a passage of that label, so a clause that no longer exists gets none.
    v.entry_id = entry->id();
    PassageVote& merged = current.passages[{v.entry_id, v.passage_label}];
    merged.entry_id = v.entry_id;
    merged.passage_label = v.passage_label;
    merged.weight += v.weight;
    merged.confirmations += v.confirmations;
    merged.rejections += v.rejections;
  }
  for (const EntryVote& v : votes.entries) {
    if (std::shared_ptr<const v1::Entry> entry = InForceSuccessor(v.entry_id)) {
      current.entries[entry->id()] += v.weight;
    }
  }
  return current;
}

std::map<std::pair<std::string, int>, double> KnowledgeBaseService::FeedbackLift(
    const std::string& normalized_query) const {
  std::map<std::pair<std::string, int>, double> out;
  absl::MutexLock lock(&feedback_mu_);
  auto it = feedback_.find(normalized_query);
  if (it == feedback_.end()) return out;
  for (const auto& [passage, tally] : it->second) {
    if (tally.answered == 0 && tally.not_helpful == 0) continue;
    out[passage] = FeedbackLiftOf(tally.answered, tally.not_helpful);
  }
  return out;
}

absl::Status KnowledgeBaseService::NoteGap(const std::string& query, const std::string& principal,
                                           v1::GapReason reason, const std::string& occurrence,
                                           const std::string& entry_id,
                                           const std::string& passage_label, absl::Time now) {
  const std::string normalized = NormalizeQuery(query);
  if (normalized.empty()) return absl::OkStatus();
  absl::MutexLock lock(&gaps_mu_);
  rocksdb::ColumnFamilyHandle* family = store_->Family(kGapsFamily);
  ASSIGN_OR_RETURN(std::optional<std::string> stored, store_->Get(family, GapKey(normalized)));
  v1::Gap gap;
  if (stored.has_value() && !gap.ParseFromString(*stored)) {
    return absl::DataLossError(absl::StrCat("gap '", normalized, "' is corrupt"));
  }
  // Occurrences may be written out of order (a search's gap is written later, by a worker):
  // the first-seen time is the earliest, and only an occurrence after the gap was resolved
  // reopens it.
  if (!stored.has_value()) {
    gap.set_id(Sha256Hex(normalized).substr(0, 16));
    gap.set_normalized_question(normalized);
    SetTime(now, gap.mutable_first_seen_time());
  } else if (now < FromProtoTime(gap.first_seen_time())) {
    SetTime(now, gap.mutable_first_seen_time());
  }
  if (!gap.resolved() || now > FromProtoTime(gap.resolve_time())) {
    // A new occurrence after an answer was confirmed: the answer did not settle it after all.
    gap.set_resolved(false);
    gap.clear_resolve_time();
    gap.clear_resolved_by_entry_id();
  }

  const std::string key = OccurrencePrefix(normalized) + occurrence;
  ASSIGN_OR_RETURN(std::optional<std::string> seen, store_->Get(family, key));
  internal::GapOccurrence record;
  if (seen.has_value()) {
    if (!record.ParseFromString(*seen)) {
      return absl::DataLossError(absl::StrCat("gap occurrence '", key, "' is corrupt"));
    }
    if (ReasonStrength(reason) > ReasonStrength(record.reason())) record.set_reason(reason);
  } else {
    SetTime(now, record.mutable_time());
    record.set_principal(principal);
    record.set_query(query);
    record.set_reason(reason);
  }
  if (reason == v1::GAP_REASON_ONLY_UNHELPFUL) {
    bool known = false;
    for (const internal::UnhelpfulPassage& u : record.unhelpful()) {
      known |= u.entry_id() == entry_id && u.passage_label() == passage_label;
    }
    if (!known) {
      internal::UnhelpfulPassage* u = record.add_unhelpful();
      u->set_entry_id(entry_id);
      u->set_passage_label(passage_label);
    }
  }
  rocksdb::WriteBatch batch;
  batch.Put(family, GapKey(normalized), gap.SerializeAsString());
  batch.Put(family, key, record.SerializeAsString());
  return store_->Write(&batch);
}

absl::Status KnowledgeBaseService::ResolveGap(const std::string& query,
                                              const std::string& occurrence,
                                              const std::string& entry_id) {
  const std::string normalized = NormalizeQuery(query);
  if (normalized.empty()) return absl::OkStatus();
  absl::MutexLock lock(&gaps_mu_);
  rocksdb::ColumnFamilyHandle* family = store_->Family(kGapsFamily);
  ASSIGN_OR_RETURN(std::optional<std::string> stored, store_->Get(family, GapKey(normalized)));
  if (!stored.has_value()) return absl::OkStatus();  // Never a gap: nothing to resolve.
  v1::Gap gap;
  if (!gap.ParseFromString(*stored)) {
    return absl::DataLossError(absl::StrCat("gap '", normalized, "' is corrupt"));
  }
  rocksdb::WriteBatch batch;
  // The search itself had an answer after all, so it no longer counts as "only unhelpful";
  // a search that found nothing or was reported stays what it was.
  const std::string key = OccurrencePrefix(normalized) + occurrence;
  ASSIGN_OR_RETURN(std::optional<std::string> seen, store_->Get(family, key));
  internal::GapOccurrence record;
  if (seen.has_value() && record.ParseFromString(*seen) &&
      record.reason() == v1::GAP_REASON_ONLY_UNHELPFUL) {
    batch.Delete(family, key);
  }
  gap.set_resolved(true);
  SetTime(options_.clock->Now(), gap.mutable_resolve_time());
  gap.set_resolved_by_entry_id(entry_id);
  batch.Put(family, GapKey(normalized), gap.SerializeAsString());
  return store_->Write(&batch);
}

grpc::ServerUnaryReactor* KnowledgeBaseService::RecordFeedback(
    grpc::CallbackServerContext* context, const v1::RecordFeedbackRequest* request,
    v1::RecordFeedbackResponse* response) {
  return ServeOnPool(context, *workers_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal principal,
                     AuthenticateAndAuthorize(*tokens_, *context,
                                              {Role::kAgent, Role::kReviewer, Role::kEditor}, *request));
    const v1::RecordFeedbackRequest& r = *request;
    if (r.query().empty()) return absl::InvalidArgumentError("query: required");
    if (CodePointCount(r.query()) > 256) {
      return absl::InvalidArgumentError("query: longer than 256 code points");
    }
    if (r.type() == v1::FEEDBACK_TYPE_UNSPECIFIED) {
      return absl::InvalidArgumentError("type: required");
    }
    if (r.type() == v1::FEEDBACK_TYPE_NO_ANSWER && !r.entry_id().empty()) {
      return absl::InvalidArgumentError("entry_id: must be empty for NO_ANSWER");
    }
    if (r.type() != v1::FEEDBACK_TYPE_NO_ANSWER && r.entry_id().empty()) {
      return absl::InvalidArgumentError("entry_id: required for ANSWERED and NOT_HELPFUL");
    }
    if (r.passage_ordinal() < 0) {
      return absl::InvalidArgumentError("passage_ordinal: must not be negative");
    }
    if (CodePointCount(r.comment()) > 1000) {
      return absl::InvalidArgumentError("comment: longer than 1,000 code points");
    }
    return Mutate("feedback", r, response,
                  [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
                    return DoFeedback(principal, r, response);
                  });
  });
}

absl::Status KnowledgeBaseService::DoFeedback(const Principal& principal,
                                              const v1::RecordFeedbackRequest& r,
                                              v1::RecordFeedbackResponse* response) {
  if (!r.entry_id().empty()) {
    ASSIGN_OR_RETURN(std::optional<v1::Entry> entry, LoadEntry(r.entry_id()));
    if (!entry.has_value()) {
      return absl::NotFoundError(absl::StrCat("entry_id: no entry '", r.entry_id(), "'"));
    }
  }
  // The latest judgement of one principal on one passage of one search wins.
  const std::string key = absl::StrCat("f/", r.search_id(), "\n", principal.name, "\n",
                                       r.entry_id(), "\n", r.passage_label());
  rocksdb::ColumnFamilyHandle* family = store_->Family(kGapsFamily);
  ASSIGN_OR_RETURN(std::optional<std::string> previous, store_->Get(family, key));
  const absl::Time now = options_.clock->Now();
  {
    // The judgement and when it was given, in one synced write.
    rocksdb::WriteBatch batch;
    batch.Put(family, key, r.SerializeAsString());
    batch.Put(family, absl::StrCat("t", key), absl::StrCat(absl::ToUnixMicros(now)));
    RETURN_IF_ERROR(store_->Write(&batch));
  }
  if (previous.has_value()) {
    v1::RecordFeedbackRequest replaced;
    if (replaced.ParseFromString(*previous)) CountFeedback(replaced, -1, key);
  }
  CountFeedback(r, +1, key, now);
  const std::string feedback_id = Sha256Hex(key).substr(0, 16);
  // One search is one occurrence; feedback without a search id stands for its own.
  const std::string occurrence = r.search_id().empty() ? "f:" + feedback_id : r.search_id();
  switch (r.type()) {
    case v1::FEEDBACK_TYPE_NO_ANSWER:
      RETURN_IF_ERROR(NoteGap(r.query(), principal.name, v1::GAP_REASON_REPORTED_NO_ANSWER,
                              occurrence, "", "", options_.clock->Now()));
      break;
    case v1::FEEDBACK_TYPE_NOT_HELPFUL: {
      // A search in which some hit was confirmed is not a gap, whatever else was unhelpful.
      bool answered = false;
      if (!r.search_id().empty()) {
        RETURN_IF_ERROR(store_->ScanPrefix(
            family, absl::StrCat("f/", r.search_id(), "\n"),
            [&](absl::string_view, absl::string_view value) {
              v1::RecordFeedbackRequest other;
              answered |= other.ParseFromString(std::string(value)) &&
                          other.type() == v1::FEEDBACK_TYPE_ANSWERED;
              return !answered;
            }));
      }
      if (!answered) {
        RETURN_IF_ERROR(NoteGap(r.query(), principal.name, v1::GAP_REASON_ONLY_UNHELPFUL,
                                occurrence, r.entry_id(), r.passage_label(),
                                options_.clock->Now()));
      }
      break;
    }
    case v1::FEEDBACK_TYPE_ANSWERED:
      RETURN_IF_ERROR(ResolveGap(r.query(), occurrence, r.entry_id()));
      // Enough similar questions answered from one passage make a draft Q&A pair.
      RETURN_IF_ERROR(ProposeDraft(r.entry_id(), r.passage_label()));
      break;
    default: break;
  }
  response->set_feedback_id(feedback_id);
  SetTime(options_.clock->Now(), response->mutable_record_time());
  response->set_replaced_previous(previous.has_value());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Gap>> KnowledgeBaseService::CollectGaps(absl::Time start,
                                                                        absl::Time end) const {
  rocksdb::ColumnFamilyHandle* family = store_->Family(kGapsFamily);
  struct Tally {
    v1::Gap gap;
    absl::Time last_seen = absl::InfinitePast();
    std::map<std::string, int64_t> wordings;
    std::set<std::string> principals;
    std::map<std::pair<std::string, std::string>, int64_t> unhelpful;
  };
  std::map<std::string, Tally> tallies;
  absl::Status parse_error;
  RETURN_IF_ERROR(store_->ScanPrefix(
      family, "o/", [&](absl::string_view key, absl::string_view value) {
        const size_t newline = key.find('\n');
        internal::GapOccurrence o;
        if (newline == absl::string_view::npos || !o.ParseFromString(std::string(value))) {
          parse_error = absl::DataLossError(absl::StrCat("gap occurrence '", key, "' is corrupt"));
          return false;
        }
        Tally& t = tallies[std::string(key.substr(2, newline - 2))];
        const absl::Time time = FromProtoTime(o.time());
        t.last_seen = std::max(t.last_seen, time);
        if (time < start || time >= end) return true;
        t.gap.set_count(t.gap.count() + 1);
        switch (o.reason()) {
          case v1::GAP_REASON_NO_HITS: t.gap.set_no_hit_count(t.gap.no_hit_count() + 1); break;
          case v1::GAP_REASON_ONLY_UNHELPFUL:
            t.gap.set_unhelpful_count(t.gap.unhelpful_count() + 1);
            break;
          case v1::GAP_REASON_REPORTED_NO_ANSWER:
            t.gap.set_reported_count(t.gap.reported_count() + 1);
            break;
          default: break;
        }
        ++t.wordings[o.query()];
        t.principals.insert(o.principal());
        for (const internal::UnhelpfulPassage& u : o.unhelpful()) {
          ++t.unhelpful[{u.entry_id(), u.passage_label()}];
        }
        return true;
      }));
  RETURN_IF_ERROR(parse_error);
  std::vector<v1::Gap> out;
  for (auto& [normalized, t] : tallies) {
    if (t.gap.count() == 0) continue;  // Nothing in the window.
    ASSIGN_OR_RETURN(std::optional<std::string> stored, store_->Get(family, GapKey(normalized)));
    v1::Gap summary;
    if (!stored.has_value() || !summary.ParseFromString(*stored)) {
      return absl::DataLossError(absl::StrCat("gap '", normalized, "' is missing or corrupt"));
    }
    v1::Gap& gap = t.gap;
    gap.set_id(summary.id());
    gap.set_normalized_question(normalized);
    *gap.mutable_first_seen_time() = summary.first_seen_time();
    SetTime(t.last_seen, gap.mutable_last_seen_time());
    gap.set_resolved(summary.resolved());
    if (summary.resolved()) {
      *gap.mutable_resolve_time() = summary.resolve_time();
      gap.set_resolved_by_entry_id(summary.resolved_by_entry_id());
    }
    gap.set_principal_count(static_cast<int64_t>(t.principals.size()));
    // The reason with the most occurrences; on a tie, the stronger.
    std::vector<std::pair<int64_t, v1::GapReason>> reasons = {
        {gap.reported_count(), v1::GAP_REASON_REPORTED_NO_ANSWER},
        {gap.no_hit_count(), v1::GAP_REASON_NO_HITS},
        {gap.unhelpful_count(), v1::GAP_REASON_ONLY_UNHELPFUL}};
    gap.set_reason(std::max_element(reasons.begin(), reasons.end(),
                                    [](const auto& a, const auto& b) {
                                      return a.first != b.first
                                                 ? a.first < b.first
                                                 : ReasonStrength(a.second) <
                                                       ReasonStrength(b.second);
                                    })
                       ->second);
    std::vector<std::pair<int64_t, std::string>> wordings;
    for (const auto& [text, n] : t.wordings) wordings.emplace_back(n, text);
    std::sort(wordings.begin(), wordings.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    gap.set_question(wordings.front().second);
    for (size_t i = 1; i < wordings.size() && gap.sample_queries_size() < 5; ++i) {
      gap.add_sample_queries(wordings[i].second);
    }
    std::vector<std::pair<int64_t, std::pair<std::string, std::string>>> unhelpful;
    for (const auto& [passage, n] : t.unhelpful) unhelpful.emplace_back(n, passage);
    std::sort(unhelpful.begin(), unhelpful.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    for (size_t i = 0; i < unhelpful.size() && i < 5; ++i) {
      v1::UnhelpfulHit* hit = gap.add_unhelpful_hits();
      hit->set_entry_id(unhelpful[i].second.first);
      hit->set_passage_label(unhelpful[i].second.second);
      hit->set_count(unhelpful[i].first);
      if (std::shared_ptr<const v1::Entry> entry = Head(hit->entry_id())) {
        hit->set_title(entry->title());
      }
    }
    out.push_back(std::move(gap));
  }
  return out;
}

grpc::ServerUnaryReactor* KnowledgeBaseService::ListGaps(grpc::CallbackServerContext* context,
                                                         const v1::ListGapsRequest* request,
                                                         v1::ListGapsResponse* response) {
  return ServeOnPool(context, *workers_, [=]() -> absl::Status {
    RETURN_IF_ERROR(AuthenticateAndAuthorize(*tokens_, *context,
                                             {Role::kEditor, Role::kSupervisor}, *request)
                        .status());
    const v1::ListGapsRequest& r = *request;
    ASSIGN_OR_RETURN(int page_size, PageSize(r.page_size()));
    if (r.min_count() < 0) return absl::InvalidArgumentError("min_count: must not be negative");
    const absl::Time now = options_.clock->Now();
    // Unset: up to and including this instant (end_time itself is exclusive).
    const absl::Time end =
        r.has_end_time() ? FromProtoTime(r.end_time()) : now + absl::Nanoseconds(1);
    const absl::Time start =
        r.has_start_time() ? FromProtoTime(r.start_time()) : end - absl::Hours(24 * 30);
    if (start > end) return absl::InvalidArgumentError("start_time: after end_time");
    const std::string request_hash = HashWithoutToken(r);
    int offset = 0;
    if (!r.page_token().empty()) {
      ASSIGN_OR_RETURN(offset, ParsePageToken(r.page_token(), request_hash, now));
    }
    ASSIGN_OR_RETURN(std::vector<v1::Gap> all, CollectGaps(start, end));
    const int64_t min_count = std::max<int64_t>(1, r.min_count());
    std::vector<v1::Gap> gaps;
    for (v1::Gap& gap : all) {
      if (gap.count() < min_count) continue;
      if (gap.resolved() && !r.include_resolved()) continue;
      if (!r.reasons().empty() &&
          std::find(r.reasons().begin(), r.reasons().end(), gap.reason()) == r.reasons().end()) {
        continue;
      }
      gaps.push_back(std::move(gap));
    }
    const bool by_count = r.order_by() == v1::GAP_ORDER_MOST_FREQUENT_FIRST;
    std::sort(gaps.begin(), gaps.end(), [by_count](const v1::Gap& a, const v1::Gap& b) {
      const absl::Time ta = FromProtoTime(a.last_seen_time());
      const absl::Time tb = FromProtoTime(b.last_seen_time());
      if (by_count && a.count() != b.count()) return a.count() > b.count();
      if (ta != tb) return ta > tb;
      return a.id() < b.id();
    });
    response->set_total_size(static_cast<int64_t>(gaps.size()));
    for (int i = offset; i < static_cast<int>(gaps.size()) && i < offset + page_size; ++i) {
      *response->add_gaps() = std::move(gaps[i]);
    }
    if (offset + page_size < static_cast<int>(gaps.size())) {
      response->set_next_page_token(MakePageToken(offset + page_size, request_hash, now));
    }
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------------------------
// Stats
// ---------------------------------------------------------------------------------------------

grpc::ServerUnaryReactor* KnowledgeBaseService::Stats(grpc::CallbackServerContext* context,
                                                      const v1::StatsRequest* request,
                                                      v1::StatsResponse* response) {
  return ServeOnPool(context, *workers_, [=]() -> absl::Status {
    RETURN_IF_ERROR(AuthenticateAndAuthorize(*tokens_, *context,
                                             {Role::kEditor, Role::kSupervisor}, *request)
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
        store_->Family(kSourcesFamily), "stats\n",
        [&](absl::string_view, absl::string_view value) {
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
    response->set_open_gaps(std::count_if(gaps.begin(), gaps.end(),
                                          [](const v1::Gap& g) { return !g.resolved(); }));
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
