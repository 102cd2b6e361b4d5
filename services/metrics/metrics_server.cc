// metrics_server: the metrics service. Consumes the ticket event stream from Redis into
// RocksDB aggregates and serves hotline.metrics.v1.MetricsService.
#include <glog/logging.h>

#include "common/server_main.h"
#include "common/telemetry.h"
#include "services/metrics/metrics_flags.h"
#include "services/metrics/metrics_service.h"

namespace hotline::metrics {
namespace {

// Everything the metrics server runs besides gRPC, owned together and stopped together.
class MetricsRuntime {
 public:
  MetricsRuntime(RocksStore* store, std::shared_ptr<const ticket::WorkingCalendar> calendar,
                 ConsumerOptions consumer_options, std::shared_ptr<const TokenRegistry> tokens,
                 MetricsServiceOptions options)
      : aggregates_(store, std::move(calendar)),
        consumer_(&aggregates_, std::move(consumer_options), options.clock),
        service_(std::move(tokens), &aggregates_, &consumer_, std::move(options)) {}

  ~MetricsRuntime() {
    gauges_.clear();
    consumer_.Stop();
  }

  absl::Status Start() {
    if (absl::Status s = aggregates_.Load(); !s.ok()) return s;
    consumer_.Start();
    AddGauges();
    return absl::OkStatus();
  }

  MetricsService* service() { return &service_; }

 private:
  void AddGauges() {
    auto add = [&](const char* name, const char* help, std::function<double()> read) {
      gauges_.push_back(telemetry::AddGauge(name, help, {}, std::move(read)));
    };
    add("hotline_metrics_last_applied_sequence", "last ticket event applied to the figures",
        [this] { return static_cast<double>(aggregates_.last_applied_sequence()); });
    add("hotline_metrics_stream_lag_events", "events in the stream not yet applied", [this] {
      ConsumerStatus s = consumer_.Status();
      return static_cast<double>(
          std::max<int64_t>(0, s.head_sequence - aggregates_.last_applied_sequence()));
    });
    add("hotline_metrics_stream_lag_seconds",
        "how long the oldest event not yet applied has been waiting", [this] {
          ConsumerStatus s = consumer_.Status();
          if (s.oldest_unapplied_time == absl::InfinitePast()) return 0.0;
          return absl::ToDoubleSeconds(absl::Now() - s.oldest_unapplied_time);
        });
    add("hotline_metrics_consumer_state",
        "consumer state (ConsumerState number): 1 catching up, 2 live, 3 disconnected, 4 stalled",
        [this] { return static_cast<double>(consumer_.state()); });
    add("hotline_metrics_events_applied", "events applied since the process started",
        [this] { return static_cast<double>(consumer_.events_applied()); });
    add("hotline_metrics_watch_streams", "open WatchDashboard streams",
        [this] { return static_cast<double>(service_.open_watch_streams()); });
    gauges_.push_back(telemetry::AddGauge(
        "hotline_worker_queue_length", "tasks waiting for a worker thread",
        {{"pool", "metrics-worker"}},
        [this] { return static_cast<double>(service_.worker_queue_length()); }));
  }

  Aggregates aggregates_;
  EventConsumer consumer_;
  MetricsService service_;
  std::vector<std::unique_ptr<telemetry::GaugeHandle>> gauges_;
};

absl::StatusOr<std::vector<HostedService>> Build(const ServerContext& server) {
  absl::StatusOr<std::shared_ptr<const ticket::WorkingCalendar>> calendar = CalendarFromFlags();
  if (!calendar.ok()) return calendar.status();
  absl::StatusOr<ConsumerOptions> consumer = ConsumerOptionsFromFlags();
  if (!consumer.ok()) return consumer.status();
  MetricsServiceOptions options;
  options.clock = server.clock;
  options.department_names = DepartmentNamesFromFlags();
  auto runtime = std::make_shared<MetricsRuntime>(server.store, *calendar, *consumer, server.tokens,
                                                  std::move(options));
  if (absl::Status s = runtime->Start(); !s.ok()) return s;
  // The gRPC service shares ownership of the whole runtime.
  std::shared_ptr<grpc::Service> hosted(runtime, runtime->service());
  return std::vector<HostedService>{
      {hosted, MetricsService::kName, [runtime] { runtime->service()->EndStreams(); }}};
}

}  // namespace
}  // namespace hotline::metrics

int main(int argc, char** argv) {
  return hotline::RunServerMain(argc, argv, "metrics_server: the 12345 hotline metrics service",
                                hotline::metrics::Aggregates::Families(), hotline::metrics::Build);
}
