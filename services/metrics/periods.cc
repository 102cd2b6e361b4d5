#include "services/metrics/periods.h"

#include "absl/strings/str_format.h"
#include "services/metrics/ticket_facts.h"
#include "services/ticket/working_calendar.h"

namespace hotline::metrics {
namespace {

const absl::CivilDay kEpoch(1970, 1, 1);

absl::CivilDay MondayOf(absl::CivilDay day) {
  // absl::Weekday numbers Monday 0 .. Sunday 6.
  return day - static_cast<int>(absl::GetWeekday(day));
}

}  // namespace

int32_t DayOf(absl::Time t) {
  return static_cast<int32_t>(absl::ToCivilDay(t, ticket::ShanghaiTimeZone()) - kEpoch);
}

absl::Time DayStart(int32_t day) {
  return absl::FromCivil(kEpoch + day, ticket::ShanghaiTimeZone());
}

Window PeriodContaining(v1::PeriodKind kind, absl::Time at) {
  const absl::TimeZone zone = ticket::ShanghaiTimeZone();
  absl::CivilDay day = absl::ToCivilDay(at, zone);
  Window w;
  w.kind = kind;
  switch (kind) {
    case v1::PERIOD_KIND_WEEK: {
      absl::CivilDay monday = MondayOf(day);
      // The ISO week belongs to the year of its Thursday.
      absl::CivilDay thursday = monday + 3;
      int week = (absl::GetYearDay(thursday) - 1) / 7 + 1;
      w.start = absl::FromCivil(monday, zone);
      w.end = absl::FromCivil(monday + 7, zone);
      w.label = absl::StrFormat("%04d-W%02d", thursday.year(), week);
      break;
    }
    case v1::PERIOD_KIND_MONTH: {
      absl::CivilMonth month(day);
      w.start = absl::FromCivil(month, zone);
      w.end = absl::FromCivil(month + 1, zone);
      w.label = absl::StrFormat("%04d-%02d", month.year(), month.month());
      break;
    }
    default:
      w.kind = v1::PERIOD_KIND_DAY;
      w.start = absl::FromCivil(day, zone);
      w.end = absl::FromCivil(day + 1, zone);
      w.label = absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
      break;
  }
  return w;
}

Window PreviousPeriod(const Window& period) {
  return PeriodContaining(period.kind, period.start - absl::Microseconds(1));
}

Window NextPeriod(const Window& period) { return PeriodContaining(period.kind, period.end); }

v1::Period ToProto(const Window& window, absl::Time now) {
  v1::Period p;
  p.set_kind(window.kind);
  *p.mutable_start() = MicrosToProto(absl::ToUnixMicros(window.start));
  *p.mutable_end() = MicrosToProto(absl::ToUnixMicros(window.end));
  p.set_label(window.label);
  p.set_ended(window.end <= now);
  p.set_time_zone("Asia/Shanghai");
  return p;
}

}  // namespace hotline::metrics
