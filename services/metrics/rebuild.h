// Recomputes every aggregate from the full event history: the operator's remedy after a lost
// stream, a gap, or a new working calendar, and the reference the tests compare the live
// figures with.
#ifndef HOTLINE_SERVICES_METRICS_REBUILD_H_
#define HOTLINE_SERVICES_METRICS_REBUILD_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "common/redis_client.h"
#include "services/metrics/aggregates.h"

namespace hotline::metrics {

// Visits every event in increasing global_sequence until the visitor returns false, e.g.
// TicketStore::ScanAllEvents(0, visit).
using EventSource =
    std::function<absl::Status(const std::function<bool(const tv1::TicketEvent&)>& visit)>;

// Clears `aggregates` and applies every event of `source`, `batch` events per write. Returns
// the number of events applied.
absl::StatusOr<int64_t> Rebuild(const EventSource& source, Aggregates* aggregates,
                                size_t batch = 4096);

// An EventSource reading a Redis stream of ticket events from its first entry, in pages.
EventSource StreamSource(RedisClient* redis, std::string stream_key, size_t page = 1000);

}  // namespace hotline::metrics

#endif  // HOTLINE_SERVICES_METRICS_REBUILD_H_
