// metrics_server: the metrics service.
#include "common/server_main.h"
#include "services/metrics/metrics_service.h"

int main(int argc, char** argv) {
  return hotline::RunServerMain(
      argc, argv, "metrics_server: the 12345 hotline metrics service",
      {hotline::metrics::kAggregatesFamily},
      [](const hotline::ServerContext& server) -> absl::StatusOr<std::vector<hotline::HostedService>> {
        return std::vector<hotline::HostedService>{{std::make_shared<hotline::metrics::MetricsService>(server.tokens, server.store),
                 hotline::metrics::MetricsService::kName}};
      });
}
