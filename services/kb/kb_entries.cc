// The entries' life cycle: reading one, adding or replacing it, deleting it, and changing its
// status (now or on a date), each as one durable, idempotent mutation.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/unary_call.h"
#include "services/kb/internal/entry_rules.h"
#include "services/kb/internal/idempotent_mutation.h"
#include "services/kb/kb_service.h"
#include "services/kb/public_scope.h"

namespace hotline::kb {

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

grpc::ServerUnaryReactor* KnowledgeBaseService::UpsertEntry(grpc::CallbackServerContext* context,
                                                            const v1::UpsertEntryRequest* request,
                                                            v1::UpsertEntryResponse* response) {
  return ServeOnPool(context, *workers_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal principal,
                     AuthenticateAndAuthorize(*tokens_, *context, kEditors, *request));
    RETURN_IF_ERROR(ValidateUpsert(*request));
    return Mutate("upsert", *request, response, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
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
    StartFirstVersion(principal.name, now, &entry);
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
        return absl::InvalidArgumentError(
            absl::StrCat("effective_date: required for ", v1::EntryStatus_Name(r.status())));
      }
      RETURN_IF_ERROR(CheckDate(r.effective_date(), "effective_date"));
    }
    if (!r.superseded_by().empty() && r.superseded_by() == r.entry_id()) {
      return absl::InvalidArgumentError("superseded_by: equals entry_id");
    }
    if (r.expected_version() <= 0) {
      return absl::InvalidArgumentError("expected_version: must be positive");
    }
    return Mutate("status", r, response, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
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

}  // namespace hotline::kb
