// Prometheus text metrics for every server: one process-wide registry, request counts and
// latencies of every gRPC method recorded by a server interceptor, gauges that are read when
// Prometheus scrapes (queue lengths, stream lag), and a small HTTP endpoint serving
// GET /metrics in the text exposition format (prometheus-cpp, Debian's prometheus-cpp-dev).
//
// RunServerMain() installs the interceptor and starts the endpoint when --metrics_port is set,
// so every server gets request metrics with no code of its own. A service adds what only it
// knows (a queue length, a lag) with AddGauge(), and keeps the returned handle as long as the
// callback's captures live.
#ifndef HOTLINE_COMMON_TELEMETRY_H_
#define HOTLINE_COMMON_TELEMETRY_H_

#include <grpcpp/support/server_interceptor.h>
#include <prometheus/registry.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"

ABSL_DECLARE_FLAG(int, metrics_port);

namespace prometheus {
class Exposer;
}

namespace hotline::telemetry {

// The registry every metric of this process is registered in. Never null, never destroyed.
prometheus::Registry& Registry();

// Counts and times every call by method and status code:
//   grpc_server_started_total{grpc_service, grpc_method}
//   grpc_server_handled_total{grpc_service, grpc_method, grpc_code}
//   grpc_server_handling_seconds{grpc_service, grpc_method, grpc_code} (histogram)
//   grpc_server_in_flight{grpc_service, grpc_method}
// Calls that end without a status from the server (the client went away) count as CANCELLED.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRequestMetricsInterceptorFactory();

// Makes every server ServiceHost starts afterwards in this process install the request
// metrics interceptor. Idempotent.
void InstallRequestMetricsInEveryServer();
bool RequestMetricsInstalled();

// A gauge whose value is read from `read` at every scrape. Unregistered when the handle is
// destroyed; `read` must not block for long (it runs on the HTTP thread).
class GaugeHandle {
 public:
  virtual ~GaugeHandle() = default;
};
std::unique_ptr<GaugeHandle> AddGauge(const std::string& name, const std::string& help,
                                      const std::map<std::string, std::string>& labels,
                                      std::function<double()> read);

// The HTTP endpoint: GET /metrics on `address` ("host:port", port 0 picks a free one).
class MetricsEndpoint {
 public:
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(const std::string& address);
  ~MetricsEndpoint();
  int port() const { return port_; }

 private:
  MetricsEndpoint() = default;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

// The text exposition of everything registered, as the endpoint serves it (for tests and
// diagnostics).
std::string RenderText();

}  // namespace hotline::telemetry

#endif  // HOTLINE_COMMON_TELEMETRY_H_
