// Calendar periods in Asia/Shanghai (day, ISO week, month) and the day index the aggregates
// are keyed by. Periods are calendar periods: weekends and holidays lie inside them.
#ifndef HOTLINE_SERVICES_METRICS_PERIODS_H_
#define HOTLINE_SERVICES_METRICS_PERIODS_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "hotline/metrics/v1/metrics.pb.h"

namespace hotline::metrics {

// A resolved window [start, end).
struct Window {
  v1::PeriodKind kind = v1::PERIOD_KIND_UNSPECIFIED;
  absl::Time start;
  absl::Time end;
  std::string label;  // "2024-05-13", "2024-W20", "2024-05"; empty for explicit ranges.
};

// The period of `kind` (not UNSPECIFIED) that contains `at`.
Window PeriodContaining(v1::PeriodKind kind, absl::Time at);
// The period just before / after `period` (same kind).
Window PreviousPeriod(const Window& period);
Window NextPeriod(const Window& period);

// Shanghai civil days, numbered from 1970-01-01.
int32_t DayOf(absl::Time t);
inline int32_t DayOfMicros(int64_t micros) { return DayOf(absl::FromUnixMicros(micros)); }
absl::Time DayStart(int32_t day);

// The response form of a window, with `ended` relative to `now`.
v1::Period ToProto(const Window& window, absl::Time now);

}  // namespace hotline::metrics

#endif  // HOTLINE_SERVICES_METRICS_PERIODS_H_
