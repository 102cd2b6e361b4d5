// KnowledgeBaseService::Mutate, the one way every write rpc changes the store: under the write
// mutex, at most once per request_id (a retry with the same id and request gets the first
// answer; the same id with another request is refused). A template, so it lives in a header
// for the files that hold the write rpcs.
#ifndef HOTLINE_SERVICES_KB_INTERNAL_IDEMPOTENT_MUTATION_H_
#define HOTLINE_SERVICES_KB_INTERNAL_IDEMPOTENT_MUTATION_H_

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "services/kb/internal/entry_rules.h"
#include "services/kb/kb_service.h"

namespace hotline::kb {

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
  return store_->Put(
      family, key,
      EncodeRequestRecord(options_.clock->Now(), fingerprint, response->SerializeAsString()));
}

}  // namespace hotline::kb

#endif  // HOTLINE_SERVICES_KB_INTERNAL_IDEMPOTENT_MUTATION_H_
