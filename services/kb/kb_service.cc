#include "services/kb/kb_service.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/unary_call.h"

namespace hotline::kb {

KnowledgeBaseService::KnowledgeBaseService(std::shared_ptr<const TokenRegistry> tokens,
                                           RocksStore* store)
    : tokens_(std::move(tokens)), store_(store) {}

grpc::ServerUnaryReactor* KnowledgeBaseService::GetEntry(grpc::CallbackServerContext* context,
                                                         const v1::GetEntryRequest* request,
                                                         v1::Entry* response) {
  return ServeOnPool(context, workers_, [=]() -> absl::Status {
    RETURN_IF_ERROR(tokens_->Authenticate(*context).status());
    if (request->entry_id().empty()) return absl::InvalidArgumentError("entry_id: required");
    ASSIGN_OR_RETURN(std::optional<std::string> stored,
                     store_->Get(store_->Family(kEntriesFamily), request->entry_id()));
    if (!stored.has_value()) {
      return absl::NotFoundError(absl::StrCat("entry '", request->entry_id(), "' not found"));
    }
    if (!response->ParseFromString(*stored)) {
      return absl::DataLossError(absl::StrCat("entry '", request->entry_id(), "' is corrupt"));
    }
    return absl::OkStatus();
  });
}

}  // namespace hotline::kb
