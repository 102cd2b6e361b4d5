// Draft Q&A pairs (问答提炼): when agents have confirmed one passage for several distinct but
// similar questions, the knowledge base proposes a Q&A pair to editors, who accept it (a Q&A
// entry linked to the source, like any other) or dismiss it. Drafts are stored in the gaps
// family under "d/<draft id>", one per passage.
#include <glog/logging.h>

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "common/unary_call.h"
#include "services/kb/internal/entry_rules.h"
#include "services/kb/kb_service.h"

namespace hotline::kb {
namespace {

// Distinct questions a passage needs before a draft is proposed, and how alike each must be
// to the representative one (cosine of their terms).
constexpr int kDraftMinQuestions = 3;
constexpr double kDraftMinSimilarity = 0.2;
constexpr int kMaxSimilarQuestions = 20;

std::string DraftId(const std::string& entry_id, const std::string& label) {
  return "qd-" + Sha256Hex(absl::StrCat(entry_id, "\n", label)).substr(0, 12);
}

std::string DraftKey(const std::string& id) { return "d/" + id; }

}  // namespace

absl::StatusOr<std::optional<v1::QaDraft>> KnowledgeBaseService::LoadDraft(
    const std::string& id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                   store_->Get(store_->Family(kGapsFamily), DraftKey(id)));
  if (!bytes) return std::optional<v1::QaDraft>();
  v1::QaDraft draft;
  if (!draft.ParseFromString(*bytes)) {
    return absl::DataLossError(absl::StrCat("draft '", id, "' is corrupt"));
  }
  return std::optional<v1::QaDraft>(std::move(draft));
}

absl::StatusOr<v1::QaDraft> KnowledgeBaseService::LoadPendingDraft(const std::string& id) const {
  ASSIGN_OR_RETURN(std::optional<v1::QaDraft> draft, LoadDraft(id));
  if (!draft) return absl::NotFoundError(absl::StrCat("draft_id: no draft '", id, "'"));
  if (draft->state() != v1::QA_DRAFT_STATE_PENDING) {
    return absl::FailedPreconditionError(
        absl::StrCat("draft '", id, "' is ", v1::QaDraftState_Name(draft->state())));
  }
  return *std::move(draft);
}

absl::Status KnowledgeBaseService::SaveDraft(const v1::QaDraft& draft) {
  return store_->Put(store_->Family(kGapsFamily), DraftKey(draft.id()), draft.SerializeAsString());
}

absl::Status KnowledgeBaseService::ProposeDraft(const std::string& entry_id,
                                                const std::string& label) {
  // The distinct questions that confirmed the passage, as first asked.
  std::map<std::string, std::string> questions;
  for (const RememberedAnswer& a : answer_memory_->AnswersFor(entry_id, label)) {
    if (a.sign > 0) questions.emplace(NormalizeQuery(a.question), a.question);
  }
  if (static_cast<int>(questions.size()) < kDraftMinQuestions) return absl::OkStatus();
  // The representative: the question most like all the others.
  std::vector<std::string> texts;
  for (const auto& [normalized, text] : questions) texts.push_back(text);
  size_t best = 0;
  double best_total = -1;
  for (size_t i = 0; i < texts.size(); ++i) {
    double total = 0;
    for (size_t j = 0; j < texts.size(); ++j) {
      if (i != j) total += answer_memory_->Similarity(texts[i], texts[j]);
    }
    if (total > best_total) best_total = total, best = i;
  }
  std::vector<std::pair<double, std::string>> similar;
  for (size_t j = 0; j < texts.size(); ++j) {
    if (j == best) continue;
    double s = answer_memory_->Similarity(texts[best], texts[j]);
    if (s >= kDraftMinSimilarity) similar.emplace_back(s, texts[j]);
  }
  if (static_cast<int>(similar.size()) + 1 < kDraftMinQuestions) return absl::OkStatus();
  std::sort(similar.rbegin(), similar.rend());

  const std::string id = DraftId(entry_id, label);
  absl::MutexLock lock(&drafts_mu_);
  ASSIGN_OR_RETURN(std::optional<v1::QaDraft> existing, LoadDraft(id));
  if (existing && existing->state() != v1::QA_DRAFT_STATE_PENDING) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::optional<v1::Entry> source, LoadEntry(entry_id));
  // Q&A pairs rest on clauses of policy documents; confirmations of a Q&A pair or a guide
  // need no draft.
  if (!source || EntryInactive(*source) || source->kind() != v1::ENTRY_KIND_POLICY_DOCUMENT) {
    return absl::OkStatus();
  }
  v1::QaDraft draft = existing.value_or(v1::QaDraft());
  const absl::Time now = options_.clock->Now();
  if (!existing) {
    draft.set_id(id);
    draft.set_state(v1::QA_DRAFT_STATE_PENDING);
    *draft.mutable_create_time() = ToProtoTime(now);
  }
  draft.set_question(texts[best]);
  draft.clear_similar_questions();
  for (size_t i = 0; i < similar.size() && i < kMaxSimilarQuestions; ++i) {
    draft.add_similar_questions(similar[i].second);
  }
  draft.set_confirmations(static_cast<int32_t>(questions.size()));
  draft.set_source_entry_id(entry_id);
  draft.set_source_passage_label(label);
  draft.set_source_title(source->title());
  for (const v1::Passage& p : source->passages()) {
    if (p.label() == label) draft.set_passage_text(p.text());
  }
  *draft.mutable_update_time() = ToProtoTime(now);
  return SaveDraft(draft);
}

grpc::ServerUnaryReactor* KnowledgeBaseService::ListQaDrafts(grpc::CallbackServerContext* context,
                                                             const v1::ListQaDraftsRequest* request,
                                                             v1::ListQaDraftsResponse* response) {
  return ServeOnPool(context, *workers_, [=]() -> absl::Status {
    RETURN_IF_ERROR(
        AuthenticateAndAuthorize(*tokens_, *context, {Role::kEditor, Role::kSupervisor}, *request)
            .status());
    const v1::QaDraftState state = request->state() == v1::QA_DRAFT_STATE_UNSPECIFIED
                                       ? v1::QA_DRAFT_STATE_PENDING
                                       : request->state();
    std::vector<v1::QaDraft> drafts;
    absl::Status parse = absl::OkStatus();
    RETURN_IF_ERROR(store_->ScanPrefix(
        store_->Family(kGapsFamily), "d/", [&](absl::string_view key, absl::string_view value) {
          v1::QaDraft d;
          if (!d.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
            parse = absl::DataLossError(absl::StrCat("draft '", key, "' is corrupt"));
            return false;
          }
          if (d.state() == state) drafts.push_back(std::move(d));
          return true;
        }));
    RETURN_IF_ERROR(parse);
    std::stable_sort(drafts.begin(), drafts.end(), [](const auto& a, const auto& b) {
      return a.confirmations() > b.confirmations();
    });
    for (v1::QaDraft& d : drafts) *response->add_drafts() = std::move(d);
    return absl::OkStatus();
  });
}

absl::Status KnowledgeBaseService::DoAcceptDraft(const Principal& principal,
                                                 const v1::AcceptQaDraftRequest& r,
                                                 v1::AcceptQaDraftResponse* response) {
  absl::MutexLock lock(&drafts_mu_);
  ASSIGN_OR_RETURN(v1::QaDraft draft, LoadPendingDraft(r.draft_id()));
  v1::UpsertEntryRequest upsert;
  upsert.set_request_id(absl::StrCat(r.request_id(), "-entry"));
  v1::Entry* e = upsert.mutable_entry();
  e->set_id(r.entry_id().empty() ? absl::StrCat("qa-", draft.id().substr(3)) : r.entry_id());
  e->set_kind(v1::ENTRY_KIND_QA_PAIR);
  const std::string question = r.question().empty() ? draft.question() : r.question();
  const std::string answer = r.answer().empty() ? draft.passage_text() : r.answer();
  e->set_title(question);
  v1::QaPair* qa = e->mutable_qa_pair();
  qa->set_question(question);
  for (const std::string& q : draft.similar_questions()) {
    if (q != question) qa->add_alternative_questions(q);
  }
  if (draft.question() != question) qa->add_alternative_questions(draft.question());
  qa->set_answer(answer);
  qa->set_source_document_id(draft.source_entry_id());
  qa->set_source_passage_label(draft.source_passage_label());
  RETURN_IF_ERROR(ValidateUpsert(upsert));
  v1::UpsertEntryResponse created;
  RETURN_IF_ERROR(DoUpsert(principal, upsert, &created));
  draft.set_state(v1::QA_DRAFT_STATE_ACCEPTED);
  draft.set_accepted_entry_id(created.entry().id());
  draft.set_decided_by(principal.name);
  *draft.mutable_update_time() = ToProtoTime(options_.clock->Now());
  RETURN_IF_ERROR(SaveDraft(draft));
  *response->mutable_draft() = draft;
  *response->mutable_entry() = created.entry();
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* KnowledgeBaseService::AcceptQaDraft(
    grpc::CallbackServerContext* context, const v1::AcceptQaDraftRequest* request,
    v1::AcceptQaDraftResponse* response) {
  return ServeOnPool(context, *workers_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal principal,
                     AuthenticateAndAuthorize(*tokens_, *context, kEditors, *request));
    if (request->draft_id().empty()) return absl::InvalidArgumentError("draft_id: must be set");
    return MutateAcceptDraft(principal, *request, response);
  });
}

grpc::ServerUnaryReactor* KnowledgeBaseService::DismissQaDraft(
    grpc::CallbackServerContext* context, const v1::DismissQaDraftRequest* request,
    v1::QaDraft* response) {
  return ServeOnPool(context, *workers_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal principal,
                     AuthenticateAndAuthorize(*tokens_, *context, kEditors, *request));
    if (request->draft_id().empty()) return absl::InvalidArgumentError("draft_id: must be set");
    if (CodePointCount(request->reason()) > 1000) {
      return absl::InvalidArgumentError("reason: longer than 1,000 code points");
    }
    absl::MutexLock lock(&drafts_mu_);
    ASSIGN_OR_RETURN(v1::QaDraft draft, LoadPendingDraft(request->draft_id()));
    draft.set_state(v1::QA_DRAFT_STATE_DISMISSED);
    draft.set_dismiss_reason(request->reason());
    draft.set_decided_by(principal.name);
    *draft.mutable_update_time() = ToProtoTime(options_.clock->Now());
    RETURN_IF_ERROR(SaveDraft(draft));
    *response = std::move(draft);
    return absl::OkStatus();
  });
}

}  // namespace hotline::kb
