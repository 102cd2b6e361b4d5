#include "services/metrics/metrics_flags.h"

#include <glog/logging.h>

#include "absl/flags/flag.h"
#include "services/ticket/ticket_service.h"

ABSL_FLAG(std::string, redis, "127.0.0.1:6379", "Redis host:port of the ticket event stream");
ABSL_FLAG(std::string, stream_key, "hotline:ticket:events", "Redis stream of ticket events");
ABSL_FLAG(std::string, consumer_group, "metrics", "Redis consumer group of this service");
ABSL_FLAG(std::string, consumer_name, "metrics",
          "consumer name within the group; keep it stable across restarts, since entries read "
          "but not acknowledged belong to it");
ABSL_FLAG(int, batch_size, 256, "stream entries read and applied per write");
ABSL_FLAG(std::string, calendar_dir, "../shared/data/holiday-cn",
          "directory of official holiday calendars (holiday-cn YYYY.json), for working hours");
ABSL_FLAG(std::string, ticket_config, "deploy/config/ticket.textproto",
          "ticket configuration, read for the department names shown in rows; may be empty");

namespace hotline::metrics {

absl::StatusOr<std::shared_ptr<const ticket::WorkingCalendar>> CalendarFromFlags() {
  absl::StatusOr<std::shared_ptr<const ticket::WorkingCalendar>> calendar =
      ticket::WorkingCalendar::LoadDirectory(absl::GetFlag(FLAGS_calendar_dir));
  if (calendar.ok()) LOG(INFO) << "working calendar " << (*calendar)->version();
  return calendar;
}

std::map<std::string, std::string> DepartmentNamesFromFlags() {
  std::map<std::string, std::string> names;
  const std::string path = absl::GetFlag(FLAGS_ticket_config);
  if (path.empty()) return names;
  absl::StatusOr<ticket::config::TicketConfig> config = ticket::LoadTicketConfig(path);
  if (!config.ok()) {
    LOG(WARNING) << "department names unavailable: " << config.status();
    return names;
  }
  for (const auto& d : config->departments()) names[d.id()] = d.name();
  return names;
}

absl::StatusOr<ConsumerOptions> ConsumerOptionsFromFlags() {
  absl::StatusOr<RedisOptions> redis = ParseRedisAddress(absl::GetFlag(FLAGS_redis));
  if (!redis.ok()) return redis.status();
  ConsumerOptions options;
  options.redis = *redis;
  options.stream_key = absl::GetFlag(FLAGS_stream_key);
  options.group = absl::GetFlag(FLAGS_consumer_group);
  options.consumer = absl::GetFlag(FLAGS_consumer_name);
  options.batch_size = std::max(1, absl::GetFlag(FLAGS_batch_size));
  return options;
}

}  // namespace hotline::metrics
