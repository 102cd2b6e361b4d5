// RecordCitizenFeedback: citizens' "did this answer your question?" from the public portal
// (see citizen_feedback.h). Search, GetEntry and Suggest serve the portal too, in the public
// scope (public_scope.h).
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/unary_call.h"
#include "services/kb/internal/entry_rules.h"
#include "services/kb/kb_service.h"
#include "services/kb/public_scope.h"

namespace hotline::kb {
namespace {

constexpr size_t kMaxAddressLength = 64;

}  // namespace

grpc::ServerUnaryReactor* KnowledgeBaseService::RecordCitizenFeedback(
    grpc::CallbackServerContext* context, const v1::RecordCitizenFeedbackRequest* request,
    v1::RecordCitizenFeedbackResponse* response) {
  // A synced write for each counted answer: on a worker, not on gRPC's own thread.
  return ServeOnPool(context, *workers_, [=]() -> absl::Status {
    RETURN_IF_ERROR(
        AuthenticateAndAuthorize(*tokens_, *context, {Role::kPublic}, *request).status());
    const v1::RecordCitizenFeedbackRequest& r = *request;
    if (r.entry_id().empty()) return absl::InvalidArgumentError("entry_id: required");
    if (!IsValidId(r.entry_id())) {
      return absl::InvalidArgumentError(absl::StrCat("entry_id: not a valid id: ", r.entry_id()));
    }
    if (r.client_address().empty()) return absl::InvalidArgumentError("client_address: required");
    if (r.client_address().size() > kMaxAddressLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("client_address: longer than ", kMaxAddressLength, " characters"));
    }
    std::shared_ptr<const v1::Entry> entry = Head(r.entry_id());
    if (entry == nullptr || !IsPublicKind(entry->kind())) {
      return absl::NotFoundError(absl::StrCat("entry '", r.entry_id(), "' not found"));
    }
    ASSIGN_OR_RETURN(bool counted,
                     citizen_feedback_->Record(r.entry_id(), r.helpful(), r.client_address(),
                                               options_.clock->Now()));
    response->set_counted(counted);
    return absl::OkStatus();
  });
}

}  // namespace hotline::kb
