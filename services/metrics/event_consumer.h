// Reads the ticket service's event stream from Redis with a consumer group and applies it to
// the aggregates, acknowledging entries only after their effect is durable.
//
// Why a consumer group: Redis keeps the entries delivered but not acknowledged (the pending
// list), so after a crash between "read" and "applied" the same entries are offered again;
// the aggregates skip what they already applied (by global_sequence), so redelivery never
// counts twice. On every (re)connection the consumer first re-reads its own pending entries
// (id 0), then continues with new ones ('>').
//
// Redis restarts: the client reconnects with backoff; if the group (or the stream) is gone, it
// is recreated at the last applied sequence, so nothing applied is read again and nothing
// after it is skipped. A gap in the sequence stalls the consumer instead of counting wrongly.
//
// The consumer name must be stable across restarts (one metrics instance per group): pending
// entries belong to the consumer that read them.
#ifndef HOTLINE_SERVICES_METRICS_EVENT_CONSUMER_H_
#define HOTLINE_SERVICES_METRICS_EVENT_CONSUMER_H_

#include <atomic>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/redis_client.h"
#include "hotline/metrics/v1/metrics.pb.h"
#include "services/metrics/aggregates.h"

namespace hotline::metrics {

// One entry of the event stream, as XRANGE or XREADGROUP return it.
struct StreamEntry {
  std::string id;
  int64_t sequence = 0;  // From the id "<global_sequence>-0".
  // The entry was deleted from the stream after delivery (XREADGROUP returns it empty).
  bool deleted = false;
  tv1::TicketEvent event;
};
// Parses an array of [id, [field, value, ...]] entries. DATA_LOSS, naming the entry, when an
// entry has no parsable "event" field or its event's global_sequence differs from its id.
absl::StatusOr<std::vector<StreamEntry>> ParseStreamEntries(const redisReply& entries);

struct ConsumerOptions {
  RedisOptions redis;
  std::string stream_key = "hotline:ticket:events";
  std::string group = "metrics";
  std::string consumer = "metrics";
  // Entries per XREADGROUP; they are applied in one write.
  int batch_size = 256;
  // How long one read waits for new entries.
  absl::Duration block = absl::Milliseconds(500);
  absl::Duration min_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(2);
};

// What GetStatus reports about the consumer and the stream.
struct ConsumerStatus {
  v1::ConsumerState state = v1::CONSUMER_STATE_CATCHING_UP;
  std::string last_error;
  absl::Time last_contact = absl::InfinitePast();
  // Highest sequence in the stream; 0 when unknown.
  int64_t head_sequence = 0;
  // When the ticket service recorded the oldest event not yet applied; InfinitePast if none.
  absl::Time oldest_unapplied_time = absl::InfinitePast();
};

class EventConsumer {
 public:
  EventConsumer(Aggregates* aggregates, ConsumerOptions options, Clock* clock = Clock::Real());
  ~EventConsumer();

  void Start();
  // Stops after the read in progress; idempotent.
  void Stop();

  v1::ConsumerState state() const;
  // Asks Redis (on its own connection, with short timeouts) where the stream's head is; when
  // Redis cannot be reached, the last head seen is reported.
  ConsumerStatus Status();

  // Counters for the Prometheus endpoint.
  int64_t events_applied() const { return events_applied_.load(); }
  int64_t entries_redelivered() const { return entries_skipped_.load(); }

 private:
  void Loop();
  absl::Status EnsureGroup();
  // One XREADGROUP and its application. `pending` reads the consumer's pending entries after
  // `cursor`; returns how many entries came back.
  absl::StatusOr<size_t> ReadOnce(bool pending, std::string* cursor);
  void SetState(v1::ConsumerState state, const std::string& error);
  // Sleeps for `d` unless stopped; returns false when stopping.
  bool Pause(absl::Duration d);

  Aggregates* const aggregates_;
  const ConsumerOptions options_;
  Clock* const clock_;
  RedisClient redis_;         // The consumer's own connection: its reads block.
  RedisClient status_redis_;  // For Status(), so it never waits behind a blocking read.

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  v1::ConsumerState state_ ABSL_GUARDED_BY(mu_) = v1::CONSUMER_STATE_CATCHING_UP;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  absl::Time last_contact_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int64_t known_head_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time known_oldest_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::atomic<int64_t> events_applied_{0};
  std::atomic<int64_t> entries_skipped_{0};
  std::thread thread_;
};

}  // namespace hotline::metrics

#endif  // HOTLINE_SERVICES_METRICS_EVENT_CONSUMER_H_
