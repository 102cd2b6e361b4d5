#include "services/kb/public_scope.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace hotline::kb {
namespace {

constexpr v1::EntryKind kPublicKinds[] = {v1::ENTRY_KIND_POLICY_DOCUMENT, v1::ENTRY_KIND_QA_PAIR,
                                          v1::ENTRY_KIND_SERVICE_GUIDE};

absl::Status NarrowKinds(google::protobuf::RepeatedField<int>* kinds, absl::string_view field) {
  for (int i = 0; i < kinds->size(); ++i) {
    if (!IsPublicKind(static_cast<v1::EntryKind>(kinds->Get(i)))) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, "[", i, "]: ", v1::EntryKind_Name(static_cast<v1::EntryKind>(kinds->Get(i))),
          " is not public"));
    }
  }
  if (kinds->empty()) {
    for (v1::EntryKind kind : kPublicKinds) kinds->Add(kind);
  }
  return absl::OkStatus();
}

// Links to what the public may not open are left out, and editors' notes on links with them.
void ScrubLinks(google::protobuf::RepeatedPtrField<v1::EntryLink>* links) {
  links->erase(
      std::remove_if(links->begin(), links->end(),
                     [](const v1::EntryLink& link) { return !IsPublicKind(link.target_kind()); }),
      links->end());
  for (v1::EntryLink& link : *links) link.clear_note();
}

}  // namespace

bool IsPublicKind(v1::EntryKind kind) {
  return std::find(std::begin(kPublicKinds), std::end(kPublicKinds), kind) !=
         std::end(kPublicKinds);
}

absl::Status NarrowSearchForPublic(v1::SearchRequest* request) {
  if (request->include_inactive()) {
    return absl::InvalidArgumentError("include_inactive: not available in the public scope");
  }
  if (!request->ticket_id().empty()) {
    return absl::InvalidArgumentError("ticket_id: not available in the public scope");
  }
  if (!request->filter().statuses().empty()) {
    return absl::InvalidArgumentError("filter.statuses: not available in the public scope");
  }
  for (int i = 0; i < request->facets_size(); ++i) {
    if (request->facets(i).field() == v1::FACET_FIELD_STATUS) {
      return absl::InvalidArgumentError(
          absl::StrCat("facets[", i, "].field: not available in the public scope"));
    }
  }
  if (absl::Status s = NarrowKinds(request->mutable_filter()->mutable_kinds(), "filter.kinds");
      !s.ok()) {
    return s;
  }
  // Citizens' searches are not agents' work: no gaps, no frequent-query suggestions.
  request->set_exclude_from_statistics(true);
  return absl::OkStatus();
}

absl::Status NarrowSuggestForPublic(v1::SuggestRequest* request) {
  if (request->include_inactive()) {
    return absl::InvalidArgumentError("include_inactive: not available in the public scope");
  }
  return NarrowKinds(request->mutable_kinds(), "kinds");
}

void ScrubForPublic(v1::Entry* entry) {
  entry->clear_version();
  entry->clear_sources();
  entry->clear_merged_ids();
  entry->clear_pending_status_change();
  entry->clear_created_by();
  entry->clear_updated_by();
  entry->clear_citizen_feedback();
  for (v1::StatusChange& change : *entry->mutable_status_history()) {
    change.clear_changed_by();
    change.clear_reason();
  }
  ScrubLinks(entry->mutable_links());
}

void ScrubForPublic(v1::SearchHit* hit) {
  hit->clear_entry_version();
  hit->clear_score();
  hit->clear_sources();
  hit->clear_similar_confirmations();
  hit->clear_ranking_note();
  hit->clear_citizen_feedback();
  if (hit->has_answer_source()) hit->mutable_answer_source()->clear_note();
  v1::LookAskDo* links = hit->mutable_look_ask_do();
  ScrubLinks(links->mutable_policies());
  ScrubLinks(links->mutable_qa_pairs());
  ScrubLinks(links->mutable_service_guides());
}

}  // namespace hotline::kb
