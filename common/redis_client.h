// A small synchronous Redis client on hiredis 0.14 with connect and command timeouts and
// transparent reconnection: after the server restarts, the next command reconnects.
#ifndef HOTLINE_COMMON_REDIS_CLIENT_H_
#define HOTLINE_COMMON_REDIS_CLIENT_H_

#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace hotline {

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  absl::Duration connect_timeout = absl::Seconds(1);
  absl::Duration command_timeout = absl::Seconds(2);
  // After a failed connect, commands fail fast with UNAVAILABLE for this long instead of
  // each paying the connect timeout again. Doubles on every failure up to max_backoff.
  absl::Duration min_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(2);
};

// Parses "host:port".
absl::StatusOr<RedisOptions> ParseRedisAddress(const std::string& address);

struct RedisReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using RedisReplyPtr = std::unique_ptr<redisReply, RedisReplyDeleter>;

class RedisClient {
 public:
  explicit RedisClient(RedisOptions options);
  ~RedisClient();

  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Runs one command. UNAVAILABLE when the server cannot be reached (the connection is dropped
  // and re-established by a later call); a Redis error reply becomes FAILED_PRECONDITION with
  // the server's message. Thread-safe; calls are serialised.
  absl::StatusOr<RedisReplyPtr> Command(const std::vector<std::string>& argv);

  bool connected() const;

 private:
  absl::Status ConnectLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RedisOptions options_;
  mutable absl::Mutex mu_;
  redisContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  absl::Time retry_after_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration backoff_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hotline

#endif  // HOTLINE_COMMON_REDIS_CLIENT_H_
