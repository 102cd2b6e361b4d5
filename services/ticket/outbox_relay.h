// Publishes committed ticket events from the store's outbox to a Redis Stream, in order, each
// exactly once: the stream entry id is "<global_sequence>-0", and Redis refuses an id that is
// not above the stream's last one, so a retry after a crash or a lost reply cannot add an
// event twice. While Redis is unreachable, events wait in the outbox; tickets keep working.
#ifndef HOTLINE_SERVICES_TICKET_OUTBOX_RELAY_H_
#define HOTLINE_SERVICES_TICKET_OUTBOX_RELAY_H_

#include <atomic>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "common/redis_client.h"
#include "services/ticket/ticket_store.h"

namespace hotline::ticket {

class OutboxRelay {
 public:
  OutboxRelay(TicketStore* store, RedisClient* redis, std::string stream_key);
  ~OutboxRelay();

  // Starts the background loop (tests may instead call PublishPending directly).
  void Start();
  // New events were committed.
  void Wake();

  // Publishes everything in the outbox now. Returns how many events were appended; UNAVAILABLE
  // when Redis cannot be reached (nothing is lost: the rest stays in the outbox).
  absl::StatusOr<int> PublishPending();

  // Highest global sequence known to be in the stream.
  int64_t published_sequence() const { return published_.load(); }
  // Events committed but not yet published.
  int64_t backlog() const;

 private:
  void Loop();
  // The global sequence of the stream's last entry; 0 for an empty stream.
  absl::StatusOr<int64_t> LastStreamSequence();

  TicketStore* const store_;
  RedisClient* const redis_;
  const std::string stream_key_;
  std::atomic<int64_t> published_{0};
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace hotline::ticket

#endif  // HOTLINE_SERVICES_TICKET_OUTBOX_RELAY_H_
