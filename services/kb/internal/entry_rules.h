// The rules about entries that several rpcs of the knowledge-base service share: validation of
// fields as the contract (kb.proto) states it, how an entry becomes passages and a search
// document, ids, dates and times. Implementation details of KnowledgeBaseService.
#ifndef HOTLINE_SERVICES_KB_INTERNAL_ENTRY_RULES_H_
#define HOTLINE_SERVICES_KB_INTERNAL_ENTRY_RULES_H_

#include <google/protobuf/timestamp.pb.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth.h"
#include "common/clock.h"
#include "common/proto_time.h"
#include "common/utf8.h"
#include "hotline/kb/v1/kb.pb.h"
#include "services/kb/engine/search_index.h"
#include "services/kb/ingest/dedup.h"

namespace hotline::kb {

// Roles of the contract: who reads (search, get, suggest) and who changes content.
inline const std::initializer_list<Role> kReaders = {
    Role::kAgent,  Role::kReviewer, Role::kDepartment, Role::kSupervisor,
    Role::kEditor, Role::kCallback, Role::kAdmin};
inline const std::initializer_list<Role> kEditors = {Role::kEditor, Role::kAdmin};
// Search, GetEntry and Suggest also serve the citizens' portal, in the public scope.
inline const std::initializer_list<Role> kReadersAndPublic = {
    Role::kAgent,  Role::kReviewer, Role::kDepartment, Role::kSupervisor,
    Role::kEditor, Role::kCallback, Role::kAdmin,      Role::kPublic};
// Who sees citizens' feedback counts on entries and hits.
inline bool SeesCitizenFeedback(Role role) {
  return role == Role::kEditor || role == Role::kSupervisor || role == Role::kAdmin;
}

// Today's civil date (YYYY-MM-DD) in China Standard Time, where the documents' dates are.
std::string Today(const Clock& clock);
// A real calendar day written YYYY-MM-DD ("2023-02-30" is not).
bool IsDate(absl::string_view s);
// OK for an empty value or an http(s) address without spaces or control characters, else
// INVALID_ARGUMENT naming `field`: the consoles show these as links, and "javascript:" or
// "data:" addresses would run in the agent's page (the Content-Security-Policy is the second
// fence).
absl::Status CheckWebAddress(absl::string_view url, absl::string_view field);
// OK for an empty value or a valid date, else INVALID_ARGUMENT naming `field`.
absl::Status CheckDate(absl::string_view value, absl::string_view field);
// OK for an empty value or "/"-separated non-empty segments, else INVALID_ARGUMENT.
absl::Status CheckPath(absl::string_view value, absl::string_view field);

bool IsValidId(absl::string_view id);
absl::Status CheckRequestId(absl::string_view id);
// A fresh random id, e.g. "kb-0123456789abcdef".
std::string NewId(absl::string_view prefix);

void SetTime(absl::Time t, google::protobuf::Timestamp* out);

// A new entry's first version, created by `by` at `now`, without any of the fields that only the
// service keeps (status history, pending change, supersede links, merged ids, sources), whatever
// the request carried. Its update time and editor are set by the caller, as for any version.
void StartFirstVersion(const std::string& by, absl::Time now, v1::Entry* entry);

// AMENDED, REPEALED and EXPIRED: readable by id, flagged, not returned by default.
bool IsInactive(v1::EntryStatus status);
// Allowed life-cycle transitions (see SetStatus in kb.proto).
bool TransitionAllowed(v1::EntryStatus from, v1::EntryStatus to);
// The status of a new entry that does not say: not yet effective before its effective date,
// in force otherwise.
v1::EntryStatus InitialStatus(const v1::Entry& e, const Clock& clock);
// Whether the entry must not be given as current policy: its own status is inactive, or it is
// a Q&A pair whose source document is (as last recorded in qa_pair.source_document_status).
bool EntryInactive(const v1::Entry& e);

// The change of status that the calendar makes to an entry on its own: a scheduled change on
// its effective date, a not-yet-effective policy coming into force on its effective date, a
// policy with an expiry date becoming EXPIRED the day after. `due_date` is the day it happens.
struct DueStatusChange {
  std::string due_date;     // YYYY-MM-DD
  v1::StatusChange change;  // from_status, to_status, effective_date, reason, superseded_by...
};
// The next such change of `e`, if any.
std::optional<DueStatusChange> NextDueStatusChange(const v1::Entry& e);
// Makes `change` the entry's status now: status, superseded_by, history, no pending change.
void ApplyStatusChange(const v1::StatusChange& change, v1::Entry* e);

// RawContent.text is at most this long (kb.proto).
inline constexpr int kMaxRawContentCodePoints = 2'000'000;

// Checks an UpsertEntryRequest on its own, before any lookup (INVALID_ARGUMENT only, the
// message starting with the field's path). Import reuses it for its items.
absl::Status ValidateUpsert(const v1::UpsertEntryRequest& r);

// Computes the entry's passages from its body (Q&A pairs, guides, hot topics) or from the raw
// content sent with it (policy documents); without raw content a policy keeps the passages it
// has (an update that does not touch the text).
absl::Status ComputePassages(const v1::RawContent* raw, v1::Entry* entry);
// What the search engine indexes of an entry.
DocumentInput ToDocument(const v1::Entry& e);
// The entries this one rests on: the basis links an editor set, plus a Q&A pair's source.
std::vector<std::string> BasisTargets(const v1::Entry& e);
// What de-duplication compares of an entry; none for kinds that are not de-duplicated.
std::optional<ingest::DedupDocument> DedupInput(const v1::Entry& e);

// Queries are grouped (gaps, frequent queries, feedback) by this form: case, full-width forms,
// punctuation and white space do not make a different question ("宠物狗 办证？" is "宠物狗办证").
std::string NormalizeQuery(absl::string_view q);

}  // namespace hotline::kb

#endif  // HOTLINE_SERVICES_KB_INTERNAL_ENTRY_RULES_H_
