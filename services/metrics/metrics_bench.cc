// metrics_bench: how fast figures follow events, and how fast they are read.
//
// 1. History: synthesizes the events of --tickets ticket lifecycles spread over the last year
//    (dispatch to one or two departments, signing, extensions, late replies with red cards,
//    callbacks of every result, reopens; the newest tickets still open) and applies them to a
//    fresh metrics store, as a rebuild would.
// 2. Live: a producer appends further lifecycles' events to a Redis stream (append-only file,
//    fsync always, as deployed) at --rate events per second for --duration, as the ticket
//    service's relay would; the real consumer applies them and a WatchDashboard client watches
//    the current month at the minimum interval (50 ms). Reported:
//      event -> figures: from XADD until the event is applied and visible to every query;
//      dashboard staleness: for each snapshot received while events flow, from the XADD of the
//        newest event it includes until the client received it;
//      event -> first snapshot containing it: includes waiting for the dashboard's next
//        interval (snapshots are at most one per second by contract), for context.
// 3. GetSummary latency over the history, through gRPC on loopback, idle and during the live
//    stream: current month (totals and by department), previous month, current week by
//    category, today.
//
// Run from the repository root (calendar path): scripts/bench.sh, or
//   build/services/metrics/metrics_bench --tickets=1000000 --rate=1000 --duration=60s
#include <glog/logging.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/program.h"
#include "services/metrics/aggregates.h"
#include "services/metrics/event_consumer.h"
#include "services/metrics/metrics_service.h"
#include "services/metrics/metrics_test_world.h"
#include "tests/support/latency_summary.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_util.h"

ABSL_FLAG(int, tickets, 1000000, "tickets in the synthesized history");
ABSL_FLAG(int, rate, 1000, "live events per second");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(60), "length of the live run");
ABSL_FLAG(int, summary_calls, 2000, "GetSummary calls per query kind");
ABSL_FLAG(std::string, work_dir, "", "where the stores live; default: a temporary directory");

namespace hotline::metrics {
namespace {

using hotline::testing::ContextWithToken;

absl::Time EndOfDay(absl::Time t) { return DayStart(DayOf(t) + 1) - absl::Microseconds(1); }

// Ticket lifecycles as the ticket service would record them (the fields the metrics read).
class Synthesizer {
 public:
  explicit Synthesizer(uint64_t seed) : rng_(seed) {
    const ticket::config::TicketConfig config = testing::DeployedConfig();
    for (const auto& d : config.departments()) departments_.push_back(d.id());
  }

  // The events of one ticket created at `created`, in order, without global sequences; those
  // after `until` are left out (the ticket is still in progress then).
  std::vector<tv1::TicketEvent> Make(const std::string& id, absl::Time created, absl::Time until) {
    static const char* const kCategories[] = {"城乡建设/供水",
                                              "城乡建设/物业管理/维修基金",
                                              "社会保障/医保",
                                              "社会保障/养老",
                                              "交通/公交",
                                              "市场监管/消费投诉",
                                              "教育/招生",
                                              "环境保护/噪声",
                                              ""};
    std::vector<std::pair<absl::Time, tv1::TicketEvent>> out;
    int64_t sequence = 0;
    int cycle = 1;
    auto add = [&](absl::Time at, tv1::EventType type, tv1::TicketState state,
                   const std::string& work_order = "",
                   tv1::WorkOrderState wo_state = tv1::WORK_ORDER_STATE_UNSPECIFIED,
                   const std::string& department = "") -> tv1::TicketEvent& {
      auto& [time, e] = out.emplace_back();
      time = at;
      e.set_ticket_id(id);
      e.set_sequence(++sequence);
      e.set_type(type);
      e.set_ticket_state(state);
      e.set_cycle(cycle);
      e.set_work_order_id(work_order);
      e.set_work_order_state(wo_state);
      e.set_department_id(department);
      e.set_warning_level(tv1::WARNING_LEVEL_NONE);
      return e;
    };
    const std::string category = kCategories[rng_() % 9];
    auto& c = add(created, tv1::EVENT_TYPE_TICKET_CREATED, tv1::TICKET_STATE_PENDING_REVIEW);
    c.mutable_created()->set_channel(static_cast<tv1::Channel>(1 + rng_() % 4));
    c.mutable_created()->set_category_path(category);
    c.mutable_created()->set_kind(tv1::TICKET_KIND_CONSULTATION);
    absl::Time t = created + Minutes(5, 120);
    add(t, tv1::EVENT_TYPE_TICKET_CONFIRMED, tv1::TICKET_STATE_PENDING_DISPATCH)
        .mutable_confirmed()
        ->set_category_path(category);

    const std::string lead = departments_[rng_() % departments_.size()];
    std::vector<std::string> departments = {lead};
    if (Chance(0.2)) {
      std::string assist = departments_[rng_() % departments_.size()];
      if (assist != lead) departments.push_back(assist);
    }
    int work_orders = 0;
    absl::Time cycle_start = t + Minutes(10, 360);
    while (true) {
      absl::Time last_reply = cycle_start;
      std::vector<std::string> ids;
      for (const std::string& d : departments) {
        std::string w = absl::StrCat(id, "-W", ++work_orders);
        ids.push_back(w);
        const int days = std::vector<int>{3, 10, 15}[rng_() % 3];
        absl::Time deadline = EndOfDay(cycle_start + absl::Hours(24 * (days * 7 / 5)));
        auto& dispatched =
            add(cycle_start, tv1::EVENT_TYPE_WORK_ORDER_DISPATCHED, tv1::TICKET_STATE_IN_PROGRESS,
                w, tv1::WORK_ORDER_STATE_PENDING_SIGN, d);
        auto* details = dispatched.mutable_dispatched();
        details->set_department_id(d);
        details->set_role(d == lead ? tv1::WORK_ORDER_ROLE_LEAD : tv1::WORK_ORDER_ROLE_ASSIST);
        *details->mutable_deadline() = MicrosToProto(absl::ToUnixMicros(deadline));
        *details->mutable_sign_deadline() =
            MicrosToProto(absl::ToUnixMicros(EndOfDay(cycle_start + absl::Hours(24))));
        absl::Time signed_at = cycle_start + Minutes(30, Chance(0.9) ? 1200 : 4000);
        add(signed_at, tv1::EVENT_TYPE_WORK_ORDER_SIGNED, tv1::TICKET_STATE_IN_PROGRESS, w,
            tv1::WORK_ORDER_STATE_SIGNED, d);
        if (Chance(0.08)) {
          add(signed_at + absl::Hours(1), tv1::EVENT_TYPE_EXTENSION_REQUESTED,
              tv1::TICKET_STATE_IN_PROGRESS, w, tv1::WORK_ORDER_STATE_SIGNED, d);
          absl::Time extended = deadline + absl::Hours(72);
          auto& approved = add(signed_at + absl::Hours(3), tv1::EVENT_TYPE_EXTENSION_APPROVED,
                               tv1::TICKET_STATE_IN_PROGRESS, w, tv1::WORK_ORDER_STATE_SIGNED, d);
          *approved.mutable_extension_decided()->mutable_new_deadline() =
              MicrosToProto(absl::ToUnixMicros(extended));
          deadline = extended;
        }
        bool late = Chance(0.15);
        absl::Time reply = late ? deadline + Minutes(60, 7200)
                                : signed_at + (deadline - signed_at) * (0.1 + 0.8 * Uniform());
        if (late) {
          auto& red = add(deadline + absl::Minutes(1), tv1::EVENT_TYPE_RED_WARNING,
                          tv1::TICKET_STATE_IN_PROGRESS, w, tv1::WORK_ORDER_STATE_SIGNED, d);
          red.set_warning_level(tv1::WARNING_LEVEL_RED);
          red.mutable_warning()->set_level(tv1::WARNING_LEVEL_RED);
        }
        auto& replied = add(reply, tv1::EVENT_TYPE_WORK_ORDER_REPLIED,
                            tv1::TICKET_STATE_IN_PROGRESS, w, tv1::WORK_ORDER_STATE_REPLIED, d);
        replied.mutable_replied()->set_on_time(!late);
        last_reply = std::max(last_reply, reply);
      }
      absl::Time callback = last_reply + Minutes(120, 2880);
      double r = Uniform();
      tv1::CallbackResult result = r < 0.55   ? tv1::CALLBACK_RESULT_SATISFIED
                                   : r < 0.75 ? tv1::CALLBACK_RESULT_BASICALLY_SATISFIED
                                   : r < 0.85 && cycle == 1 ? tv1::CALLBACK_RESULT_DISSATISFIED
                                                            : tv1::CALLBACK_RESULT_UNREACHABLE;
      auto record = [&](absl::Time at, tv1::CallbackResult result) {
        auto& cb = add(at, tv1::EVENT_TYPE_CALLBACK_RECORDED, tv1::TICKET_STATE_PENDING_CALLBACK);
        cb.mutable_callback()->set_result(result);
        cb.mutable_callback()->set_cycle(cycle);
        cb.mutable_callback()->set_lead_department_id(lead);
      };
      record(callback, result);
      if (result == tv1::CALLBACK_RESULT_UNREACHABLE) {
        callback += absl::Hours(24);
        record(callback, tv1::CALLBACK_RESULT_SATISFIED);
      }
      if (result != tv1::CALLBACK_RESULT_DISSATISFIED) {
        add(callback, tv1::EVENT_TYPE_TICKET_CLOSED, tv1::TICKET_STATE_CLOSED);
        break;
      }
      ++cycle;
      auto& reopened =
          add(callback, tv1::EVENT_TYPE_TICKET_REOPENED, tv1::TICKET_STATE_IN_PROGRESS);
      reopened.mutable_reopened()->set_previous_cycle(cycle - 1);
      reopened.mutable_reopened()->set_new_cycle(cycle);
      for (const std::string& w : ids) reopened.mutable_reopened()->add_previous_work_order_ids(w);
      cycle_start = callback;
    }
    // In time order (lead and assisting work orders interleave), numbered in that order.
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<tv1::TicketEvent> events;
    for (auto& [time, e] : out) {
      if (time > until) break;
      *e.mutable_event_time() = MicrosToProto(absl::ToUnixMicros(time));
      e.set_sequence(static_cast<int64_t>(events.size()) + 1);
      events.push_back(std::move(e));
    }
    return events;
  }

 private:
  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  bool Chance(double p) { return Uniform() < p; }
  absl::Duration Minutes(int low, int high) {
    return absl::Minutes(low + static_cast<int64_t>(rng_() % (high - low + 1)));
  }

  std::mt19937_64 rng_;
  std::vector<std::string> departments_;
};

std::string Ms(const hotline::testing::LatencySummary& p) {
  return absl::StrFormat("p50 %8.2f ms   p99 %8.2f ms   max %8.2f ms   (n=%d)", p.p50, p.p99, p.max,
                         p.count);
}

// GetSummary latencies of the query kinds a dashboard and a report use.
void MeasureSummaries(v1::MetricsService::Stub& stub, int calls, const std::string& when) {
  struct Kind {
    std::string name;
    v1::GetSummaryRequest request;
  };
  std::vector<Kind> kinds;
  auto period = [](v1::PeriodKind kind, absl::Duration back, v1::Dimension group_by) {
    v1::GetSummaryRequest r;
    r.mutable_period()->set_kind(kind);
    *r.mutable_period()->mutable_at() = MicrosToProto(absl::ToUnixMicros(absl::Now() - back));
    r.set_group_by(group_by);
    return r;
  };
  kinds.push_back({"this month, totals",
                   period(v1::PERIOD_KIND_MONTH, absl::ZeroDuration(), v1::DIMENSION_UNSPECIFIED)});
  kinds.push_back({"this month, by department",
                   period(v1::PERIOD_KIND_MONTH, absl::ZeroDuration(), v1::DIMENSION_DEPARTMENT)});
  kinds.push_back({"last month, by department",
                   period(v1::PERIOD_KIND_MONTH, absl::Hours(24 * 31), v1::DIMENSION_DEPARTMENT)});
  kinds.push_back({"this week, by category",
                   period(v1::PERIOD_KIND_WEEK, absl::ZeroDuration(), v1::DIMENSION_CATEGORY)});
  kinds.push_back({"today, totals",
                   period(v1::PERIOD_KIND_DAY, absl::ZeroDuration(), v1::DIMENSION_UNSPECIFIED)});
  std::vector<double> all;
  for (const Kind& k : kinds) {
    std::vector<double> latencies;
    for (int i = 0; i < calls; ++i) {
      v1::GetSummaryResponse response;
      absl::Time start = absl::Now();
      grpc::Status s = stub.GetSummary(ContextWithToken("supervisor").get(), k.request, &response);
      double ms = absl::ToDoubleMilliseconds(absl::Now() - start);
      CHECK(s.ok()) << s.error_message();
      latencies.push_back(ms);
      all.push_back(ms);
    }
    std::cout << "  GetSummary " << absl::StrFormat("%-27s", k.name)
              << Ms(hotline::testing::Summarise(latencies)) << "\n";
  }
  std::cout << "  GetSummary " << absl::StrFormat("%-27s", "all kinds (" + when + ")")
            << Ms(hotline::testing::Summarise(all)) << "\n";
}

int Run() {
  const int tickets = absl::GetFlag(FLAGS_tickets);
  const int rate = absl::GetFlag(FLAGS_rate);
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  std::unique_ptr<hotline::testing::TempDir> temp;
  std::string work = absl::GetFlag(FLAGS_work_dir);
  if (work.empty()) {
    temp = std::make_unique<hotline::testing::TempDir>();
    work = temp->path();
  }
  std::filesystem::create_directories(work + "/redis");

  auto calendar = ticket::WorkingCalendar::LoadDirectory("../shared/data/holiday-cn");
  CHECK(calendar.ok()) << calendar.status() << " (run from the repository root)";
  auto db =
      RocksStore::Open({.path = work + "/metrics", .column_families = Aggregates::Families()});
  CHECK(db.ok()) << db.status();
  Aggregates aggregates(db->get(), *calendar);
  CHECK(aggregates.Load().ok());
  CHECK(aggregates.Clear().ok());

  // 1. The history.
  const absl::Time now = absl::Now();
  Synthesizer synthesizer(42);
  int64_t sequence = 0;
  absl::Time started = absl::Now();
  std::vector<tv1::TicketEvent> batch;
  for (int n = 0; n < tickets; ++n) {
    absl::Time created =
        now - absl::Hours(24 * 365) + absl::Hours(24 * 365) * (static_cast<double>(n) / tickets);
    for (tv1::TicketEvent& e : synthesizer.Make(absl::StrCat("H", n), created, now)) {
      e.set_global_sequence(++sequence);
      batch.push_back(std::move(e));
    }
    if (batch.size() >= 20000 || n == tickets - 1) {
      absl::Status s = aggregates.Apply(batch);
      CHECK(s.ok()) << s;
      batch.clear();
    }
    if ((n + 1) % 100000 == 0) {
      LOG(INFO) << n + 1 << " tickets, " << sequence << " events, "
                << absl::FormatDuration(absl::Now() - started);
    }
  }
  const absl::Duration load_time = absl::Now() - started;
  std::cout << "\nhistory: " << tickets << " tickets, " << sequence << " events applied in "
            << absl::FormatDuration(load_time) << " ("
            << static_cast<int64_t>(sequence / absl::ToDoubleSeconds(load_time))
            << " events/s in batches of 20000); " << aggregates.bucket_rows() << " day rows\n";

  // 2. The live stream.
  hotline::testing::RedisServer redis(work + "/redis");  // AOF, fsync always, as deployed.
  CHECK(redis.Start().ok());
  ConsumerOptions consumer_options;
  consumer_options.redis = *ParseRedisAddress(redis.address());
  EventConsumer consumer(&aggregates, consumer_options);
  MetricsServiceOptions service_options;
  auto config = testing::DeployedConfig();
  MetricsService service(testing::Tokens(config), &aggregates, &consumer, service_options);
  ServiceHost host(ServiceHostOptions{});
  host.AddService(&service, MetricsService::kName);
  host.AddShutdownHook([&] { service.EndStreams(); });
  CHECK(host.Start().ok());
  auto stub = v1::MetricsService::NewStub(hotline::testing::LocalChannel(host.port()));

  std::cout << "\nGetSummary over the history, idle:\n";
  MeasureSummaries(*stub, absl::GetFlag(FLAGS_summary_calls), "idle");

  const int64_t live_events = static_cast<int64_t>(rate * absl::ToDoubleSeconds(duration));
  const int64_t first_live = sequence + 1;
  std::vector<absl::Time> sent(live_events + 1, absl::InfinitePast());
  std::vector<absl::Time> applied(live_events + 1, absl::InfinitePast());
  absl::Mutex applied_mu;
  int64_t applied_up_to = sequence;
  aggregates.AddApplyListener([&](int64_t up_to) {
    absl::Time at = absl::Now();
    absl::MutexLock lock(&applied_mu);
    for (int64_t s = std::max(applied_up_to + 1, first_live); s <= up_to; ++s) {
      if (s - first_live <= live_events) applied[s - first_live] = at;
    }
    applied_up_to = up_to;
  });
  consumer.Start();

  // The dashboard watcher.
  std::vector<std::pair<absl::Time, int64_t>> snapshots;
  grpc::ClientContext watch_context;
  watch_context.AddMetadata("authorization", "Bearer supervisor");
  v1::WatchDashboardRequest watch;
  watch.set_period_kind(v1::PERIOD_KIND_MONTH);
  // The fastest rate the server allows, as a control-room display would ask for.
  watch.mutable_min_interval()->set_nanos(50 * 1000 * 1000);
  watch.set_group_by(v1::DIMENSION_DEPARTMENT);
  watch.set_overdue_preview_size(10);
  std::thread watcher([&] {
    auto stream = stub->WatchDashboard(&watch_context, watch);
    v1::DashboardSnapshot snapshot;
    while (stream->Read(&snapshot)) {
      snapshots.emplace_back(absl::Now(), snapshot.data_version().last_applied_sequence());
    }
    stream->Finish().IgnoreError();
  });

  // The producer: new lifecycles, their events interleaved as they would happen live.
  std::thread producer([&] {
    RedisClient client(consumer_options.redis);
    Synthesizer live(7);
    std::mt19937_64 rng(9);
    std::vector<std::pair<std::vector<tv1::TicketEvent>, size_t>> pool;
    int next_ticket = 0;
    const absl::Duration interval = absl::Seconds(1) / rate;
    absl::Time next = absl::Now();
    for (int64_t i = 0; i < live_events; ++i) {
      while (pool.size() < 500) {
        pool.emplace_back(
            live.Make(absl::StrCat("L", next_ticket++), absl::Now(), absl::InfiniteFuture()), 0);
      }
      size_t k = rng() % pool.size();
      tv1::TicketEvent e = pool[k].first[pool[k].second++];
      if (pool[k].second == pool[k].first.size()) {
        pool[k] = std::move(pool.back());
        pool.pop_back();
      }
      next += interval;
      absl::Duration wait = next - absl::Now();
      if (wait > absl::ZeroDuration()) absl::SleepFor(wait);
      const int64_t seq = first_live + i;
      e.set_global_sequence(seq);
      absl::Time at = absl::Now();
      *e.mutable_event_time() = MicrosToProto(absl::ToUnixMicros(at));
      sent[i] = at;
      auto added = client.Command({"XADD", consumer_options.stream_key, absl::StrCat(seq, "-0"),
                                   "event", e.SerializeAsString()});
      CHECK(added.ok()) << added.status();
    }
  });

  // GetSummary while the stream flows.
  absl::SleepFor(absl::Seconds(2));
  std::cout << "\nGetSummary during the live stream (" << rate << " events/s):\n";
  MeasureSummaries(*stub, std::max(100, absl::GetFlag(FLAGS_summary_calls) / 4), "live");

  producer.join();
  const int64_t last = first_live + live_events - 1;
  while (aggregates.last_applied_sequence() < last) absl::SleepFor(absl::Milliseconds(10));
  absl::SleepFor(absl::Milliseconds(1500));  // The last snapshot.
  watch_context.TryCancel();
  watcher.join();
  consumer.Stop();
  host.Shutdown();

  const absl::Duration span = sent[live_events - 1] - sent[0];
  std::vector<double> to_figures;
  for (int64_t i = 0; i < live_events; ++i) {
    to_figures.push_back(absl::ToDoubleMilliseconds(applied[i] - sent[i]));
  }
  std::vector<double> staleness;
  std::vector<double> first_snapshot(live_events, -1);
  size_t cursor = 0;
  for (const auto& [received, seq] : snapshots) {
    // Snapshots after the stream ended only show that nothing new came.
    if (seq < first_live || received > sent[live_events - 1]) continue;
    int64_t newest = std::min(seq, last) - first_live;
    staleness.push_back(absl::ToDoubleMilliseconds(received - sent[newest]));
    for (; cursor <= static_cast<size_t>(newest); ++cursor) {
      first_snapshot[cursor] = absl::ToDoubleMilliseconds(received - sent[cursor]);
    }
  }
  first_snapshot.erase(std::remove(first_snapshot.begin(), first_snapshot.end(), -1.0),
                       first_snapshot.end());
  std::cout << "\nlive stream: " << live_events << " events in " << absl::FormatDuration(span)
            << " ("
            << static_cast<int64_t>(live_events / std::max(1e-9, absl::ToDoubleSeconds(span)))
            << " events/s achieved), " << snapshots.size() << " dashboard snapshots\n";
  std::cout << "  event -> figures (applied, visible)   "
            << Ms(hotline::testing::Summarise(to_figures)) << "\n";
  std::cout << "  dashboard staleness at delivery      "
            << Ms(hotline::testing::Summarise(staleness)) << "\n";
  std::cout << "  event -> first snapshot with it      "
            << Ms(hotline::testing::Summarise(first_snapshot))
            << "  (includes the dashboard's 50 ms minimum interval)\n";
  return 0;
}

}  // namespace
}  // namespace hotline::metrics

int main(int argc, char** argv) {
  hotline::InitProgram(argc, argv,
                       "metrics_bench: lag and GetSummary latency of the metrics service");
  return hotline::metrics::Run();
}
