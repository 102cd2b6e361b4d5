#include "common/redis_client.h"

#include <glog/logging.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace hotline {

absl::StatusOr<RedisOptions> ParseRedisAddress(const std::string& address) {
  RedisOptions options;
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &options.port) || options.port <= 0 ||
      options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis address '", address, "' must be host:port"));
  }
  options.host = address.substr(0, colon);
  return options;
}

RedisClient::RedisClient(RedisOptions options)
    : options_(std::move(options)), backoff_(options_.min_backoff) {}

RedisClient::~RedisClient() {
  absl::MutexLock lock(&mu_);
  DropLocked();
}

bool RedisClient::connected() const {
  absl::MutexLock lock(&mu_);
  return context_ != nullptr;
}

void RedisClient::DropLocked() {
  if (context_ != nullptr) redisFree(context_);
  context_ = nullptr;
}

absl::Status RedisClient::ConnectLocked() {
  absl::Time now = absl::Now();
  if (now < retry_after_) {
    return absl::UnavailableError(absl::StrCat("redis ", options_.host, ":", options_.port,
                                               " unreachable; retrying shortly"));
  }
  timeval connect_timeout = absl::ToTimeval(options_.connect_timeout);
  redisContext* context =
      redisConnectWithTimeout(options_.host.c_str(), options_.port, connect_timeout);
  if (context == nullptr || context->err != 0) {
    std::string why = context == nullptr ? "out of memory" : context->errstr;
    if (context != nullptr) redisFree(context);
    retry_after_ = now + backoff_;
    backoff_ = std::min(backoff_ * 2, options_.max_backoff);
    return absl::UnavailableError(
        absl::StrCat("connecting to redis ", options_.host, ":", options_.port, ": ", why));
  }
  timeval command_timeout = absl::ToTimeval(options_.command_timeout);
  redisSetTimeout(context, command_timeout);
  redisEnableKeepAlive(context);
  context_ = context;
  backoff_ = options_.min_backoff;
  retry_after_ = absl::InfinitePast();
  return absl::OkStatus();
}

absl::StatusOr<RedisReplyPtr> RedisClient::Command(const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lengths;
  args.reserve(argv.size());
  lengths.reserve(argv.size());
  for (const std::string& a : argv) {
    args.push_back(a.data());
    lengths.push_back(a.size());
  }
  absl::MutexLock lock(&mu_);
  if (context_ == nullptr) {
    if (absl::Status s = ConnectLocked(); !s.ok()) return s;
  }
  auto* raw = static_cast<redisReply*>(
      redisCommandArgv(context_, static_cast<int>(args.size()), args.data(), lengths.data()));
  if (raw == nullptr) {
    // The connection is unusable after any I/O or protocol error; a later call reconnects.
    std::string why = context_->errstr;
    DropLocked();
    return absl::UnavailableError(
        absl::StrCat("redis command ", argv.empty() ? "" : argv[0], " failed: ", why));
  }
  RedisReplyPtr reply(raw);
  if (reply->type == REDIS_REPLY_ERROR) {
    return absl::FailedPreconditionError(absl::StrCat("redis ", argv.empty() ? "" : argv[0], ": ",
                                                      std::string(reply->str, reply->len)));
  }
  return reply;
}

}  // namespace hotline
