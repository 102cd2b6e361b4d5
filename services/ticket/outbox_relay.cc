#include "services/ticket/outbox_relay.h"

#include <glog/logging.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace hotline::ticket {

OutboxRelay::OutboxRelay(TicketStore* store, RedisClient* redis, std::string stream_key)
    : store_(store), redis_(redis), stream_key_(std::move(stream_key)) {}

OutboxRelay::~OutboxRelay() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void OutboxRelay::Start() {
  std::vector<v1::TicketEvent> first;
  if (store_->ReadOutbox(1, &first).ok()) {
    published_.store(first.empty() ? store_->committed_sequence()
                                   : first.front().global_sequence() - 1);
  }
  thread_ = std::thread([this] { Loop(); });
}

void OutboxRelay::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

int64_t OutboxRelay::backlog() const {
  return std::max<int64_t>(0, store_->committed_sequence() - published_.load());
}

absl::StatusOr<int> OutboxRelay::PublishPending() {
  int published = 0;
  while (true) {
    std::vector<v1::TicketEvent> batch;
    absl::Status read = store_->ReadOutbox(256, &batch);
    if (!read.ok()) return read;
    if (batch.empty()) return published;
    int64_t last_done = 0;
    absl::Status failure;
    for (const v1::TicketEvent& e : batch) {
      absl::StatusOr<RedisReplyPtr> reply =
          redis_->Command({"XADD", stream_key_, absl::StrCat(e.global_sequence(), "-0"), "event",
                           e.SerializeAsString(), "type", v1::EventType_Name(e.type()), "ticket_id",
                           e.ticket_id()});
      if (!reply.ok() && absl::StrContains(reply.status().message(), "equal or smaller")) {
        // Already in the stream, if an earlier attempt succeeded but its outbox delete was lost.
        // That is the only explanation when the stream's last id is one we committed; a stream
        // that is ahead of this store (a restored backup, a second writer) must not make us
        // drop events, so then stop and say so.
        absl::StatusOr<int64_t> last = LastStreamSequence();
        if (!last.ok()) {
          failure = last.status();
          break;
        }
        if (*last > store_->committed_sequence()) {
          failure = absl::FailedPreconditionError(absl::StrCat(
              "stream ", stream_key_, " ends at ", *last, ", beyond this store's last event ",
              store_->committed_sequence(), "; not publishing until an operator resolves it"));
          break;
        }
      } else if (!reply.ok()) {
        failure = reply.status();
        break;
      } else {
        ++published;
      }
      last_done = e.global_sequence();
    }
    if (last_done > 0) {
      published_.store(std::max(published_.load(), last_done));
      // Not synced: if this delete is lost in a crash, the events are offered again and Redis
      // refuses them as duplicates (see above).
      absl::Status deleted = store_->DeleteFromOutbox(last_done);
      if (!deleted.ok()) return deleted;
    }
    if (!failure.ok()) return failure;
  }
}

absl::StatusOr<int64_t> OutboxRelay::LastStreamSequence() {
  absl::StatusOr<RedisReplyPtr> reply =
      redis_->Command({"XREVRANGE", stream_key_, "+", "-", "COUNT", "1"});
  if (!reply.ok()) return reply.status();
  if ((*reply)->type != REDIS_REPLY_ARRAY || (*reply)->elements == 0) return 0;
  const redisReply* entry = (*reply)->element[0];
  std::string id(entry->element[0]->str, entry->element[0]->len);
  int64_t sequence = 0;
  if (!absl::SimpleAtoi(id.substr(0, id.find('-')), &sequence)) {
    return absl::DataLossError(absl::StrCat("stream entry id '", id, "' is not ours"));
  }
  return sequence;
}

void OutboxRelay::Loop() {
  absl::Duration backoff = absl::Milliseconds(50);
  while (true) {
    absl::StatusOr<int> result = PublishPending();
    absl::Duration wait = absl::Seconds(1);
    if (!result.ok()) {
      LOG_EVERY_N(WARNING, 20) << "event relay: " << result.status() << " (retrying)";
      wait = backoff;
      backoff = std::min(backoff * 2, absl::Seconds(2));
    } else {
      backoff = absl::Milliseconds(50);
    }
    absl::MutexLock lock(&mu_);
    // A wake-up from a commit ends the wait early, but not the backoff after a failure.
    if (result.ok()) {
      mu_.AwaitWithTimeout(absl::Condition(
                               +[](OutboxRelay* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
                                 return self->stopping_ || self->woken_;
                               },
                               this),
                           wait);
    } else {
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait);
    }
    woken_ = false;
    if (stopping_) return;
  }
}

}  // namespace hotline::ticket
