// Flags shared by metrics_server and metrics_rebuild (each also settable as HOTLINE_<FLAG>),
// and what they load.
#ifndef HOTLINE_SERVICES_METRICS_METRICS_FLAGS_H_
#define HOTLINE_SERVICES_METRICS_METRICS_FLAGS_H_

#include <map>
#include <memory>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "services/metrics/event_consumer.h"
#include "services/ticket/working_calendar.h"

ABSL_DECLARE_FLAG(std::string, redis);
ABSL_DECLARE_FLAG(std::string, stream_key);
ABSL_DECLARE_FLAG(std::string, consumer_group);
ABSL_DECLARE_FLAG(std::string, consumer_name);
ABSL_DECLARE_FLAG(int, batch_size);
ABSL_DECLARE_FLAG(std::string, calendar_dir);
ABSL_DECLARE_FLAG(std::string, ticket_config);

namespace hotline::metrics {

absl::StatusOr<std::shared_ptr<const ticket::WorkingCalendar>> CalendarFromFlags();
// Department display names from --ticket_config; empty (with a warning) when it cannot be read:
// names are for display only.
std::map<std::string, std::string> DepartmentNamesFromFlags();
absl::StatusOr<ConsumerOptions> ConsumerOptionsFromFlags();

}  // namespace hotline::metrics

#endif  // HOTLINE_SERVICES_METRICS_METRICS_FLAGS_H_
