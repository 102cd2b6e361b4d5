// The metrics commands: one per read of the metrics service, sharing one way to say which
// figures (--period/--at or --start/--end, --department, --category, --channel) and one way to
// print a rate: the percentage with its numerator and denominator, "—" when nothing was due.
#include "services/hotlinectl/metrics_commands.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/program.h"
#include "common/status_macros.h"
#include "hotline/metrics/v1/metrics.grpc.pb.h"
#include "services/hotlinectl/client_util.h"
#include "services/hotlinectl/stream_follower.h"
#include "services/metrics/figures.h"

// Shared with the ticket commands (defined in ticket_commands.cc).
ABSL_DECLARE_FLAG(std::string, department);
ABSL_DECLARE_FLAG(std::string, channel);
ABSL_DECLARE_FLAG(std::string, warning);
ABSL_DECLARE_FLAG(std::string, page_token);

ABSL_FLAG(std::string, period, "month",
          "metrics: day, week or month (日/周/月, Asia/Shanghai calendar periods)");
ABSL_FLAG(std::string, at, "",
          "metrics summary, trend: a TIME inside the period wanted (default: now, the current "
          "period); trend: the last period shown");
ABSL_FLAG(std::string, start, "",
          "metrics summary: an explicit window from this TIME (with --end)");
ABSL_FLAG(std::string, end, "", "metrics summary: an explicit window up to this TIME, excluded");
ABSL_FLAG(std::string, by, "",
          "metrics summary, watch: one row per department, category or channel");
ABSL_FLAG(int32_t, depth, 0, "metrics --by=category: path segments per row (default 1)");
ABSL_FLAG(int32_t, count, 0,
          "metrics trend: how many periods (default: 30 days, 12 weeks or months)");
ABSL_FLAG(absl::Duration, min_interval, absl::Seconds(1),
          "metrics watch: at most one dashboard line this often (changes in between coalesce)");

namespace hotline::cli {
namespace {

namespace m = ::hotline::metrics::v1;
using Stub = m::MetricsService::StubInterface;

constexpr char kHelp[] = "metrics help";

// ---------------------------------------------------------------------------
// Values as users type and read them.

struct Term {
  int value;
  const char* name;
  const char* label;
};

constexpr Term kPeriods[] = {{m::PERIOD_KIND_DAY, "day", "日"},
                             {m::PERIOD_KIND_WEEK, "week", "周"},
                             {m::PERIOD_KIND_MONTH, "month", "月"}};
constexpr Term kDimensions[] = {{m::DIMENSION_DEPARTMENT, "department", "单位"},
                                {m::DIMENSION_CATEGORY, "category", "分类"},
                                {m::DIMENSION_CHANNEL, "channel", "渠道"}};
constexpr Term kChannels[] = {{m::CHANNEL_HOTLINE, "hotline", "12345热线"},
                              {m::CHANNEL_MAYOR_MAILBOX, "mayor-mailbox", "市长信箱"},
                              {m::CHANNEL_SERVICE_WINDOW, "service-window", "服务窗口"},
                              {m::CHANNEL_WEB, "web", "网站"}};
constexpr Term kWarnings[] = {{m::WARNING_LEVEL_YELLOW, "yellow", "黄牌"},
                              {m::WARNING_LEVEL_RED, "red", "红牌"}};
constexpr Term kBacklogStates[] = {
    {m::WORK_ORDER_STATE_AWAITING_SIGN, "awaiting-sign", "待签收"},
    {m::WORK_ORDER_STATE_IN_PROGRESS, "in-progress", "办理中"},
    {m::WORK_ORDER_STATE_EXTENSION_REQUESTED, "extension-requested", "延期待批"},
    {m::WORK_ORDER_STATE_RETURN_REQUESTED, "return-requested", "退单待审"},
    {m::WORK_ORDER_STATE_AWAITING_CALLBACK, "awaiting-callback", "待回访"}};
constexpr Term kReasons[] = {{m::SNAPSHOT_REASON_INITIAL, "initial", "初始"},
                             {m::SNAPSHOT_REASON_CHANGED, "changed", "变化"},
                             {m::SNAPSHOT_REASON_PERIOD_ROLLOVER, "rollover", "换期"},
                             {m::SNAPSHOT_REASON_HEARTBEAT, "heartbeat", "心跳"}};
constexpr Term kConsumerStates[] = {{m::CONSUMER_STATE_CATCHING_UP, "catching-up", "追赶中"},
                                    {m::CONSUMER_STATE_LIVE, "live", "实时"},
                                    {m::CONSUMER_STATE_DISCONNECTED, "disconnected", "断开"},
                                    {m::CONSUMER_STATE_STALLED, "stalled", "停滞"}};

template <size_t N>
const char* Label(const Term (&terms)[N], int value) {
  for (const Term& t : terms) {
    if (t.value == value) return t.label;
  }
  return "?";
}

template <size_t N>
std::string Names(const Term (&terms)[N]) {
  std::vector<std::string> names;
  for (const Term& t : terms) names.push_back(absl::StrCat(t.name, " ", t.label));
  return absl::StrJoin(names, ", ");
}

// The English name (with '-' or '_') or the Chinese term.
template <size_t N>
absl::StatusOr<int> Parse(const Term (&terms)[N], absl::string_view flag, absl::string_view text) {
  std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  std::replace(key.begin(), key.end(), '_', '-');
  for (const Term& t : terms) {
    if (key == t.name || absl::StripAsciiWhitespace(text) == t.label) return t.value;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": unknown value '", text, "'; valid: ", Names(terms)));
}

// ---------------------------------------------------------------------------
// Reading the flags into requests.

absl::StatusOr<m::PeriodKind> PeriodFlag() {
  ASSIGN_OR_RETURN(int kind, Parse(kPeriods, "period", absl::GetFlag(FLAGS_period)));
  return static_cast<m::PeriodKind>(kind);
}

absl::StatusOr<google::protobuf::Timestamp> TimeFlag(absl::string_view flag,
                                                     const std::string& value) {
  absl::StatusOr<absl::Time> time = ParseTime(value, DateMeans::kStartOfDay);
  if (!time.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", time.status().message()));
  }
  return ToProtoTime(*time);
}

absl::StatusOr<m::MetricsFilter> FilterFlags() {
  m::MetricsFilter filter;
  for (const std::string& d : SplitList(absl::GetFlag(FLAGS_department))) {
    filter.add_department_ids(d);
  }
  filter.set_category_prefix(absl::GetFlag(FLAGS_category));
  for (const std::string& c : SplitList(absl::GetFlag(FLAGS_channel))) {
    ASSIGN_OR_RETURN(int channel, Parse(kChannels, "channel", c));
    filter.add_channels(static_cast<m::Channel>(channel));
  }
  return filter;
}

absl::StatusOr<m::Dimension> DimensionFlag() {
  if (absl::GetFlag(FLAGS_by).empty()) return m::DIMENSION_UNSPECIFIED;
  ASSIGN_OR_RETURN(int d, Parse(kDimensions, "by", absl::GetFlag(FLAGS_by)));
  return static_cast<m::Dimension>(d);
}

// ---------------------------------------------------------------------------
// Text output.

// Terminal columns of UTF-8 text: CJK characters (3-byte sequences from U+3000 on) take two.
size_t Columns(absl::string_view s) {
  size_t columns = 0;
  for (char c : s) {
    unsigned char byte = static_cast<unsigned char>(c);
    if ((byte & 0xc0) != 0x80) columns += (byte >= 0xe3 && byte <= 0xef) ? 2 : 1;
  }
  return columns;
}

std::string PadRight(absl::string_view s, size_t columns) {
  size_t used = Columns(s);
  return absl::StrCat(s, std::string(used < columns ? columns - used : 0, ' '));
}

std::string PadLeft(absl::string_view s, size_t columns) {
  size_t used = Columns(s);
  return absl::StrCat(std::string(used < columns ? columns - used : 0, ' '), s);
}

// "80.8%"; "—" when there was nothing to measure (the contract says never to show 0% then).
std::string Percent(const m::Rate& r) {
  return r.has_value() ? absl::StrFormat("%.1f%%", 100 * r.value()) : "—";
}

// "80.8% (42/52)".
std::string RateText(const m::Rate& r) {
  return absl::StrCat(Percent(r), " (", r.numerator(), "/", r.denominator(), ")");
}

std::string PeriodText(const m::Period& p) {
  std::string label = p.label().empty() ? "自定义区间" : p.label();
  std::string kind =
      p.kind() == m::PERIOD_KIND_UNSPECIFIED ? "" : absl::StrCat(Label(kPeriods, p.kind()), "，");
  return absl::StrCat(label, "（", kind, FormatTimestamp(p.start()), " 至 ",
                      FormatTimestamp(p.end()), p.ended() ? "，已结束" : "，未结束", "）");
}

std::string BacklogText(const m::Backlog& b) {
  std::vector<std::string> parts;
  int64_t awaiting_callback = 0;
  for (const m::BacklogStateCount& s : b.by_state()) {
    if (s.state() == m::WORK_ORDER_STATE_AWAITING_CALLBACK) {
      awaiting_callback = s.count();
      continue;
    }
    parts.push_back(absl::StrCat(Label(kBacklogStates, s.state()), " ", s.count()));
  }
  std::string open = absl::StrCat("未办结 ", b.open_total(), " 件");
  if (!parts.empty()) absl::StrAppend(&open, "（", absl::StrJoin(parts, "，"), "）");
  return absl::StrCat(open, "；待回访 ", awaiting_callback, " 件；黄牌 ", b.yellow_count(),
                      "，红牌 ", b.red_count());
}

// Every rate and average the service declares (services/metrics/figures.h), in its order.
void PrintFigures(std::ostream& out, const m::Figures& f) {
  const google::protobuf::Reflection* reflection = f.GetReflection();
  auto figure = [&](const char* name) -> const google::protobuf::Message& {
    return reflection->GetMessage(f, m::Figures::descriptor()->FindFieldByName(name));
  };
  for (const ::hotline::metrics::RateSpec& rate : ::hotline::metrics::Rates()) {
    const auto& r = static_cast<const m::Rate&>(figure(rate.field));
    std::string note = rate.definition;
    if (rate.excluded >= 0) {
      // The only rate that leaves items out is the satisfaction rate: unanswered callbacks.
      absl::StrAppend(&note, "；", rate.excluded_label, " ", f.callbacks_unreachable(),
                      " 次不计入");
    }
    out << "  " << PadRight(rate.label, 14) << PadLeft(Percent(r), 6) << "   "
        << PadRight(absl::StrCat(r.numerator(), "/", r.denominator()), 11) << note << "\n";
  }
  for (const ::hotline::metrics::AverageSpec& average : ::hotline::metrics::Averages()) {
    const google::protobuf::Message& a = figure(average.field);
    const google::protobuf::Descriptor* d = a.GetDescriptor();
    const google::protobuf::Reflection* r = a.GetReflection();
    double hours = 0;
    for (int i = 0; i < d->field_count(); ++i) {
      if (absl::StartsWith(d->field(i)->name(), "average_")) hours = r->GetDouble(a, d->field(i));
    }
    const bool has = r->GetBool(a, d->FindFieldByName("has_average"));
    const int64_t count = r->GetInt64(a, d->FindFieldByName("count"));
    out << "  " << PadRight(average.label, 14)
        << (has ? absl::StrFormat("%.1f %s，%d 件", hours, average.unit, count) : std::string("—"))
        << "\n";
  }
  out << "  " << PadRight("积压", 14) << BacklogText(f.backlog()) << "\n";
}

std::string GroupName(const m::SummaryRow& row) {
  switch (row.key().key_case()) {
    case m::GroupKey::kDepartmentId:
      return row.display_name().empty()
                 ? row.key().department_id()
                 : absl::StrCat(row.display_name(), " ", row.key().department_id());
    case m::GroupKey::kCategory:
      return row.key().category().empty() ? "（未分类）" : row.key().category();
    case m::GroupKey::kChannel:
      return Label(kChannels, row.key().channel());
    default:
      return row.display_name();
  }
}

void PrintRows(std::ostream& out, const google::protobuf::RepeatedPtrField<m::SummaryRow>& rows,
               absl::string_view indent) {
  if (rows.empty()) return;
  size_t width = 8;
  for (const m::SummaryRow& row : rows) width = std::max(width, Columns(GroupName(row)));
  out << indent << PadRight("", width) << "  " << PadLeft("按期办结率", 18) << "  "
      << PadLeft("回访满意率", 18) << "  " << PadLeft("退单", 5) << "  " << PadLeft("重办", 5)
      << "  " << PadLeft("未办结", 6) << "  " << PadLeft("黄牌", 4) << "  " << PadLeft("红牌", 4)
      << "\n";
  for (const m::SummaryRow& row : rows) {
    const m::Figures& f = row.figures();
    out << indent << PadRight(GroupName(row), width) << "  "
        << PadLeft(RateText(f.on_time_completion_rate()), 18) << "  "
        << PadLeft(RateText(f.callback_satisfaction_rate()), 18) << "  "
        << PadLeft(absl::StrCat(f.return_rate().numerator()), 5) << "  "
        << PadLeft(absl::StrCat(f.reopen_rate().numerator()), 5) << "  "
        << PadLeft(absl::StrCat(f.backlog().open_total()), 6) << "  "
        << PadLeft(absl::StrCat(f.backlog().yellow_count()), 4) << "  "
        << PadLeft(absl::StrCat(f.backlog().red_count()), 4) << "\n";
  }
}

std::string DataVersionText(const m::DataVersion& v) {
  return absl::StrCat("数据截至 ", FormatTimestamp(v.computed_at()), "，已处理事件 ",
                      v.last_applied_sequence());
}

std::string OverdueLine(const m::OverdueItem& item) {
  std::string department =
      item.department_name().empty()
          ? item.department_id()
          : absl::StrCat(item.department_name(), "(", item.department_id(), ")");
  std::string when;
  if (item.warning_level() == m::WARNING_LEVEL_RED) {
    // Calendar time past the deadline, and the part of it on working days (which is what a
    // deadline counts): a deadline passed on Friday night is 0 working days late on Sunday.
    const int64_t hours = item.overdue_by().seconds() / 3600;
    when = absl::StrFormat("超期 %d天%d小时（%.1f 个工作日）", hours / 24, hours % 24,
                           item.overdue_working_hours() / 24);
  } else {
    when = "临近期限";
  }
  return absl::StrCat(Label(kWarnings, item.warning_level()), "  ", item.ticket_id(), " ",
                      item.work_order_id(), "  ", department, item.lead() ? " 主办" : " 协办", "  ",
                      Label(kBacklogStates, item.state()), "  期限 ",
                      FormatTimestamp(item.deadline()), item.extended() ? "（已延期）" : "", "  ",
                      when, "  督办 ", item.urge_count(), " 次",
                      item.category().empty() ? "" : absl::StrCat("  ", item.category()));
}

// One dashboard line: the period, the two rates the province checks, the backlog and cards.
std::string DashboardLine(const m::DashboardSnapshot& s) {
  const m::Figures& f = s.totals();
  return absl::StrCat(
      absl::FormatTime("%Y-%m-%d %H:%M:%S", FromProtoTime(s.data_version().computed_at()),
                       HotlineTimeZone()),
      " [", Label(kReasons, s.reason()), "] ", s.period().label(), "  按期办结率 ",
      RateText(f.on_time_completion_rate()), "  回访满意率 ",
      RateText(f.callback_satisfaction_rate()), "  未办结 ", f.backlog().open_total(), "  待回访 ",
      [&] {
        for (const m::BacklogStateCount& c : f.backlog().by_state()) {
          if (c.state() == m::WORK_ORDER_STATE_AWAITING_CALLBACK) return c.count();
        }
        return int64_t{0};
      }(),
      "  黄牌 ", f.backlog().yellow_count(), "  红牌 ", f.backlog().red_count(), "  退单 ",
      f.return_rate().numerator(), "  重办 ", f.reopen_rate().numerator(), "  事件 ",
      s.data_version().last_applied_sequence());
}

// ---------------------------------------------------------------------------
// Commands.

absl::StatusOr<std::unique_ptr<Stub>> NewStub() {
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, Connect(absl::GetFlag(FLAGS_metrics)));
  return std::unique_ptr<Stub>(m::MetricsService::NewStub(channel));
}

int Usage(absl::string_view command, const absl::Status& status) {
  return ReportUsageError(absl::StrCat("metrics ", command, ": ", status.message()),
                          absl::StrCat(kHelp, " ", command));
}

int RunSummary() {
  m::GetSummaryRequest request;
  absl::Status built = [&]() -> absl::Status {
    const std::string start = absl::GetFlag(FLAGS_start);
    const std::string end = absl::GetFlag(FLAGS_end);
    if (!start.empty() || !end.empty()) {
      if (start.empty() || end.empty()) {
        return absl::InvalidArgumentError("--start and --end go together");
      }
      if (FlagOnCommandLine("period") || !absl::GetFlag(FLAGS_at).empty()) {
        return absl::InvalidArgumentError("give --period/--at or --start/--end, not both");
      }
      ASSIGN_OR_RETURN(*request.mutable_range()->mutable_start(), TimeFlag("start", start));
      ASSIGN_OR_RETURN(*request.mutable_range()->mutable_end(), TimeFlag("end", end));
    } else {
      ASSIGN_OR_RETURN(m::PeriodKind kind, PeriodFlag());
      request.mutable_period()->set_kind(kind);
      if (const std::string at = absl::GetFlag(FLAGS_at); !at.empty()) {
        ASSIGN_OR_RETURN(*request.mutable_period()->mutable_at(), TimeFlag("at", at));
      }
    }
    ASSIGN_OR_RETURN(*request.mutable_filter(), FilterFlags());
    ASSIGN_OR_RETURN(m::Dimension by, DimensionFlag());
    request.set_group_by(by);
    request.set_category_depth(absl::GetFlag(FLAGS_depth));
    return absl::OkStatus();
  }();
  if (!built.ok()) return Usage("summary", built);
  absl::StatusOr<std::unique_ptr<Stub>> stub = NewStub();
  if (!stub.ok()) return ReportError(stub.status());
  m::GetSummaryResponse response;
  grpc::ClientContext context;
  PrepareContext(&context);
  if (grpc::Status s = (*stub)->GetSummary(&context, request, &response); !s.ok()) {
    return ReportError(s);
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(response) << "\n";
    return kExitOk;
  }
  std::cout << "统计周期 " << PeriodText(response.period()) << "\n"
            << DataVersionText(response.data_version()) << "\n\n";
  PrintFigures(std::cout, response.totals());
  if (!response.rows().empty()) {
    std::cout << "\n";
    PrintRows(std::cout, response.rows(), "  ");
  }
  return kExitOk;
}

int RunTrend() {
  m::GetTrendRequest request;
  absl::Status built = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(m::PeriodKind kind, PeriodFlag());
    request.set_period_kind(kind);
    if (const std::string at = absl::GetFlag(FLAGS_at); !at.empty()) {
      ASSIGN_OR_RETURN(*request.mutable_end_at(), TimeFlag("at", at));
    }
    request.set_period_count(absl::GetFlag(FLAGS_count));
    ASSIGN_OR_RETURN(*request.mutable_filter(), FilterFlags());
    return absl::OkStatus();
  }();
  if (!built.ok()) return Usage("trend", built);
  absl::StatusOr<std::unique_ptr<Stub>> stub = NewStub();
  if (!stub.ok()) return ReportError(stub.status());
  m::GetTrendResponse response;
  grpc::ClientContext context;
  PrepareContext(&context);
  if (grpc::Status s = (*stub)->GetTrend(&context, request, &response); !s.ok()) {
    return ReportError(s);
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(response) << "\n";
    return kExitOk;
  }
  std::cout << PadRight("周期", 12) << PadLeft("按期办结率", 20) << PadLeft("回访满意率", 20)
            << PadLeft("派出", 7) << PadLeft("退单", 6) << PadLeft("重办", 6)
            << PadLeft("未办结", 8) << PadLeft("红牌", 6) << "\n";
  for (const m::TrendPoint& p : response.points()) {
    const m::Figures& f = p.figures();
    std::cout << PadRight(p.period().label(), 12)
              << PadLeft(RateText(f.on_time_completion_rate()), 20)
              << PadLeft(RateText(f.callback_satisfaction_rate()), 20)
              << PadLeft(absl::StrCat(f.return_rate().denominator()), 7)
              << PadLeft(absl::StrCat(f.return_rate().numerator()), 6)
              << PadLeft(absl::StrCat(f.reopen_rate().numerator()), 6)
              << PadLeft(absl::StrCat(f.backlog().open_total()), 8)
              << PadLeft(absl::StrCat(f.backlog().red_count()), 6) << "\n";
  }
  std::cout << DataVersionText(response.data_version()) << "\n";
  return kExitOk;
}

int RunOverdue() {
  m::ListOverdueRequest request;
  absl::Status built = [&]() -> absl::Status {
    for (const std::string& w : SplitList(absl::GetFlag(FLAGS_warning))) {
      ASSIGN_OR_RETURN(int level, Parse(kWarnings, "warning", w));
      request.add_warning_levels(static_cast<m::WarningLevel>(level));
    }
    ASSIGN_OR_RETURN(*request.mutable_filter(), FilterFlags());
    request.set_page_size(absl::GetFlag(FLAGS_page_size));
    request.set_page_token(absl::GetFlag(FLAGS_page_token));
    return absl::OkStatus();
  }();
  if (!built.ok()) return Usage("overdue", built);
  absl::StatusOr<std::unique_ptr<Stub>> stub = NewStub();
  if (!stub.ok()) return ReportError(stub.status());
  m::ListOverdueResponse response;
  grpc::ClientContext context;
  PrepareContext(&context);
  if (grpc::Status s = (*stub)->ListOverdue(&context, request, &response); !s.ok()) {
    return ReportError(s);
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(response) << "\n";
    return kExitOk;
  }
  for (const m::OverdueItem& item : response.items()) std::cout << OverdueLine(item) << "\n";
  std::cout << "共 " << response.total_size() << " 件预警工单（红牌在前，超期最久的在前）；"
            << DataVersionText(response.data_version()) << "\n";
  if (!response.next_page_token().empty()) {
    std::cout << "下一页: --page_token=" << response.next_page_token() << "\n";
  }
  return kExitOk;
}

int RunStatus() {
  absl::StatusOr<std::unique_ptr<Stub>> stub = NewStub();
  if (!stub.ok()) return ReportError(stub.status());
  m::GetStatusResponse response;
  grpc::ClientContext context;
  PrepareContext(&context);
  if (grpc::Status s = (*stub)->GetStatus(&context, m::GetStatusRequest(), &response); !s.ok()) {
    return ReportError(s);
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(response) << "\n";
    return kExitOk;
  }
  std::cout << "事件消费 " << Label(kConsumerStates, response.consumer_state()) << "：已处理 "
            << response.last_applied_sequence() << " / " << response.head_sequence() << "，落后 "
            << response.lag_events() << " 个事件（"
            << absl::FormatDuration(absl::Seconds(response.lag().seconds())) << "）\n"
            << "最后处理的事件时间 " << FormatTimestamp(response.last_applied_event_time())
            << "，日历 " << response.calendar_version() << "，实时看板连接 "
            << response.open_watch_streams() << "\n";
  if (!response.last_error().empty()) std::cout << "错误: " << response.last_error() << "\n";
  return kExitOk;
}

// Ctrl-C while watching: cancels the stream in progress and ends the command. Never freed,
// since the signal thread may outlive the command.
int RunWatch() {
  m::WatchDashboardRequest request;
  absl::Status built = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(m::PeriodKind kind, PeriodFlag());
    request.set_period_kind(kind);
    ASSIGN_OR_RETURN(*request.mutable_filter(), FilterFlags());
    ASSIGN_OR_RETURN(m::Dimension by, DimensionFlag());
    request.set_group_by(by);
    request.set_category_depth(absl::GetFlag(FLAGS_depth));
    const absl::Duration interval = absl::GetFlag(FLAGS_min_interval);
    request.mutable_min_interval()->set_seconds(absl::ToInt64Seconds(interval));
    request.mutable_min_interval()->set_nanos(
        static_cast<int32_t>(absl::ToInt64Nanoseconds(interval % absl::Seconds(1))));
    return absl::OkStatus();
  }();
  if (!built.ok()) return Usage("watch", built);
  StreamStop stop;  // Before the channel exists (see StreamStop).
  absl::StatusOr<std::unique_ptr<Stub>> stub = NewStub();
  if (!stub.ok()) return ReportError(stub.status());
  const bool json = absl::GetFlag(FLAGS_json);
  return FollowStream<m::DashboardSnapshot>(
      stop, [&](grpc::ClientContext* context) { return (*stub)->WatchDashboard(context, request); },
      [&](const m::DashboardSnapshot& snapshot) {
        if (json) {
          std::cout << ToJson(snapshot) << std::endl;
          return;
        }
        std::cout << DashboardLine(snapshot) << std::endl;
        if (!snapshot.rows().empty()) PrintRows(std::cout, snapshot.rows(), "    ");
      });
}

struct Command {
  const char* name;
  const char* synopsis;
  const char* summary;
  std::vector<std::string> flags;
  std::function<int()> run;
};

const std::vector<Command>& Commands() {
  static const auto* commands = new std::vector<Command>{
      {"summary",
       "[--period=day|week|month] [--at=TIME | --start=TIME --end=TIME] "
       "[--department=DEPT[,DEPT...]] "
       "[--category=PREFIX] [--channel=C]... [--by=department|category|channel] [--depth=N]",
       "the figures of one period (default: this month): every rate with numerator and "
       "denominator, average handling time, backlog by state with yellow and red cards",
       {"period", "at", "start", "end", "department", "category", "channel", "by", "depth"},
       RunSummary},
      {"trend",
       "[--period=day|week|month] [--count=N] [--at=TIME] [--department=DEPT[,DEPT...]] "
       "[--category=PREFIX] [--channel=C]...",
       "the rates period after period, oldest first, one line each",
       {"period", "count", "at", "department", "category", "channel"},
       RunTrend},
      {"overdue",
       "[--warning=yellow|red]... [--department=DEPT[,DEPT...]] [--category=PREFIX] "
       "[--channel=C]... "
       "[--page_size=N] [--page_token=T]",
       "open work orders with a red card (overdue) or a yellow one, most overdue first",
       {"warning", "department", "category", "channel", "page_size", "page_token"},
       RunOverdue},
      {"watch",
       "[--period=day|week|month] [--department=DEPT[,DEPT...]] [--category=PREFIX] "
       "[--channel=C]... "
       "[--by=department|category|channel] [--min_interval=1s]",
       "a live dashboard: one line whenever a figure changes, until Ctrl-C",
       {"period", "department", "category", "channel", "by", "depth", "min_interval"},
       RunWatch},
      {"status",
       "",
       "how far the metrics service has caught up with the ticket events",
       {},
       RunStatus},
  };
  return *commands;
}

const Command* FindCommand(absl::string_view name) {
  for (const Command& c : Commands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

std::set<std::string> AllMetricsFlags() {
  std::set<std::string> flags;
  for (const Command& c : Commands()) flags.insert(c.flags.begin(), c.flags.end());
  return flags;
}

// Wraps `text` at spaces into lines of at most `width` terminal columns.
void PrintWrapped(std::ostream& out, absl::string_view text, absl::string_view first_indent,
                  absl::string_view indent, size_t width = 96) {
  std::string line(first_indent);
  bool empty = true;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!empty && Columns(line) + 1 + Columns(word) > width) {
      out << line << "\n";
      line = std::string(indent);
      empty = true;
    }
    absl::StrAppend(&line, empty ? "" : " ", word);
    empty = false;
  }
  out << line << "\n";
}

void PrintHelp(std::ostream& out, const Command* only) {
  if (only != nullptr) {
    PrintWrapped(
        out,
        absl::StrCat("usage: hotlinectl [global flags] metrics ", only->name, " ", only->synopsis),
        "", "      ");
    out << "\n";
    PrintWrapped(out, absl::StrCat(only->summary, "."), "", "");
  } else {
    out << "usage: hotlinectl [global flags] metrics COMMAND [flags]\n\n"
           "The figures supervisors watch, from the metrics service "
           "(hotline.metrics.v1.MetricsService).\nWho: supervisors and reviewers (every "
           "department), departments (their own); not agents.\n\n";
    for (const Command& c : Commands()) {
      PrintWrapped(out, absl::StrCat(c.name, " ", c.synopsis), "  ", "      ");
      PrintWrapped(out, absl::StrCat(c.summary, "."), "      ", "      ");
    }
  }
  out << "\nValues (the Chinese terms are accepted too):\n"
      << "  --period: " << Names(kPeriods) << "\n"
      << "  --by: " << Names(kDimensions) << "\n"
      << "  --channel: " << Names(kChannels) << "\n"
      << "  --warning: " << Names(kWarnings) << "\n\n";
  PrintWrapped(out,
               "TIME is in Asia/Shanghai: 2024-05-15, '2024-05-15 18:00', or RFC 3339 such as "
               "2024-05-15T18:00:00+08:00. Flags marked ... may be repeated or comma-separated. "
               "A rate shows — when nothing was due in the period (denominator 0).",
               "", "");
  out << "\n";
  PrintWrapped(out,
               "Global flags: --metrics=HOST:PORT (the service), --token=TOKEN (or HOTLINE_TOKEN), "
               "--timeout=5s, --tls_ca=FILE, --json (the response messages as JSON, one line "
               "each).",
               "", "");
}

}  // namespace

std::string MetricsCommandSummary() {
  std::string summary;
  for (const Command& c : Commands()) {
    absl::StrAppend(&summary, absl::StrFormat("  metrics %-16s %s\n", c.name, c.summary));
  }
  return summary;
}

int RunMetricsCommand(const std::vector<std::string>& args) {
  if (args.empty()) return ReportUsageError("metrics: the COMMAND is missing", kHelp);
  if (args[0] == "help") {
    const Command* only = nullptr;
    if (args.size() > 1) {
      only = FindCommand(args[1]);
      if (only == nullptr) {
        return ReportUsageError(absl::StrCat("no metrics command '", args[1], "'"), kHelp);
      }
    }
    PrintHelp(std::cout, only);
    return kExitOk;
  }
  const Command* command = FindCommand(args[0]);
  if (command == nullptr) {
    return ReportUsageError(absl::StrCat("no metrics command '", args[0], "'"), kHelp);
  }
  const std::string help = absl::StrCat(kHelp, " ", command->name);
  if (args.size() > 1) {
    return ReportUsageError(
        absl::StrCat("metrics ", command->name, ": unexpected argument '", args[1], "'"), help);
  }
  // A metrics flag this command does not read is a mistake, not something to ignore.
  for (const std::string& flag : AllMetricsFlags()) {
    if (FlagOnCommandLine(flag) && !absl::c_linear_search(command->flags, flag)) {
      return ReportUsageError(absl::StrCat("metrics ", command->name, " does not take --", flag),
                              help);
    }
  }
  return command->run();
}

}  // namespace hotline::cli
