// One browser's live dashboard: a WatchDashboard stream to the metrics service whose snapshots
// an HTTP thread turns into server-sent events. The stream is read with gRPC's callback API, so
// no thread waits on the upstream; the HTTP thread waits on this object instead, and cancels
// the upstream call when the browser goes away.
#ifndef HOTLINE_SERVICES_GATEWAY_DASHBOARD_STREAM_H_
#define HOTLINE_SERVICES_GATEWAY_DASHBOARD_STREAM_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "hotline/metrics/v1/metrics.grpc.pb.h"

namespace hotline::gateway {

class DashboardStream : public grpc::ClientReadReactor<metrics::v1::DashboardSnapshot>,
                        public std::enable_shared_from_this<DashboardStream> {
 public:
  // Starts the upstream call with the caller's bearer token. The object keeps itself alive
  // until gRPC reports the call done, so it may outlive every other owner.
  static std::shared_ptr<DashboardStream> Start(metrics::v1::MetricsService::Stub* stub,
                                                const std::string& token,
                                                const metrics::v1::WatchDashboardRequest& request);

  enum class Next {
    kSnapshot,  // *json holds the newest snapshot not yet taken.
    kQuiet,     // Nothing new within the timeout.
    kEnded,     // The upstream call is over; *status says why.
  };
  // Waits up to `timeout` for a snapshot newer than the last one taken. Snapshots that arrive
  // while the browser is slow are coalesced: only the newest is delivered.
  Next Wait(absl::Duration timeout, std::string* json, grpc::Status* status);

  // Ends the upstream call (browser gone, or the gateway shutting down). Idempotent.
  void Cancel();

  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  DashboardStream() = default;

  grpc::ClientContext context_;
  metrics::v1::WatchDashboardRequest request_;
  metrics::v1::DashboardSnapshot incoming_;
  std::shared_ptr<DashboardStream> self_;  // Set from Start() until OnDone().

  std::mutex mu_;
  std::condition_variable changed_;
  std::string latest_json_;  // Guarded by mu_.
  bool has_new_ = false;     // Guarded by mu_.
  bool done_ = false;        // Guarded by mu_.
  grpc::Status status_;      // Guarded by mu_; valid once done_.
};

}  // namespace hotline::gateway

#endif  // HOTLINE_SERVICES_GATEWAY_DASHBOARD_STREAM_H_
