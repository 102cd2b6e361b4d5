// The metrics gRPC service (hotline.metrics.v1.MetricsService).
#ifndef HOTLINE_SERVICES_METRICS_METRICS_SERVICE_H_
#define HOTLINE_SERVICES_METRICS_METRICS_SERVICE_H_

#include <memory>

#include "common/auth.h"
#include "common/rocks_store.h"
#include "common/worker_pool.h"
#include "hotline/metrics/v1/metrics.grpc.pb.h"

namespace hotline::metrics {

// Column families of the metrics store.
inline constexpr char kAggregatesFamily[] = "aggregates";

class MetricsService final : public v1::MetricsService::CallbackService {
 public:
  static constexpr char kName[] = "hotline.metrics.v1.MetricsService";

  MetricsService(std::shared_ptr<const TokenRegistry> tokens, RocksStore* store);

  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* context,
                                      const v1::GetStatusRequest* request,
                                      v1::GetStatusResponse* response) override;

 private:
  std::shared_ptr<const TokenRegistry> tokens_;
  RocksStore* store_;
  WorkerPool workers_{"metrics-worker", 2};
};

}  // namespace hotline::metrics

#endif  // HOTLINE_SERVICES_METRICS_METRICS_SERVICE_H_
