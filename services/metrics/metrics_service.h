// The metrics gRPC service (hotline.metrics.v1.MetricsService): authentication, the
// contract's validation and department scoping, and the translation of the aggregates'
// counts into the contract's figures. Figures come from Aggregates, which the EventConsumer
// keeps up to date; dashboards are pushed by one thread that re-evaluates every open stream
// when events are applied and on a short tick (heartbeats, period boundaries, deadlines
// passing), never faster than each stream's min_interval.
#ifndef HOTLINE_SERVICES_METRICS_METRICS_SERVICE_H_
#define HOTLINE_SERVICES_METRICS_METRICS_SERVICE_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/auth.h"
#include "common/clock.h"
#include "common/worker_pool.h"
#include "hotline/metrics/v1/metrics.grpc.pb.h"
#include "services/metrics/aggregates.h"
#include "services/metrics/event_consumer.h"
#include "services/metrics/periods.h"

namespace hotline::metrics {

struct MetricsServiceOptions {
  Clock* clock = Clock::Real();
  // Department id -> display name (from the ticket configuration); may be empty.
  std::map<std::string, std::string> department_names;
  int max_watch_streams = 200;
  int worker_threads = 4;
  // How often dashboards are re-evaluated when no event arrives.
  absl::Duration dashboard_tick = absl::Milliseconds(100);
  // Tests only: called on the hub thread before each dashboard snapshot is computed.
  std::function<void()> before_dashboard_snapshot;
};

class MetricsService final : public v1::MetricsService::CallbackService {
 public:
  static constexpr char kName[] = "hotline.metrics.v1.MetricsService";

  // `consumer` may be null when something else feeds the aggregates (tests, benchmarks);
  // GetStatus then reports the consumer as LIVE.
  MetricsService(std::shared_ptr<const TokenRegistry> tokens, Aggregates* aggregates,
                 EventConsumer* consumer, MetricsServiceOptions options = {});
  ~MetricsService() override;

  // Ends every dashboard stream with UNAVAILABLE, so that shutdown need not wait for them.
  void EndStreams();
  int open_watch_streams() const;
  size_t worker_queue_length() const { return workers_.queue_length(); }

  grpc::ServerUnaryReactor* GetSummary(grpc::CallbackServerContext* context,
                                       const v1::GetSummaryRequest* request,
                                       v1::GetSummaryResponse* response) override;
  grpc::ServerUnaryReactor* GetTrend(grpc::CallbackServerContext* context,
                                     const v1::GetTrendRequest* request,
                                     v1::GetTrendResponse* response) override;
  grpc::ServerUnaryReactor* ListOverdue(grpc::CallbackServerContext* context,
                                        const v1::ListOverdueRequest* request,
                                        v1::ListOverdueResponse* response) override;
  grpc::ServerWriteReactor<v1::DashboardSnapshot>* WatchDashboard(
      grpc::CallbackServerContext* context, const v1::WatchDashboardRequest* request) override;
  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* context,
                                      const v1::GetStatusRequest* request,
                                      v1::GetStatusResponse* response) override;

 private:
  class WatchReactor;

  // The figures of `window` for `selection`, as a summary response (also the body of a
  // dashboard snapshot).
  absl::StatusOr<v1::GetSummaryResponse> Summarize(const Selection& selection, const Window& window,
                                                   absl::Time now) const;
  v1::OverdueItem ToOverdueItem(const internal::LiveWorkOrder& w, absl::Time now) const;
  std::string DisplayName(v1::Dimension dimension, const RowKey& key) const;
  // The dashboard body for `window`: summary, overdue preview and total.
  absl::StatusOr<v1::DashboardSnapshot> Snapshot(const Selection& selection, const Window& window,
                                                 int preview, absl::Time now) const;

  void HubLoop();
  void WakeHub();

  std::shared_ptr<const TokenRegistry> tokens_;
  Aggregates* const aggregates_;
  EventConsumer* const consumer_;
  const MetricsServiceOptions options_;
  const absl::Time started_at_;
  int listener_id_ = 0;

  // The open dashboards. The hub holds this while it evaluates them, so a stream is never
  // deleted (OnDone) in the middle of an evaluation.
  mutable absl::Mutex watch_mu_;
  std::set<WatchReactor*> watches_ ABSL_GUARDED_BY(watch_mu_);
  // Separate from watch_mu_ so that waking the hub (after every applied batch) never waits
  // for an evaluation in progress.
  absl::Mutex wake_mu_;
  bool woken_ ABSL_GUARDED_BY(wake_mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(wake_mu_) = false;
  std::thread hub_;

  // Declared last: destroyed first, so no worker outlives what it uses.
  WorkerPool workers_;
};

}  // namespace hotline::metrics

#endif  // HOTLINE_SERVICES_METRICS_METRICS_SERVICE_H_
