// Per-address rate limits for what anyone may call without signing in (the citizens' portal's
// requests, their answers on entries): a token bucket for each client address, so that one
// address sending thousands of requests a second is refused while every other address keeps
// its own allowance.
//
// The table of addresses is bounded: an address whose bucket has refilled completely carries
// no information and is forgotten first, so a crowd of distinct addresses costs memory only
// while they are actually sending.
#ifndef HOTLINE_COMMON_ADDRESS_LIMITER_H_
#define HOTLINE_COMMON_ADDRESS_LIMITER_H_

#include <array>
#include <cstddef>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace hotline {

struct RateLimit {
  // Requests an address may make per second, sustained.
  double per_second = 10;
  // Requests it may make at once after a quiet spell.
  double burst = 20;
};

class AddressLimiter {
 public:
  // At most `max_addresses` buckets are kept (see the top of the file).
  explicit AddressLimiter(RateLimit limit, size_t max_addresses = 100000);

  // Takes one request's worth from `address`'s bucket. False when it is empty: then
  // `*retry_after` (if given) says how long until the next request would be allowed.
  bool Allow(absl::string_view address, absl::Time now, absl::Duration* retry_after = nullptr);

  const RateLimit& limit() const { return limit_; }
  // Buckets held now (for tests and the benchmark).
  size_t tracked_addresses();

 private:
  struct Bucket {
    double tokens;
    absl::Time updated;
  };
  struct Shard {
    absl::Mutex mu;
    absl::flat_hash_map<std::string, Bucket> buckets ABSL_GUARDED_BY(mu);
  };
  static constexpr size_t kShards = 16;

  // Drops the buckets that have refilled by `now`; if that frees too little (a crowd of
  // addresses all sending), every second bucket goes: those addresses start again full, which
  // lets a crowd through once, never one address forever.
  void Prune(Shard& shard, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);

  const RateLimit limit_;
  const size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace hotline

#endif  // HOTLINE_COMMON_ADDRESS_LIMITER_H_
