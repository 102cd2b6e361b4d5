#include "services/metrics/metrics_service.h"

#include "common/status_macros.h"
#include "common/unary_call.h"

namespace hotline::metrics {

MetricsService::MetricsService(std::shared_ptr<const TokenRegistry> tokens, RocksStore* store)
    : tokens_(std::move(tokens)), store_(store) {}

grpc::ServerUnaryReactor* MetricsService::GetStatus(grpc::CallbackServerContext* context,
                                                    const v1::GetStatusRequest* request,
                                                    v1::GetStatusResponse* response) {
  return ServeOnPool(context, workers_, [=]() -> absl::Status {
    RETURN_IF_ERROR(
        AuthenticateAndAuthorize(*tokens_, *context, {Role::kSupervisor}).status());
    return absl::UnimplementedError("the event consumer is not part of this build yet");
  });
}

}  // namespace hotline::metrics
