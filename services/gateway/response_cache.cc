#include "services/gateway/response_cache.h"

#include <algorithm>

namespace hotline::gateway {

ResponseCache::ResponseCache(absl::Duration ttl, size_t max_entries, absl::Duration stale_for)
    : ttl_(ttl),
      kept_(ttl + std::max(absl::ZeroDuration(), stale_for)),
      max_entries_(std::max<size_t>(1, max_entries)) {}

std::optional<ResponseCache::Cached> ResponseCache::Get(const std::string& key, absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || now < it->second.stored) return std::nullopt;
  const absl::Duration age = now - it->second.stored;
  if (age >= kept_) return std::nullopt;
  return Cached{it->second.body, age < ttl_};
}

void ResponseCache::Put(const std::string& key, std::string body, absl::Time now) {
  absl::MutexLock lock(&mu_);
  entries_[key] = Stored{std::move(body), now};
  order_.emplace_back(key, now);
  // Expired entries, and the oldest while over the bound, leave in storing order.
  while (!order_.empty()) {
    const auto& [oldest, stored] = order_.front();
    auto it = entries_.find(oldest);
    const bool current = it != entries_.end() && it->second.stored == stored;
    if (current && now - stored < kept_ && entries_.size() <= max_entries_) break;
    if (current) entries_.erase(it);
    order_.pop_front();
  }
}

size_t ResponseCache::size() {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace hotline::gateway
