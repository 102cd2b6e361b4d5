// metrics_rebuild: recomputes every aggregate of a metrics data directory from the full event
// history, with the metrics server stopped (RocksDB refuses a second opener). The source is
// the Redis stream from its first entry, or, with --from_ticket_db, the event log of a ticket
// database (a checkpoint of the ticket server's data directory, or the directory itself while
// the ticket server is stopped) for when the stream is incomplete.
//
//   metrics_rebuild --data_dir=/var/lib/hotline/metrics --redis=127.0.0.1:6379
//   metrics_rebuild --data_dir=/var/lib/hotline/metrics --from_ticket_db=/backup/ticket-ckpt
#include <glog/logging.h>

#include <iostream>

#include "absl/flags/flag.h"
#include "common/program.h"
#include "common/server_flags.h"
#include "services/metrics/metrics_flags.h"
#include "services/metrics/rebuild.h"
#include "services/ticket/ticket_store.h"

ABSL_FLAG(std::string, from_ticket_db, "",
          "rebuild from this ticket database's event log instead of the Redis stream");

int main(int argc, char** argv) {
  using namespace hotline;
  InitProgram(argc, argv, "metrics_rebuild: recompute the metrics from the full event history");
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (data_dir.empty()) {
    std::cerr << "--data_dir is required\n";
    return 2;
  }
  auto calendar = metrics::CalendarFromFlags();
  if (!calendar.ok()) {
    LOG(ERROR) << calendar.status();
    return 1;
  }
  auto store =
      RocksStore::Open({.path = data_dir, .column_families = metrics::Aggregates::Families()});
  if (!store.ok()) {
    LOG(ERROR) << store.status();
    return 1;
  }
  metrics::Aggregates aggregates(store->get(), *calendar);
  if (absl::Status s = aggregates.Load(); !s.ok()) {
    LOG(ERROR) << s;
    return 1;
  }

  absl::StatusOr<int64_t> applied;
  const std::string ticket_db = absl::GetFlag(FLAGS_from_ticket_db);
  if (!ticket_db.empty()) {
    auto tickets =
        RocksStore::Open({.path = ticket_db, .column_families = ticket::TicketStore::Families()});
    if (!tickets.ok()) {
      LOG(ERROR) << tickets.status();
      return 1;
    }
    // Only the event log is read; no alarms are scheduled.
    ticket::TicketStore log(tickets->get(), [](const auto&) { return absl::InfiniteFuture(); });
    applied = metrics::Rebuild([&](const auto& visit) { return log.ScanAllEvents(0, visit); },
                               &aggregates);
  } else {
    auto options = metrics::ConsumerOptionsFromFlags();
    if (!options.ok()) {
      LOG(ERROR) << options.status();
      return 2;
    }
    RedisClient redis(options->redis);
    applied = metrics::Rebuild(metrics::StreamSource(&redis, options->stream_key), &aggregates);
  }
  if (!applied.ok()) {
    LOG(ERROR) << "rebuild failed: " << applied.status();
    return 1;
  }
  std::cout << "rebuilt from " << *applied << " events; last applied sequence "
            << aggregates.last_applied_sequence() << "\n";
  return 0;
}
