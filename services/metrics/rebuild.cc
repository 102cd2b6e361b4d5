#include "services/metrics/rebuild.h"

#include <glog/logging.h>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "services/metrics/event_consumer.h"

namespace hotline::metrics {

absl::StatusOr<int64_t> Rebuild(const EventSource& source, Aggregates* aggregates, size_t batch) {
  RETURN_IF_ERROR(aggregates->Clear());
  std::vector<tv1::TicketEvent> pending;
  pending.reserve(batch);
  absl::Status applied = absl::OkStatus();
  int64_t count = 0;
  auto flush = [&] {
    applied = aggregates->Apply(pending);
    count += static_cast<int64_t>(pending.size());
    pending.clear();
    return applied.ok();
  };
  RETURN_IF_ERROR(source([&](const tv1::TicketEvent& e) {
    pending.push_back(e);
    if (pending.size() < batch) return true;
    if (!flush()) return false;
    LOG_EVERY_N(INFO, 100) << "rebuild: applied up to event " << e.global_sequence();
    return true;
  }));
  RETURN_IF_ERROR(applied);
  if (!pending.empty() && !flush()) return applied;
  return count;
}

EventSource StreamSource(RedisClient* redis, std::string stream_key, size_t page) {
  return [redis, stream_key = std::move(stream_key),
          page](const std::function<bool(const tv1::TicketEvent&)>& visit) -> absl::Status {
    std::string start = "-";
    while (true) {
      ASSIGN_OR_RETURN(RedisReplyPtr reply, redis->Command({"XRANGE", stream_key, start, "+",
                                                            "COUNT", absl::StrCat(page)}));
      ASSIGN_OR_RETURN(std::vector<StreamEntry> entries, ParseStreamEntries(*reply));
      for (const StreamEntry& e : entries) {
        if (!visit(e.event)) return absl::OkStatus();
      }
      if (entries.size() < page) return absl::OkStatus();
      start = "(" + entries.back().id;  // Exclusive: after the last entry read.
    }
  };
}

}  // namespace hotline::metrics
