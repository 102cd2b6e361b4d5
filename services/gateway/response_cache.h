// A short-lived cache of whole answers to anonymous reads (the public portal's searches and
// entry pages): the same popular question asked by a thousand citizens in a minute costs the
// knowledge base one search. Entries are fresh for `ttl`, so an edit reaches the public within
// it; for `stale_for` after that an expired answer may still be served while one asker fetches
// the new one, so that the answers stored in one busy second do not all expire into one burst
// of searches a ttl later.
#ifndef HOTLINE_SERVICES_GATEWAY_RESPONSE_CACHE_H_
#define HOTLINE_SERVICES_GATEWAY_RESPONSE_CACHE_H_

#include <cstddef>
#include <deque>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace hotline::gateway {

class ResponseCache {
 public:
  ResponseCache(absl::Duration ttl, size_t max_entries,
                absl::Duration stale_for = absl::ZeroDuration());

  struct Cached {
    std::string body;
    bool fresh;  // younger than the ttl; otherwise within stale_for after it
  };
  // The answer stored under `key` if it is younger than ttl + stale_for.
  std::optional<Cached> Get(const std::string& key, absl::Time now);
  // Stores `body`; when full, the oldest entries make room.
  void Put(const std::string& key, std::string body, absl::Time now);

  size_t size();

 private:
  struct Stored {
    std::string body;
    absl::Time stored;
  };
  const absl::Duration ttl_;
  const absl::Duration kept_;  // ttl + stale_for
  const size_t max_entries_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Stored> entries_ ABSL_GUARDED_BY(mu_);
  // Keys in the order they were stored (a key stored again appears twice; the stale mention
  // is skipped when it comes up), so the oldest is found without a scan.
  std::deque<std::pair<std::string, absl::Time>> order_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hotline::gateway

#endif  // HOTLINE_SERVICES_GATEWAY_RESPONSE_CACHE_H_
