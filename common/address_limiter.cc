#include "common/address_limiter.h"

#include <algorithm>

#include "absl/hash/hash.h"

namespace hotline {

AddressLimiter::AddressLimiter(RateLimit limit, size_t max_addresses)
    : limit_(limit), max_per_shard_(std::max<size_t>(1, max_addresses / kShards)) {}

bool AddressLimiter::Allow(absl::string_view address, absl::Time now, absl::Duration* retry_after) {
  Shard& shard = shards_[absl::Hash<absl::string_view>()(address) % kShards];
  absl::MutexLock lock(&shard.mu);
  auto it = shard.buckets.find(address);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= max_per_shard_) Prune(shard, now);
    it = shard.buckets.emplace(std::string(address), Bucket{limit_.burst, now}).first;
  }
  Bucket& bucket = it->second;
  // A clock that stepped back refills nothing (and takes nothing away).
  const double elapsed = std::max(0.0, absl::ToDoubleSeconds(now - bucket.updated));
  bucket.tokens = std::min(limit_.burst, bucket.tokens + elapsed * limit_.per_second);
  bucket.updated = std::max(bucket.updated, now);
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return true;
  }
  if (retry_after != nullptr) {
    *retry_after = limit_.per_second > 0 ? absl::Seconds((1 - bucket.tokens) / limit_.per_second)
                                         : absl::InfiniteDuration();
  }
  return false;
}

void AddressLimiter::Prune(Shard& shard, absl::Time now) {
  const absl::Duration refill = limit_.per_second > 0
                                    ? absl::Seconds(limit_.burst / limit_.per_second)
                                    : absl::InfiniteDuration();
  for (auto it = shard.buckets.begin(); it != shard.buckets.end();) {
    auto next = std::next(it);
    if (now - it->second.updated >= refill) shard.buckets.erase(it);
    it = next;
  }
  if (shard.buckets.size() < max_per_shard_) return;
  bool drop = false;
  for (auto it = shard.buckets.begin(); it != shard.buckets.end();) {
    auto next = std::next(it);
    if (drop) shard.buckets.erase(it);
    drop = !drop;
    it = next;
  }
}

size_t AddressLimiter::tracked_addresses() {
  size_t total = 0;
  for (Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    total += shard.buckets.size();
  }
  return total;
}

}  // namespace hotline
