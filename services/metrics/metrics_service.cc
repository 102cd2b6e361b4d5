#include "services/metrics/metrics_service.h"

#include <glog/logging.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/grpc_status.h"
#include "common/page_token.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "common/stream_writer.h"
#include "common/unary_call.h"

namespace hotline::metrics {
namespace {

constexpr absl::Duration kMaxRange = absl::Hours(24 * 366);
constexpr absl::Duration kMaxInterval = absl::Minutes(10);
// Longer than other listings: a supervisor keeps the overdue list open through a shift.
constexpr absl::Duration kOverduePageLifetime = absl::Hours(6);

const std::initializer_list<Role> kReaders = {Role::kSupervisor, Role::kReviewer,
                                              Role::kDepartment};

google::protobuf::Duration ProtoDuration(absl::Duration d) {
  google::protobuf::Duration out;
  int64_t micros = absl::ToInt64Microseconds(d);
  out.set_seconds(micros / 1000000);
  out.set_nanos(static_cast<int32_t>((micros % 1000000) * 1000));
  return out;
}

absl::Duration DurationOf(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

int Segments(absl::string_view path) {
  return path.empty() ? 0 : static_cast<int>(std::count(path.begin(), path.end(), '/')) + 1;
}

// Checks the filter and grouping fields, then narrows the filter to what the caller may see.
absl::StatusOr<Selection> SelectionFor(const Principal& principal, const v1::MetricsFilter& f,
                                       v1::Dimension group_by, int32_t category_depth) {
  Selection s;
  for (int i = 0; i < f.department_ids_size(); ++i) {
    if (f.department_ids(i).empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("filter.department_ids[", i, "] must not be empty"));
    }
  }
  for (int i = 0; i < f.channels_size(); ++i) {
    if (f.channels(i) == v1::CHANNEL_UNSPECIFIED || !v1::Channel_IsValid(f.channels(i))) {
      return absl::InvalidArgumentError(
          absl::StrCat("filter.channels[", i, "]: must not be CHANNEL_UNSPECIFIED"));
    }
    s.channels.push_back(f.channels(i));
  }
  s.category_prefix = std::string(absl::StripSuffix(f.category_prefix(), "/"));
  if (!v1::Dimension_IsValid(group_by)) {
    return absl::InvalidArgumentError("group_by is not a known dimension");
  }
  s.group_by = group_by;
  if (category_depth < 0) {
    return absl::InvalidArgumentError("category_depth must not be negative");
  }
  const int prefix_depth = Segments(s.category_prefix);
  if (group_by == v1::DIMENSION_CATEGORY) {
    if (category_depth != 0 && category_depth < prefix_depth) {
      return absl::InvalidArgumentError(
          "category_depth must be at least the depth of filter.category_prefix");
    }
    s.category_depth = category_depth == 0 ? prefix_depth + 1 : category_depth;
  }
  // A department sees only itself; naming another is refused, never silently narrowed, so a
  // caller cannot mistake its own figures for city-wide totals.
  if (principal.role == Role::kDepartment) {
    for (const std::string& d : f.department_ids()) {
      if (d != principal.department_id) {
        return absl::PermissionDeniedError(
            absl::StrCat("department '", principal.department_id,
                         "' may only see its own figures; filter.department_ids names '", d, "'"));
      }
    }
    s.departments = {principal.department_id};
  } else {
    s.departments.assign(f.department_ids().begin(), f.department_ids().end());
  }
  return s;
}

const char* ChannelName(int channel) {
  switch (channel) {
    case v1::CHANNEL_HOTLINE:
      return "12345热线";
    case v1::CHANNEL_MAYOR_MAILBOX:
      return "市长信箱";
    case v1::CHANNEL_SERVICE_WINDOW:
      return "服务窗口";
    case v1::CHANNEL_WEB:
      return "网站";
    default:
      return "";
  }
}

// A stable digest of what a ListOverdue page token is valid for (FNV-1a: std::hash and
// absl::Hash differ between processes).
std::string RequestDigest(const Selection& s, const std::vector<int>& levels) {
  std::string canonical =
      absl::StrCat(absl::StrJoin(s.departments, ","), "\n", s.category_prefix, "\n",
                   absl::StrJoin(s.channels, ","), "\n", absl::StrJoin(levels, ","));
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : canonical) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return absl::StrCat(absl::Hex(h, absl::kZeroPad16));
}

grpc::ServerWriteReactor<v1::DashboardSnapshot>* FailedStream(const absl::Status& status) {
  return RefusedStream<v1::DashboardSnapshot>(status);
}

}  // namespace

// One dashboard stream. Evaluate() runs on the hub thread only, and a snapshot is computed only
// when one may be sent (the writer is idle), so a slow reader simply receives fewer, newer
// snapshots. The hub evaluates streams outside watch_mu_ (a snapshot reads the store) and holds
// them (Hold, Release) under watch_mu_ first, so one that ends meanwhile stays alive until the
// hub lets go.
class MetricsService::WatchReactor final : public StreamWriter<v1::DashboardSnapshot> {
 public:
  WatchReactor(MetricsService* service, Selection selection, v1::PeriodKind kind,
               absl::Duration min_interval, absl::Duration heartbeat, int preview)
      : service_(service),
        selection_(std::move(selection)),
        kind_(kind),
        min_interval_(min_interval),
        heartbeat_(heartbeat),
        preview_(preview) {}

  void Evaluate(absl::Time now, int64_t sequence) {
    if (!Idle()) return;
    absl::MutexLock lock(&mu_);
    const Window period = PeriodContaining(kind_, now);
    v1::SnapshotReason reason = v1::SNAPSHOT_REASON_UNSPECIFIED;
    if (number_ == 0) {
      reason = v1::SNAPSHOT_REASON_INITIAL;
    } else {
      if (now - last_sent_ < min_interval_) return;
      if (period.start != period_.start) reason = v1::SNAPSHOT_REASON_PERIOD_ROLLOVER;
    }
    // Figures change with new events, and also with time alone (a deadline passes), so they
    // are recomputed at most once per interval even when no event arrived.
    const bool stale = reason != v1::SNAPSHOT_REASON_UNSPECIFIED ||
                       sequence != computed_sequence_ || now - computed_at_ >= min_interval_;
    if (!stale && now - last_sent_ < heartbeat_) return;
    if (service_->options_.before_dashboard_snapshot)
      service_->options_.before_dashboard_snapshot();
    absl::StatusOr<v1::DashboardSnapshot> computed =
        service_->Snapshot(selection_, period, preview_, now);
    if (!computed.ok()) {
      // The figures cannot be complete: the stream ends with why, and the page says so.
      End(ToGrpcStatus(computed.status()));
      return;
    }
    v1::DashboardSnapshot snapshot = *std::move(computed);
    computed_sequence_ = snapshot.data_version().last_applied_sequence();
    computed_at_ = now;
    std::string content = Comparable(snapshot);
    if (reason == v1::SNAPSHOT_REASON_UNSPECIFIED) {
      if (content != last_content_) {
        reason = v1::SNAPSHOT_REASON_CHANGED;
      } else if (now - last_sent_ >= heartbeat_) {
        reason = v1::SNAPSHOT_REASON_HEARTBEAT;
      } else {
        return;
      }
    }
    snapshot.set_reason(reason);
    snapshot.set_snapshot_number(++number_);
    period_ = period;
    last_content_ = std::move(content);
    last_sent_ = now;
    Send(std::move(snapshot));
  }

 private:
  void OnSent() override { service_->WakeHub(); }  // The latest state may be due now.

  void OnClosed() override {
    absl::MutexLock lock(&service_->watch_mu_);
    service_->watches_.erase(this);
  }

  // What "a figure changed" compares: everything but the instants that move with the clock.
  static std::string Comparable(v1::DashboardSnapshot s) {
    s.clear_data_version();
    s.mutable_totals()->mutable_backlog()->clear_as_of();
    for (v1::SummaryRow& row : *s.mutable_rows()) {
      row.mutable_figures()->mutable_backlog()->clear_as_of();
    }
    for (v1::OverdueItem& item : *s.mutable_overdue_preview()) {
      item.clear_overdue_by();
      item.clear_overdue_working_hours();
    }
    return s.SerializeAsString();
  }

  MetricsService* const service_;
  const Selection selection_;
  const v1::PeriodKind kind_;
  const absl::Duration min_interval_;
  const absl::Duration heartbeat_;
  const int preview_;
  absl::Mutex mu_;
  int64_t number_ ABSL_GUARDED_BY(mu_) = 0;
  Window period_ ABSL_GUARDED_BY(mu_);
  absl::Time last_sent_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time computed_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int64_t computed_sequence_ ABSL_GUARDED_BY(mu_) = -1;
  std::string last_content_ ABSL_GUARDED_BY(mu_);
};

MetricsService::MetricsService(std::shared_ptr<const TokenRegistry> tokens, Aggregates* aggregates,
                               EventConsumer* consumer, MetricsServiceOptions options)
    : tokens_(std::move(tokens)),
      aggregates_(aggregates),
      consumer_(consumer),
      options_(std::move(options)),
      started_at_(options_.clock->Now()),
      workers_("metrics-worker", options_.worker_threads) {
  listener_id_ = aggregates_->AddApplyListener([this](int64_t) { WakeHub(); });
  hub_ = std::thread([this] { HubLoop(); });
}

MetricsService::~MetricsService() {
  aggregates_->RemoveApplyListener(listener_id_);
  {
    absl::MutexLock lock(&wake_mu_);
    stopping_ = true;
  }
  hub_.join();
  // The server is shut down before its services are destroyed, so every stream has ended: its
  // OnDone, on a gRPC thread, took it out of watches_ under watch_mu_. Reading the set under the
  // same lock is what orders that erase before the set's destruction.
  absl::MutexLock lock(&watch_mu_);
  LOG_IF(ERROR, !watches_.empty()) << watches_.size() << " metrics streams outlive the service";
}

void MetricsService::WakeHub() {
  absl::MutexLock lock(&wake_mu_);
  woken_ = true;
}

void MetricsService::HubLoop() {
  while (true) {
    {
      absl::MutexLock lock(&wake_mu_);
      wake_mu_.AwaitWithTimeout(absl::Condition(
                                    +[](MetricsService* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(
                                         s->wake_mu_) { return s->woken_ || s->stopping_; },
                                    this),
                                options_.dashboard_tick);
      if (stopping_) return;
      woken_ = false;
    }
    // Snapshots read the store: computed outside watch_mu_, so that streams opening and
    // ending (and open_watch_streams) never wait for them.
    std::vector<WatchReactor*> held;
    {
      absl::MutexLock lock(&watch_mu_);
      for (WatchReactor* w : watches_) {
        if (w->Hold()) held.push_back(w);
      }
    }
    if (held.empty()) continue;
    const absl::Time now = options_.clock->Now();
    const int64_t sequence = aggregates_->last_applied_sequence();
    for (WatchReactor* w : held) w->Evaluate(now, sequence);
    for (WatchReactor* w : held) w->Release();  // Deletes a stream that ended meanwhile.
  }
}

void MetricsService::EndStreams() {
  absl::MutexLock lock(&watch_mu_);
  for (WatchReactor* w : watches_) {
    w->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the metrics service is shutting down"));
  }
}

int MetricsService::open_watch_streams() const {
  absl::MutexLock lock(&watch_mu_);
  return static_cast<int>(watches_.size());
}

std::string MetricsService::DisplayName(v1::Dimension dimension, const RowKey& key) const {
  switch (dimension) {
    case v1::DIMENSION_DEPARTMENT: {
      if (key.text.empty()) return "12345热线";  // Intake and answers on the spot.
      auto it = options_.department_names.find(key.text);
      return it == options_.department_names.end() ? "" : it->second;
    }
    case v1::DIMENSION_CATEGORY:
      return key.text;
    case v1::DIMENSION_CHANNEL:
      return ChannelName(key.channel);
    default:
      return "";
  }
}

v1::OverdueItem MetricsService::ToOverdueItem(const internal::LiveWorkOrder& w,
                                              absl::Time now) const {
  v1::OverdueItem item;
  item.set_ticket_id(w.ticket_id());
  item.set_work_order_id(w.work_order_id());
  item.set_department_id(w.department_id());
  auto name = options_.department_names.find(w.department_id());
  if (name != options_.department_names.end()) item.set_department_name(name->second);
  item.set_lead(w.lead());
  item.set_category(w.category());
  item.set_channel(static_cast<v1::Channel>(w.channel()));
  item.set_state(static_cast<v1::WorkOrderState>(w.state()));
  *item.mutable_cycle_started_at() = MicrosToProto(w.cycle_started_us());
  *item.mutable_deadline() = MicrosToProto(w.deadline_us());
  item.set_extended(w.extended());
  const bool red = w.level() == tv1::WARNING_LEVEL_RED;
  item.set_warning_level(red ? v1::WARNING_LEVEL_RED : v1::WARNING_LEVEL_YELLOW);
  if (w.warned_us() != 0) *item.mutable_warned_at() = MicrosToProto(w.warned_us());
  const absl::Time deadline = absl::FromUnixMicros(w.deadline_us());
  if (red && now > deadline) {
    *item.mutable_overdue_by() = ProtoDuration(now - deadline);
    item.set_overdue_working_hours(aggregates_->calendar().WorkingHoursBetween(deadline, now));
  }
  item.set_urge_count(w.urge_count());
  return item;
}

absl::StatusOr<v1::GetSummaryResponse> MetricsService::Summarize(const Selection& selection,
                                                                 const Window& window,
                                                                 absl::Time now) const {
  ASSIGN_OR_RETURN(std::vector<WindowTally> tallies,
                   aggregates_->Compute(selection, {TimeWindow{window.start, window.end}}, now));
  const WindowTally& t = tallies.front();
  v1::GetSummaryResponse response;
  *response.mutable_period() = ToProto(window, now);
  *response.mutable_totals() = FiguresFromCounters(t.totals, t.as_of);
  for (const auto& [key, counts] : t.rows) {
    v1::SummaryRow* row = response.add_rows();
    switch (selection.group_by) {
      case v1::DIMENSION_DEPARTMENT:
        row->mutable_key()->set_department_id(key.text);
        break;
      case v1::DIMENSION_CATEGORY:
        row->mutable_key()->set_category(key.text);
        break;
      default:
        row->mutable_key()->set_channel(static_cast<v1::Channel>(key.channel));
        break;
    }
    row->set_display_name(DisplayName(selection.group_by, key));
    *row->mutable_figures() = FiguresFromCounters(counts, t.as_of);
  }
  response.mutable_data_version()->set_last_applied_sequence(t.sequence);
  *response.mutable_data_version()->mutable_computed_at() = ToProtoTime(now);
  return response;
}

absl::StatusOr<v1::DashboardSnapshot> MetricsService::Snapshot(const Selection& selection,
                                                               const Window& window, int preview,
                                                               absl::Time now) const {
  ASSIGN_OR_RETURN(v1::GetSummaryResponse summary, Summarize(selection, window, now));
  v1::DashboardSnapshot s;
  *s.mutable_period() = std::move(*summary.mutable_period());
  *s.mutable_totals() = std::move(*summary.mutable_totals());
  *s.mutable_rows() = std::move(*summary.mutable_rows());
  *s.mutable_data_version() = summary.data_version();
  Aggregates::OverduePage page =
      aggregates_->ListWarned(selection, {}, std::nullopt, static_cast<size_t>(preview));
  for (const internal::LiveWorkOrder& w : page.items)
    *s.add_overdue_preview() = ToOverdueItem(w, now);
  s.set_overdue_total(page.total);
  return s;
}

grpc::ServerUnaryReactor* MetricsService::GetSummary(grpc::CallbackServerContext* context,
                                                     const v1::GetSummaryRequest* request,
                                                     v1::GetSummaryResponse* response) {
  return ServeOnPool(context, workers_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal principal,
                     AuthenticateAndAuthorize(*tokens_, *context, kReaders, *request));
    const absl::Time now = options_.clock->Now();
    Window window;
    switch (request->window_case()) {
      case v1::GetSummaryRequest::kPeriod: {
        const v1::PeriodSelector& p = request->period();
        if (p.kind() == v1::PERIOD_KIND_UNSPECIFIED || !v1::PeriodKind_IsValid(p.kind())) {
          return absl::InvalidArgumentError("period.kind must be set");
        }
        absl::Time at = p.has_at() ? FromProtoTime(p.at()) : now;
        if (at > now) return absl::InvalidArgumentError("period.at is in the future");
        window = PeriodContaining(p.kind(), at);
        break;
      }
      case v1::GetSummaryRequest::kRange: {
        const v1::TimeRange& r = request->range();
        if (!r.has_start()) return absl::InvalidArgumentError("range.start must be set");
        if (!r.has_end()) return absl::InvalidArgumentError("range.end must be set");
        window.start = FromProtoTime(r.start());
        window.end = FromProtoTime(r.end());
        if (window.end <= window.start) {
          return absl::InvalidArgumentError("range.end must be after range.start");
        }
        if (window.end - window.start > kMaxRange) {
          return absl::InvalidArgumentError("range must not exceed 366 days");
        }
        if (window.start > now) return absl::InvalidArgumentError("range.start is in the future");
        break;
      }
      default:
        return absl::InvalidArgumentError("window must be set");
    }
    ASSIGN_OR_RETURN(
        Selection selection,
        SelectionFor(principal, request->filter(), request->group_by(), request->category_depth()));
    ASSIGN_OR_RETURN(*response, Summarize(selection, window, now));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MetricsService::GetTrend(grpc::CallbackServerContext* context,
                                                   const v1::GetTrendRequest* request,
                                                   v1::GetTrendResponse* response) {
  return ServeOnPool(context, workers_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal principal,
                     AuthenticateAndAuthorize(*tokens_, *context, kReaders, *request));
    const absl::Time now = options_.clock->Now();
    const v1::PeriodKind kind = request->period_kind();
    if (kind == v1::PERIOD_KIND_UNSPECIFIED || !v1::PeriodKind_IsValid(kind)) {
      return absl::InvalidArgumentError("period_kind must be set");
    }
    if (request->period_count() < 0) {
      return absl::InvalidArgumentError("period_count must not be negative");
    }
    if (request->period_count() > 366) {
      return absl::InvalidArgumentError("period_count must be at most 366");
    }
    absl::Time end_at = request->has_end_at() ? FromProtoTime(request->end_at()) : now;
    if (end_at > now) return absl::InvalidArgumentError("end_at is in the future");
    int count = request->period_count();
    if (count == 0) count = kind == v1::PERIOD_KIND_DAY ? 30 : 12;
    ASSIGN_OR_RETURN(Selection selection,
                     SelectionFor(principal, request->filter(), v1::DIMENSION_UNSPECIFIED, 0));
    std::vector<Window> periods = {PeriodContaining(kind, end_at)};
    while (static_cast<int>(periods.size()) < count) {
      periods.push_back(PreviousPeriod(periods.back()));
    }
    std::reverse(periods.begin(), periods.end());
    std::vector<TimeWindow> windows;
    for (const Window& p : periods) windows.push_back(TimeWindow{p.start, p.end});
    ASSIGN_OR_RETURN(std::vector<WindowTally> tallies,
                     aggregates_->Compute(selection, windows, now));
    for (size_t i = 0; i < periods.size(); ++i) {
      v1::TrendPoint* point = response->add_points();
      *point->mutable_period() = ToProto(periods[i], now);
      *point->mutable_figures() = FiguresFromCounters(tallies[i].totals, tallies[i].as_of);
    }
    response->mutable_data_version()->set_last_applied_sequence(tallies.front().sequence);
    *response->mutable_data_version()->mutable_computed_at() = ToProtoTime(now);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MetricsService::ListOverdue(grpc::CallbackServerContext* context,
                                                      const v1::ListOverdueRequest* request,
                                                      v1::ListOverdueResponse* response) {
  return ServeOnPool(context, workers_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal principal,
                     AuthenticateAndAuthorize(*tokens_, *context, kReaders, *request));
    const absl::Time now = options_.clock->Now();
    if (request->page_size() < 0) {
      return absl::InvalidArgumentError("page_size must not be negative");
    }
    size_t page_size = request->page_size() == 0 ? 50 : std::min(request->page_size(), 500);
    std::vector<int> levels;
    for (int i = 0; i < request->warning_levels_size(); ++i) {
      switch (request->warning_levels(i)) {
        case v1::WARNING_LEVEL_YELLOW:
          levels.push_back(tv1::WARNING_LEVEL_YELLOW);
          break;
        case v1::WARNING_LEVEL_RED:
          levels.push_back(tv1::WARNING_LEVEL_RED);
          break;
        default:
          return absl::InvalidArgumentError(
              absl::StrCat("warning_levels[", i, "]: must not be WARNING_LEVEL_UNSPECIFIED"));
      }
    }
    std::sort(levels.begin(), levels.end());
    levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
    ASSIGN_OR_RETURN(Selection selection,
                     SelectionFor(principal, request->filter(), v1::DIMENSION_UNSPECIFIED, 0));
    const std::string digest = RequestDigest(selection, levels);
    std::optional<std::pair<int64_t, std::string>> after;
    if (!request->page_token().empty()) {
      ASSIGN_OR_RETURN(std::vector<std::string> position,
                       ParsePageToken(request->page_token(), digest, 2, now, kOverduePageLifetime));
      int64_t deadline = 0;
      if (!absl::SimpleAtoi(position[0], &deadline)) {
        return absl::InvalidArgumentError("page_token: invalid; start again from the first page");
      }
      after.emplace(deadline, position[1]);
    }
    Aggregates::OverduePage page = aggregates_->ListWarned(selection, levels, after, page_size);
    for (const internal::LiveWorkOrder& w : page.items) {
      *response->add_items() = ToOverdueItem(w, now);
    }
    if (page.more && !page.items.empty()) {
      const internal::LiveWorkOrder& last = page.items.back();
      response->set_next_page_token(
          MakePageToken({absl::StrCat(last.deadline_us()), last.work_order_id()}, digest, now));
    }
    response->set_total_size(page.total);
    response->mutable_data_version()->set_last_applied_sequence(page.sequence);
    *response->mutable_data_version()->mutable_computed_at() = ToProtoTime(now);
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<v1::DashboardSnapshot>* MetricsService::WatchDashboard(
    grpc::CallbackServerContext* context, const v1::WatchDashboardRequest* request) {
  absl::StatusOr<Principal> principal =
      AuthenticateAndAuthorize(*tokens_, *context, kReaders, *request);
  if (!principal.ok()) return FailedStream(principal.status());
  const v1::WatchDashboardRequest& r = *request;
  if (r.period_kind() == v1::PERIOD_KIND_UNSPECIFIED || !v1::PeriodKind_IsValid(r.period_kind())) {
    return FailedStream(absl::InvalidArgumentError("period_kind must be set"));
  }
  absl::Duration min_interval = DurationOf(r.min_interval());
  absl::Duration heartbeat = DurationOf(r.heartbeat_interval());
  if (min_interval < absl::ZeroDuration()) {
    return FailedStream(absl::InvalidArgumentError("min_interval must not be negative"));
  }
  if (min_interval > kMaxInterval) {
    return FailedStream(absl::InvalidArgumentError("min_interval must be at most 10m"));
  }
  if (heartbeat < absl::ZeroDuration()) {
    return FailedStream(absl::InvalidArgumentError("heartbeat_interval must not be negative"));
  }
  if (heartbeat > kMaxInterval) {
    return FailedStream(absl::InvalidArgumentError("heartbeat_interval must be at most 10m"));
  }
  if (r.overdue_preview_size() < 0) {
    return FailedStream(absl::InvalidArgumentError("overdue_preview_size must not be negative"));
  }
  absl::StatusOr<Selection> selection =
      SelectionFor(*principal, r.filter(), r.group_by(), r.category_depth());
  if (!selection.ok()) return FailedStream(selection.status());
  if (min_interval == absl::ZeroDuration()) min_interval = absl::Seconds(5);
  // The server's floor: at most one snapshot per second per stream.
  // The floor bounds the cost of a stream: each snapshot is a few milliseconds of work.
  min_interval = std::max(min_interval, absl::Milliseconds(50));
  if (heartbeat == absl::ZeroDuration()) heartbeat = absl::Seconds(60);
  heartbeat = std::max(heartbeat, min_interval);
  int preview = std::min(r.overdue_preview_size(), 100);
  WatchReactor* reactor;
  {
    absl::MutexLock lock(&watch_mu_);
    if (static_cast<int>(watches_.size()) >= options_.max_watch_streams) {
      return FailedStream(absl::ResourceExhaustedError(
          "too many WatchDashboard streams are open; retry later with backoff"));
    }
    reactor = new WatchReactor(this, std::move(*selection), r.period_kind(), min_interval,
                               heartbeat, preview);
    watches_.insert(reactor);
  }
  WakeHub();  // The INITIAL snapshot goes out at once.
  return reactor;
}

grpc::ServerUnaryReactor* MetricsService::GetStatus(grpc::CallbackServerContext* context,
                                                    const v1::GetStatusRequest* request,
                                                    v1::GetStatusResponse* response) {
  return ServeOnPool(context, workers_, [=]() -> absl::Status {
    RETURN_IF_ERROR(
        AuthenticateAndAuthorize(*tokens_, *context, {Role::kSupervisor}, *request).status());
    ConsumerStatus consumer;
    if (consumer_ != nullptr) {
      consumer = consumer_->Status();
    } else {
      consumer.state = v1::CONSUMER_STATE_LIVE;
    }
    const absl::Time now = options_.clock->Now();
    const int64_t applied = aggregates_->last_applied_sequence();
    response->set_consumer_state(consumer.state);
    response->set_last_applied_sequence(applied);
    if (applied > 0) {
      *response->mutable_last_applied_event_time() =
          ToProtoTime(aggregates_->last_applied_event_time());
    }
    response->set_head_sequence(consumer.head_sequence);
    response->set_lag_events(std::max<int64_t>(0, consumer.head_sequence - applied));
    if (consumer.head_sequence > applied &&
        consumer.oldest_unapplied_time != absl::InfinitePast()) {
      *response->mutable_lag() =
          ProtoDuration(std::max(absl::ZeroDuration(), now - consumer.oldest_unapplied_time));
    } else {
      *response->mutable_lag() = ProtoDuration(absl::ZeroDuration());
    }
    if (consumer.last_contact != absl::InfinitePast()) {
      *response->mutable_last_source_contact_time() = ToProtoTime(consumer.last_contact);
    }
    response->set_last_error(consumer.last_error);
    response->set_calendar_version(aggregates_->calendar_version());
    *response->mutable_started_at() = ToProtoTime(started_at_);
    response->set_open_watch_streams(open_watch_streams());
    *response->mutable_status_time() = ToProtoTime(now);
    return absl::OkStatus();
  });
}

}  // namespace hotline::metrics
