#include "services/metrics/event_consumer.h"

#include <glog/logging.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace hotline::metrics {
namespace {

std::string Text(const redisReply* r) {
  if (r == nullptr || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)) return "";
  return std::string(r->str, r->len);
}

absl::StatusOr<int64_t> SequenceOfId(absl::string_view id) {
  int64_t sequence = 0;
  size_t dash = id.find('-');
  if (dash == absl::string_view::npos || !absl::SimpleAtoi(id.substr(0, dash), &sequence)) {
    return absl::DataLossError(absl::StrCat("stream entry id '", id, "' is not <sequence>-0"));
  }
  return sequence;
}

// The options of the consumer's own connection: a read may block for `block`, so the command
// timeout must be longer.
RedisOptions ConsumerRedis(const ConsumerOptions& o) {
  RedisOptions r = o.redis;
  r.command_timeout = std::max(r.command_timeout, o.block + absl::Seconds(2));
  return r;
}

RedisOptions StatusRedis(const ConsumerOptions& o) {
  RedisOptions r = o.redis;
  r.connect_timeout = std::min(r.connect_timeout, absl::Milliseconds(300));
  r.command_timeout = std::min(r.command_timeout, absl::Milliseconds(500));
  return r;
}

}  // namespace

absl::StatusOr<std::vector<StreamEntry>> ParseStreamEntries(const redisReply& entries) {
  std::vector<StreamEntry> out;
  if (entries.type == REDIS_REPLY_NIL) return out;
  if (entries.type != REDIS_REPLY_ARRAY) {
    return absl::DataLossError("stream reply: expected an array of entries");
  }
  for (size_t i = 0; i < entries.elements; ++i) {
    const redisReply* entry = entries.element[i];
    if (entry == nullptr || entry->type != REDIS_REPLY_ARRAY || entry->elements < 2) {
      return absl::DataLossError("stream reply: malformed entry");
    }
    StreamEntry& e = out.emplace_back();
    e.id = Text(entry->element[0]);
    absl::StatusOr<int64_t> sequence = SequenceOfId(e.id);
    if (!sequence.ok()) return sequence.status();
    e.sequence = *sequence;
    const redisReply* fields = entry->element[1];
    if (fields == nullptr || fields->type == REDIS_REPLY_NIL) {
      e.deleted = true;
      continue;
    }
    bool found = false;
    for (size_t f = 0; f + 1 < fields->elements; f += 2) {
      if (Text(fields->element[f]) != "event") continue;
      const redisReply* value = fields->element[f + 1];
      found = value != nullptr && value->type == REDIS_REPLY_STRING &&
              e.event.ParseFromArray(value->str, static_cast<int>(value->len));
      break;
    }
    if (!found) {
      return absl::DataLossError(
          absl::StrCat("stream entry ", e.id, ": field 'event' is missing or not a TicketEvent"));
    }
    if (e.event.global_sequence() != e.sequence) {
      return absl::DataLossError(
          absl::StrCat("stream entry ", e.id, " holds event ", e.event.global_sequence()));
    }
  }
  return out;
}

EventConsumer::EventConsumer(Aggregates* aggregates, ConsumerOptions options, Clock* clock)
    : aggregates_(aggregates),
      options_(std::move(options)),
      clock_(clock),
      redis_(ConsumerRedis(options_)),
      status_redis_(StatusRedis(options_)) {}

EventConsumer::~EventConsumer() { Stop(); }

void EventConsumer::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void EventConsumer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

v1::ConsumerState EventConsumer::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

void EventConsumer::SetState(v1::ConsumerState state, const std::string& error) {
  absl::MutexLock lock(&mu_);
  if (state != state_ || error != last_error_) {
    if (!error.empty()) LOG(WARNING) << "event consumer: " << error;
  }
  state_ = state;
  if (!error.empty()) {
    last_error_ = error;
  } else if (state == v1::CONSUMER_STATE_LIVE) {
    last_error_.clear();  // The contract: errors since the consumer was last LIVE.
  }
}

bool EventConsumer::Pause(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
  return !stopping_;
}

absl::Status EventConsumer::EnsureGroup() {
  // Created at the last applied event, so after a Redis that lost the group nothing applied is
  // delivered again and nothing after it is skipped. MKSTREAM: the stream may not exist yet.
  std::string start = absl::StrCat(aggregates_->last_applied_sequence(), "-0");
  absl::StatusOr<RedisReplyPtr> reply =
      redis_.Command({"XGROUP", "CREATE", options_.stream_key, options_.group, start, "MKSTREAM"});
  if (!reply.ok() && !absl::StrContains(reply.status().message(), "BUSYGROUP")) {
    return reply.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> EventConsumer::ReadOnce(bool pending, std::string* cursor) {
  std::vector<std::string> argv = {"XREADGROUP",      "GROUP", options_.group,
                                   options_.consumer, "COUNT", absl::StrCat(options_.batch_size)};
  if (!pending) {
    argv.push_back("BLOCK");
    argv.push_back(absl::StrCat(absl::ToInt64Milliseconds(options_.block)));
  }
  argv.push_back("STREAMS");
  argv.push_back(options_.stream_key);
  argv.push_back(pending ? *cursor : ">");
  absl::StatusOr<RedisReplyPtr> reply = redis_.Command(argv);
  if (!reply.ok()) return reply.status();
  {
    absl::MutexLock lock(&mu_);
    last_contact_ = clock_->Now();
  }
  // [[stream, [entries...]]], or nil when the block timed out.
  const redisReply* r = reply->get();
  if (r->type == REDIS_REPLY_NIL || r->elements == 0) return 0;
  if (r->type != REDIS_REPLY_ARRAY || r->element[0]->type != REDIS_REPLY_ARRAY ||
      r->element[0]->elements < 2) {
    return absl::DataLossError("XREADGROUP: unexpected reply shape");
  }
  absl::StatusOr<std::vector<StreamEntry>> entries = ParseStreamEntries(*r->element[0]->element[1]);
  if (!entries.ok()) {
    SetState(v1::CONSUMER_STATE_STALLED, std::string(entries.status().message()));
    return entries.status();
  }
  if (entries->empty()) return 0;
  if (pending) *cursor = entries->back().id;

  std::vector<tv1::TicketEvent> events;
  std::vector<std::string> ids;
  events.reserve(entries->size());
  for (StreamEntry& e : *entries) {
    ids.push_back(e.id);
    if (!e.deleted) events.push_back(std::move(e.event));
  }
  int64_t before = aggregates_->last_applied_sequence();
  size_t failed = events.size();
  absl::Status applied = aggregates_->Apply(events, &failed);
  size_t acknowledge = ids.size();
  if (!applied.ok()) {
    if (failed == events.size()) return applied;  // Not the events' fault (a write): retry.
    // Keep what precedes the bad event, then stop at it: it needs an operator.
    std::vector<tv1::TicketEvent> prefix(events.begin(), events.begin() + failed);
    if (absl::Status s = aggregates_->Apply(prefix); !s.ok()) return s;
    acknowledge = 0;
    while (acknowledge < ids.size() &&
           (*entries)[acknowledge].sequence < events[failed].global_sequence()) {
      ++acknowledge;
    }
    SetState(v1::CONSUMER_STATE_STALLED, std::string(applied.message()));
  }
  int64_t after = aggregates_->last_applied_sequence();
  events_applied_ += after - before;
  entries_skipped_ += static_cast<int64_t>(events.size()) - (after - before);
  if (acknowledge > 0) {
    // Only now: the effect of these entries is durable (or they were already applied).
    std::vector<std::string> ack = {"XACK", options_.stream_key, options_.group};
    ack.insert(ack.end(), ids.begin(), ids.begin() + acknowledge);
    absl::StatusOr<RedisReplyPtr> acked = redis_.Command(ack);
    // A lost XACK only means a redelivery, which is skipped.
    if (!acked.ok()) return acked.status();
  }
  if (!applied.ok()) return applied;
  return entries->size();
}

void EventConsumer::Loop() {
  absl::Duration backoff = options_.min_backoff;
  bool ready = false;   // The group is known to exist on this connection.
  bool pending = true;  // Re-reading our own pending entries first.
  std::string cursor = "0";
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      if (state_ == v1::CONSUMER_STATE_STALLED) {
        mu_.Await(absl::Condition(&stopping_));
        return;
      }
    }
    if (!ready) {
      if (absl::Status s = EnsureGroup(); !s.ok()) {
        SetState(v1::CONSUMER_STATE_DISCONNECTED, std::string(s.message()));
        if (!Pause(backoff)) return;
        backoff = std::min(backoff * 2, options_.max_backoff);
        continue;
      }
      ready = true;
      pending = true;
      cursor = "0";
    }
    absl::StatusOr<size_t> read = ReadOnce(pending, &cursor);
    if (!read.ok()) {
      if (state() == v1::CONSUMER_STATE_STALLED) continue;
      bool lost_group = absl::StrContains(read.status().message(), "NOGROUP");
      SetState(lost_group ? state() : v1::CONSUMER_STATE_DISCONNECTED,
               std::string(read.status().message()));
      // Start over: recreate the group if needed and re-read what was delivered but not acked.
      ready = false;
      if (!Pause(backoff)) return;
      backoff = std::min(backoff * 2, options_.max_backoff);
      continue;
    }
    backoff = options_.min_backoff;
    if (pending) {
      if (*read == 0) pending = false;  // Pending list drained: continue with new entries.
      SetState(v1::CONSUMER_STATE_CATCHING_UP, "");
      continue;
    }
    // A short read means the end of the stream was reached.
    SetState(*read < static_cast<size_t>(options_.batch_size) ? v1::CONSUMER_STATE_LIVE
                                                              : v1::CONSUMER_STATE_CATCHING_UP,
             "");
  }
}

ConsumerStatus EventConsumer::Status() {
  int64_t applied = aggregates_->last_applied_sequence();
  int64_t head = 0;
  absl::Time oldest = absl::InfinitePast();
  bool reached = false;
  absl::StatusOr<RedisReplyPtr> last =
      status_redis_.Command({"XREVRANGE", options_.stream_key, "+", "-", "COUNT", "1"});
  if (last.ok()) {
    reached = true;
    absl::StatusOr<std::vector<StreamEntry>> entries = ParseStreamEntries(**last);
    if (entries.ok() && !entries->empty()) head = entries->front().sequence;
    if (head > applied) {
      absl::StatusOr<RedisReplyPtr> next = status_redis_.Command(
          {"XRANGE", options_.stream_key, absl::StrCat(applied + 1, "-0"), "+", "COUNT", "1"});
      if (next.ok()) {
        absl::StatusOr<std::vector<StreamEntry>> first = ParseStreamEntries(**next);
        if (first.ok() && !first->empty()) {
          oldest = absl::FromUnixMicros(ToMicros(first->front().event.event_time()));
        }
      }
    }
  }
  absl::MutexLock lock(&mu_);
  if (reached) {
    known_head_ = head;
    known_oldest_ = oldest;
    last_contact_ = std::max(last_contact_, clock_->Now());
  }
  ConsumerStatus status;
  status.state = state_;
  status.last_error = last_error_;
  status.last_contact = last_contact_;
  status.head_sequence = known_head_;
  status.oldest_unapplied_time = known_head_ > applied ? known_oldest_ : absl::InfinitePast();
  return status;
}

}  // namespace hotline::metrics
