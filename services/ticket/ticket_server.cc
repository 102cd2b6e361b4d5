// ticket_server: the ticket service, with its outbox relay to Redis and its deadline-warning
// scheduler.
#include <glog/logging.h>

#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/clock.h"
#include "common/redis_client.h"
#include "common/server_main.h"
#include "common/telemetry.h"
#include "services/ticket/outbox_relay.h"
#include "services/ticket/ticket_service.h"

ABSL_FLAG(std::string, config, "deploy/config/ticket.textproto",
          "ticket configuration (time limits, windows, departments), protobuf text format");
ABSL_FLAG(std::string, calendar_dir, "../shared/data/holiday-cn",
          "directory of official holiday calendars, one YYYY.json a year (holiday-cn format)");
ABSL_FLAG(std::string, redis, "127.0.0.1:6379", "Redis host:port of the event stream");
ABSL_FLAG(absl::Duration, tick, absl::Seconds(1),
          "how often due deadline warnings and stream heartbeats are checked");
ABSL_FLAG(int, demo_history_working_days, 0,
          "DEMO ONLY. 0: the service runs on real time. N > 0: its clock starts at 08:30 of the "
          "N-th working day before today, runs fast until it catches up with real time after "
          "--demo_catch_up, then follows real time, so that a demo scenario can build N working "
          "days of history (deadlines passed, warnings raised) in seconds. Refused on a data "
          "directory that already holds events: time must not go backwards over them");
ABSL_FLAG(absl::Duration, demo_catch_up, absl::Seconds(45),
          "with --demo_history_working_days: how long the clock takes to catch up with real time");

namespace hotline::ticket {
namespace {

// Everything the ticket server runs besides gRPC, owned together and stopped together.
class TicketRuntime {
 public:
  TicketRuntime(std::unique_ptr<Clock> demo_clock, std::unique_ptr<TicketService> service,
                std::unique_ptr<RedisClient> redis, const std::string& stream_key)
      : demo_clock_(std::move(demo_clock)),
        service_(std::move(service)),
        redis_(std::move(redis)),
        relay_(&service_->store(), redis_.get(), stream_key) {}

  ~TicketRuntime() {
    gauges_.clear();  // Scrapes read the members below.
    // The relay is destroyed before the service and its store: unhook it first.
    service_->store().RemoveCommitListener(listener_);
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    if (ticker_.joinable()) ticker_.join();
  }

  void Start(absl::Duration tick) {
    listener_ = service_->store().AddCommitListener([this](int64_t) { relay_.Wake(); });
    relay_.Start();
    // Operators watch the event stream's lag and the work queue on /metrics.
    gauges_.push_back(telemetry::AddGauge(
        "hotline_ticket_outbox_backlog_events", "events committed but not yet in the Redis stream",
        {}, [this] { return static_cast<double>(relay_.backlog()); }));
    gauges_.push_back(telemetry::AddGauge(
        "hotline_ticket_committed_sequence", "global sequence of the last durable event", {},
        [this] { return static_cast<double>(service_->store().committed_sequence()); }));
    gauges_.push_back(telemetry::AddGauge(
        "hotline_ticket_published_sequence", "global sequence of the last event in the stream", {},
        [this] { return static_cast<double>(relay_.published_sequence()); }));
    gauges_.push_back(telemetry::AddGauge(
        "hotline_worker_queue_length", "calls waiting for a worker thread",
        {{"pool", "ticket-worker"}},
        [this] { return static_cast<double>(service_->worker_queue_length()); }));
    ticker_ = std::thread([this, tick] {
      absl::MutexLock lock(&mu_);
      while (!mu_.AwaitWithTimeout(absl::Condition(&stopping_), tick)) {
        mu_.Unlock();
        absl::StatusOr<int> raised = service_->RunDueWarnings();
        LOG_IF(WARNING, !raised.ok()) << "deadline warnings: " << raised.status();
        service_->SendHeartbeats();
        mu_.Lock();
      }
    });
  }

  TicketService* service() { return service_.get(); }

 private:
  std::unique_ptr<Clock> demo_clock_;  // Null on real time; outlives the service that reads it.
  std::unique_ptr<TicketService> service_;
  std::unique_ptr<RedisClient> redis_;
  OutboxRelay relay_;
  int listener_ = 0;
  std::vector<std::unique_ptr<telemetry::GaugeHandle>> gauges_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread ticker_;
};

// 08:30 Shanghai time on the n-th working day before the day containing `now`.
absl::Time WorkingDaysBefore(const WorkingCalendar& calendar, absl::Time now, int n) {
  const absl::TimeZone zone = ShanghaiTimeZone();
  absl::CivilDay day = absl::ToCivilDay(now, zone);
  for (int counted = 0; counted < n;) {
    --day;
    if (calendar.IsWorkingDay(day)) ++counted;
  }
  return absl::FromCivil(absl::CivilMinute(day.year(), day.month(), day.day(), 8, 30), zone);
}

absl::StatusOr<std::vector<HostedService>> Build(const ServerContext& server) {
  TicketServiceOptions options;
  absl::StatusOr<config::TicketConfig> config = LoadTicketConfig(absl::GetFlag(FLAGS_config));
  if (!config.ok()) return config.status();
  options.config = *config;
  absl::StatusOr<std::shared_ptr<const WorkingCalendar>> calendar =
      WorkingCalendar::LoadDirectory(absl::GetFlag(FLAGS_calendar_dir));
  if (!calendar.ok()) return calendar.status();
  options.calendar = *calendar;
  options.clock = server.clock;
  LOG(INFO) << "working calendar " << (*calendar)->version();
  std::unique_ptr<CatchUpClock> demo_clock;
  if (int days = absl::GetFlag(FLAGS_demo_history_working_days); days > 0) {
    if (days > 60) {
      return absl::InvalidArgumentError("--demo_history_working_days: at most 60");
    }
    demo_clock = std::make_unique<CatchUpClock>(
        server.clock, WorkingDaysBefore(**calendar, server.clock->Now(), days),
        absl::GetFlag(FLAGS_demo_catch_up));
    options.clock = demo_clock.get();
  }
  absl::StatusOr<RedisOptions> redis_options = ParseRedisAddress(absl::GetFlag(FLAGS_redis));
  if (!redis_options.ok()) return redis_options.status();

  auto service = std::make_unique<TicketService>(server.tokens, server.store, std::move(options));
  if (absl::Status s = service->Init(); !s.ok()) return s;
  if (demo_clock != nullptr) {
    if (int64_t stored = service->store().committed_sequence(); stored > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--demo_history_working_days: the data directory already holds ", stored,
          " events; a clock starting in the past would stamp new events before them. Use it "
          "only on an empty --data_dir"));
    }
    LOG(WARNING) << "DEMO CLOCK: service time starts at "
                 << absl::FormatTime(demo_clock->Now(), ShanghaiTimeZone()) << " and runs "
                 << demo_clock->speed() << "x real time until "
                 << absl::FormatTime(demo_clock->caught_up_at(), ShanghaiTimeZone())
                 << ", then follows real time";
  }
  std::string stream_key = config->stream_key();
  auto runtime =
      std::make_shared<TicketRuntime>(std::move(demo_clock), std::move(service),
                                      std::make_unique<RedisClient>(*redis_options), stream_key);
  runtime->Start(absl::GetFlag(FLAGS_tick));
  // The gRPC service shares ownership of the whole runtime.
  std::shared_ptr<grpc::Service> hosted(runtime, runtime->service());
  return std::vector<HostedService>{
      {hosted, TicketService::kName, [runtime] { runtime->service()->EndStreams(); }}};
}

}  // namespace
}  // namespace hotline::ticket

int main(int argc, char** argv) {
  std::vector<std::string> families = hotline::ticket::TicketStore::Families();
  return hotline::RunServerMain(argc, argv, "ticket_server: the 12345 hotline ticket service",
                                families, hotline::ticket::Build);
}
