#include "services/ticket/ticket_service.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/unary_call.h"

namespace hotline::ticket {

TicketService::TicketService(std::shared_ptr<const TokenRegistry> tokens, RocksStore* store)
    : tokens_(std::move(tokens)), store_(store) {}

grpc::ServerUnaryReactor* TicketService::GetTicket(grpc::CallbackServerContext* context,
                                                   const v1::GetTicketRequest* request,
                                                   v1::Ticket* response) {
  return ServeOnPool(context, workers_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal principal,
                     AuthenticateAndAuthorize(*tokens_, *context,
                                              {Role::kAgent, Role::kReviewer, Role::kDepartment,
                                               Role::kSupervisor}));
    if (request->ticket_id().empty()) return absl::InvalidArgumentError("ticket_id: required");
    ASSIGN_OR_RETURN(std::optional<std::string> stored,
                     store_->Get(store_->Family(kTicketsFamily), request->ticket_id()));
    if (!stored.has_value()) {
      // Departments cannot tell a missing ticket from someone else's: ids are not probeable.
      if (principal.role == Role::kDepartment) {
        return absl::PermissionDeniedError(absl::StrCat(
            "department '", principal.department_id, "' has no work order on ticket '",
            request->ticket_id(), "'"));
      }
      return absl::NotFoundError(absl::StrCat("ticket '", request->ticket_id(), "' not found"));
    }
    if (!response->ParseFromString(*stored)) {
      return absl::DataLossError(absl::StrCat("ticket '", request->ticket_id(), "' is corrupt"));
    }
    return absl::OkStatus();
  });
}

}  // namespace hotline::ticket
