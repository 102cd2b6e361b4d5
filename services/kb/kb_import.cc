// Import: the ingestion pipeline (clean, metadata, de-duplicate, classify, tag) run on each
// item of a client stream, with a per-item outcome.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/grpc_status.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "services/kb/ingest/cleaner.h"
#include "services/kb/ingest/metadata.h"
#include "services/kb/internal/entry_rules.h"
#include "services/kb/kb_service.h"

namespace hotline::kb {

namespace {

constexpr int kMaxImportItems = 50000;

ingest::SourceFormat ToSourceFormat(v1::ContentFormat format) {
  switch (format) {
    case v1::CONTENT_FORMAT_HTML:
      return ingest::SourceFormat::kHtml;
    case v1::CONTENT_FORMAT_MARKDOWN:
      return ingest::SourceFormat::kMarkdown;
    default:
      return ingest::SourceFormat::kPlainText;
  }
}

// What an import compares to decide UNCHANGED: the entry as the source gave it, before any
// server-maintained field was set.
std::string ContentSignature(const v1::ImportItem& item) {
  return Sha256Hex(item.SerializeAsString()).substr(0, 32);
}

void CountOutcome(const v1::ImportItemResult& r, v1::ImportTotals* t) {
  t->set_received(t->received() + 1);
  switch (r.outcome()) {
    case v1::IMPORT_OUTCOME_CREATED:
      t->set_created(t->created() + 1);
      break;
    case v1::IMPORT_OUTCOME_UPDATED:
      t->set_updated(t->updated() + 1);
      break;
    case v1::IMPORT_OUTCOME_UNCHANGED:
      t->set_unchanged(t->unchanged() + 1);
      break;
    case v1::IMPORT_OUTCOME_DUPLICATE:
      t->set_duplicates(t->duplicates() + 1);
      break;
    case v1::IMPORT_OUTCOME_SUPERSEDED:
      t->set_superseded(t->superseded() + 1);
      break;
    case v1::IMPORT_OUTCOME_CREATED_SUPERSEDED:
      t->set_created_superseded(t->created_superseded() + 1);
      break;
    case v1::IMPORT_OUTCOME_REJECTED:
      t->set_rejected(t->rejected() + 1);
      break;
    default:
      break;
  }
}

}  // namespace

// Reads the stream one message at a time; each item is processed on the worker pool (it
// writes synced to RocksDB), and the next read starts only when it is done, so items are
// committed in stream order and a slow store applies back-pressure to the client.
class ImportReactor final : public grpc::ServerReadReactor<v1::ImportRequest> {
 public:
  ImportReactor(KnowledgeBaseService* service, grpc::CallbackServerContext* context,
                v1::ImportResponse* response)
      : service_(service), context_(context), response_(response) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    service_->workers_->Schedule([this, ok] {
      if (!ok) {
        const absl::Status completed = Complete();
        // Released before the answer leaves: a retry that follows it must find the recorded
        // response, not a request still running.
        running_.reset();
        Finish(ToGrpcStatus(completed));
        return;
      }
      absl::Status handled = Handle();
      if (!handled.ok()) {
        running_.reset();
        Finish(ToGrpcStatus(handled));
        return;
      }
      request_.Clear();
      StartRead(&request_);
    });
  }

  void OnDone() override { delete this; }

 private:
  absl::Status Handle() {
    if (!principal_.has_value()) {
      // Authorisation comes before anything in the stream is looked at.
      ASSIGN_OR_RETURN(Principal principal,
                       AuthenticateAndAuthorize(*service_->tokens_, *context_, kEditors));
      principal_ = std::move(principal);
      if (!request_.has_header()) {
        return absl::InvalidArgumentError("header: the first message must be an ImportHeader");
      }
      return Start(request_.header());
    }
    if (request_.has_header()) {
      return absl::InvalidArgumentError("header: only the first message may be a header");
    }
    if (replay_) return absl::OkStatus();  // A completed import: its items are drained unread.
    if (received_ >= kMaxImportItems) {
      return absl::ResourceExhaustedError(
          absl::StrCat("more than ", kMaxImportItems,
                       " items in one stream; split the source into several "
                       "calls (items before the limit stay imported)"));
    }
    v1::ImportItemResult result;
    result.set_index(received_++);
    result.set_source_id(request_.item().source_id());
    {
      absl::MutexLock lock(&service_->write_mu_);
      RETURN_IF_ERROR(service_->ImportOne(*principal_, run_, request_.item(), &result));
    }
    CountOutcome(result, response_->mutable_totals());
    response_->mutable_totals()->set_passages(run_.passages);
    const bool exception =
        result.outcome() == v1::IMPORT_OUTCOME_REJECTED || !result.warnings().empty();
    if (!run_.header.only_exceptions() || exception) {
      *response_->add_results() = std::move(result);
    }
    return absl::OkStatus();
  }

  absl::Status Start(const v1::ImportHeader& header) {
    if (header.source_name().empty()) {
      return absl::InvalidArgumentError("header.source_name: required");
    }
    if (header.source_name().size() > 128 || header.source_name().find('\n') != std::string::npos) {
      return absl::InvalidArgumentError("header.source_name: at most 128 bytes on one line");
    }
    if (header.near_duplicate_threshold() < 0 || header.near_duplicate_threshold() > 1) {
      return absl::InvalidArgumentError("header.near_duplicate_threshold: must be in [0, 1]");
    }
    RETURN_IF_ERROR(CheckRequestId(header.request_id()));
    if (!header.request_id().empty()) {
      // The same import retried: ABORTED while the original runs, its response once it is done.
      absl::StatusOr<KnowledgeBaseService::RunningRequest> running =
          service_->BeginRequest("import", header.request_id());
      if (!running.ok()) return running.status();
      running_.emplace(*std::move(running));
      ASSIGN_OR_RETURN(
          std::optional<std::string> earlier,
          service_->store_->Get(service_->store_->Family(kRequestsFamily), RequestKey(header)));
      if (earlier.has_value()) {
        std::optional<RequestRecord> record = DecodeRequestRecord(*earlier);
        if (!record.has_value()) {
          return absl::DataLossError("the recorded response of this import is corrupt");
        }
        if (record->fingerprint != HeaderFingerprint(header)) {
          return absl::InvalidArgumentError(
              "header.request_id: already used for an import with a different header");
        }
        if (!response_->ParseFromString(record->response)) {
          return absl::DataLossError("the recorded response of this import is corrupt");
        }
        replay_ = true;
        return absl::OkStatus();
      }
    }
    run_.header = header;
    run_.import_id = NewId("imp-");
    response_->set_import_id(run_.import_id);
    response_->set_source_name(header.source_name());
    response_->set_dry_run(header.dry_run());
    SetTime(service_->options_.clock->Now(), response_->mutable_start_time());
    return absl::OkStatus();
  }

  absl::Status Complete() {
    if (!principal_.has_value()) {
      RETURN_IF_ERROR(AuthenticateAndAuthorize(*service_->tokens_, *context_, kEditors).status());
      return absl::InvalidArgumentError("header: the stream is empty; send an ImportHeader first");
    }
    if (replay_) return absl::OkStatus();
    SetTime(service_->options_.clock->Now(), response_->mutable_end_time());
    if (!run_.header.dry_run()) RETURN_IF_ERROR(service_->RecordImport(*response_));
    if (run_.header.request_id().empty()) return absl::OkStatus();
    return service_->store_->Put(
        service_->store_->Family(kRequestsFamily), RequestKey(run_.header),
        EncodeRequestRecord(service_->options_.clock->Now(), HeaderFingerprint(run_.header),
                            response_->SerializeAsString()));
  }

  static std::string RequestKey(const v1::ImportHeader& header) {
    return absl::StrCat("import/", header.request_id());
  }
  static std::string HeaderFingerprint(const v1::ImportHeader& header) {
    return Sha256Hex(header.SerializeAsString());
  }

  KnowledgeBaseService* service_;
  grpc::CallbackServerContext* context_;
  v1::ImportResponse* response_;
  v1::ImportRequest request_;
  std::optional<Principal> principal_;
  ImportRun run_;
  int received_ = 0;
  // Set while this stream holds its header's request_id.
  std::optional<KnowledgeBaseService::RunningRequest> running_;
  // The header's request_id names a completed import: its recorded response is the answer.
  bool replay_ = false;
};

grpc::ServerReadReactor<v1::ImportRequest>* KnowledgeBaseService::Import(
    grpc::CallbackServerContext* context, v1::ImportResponse* response) {
  return new ImportReactor(this, context, response);
}

absl::StatusOr<v1::ImportResponse> KnowledgeBaseService::ImportItems(
    const Principal& principal, const v1::ImportHeader& header,
    const std::vector<v1::ImportItem>& items) {
  v1::ImportResponse response;
  ImportRun run;
  run.header = header;
  run.import_id = NewId("imp-");
  response.set_import_id(run.import_id);
  response.set_source_name(header.source_name());
  SetTime(options_.clock->Now(), response.mutable_start_time());
  int index = 0;
  for (const v1::ImportItem& item : items) {
    v1::ImportItemResult* result = response.add_results();
    result->set_index(index++);
    result->set_source_id(item.source_id());
    {
      absl::MutexLock lock(&write_mu_);
      RETURN_IF_ERROR(ImportOne(principal, run, item, result));
    }
    CountOutcome(*result, response.mutable_totals());
    response.mutable_totals()->set_passages(run.passages);
  }
  SetTime(options_.clock->Now(), response.mutable_end_time());
  if (!header.dry_run()) RETURN_IF_ERROR(RecordImport(response));
  return response;
}

absl::Status KnowledgeBaseService::RecordImport(const v1::ImportResponse& response) {
  absl::MutexLock lock(&write_mu_);
  rocksdb::ColumnFamilyHandle* family = store_->Family(kSourcesFamily);
  const std::string key = "stats\n" + response.source_name();
  ASSIGN_OR_RETURN(std::optional<std::string> stored, store_->Get(family, key));
  v1::SourceStats stats;
  if (stored.has_value() && !stats.ParseFromString(*stored)) stats.Clear();
  stats.set_source_name(response.source_name());
  stats.set_import_count(stats.import_count() + 1);
  stats.set_last_import_id(response.import_id());
  *stats.mutable_last_import_time() = response.end_time();
  *stats.mutable_last_import_totals() = response.totals();
  return store_->Put(family, key, stats.SerializeAsString());
}

absl::StatusOr<bool> KnowledgeBaseService::HasEntries() const {
  bool any = false;
  RETURN_IF_ERROR(store_->ScanPrefix(store_->Family(kEntriesFamily), "",
                                     [&](absl::string_view, absl::string_view) {
                                       any = true;
                                       return false;
                                     }));
  return any;
}

absl::Status KnowledgeBaseService::ImportOne(const Principal& principal, ImportRun& run,
                                             const v1::ImportItem& item,
                                             v1::ImportItemResult* result) {
  auto reject = [result](v1::RejectionReason reason, absl::string_view field,
                         absl::string_view message) {
    result->set_outcome(v1::IMPORT_OUTCOME_REJECTED);
    result->set_rejection_reason(reason);
    result->set_rejected_field(std::string(field));
    result->set_message(std::string(message));
    return absl::OkStatus();
  };
  const v1::ImportHeader& header = run.header;
  if (item.source_id().empty()) {
    return reject(v1::REJECTION_REASON_MISSING_FIELD, "source_id", "source_id: required");
  }
  if (item.source_id().size() > 256) {
    return reject(v1::REJECTION_REASON_INVALID_FIELD, "source_id",
                  "source_id: longer than 256 characters");
  }
  if (!run.seen_source_ids.insert(item.source_id()).second) {
    return reject(v1::REJECTION_REASON_DUPLICATE_IN_STREAM, "source_id",
                  absl::StrCat("source_id: '", item.source_id(), "' already came in this stream"));
  }

  if (CodePointCount(item.content().text()) > kMaxRawContentCodePoints) {
    return reject(v1::REJECTION_REASON_TOO_LARGE, "content.text",
                  absl::StrCat("content.text: longer than ", kMaxRawContentCodePoints,
                               " code points; split the document"));
  }
  // Cleaning: the raw content to normalised text lines, in the format the item declares.
  v1::UpsertEntryRequest candidate;
  v1::Entry& entry = *candidate.mutable_entry();
  entry = item.entry();
  if (entry.region().empty()) entry.set_region(header.default_region());
  v1::ContentFormat format = item.content().format();
  if (format == v1::CONTENT_FORMAT_UNSPECIFIED) format = header.default_format();
  if (format == v1::CONTENT_FORMAT_UNSPECIFIED) format = v1::CONTENT_FORMAT_PLAIN_TEXT;
  if (!item.content().text().empty()) {
    absl::StatusOr<std::string> text =
        ingest::ToPlainText(item.content().text(), ToSourceFormat(format));
    if (!text.ok()) {
      return reject(v1::REJECTION_REASON_UNPARSABLE_CONTENT, "content.text",
                    absl::StrCat("content.text: ", text.status().message()));
    }
    candidate.mutable_raw_content()->set_format(v1::CONTENT_FORMAT_MARKDOWN);
    candidate.mutable_raw_content()->set_text(*std::move(text));
  }
  if (absl::Status url = CheckWebAddress(item.source_url(), "source_url"); !url.ok()) {
    return reject(v1::REJECTION_REASON_INVALID_FIELD, "source_url", std::string(url.message()));
  }
  // The same checks as UpsertEntry; the field is the part of the message before ':'.
  if (absl::Status valid = ValidateUpsert(candidate); !valid.ok()) {
    const std::string message(valid.message());
    const std::string field = message.substr(0, message.find(':'));
    const bool missing = absl::EndsWith(message, "required");
    return reject(missing ? v1::REJECTION_REASON_MISSING_FIELD : v1::REJECTION_REASON_INVALID_FIELD,
                  field, message);
  }
  if (absl::Status computed =
          ComputePassages(candidate.has_raw_content() ? &candidate.raw_content() : nullptr, &entry);
      !computed.ok()) {
    return reject(v1::REJECTION_REASON_UNPARSABLE_CONTENT, "content", computed.message());
  }
  std::string full_text;
  for (const v1::Passage& p : entry.passages()) absl::StrAppend(&full_text, p.text(), "\n");
  if (absl::StripAsciiWhitespace(full_text).empty()) {
    return reject(v1::REJECTION_REASON_EMPTY_CONTENT, "content",
                  "content: no text is left after cleaning");
  }

  // Metadata: what the source left out is taken from the text (文号, agencies, dates).
  if (entry.has_policy_document()) {
    ingest::DocumentMetadata meta = ingest::ExtractMetadata(entry.title(), full_text);
    v1::PolicyDocument* p = entry.mutable_policy_document();
    if (p->doc_number().empty()) {
      p->set_doc_number(meta.doc_number);
    } else if (auto number = ingest::ParseDocNumber(p->doc_number()); number.has_value()) {
      p->set_doc_number(number->Canonical());  // 湘政发[2023]5号 -> 湘政发〔2023〕5号
    }
    if (p->issuing_agencies().empty()) {
      for (const std::string& a : meta.agencies) p->add_issuing_agencies(a);
    }
    if (p->publish_date().empty()) p->set_publish_date(meta.publish_date);
    if (p->effective_date().empty()) p->set_effective_date(meta.effective_date);
    if (p->expiry_date().empty()) p->set_expiry_date(meta.expiry_date);
  }
  // Classification and tagging fill what the source did not give.
  if (entry.category_path().empty() && options_.classifier != nullptr) {
    absl::StatusOr<ingest::Classification> c =
        options_.classifier->Classify(entry.title(), full_text);
    if (c.ok()) entry.set_category_path(c->path);
  }
  if (entry.tags().empty() && options_.tagger != nullptr) {
    absl::StatusOr<std::vector<ingest::Tag>> tags =
        options_.tagger->Tags(absl::StrCat(entry.title(), "\n", full_text), 5);
    if (tags.ok()) {
      for (const ingest::Tag& t : *tags) entry.add_tags(t.word);
    }
  }

  const absl::Time now = options_.clock->Now();
  v1::SourceReference source;
  source.set_source_name(header.source_name());
  source.set_source_id(item.source_id());
  source.set_url(item.source_url());
  SetTime(now, source.mutable_import_time());
  source.set_import_id(run.import_id);
  source.set_content_format(format);
  const std::string signature = ContentSignature(item);
  const std::string source_key = absl::StrCat(header.source_name(), "\n", item.source_id());
  rocksdb::ColumnFamilyHandle* sources = store_->Family(kSourcesFamily);
  auto remember = [&](const std::string& id) -> absl::Status {
    if (header.dry_run()) return absl::OkStatus();
    return store_->Put(sources, source_key, absl::StrCat(id, "\n", signature));
  };
  auto finish = [&](const v1::Entry& e, v1::ImportOutcome outcome) {
    result->set_outcome(outcome);
    result->set_entry_id(e.id());
    result->set_entry_version(e.version());
    // ImportTotals.passages: the passages of the entries this import created or updated.
    if (outcome == v1::IMPORT_OUTCOME_CREATED || outcome == v1::IMPORT_OUTCOME_UPDATED ||
        outcome == v1::IMPORT_OUTCOME_SUPERSEDED ||
        outcome == v1::IMPORT_OUTCOME_CREATED_SUPERSEDED) {
      run.passages += e.passages_size();
    }
  };

  // Re-import of the same (source, source_id): unchanged, or an update of that entry.
  ASSIGN_OR_RETURN(std::optional<std::string> known, store_->Get(sources, source_key));
  if (known.has_value()) {
    const std::vector<std::string> parts = absl::StrSplit(*known, absl::MaxSplits('\n', 1));
    ASSIGN_OR_RETURN(std::optional<v1::Entry> existing, LoadEntry(parts[0]));
    if (existing.has_value()) {
      if (parts.size() == 2 && parts[1] == signature) {
        finish(*existing, v1::IMPORT_OUTCOME_UNCHANGED);
        return absl::OkStatus();
      }
      if (existing->kind() != entry.kind()) {
        return reject(v1::REJECTION_REASON_INVALID_FIELD, "entry.kind",
                      "entry.kind: differs from the entry imported earlier from this source_id");
      }
      // Content fields come from the source; life cycle, links and history stay the server's.
      v1::Entry updated = entry;
      updated.set_id(existing->id());
      updated.set_status(existing->status());
      updated.set_version(existing->version() + 1);
      *updated.mutable_create_time() = existing->create_time();
      updated.set_created_by(existing->created_by());
      *updated.mutable_status_history() = existing->status_history();
      updated.set_superseded_by(existing->superseded_by());
      *updated.mutable_supersedes() = existing->supersedes();
      *updated.mutable_merged_ids() = existing->merged_ids();
      *updated.mutable_sources() = existing->sources();
      *updated.mutable_links() = existing->links();
      SetTime(now, updated.mutable_update_time());
      updated.set_updated_by(principal.name);
      updated.set_inactive(IsInactive(updated.status()));
      if (!header.dry_run()) RETURN_IF_ERROR(SaveEntry(updated));
      RETURN_IF_ERROR(remember(updated.id()));
      finish(updated, v1::IMPORT_OUTCOME_UPDATED);
      return absl::OkStatus();
    }
    // The entry was deleted since: import the item afresh.
  }

  // A new item: its id, status and provenance.
  if (entry.id().empty()) {
    entry.set_id(NewId("kb-"));
  } else {
    ASSIGN_OR_RETURN(std::optional<v1::Entry> taken, LoadEntry(entry.id()));
    if (taken.has_value()) {
      return reject(v1::REJECTION_REASON_ID_CONFLICT, "entry.id",
                    absl::StrCat("entry.id: '", entry.id(),
                                 "' belongs to an entry from another source or an editor"));
    }
  }
  for (const v1::EntryLink& l : entry.links()) {
    ASSIGN_OR_RETURN(std::optional<v1::Entry> target, LoadEntry(l.target_id()));
    if (!target.has_value()) {
      return reject(v1::REJECTION_REASON_UNKNOWN_REFERENCE, "entry.links.target_id",
                    absl::StrCat("entry.links.target_id: no entry '", l.target_id(), "'"));
    }
  }
  if (entry.has_qa_pair() && !entry.qa_pair().source_document_id().empty()) {
    ASSIGN_OR_RETURN(std::optional<v1::Entry> target,
                     LoadEntry(entry.qa_pair().source_document_id()));
    if (!target.has_value() || !target->has_policy_document()) {
      return reject(v1::REJECTION_REASON_UNKNOWN_REFERENCE, "entry.qa_pair.source_document_id",
                    absl::StrCat("entry.qa_pair.source_document_id: no policy document '",
                                 entry.qa_pair().source_document_id(), "'"));
    }
  }
  if (entry.status() == v1::ENTRY_STATUS_UNSPECIFIED) {
    entry.set_status(InitialStatus(entry, *options_.clock));
  }
  StartFirstVersion(principal.name, now, &entry);
  SetTime(now, entry.mutable_update_time());
  entry.set_updated_by(principal.name);
  *entry.add_sources() = source;

  // De-duplication against the entries already there.
  ingest::DedupResult dedup;
  if (std::optional<ingest::DedupDocument> d = DedupInput(entry); d.has_value()) {
    absl::StatusOr<ingest::DedupResult> checked = dedup_->Check(*d);
    if (!checked.ok()) {
      return reject(v1::REJECTION_REASON_UNPARSABLE_CONTENT, "content", checked.status().message());
    }
    dedup = *checked;
  }
  const bool near = dedup.verdict == ingest::DedupVerdict::kNearDuplicate;
  const bool below_threshold = near && header.near_duplicate_threshold() > 0 &&
                               dedup.similarity < header.near_duplicate_threshold();
  if (dedup.verdict == ingest::DedupVerdict::kExactDuplicate || (near && !below_threshold)) {
    ASSIGN_OR_RETURN(std::optional<v1::Entry> original, LoadEntry(dedup.other_id));
    if (!original.has_value()) return absl::InternalError("dedup index names a missing entry");
    source.set_merged_duplicate(true);
    source.set_similarity(static_cast<float>(dedup.similarity));
    *original->add_sources() = source;
    const std::string& alias = item.entry().id();
    const bool new_alias = !alias.empty() && alias != original->id() &&
                           std::find(original->merged_ids().begin(), original->merged_ids().end(),
                                     alias) == original->merged_ids().end();
    if (new_alias) {
      original->add_merged_ids(alias);
      // GetEntry of the alias answers with the entry it was merged into.
      if (!header.dry_run())
        RETURN_IF_ERROR(store_->Put(sources, "alias\n" + alias, original->id()));
    }
    original->set_version(original->version() + 1);
    SetTime(now, original->mutable_update_time());
    if (!header.dry_run()) RETURN_IF_ERROR(SaveEntry(*original));
    RETURN_IF_ERROR(remember(original->id()));
    finish(*original, v1::IMPORT_OUTCOME_DUPLICATE);
    result->set_duplicate_of_id(original->id());
    result->set_similarity(static_cast<float>(dedup.similarity));
    return absl::OkStatus();
  }

  const bool versions = !header.skip_supersession_detection();
  std::optional<v1::Entry> other;
  if (versions && (dedup.verdict == ingest::DedupVerdict::kNewerVersion ||
                   dedup.verdict == ingest::DedupVerdict::kOlderVersion)) {
    ASSIGN_OR_RETURN(other, LoadEntry(dedup.other_id));
  }
  v1::ImportOutcome outcome = v1::IMPORT_OUTCOME_CREATED;
  if (other.has_value()) {
    v1::StatusChange change;
    change.set_to_status(v1::ENTRY_STATUS_AMENDED);
    change.set_reason(
        absl::StrCat("superseded by a newer version imported from ", header.source_name()));
    change.set_changed_by(principal.name);
    SetTime(now, change.mutable_change_time());
    v1::Entry* older = &*other;
    v1::Entry* newer = &entry;
    if (dedup.verdict == ingest::DedupVerdict::kOlderVersion) std::swap(older, newer);
    if (!IsInactive(older->status())) {
      change.set_from_status(older->status());
      change.set_superseded_by(newer->id());
      change.set_effective_date(newer->has_policy_document() &&
                                        !newer->policy_document().effective_date().empty()
                                    ? newer->policy_document().effective_date()
                                    : Today(*options_.clock));
      older->set_status(v1::ENTRY_STATUS_AMENDED);
      older->set_inactive(true);
      *older->add_status_history() = change;
    }
    older->set_superseded_by(newer->id());
    newer->add_supersedes(older->id());
    other->set_version(other->version() + 1);
    SetTime(now, other->mutable_update_time());
    if (!header.dry_run()) RETURN_IF_ERROR(SaveEntry(*other));
    if (dedup.verdict == ingest::DedupVerdict::kNewerVersion) {
      outcome = v1::IMPORT_OUTCOME_SUPERSEDED;
      result->add_superseded_entry_ids(other->id());
    } else {
      outcome = v1::IMPORT_OUTCOME_CREATED_SUPERSEDED;
      result->set_superseded_by_id(other->id());
    }
  }
  // Supersession the source states itself (the demo file does), once both entries exist;
  // whichever of the two comes second links them. Statuses are the source's.
  auto link_versions =
      [&](const std::string& newer_id, const std::string& older_id, bool entry_is_newer)
          ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<v1::Entry> stored,
                     LoadEntry(entry_is_newer ? older_id : newer_id));
    if (!stored.has_value()) return absl::OkStatus();
    v1::Entry& newer = entry_is_newer ? entry : *stored;
    v1::Entry& older = entry_is_newer ? *stored : entry;
    older.set_superseded_by(newer.id());
    if (std::find(newer.supersedes().begin(), newer.supersedes().end(), older.id()) ==
        newer.supersedes().end()) {
      newer.add_supersedes(older.id());
    }
    stored->set_version(stored->version() + 1);
    SetTime(now, stored->mutable_update_time());
    return header.dry_run() ? absl::OkStatus() : SaveEntry(*stored);
  };
  for (const std::string& older_id : item.entry().supersedes()) {
    if (older_id != entry.id()) RETURN_IF_ERROR(link_versions(entry.id(), older_id, true));
  }
  if (const std::string& newer_id = item.entry().superseded_by();
      !newer_id.empty() && newer_id != entry.id() && entry.superseded_by() != newer_id) {
    RETURN_IF_ERROR(link_versions(newer_id, entry.id(), false));
  }
  entry.set_inactive(IsInactive(entry.status()));
  if (!header.dry_run()) RETURN_IF_ERROR(SaveEntry(entry));
  RETURN_IF_ERROR(remember(entry.id()));
  finish(entry, outcome);
  if (header.dry_run()) result->clear_entry_id();
  return absl::OkStatus();
}

}  // namespace hotline::kb
