// Slows and then locks sign-ins after repeated failures, per user name and per client address
// (防暴力破解). Counted by the name typed, whether or not such an account exists, so that the
// answer never tells an attacker which names are real.
//
// Kept in memory: a restart forgets the counts, which costs an attacker a restart of our
// server to gain a few more guesses; accounts of other people are never locked by it for
// longer than `lock_period`.
#ifndef HOTLINE_SERVICES_IDENTITY_LOGIN_THROTTLE_H_
#define HOTLINE_SERVICES_IDENTITY_LOGIN_THROTTLE_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace hotline::identity {

struct ThrottleLimits {
  // Failures after which each further attempt must wait: 1 s, doubling per failure, at most
  // `max_delay`.
  int slow_after = 3;
  absl::Duration max_delay = absl::Seconds(30);
  // Failures after which no attempt is taken for `lock_period`.
  int lock_after = 10;
  absl::Duration lock_period = absl::Minutes(15);
  // A failure older than this no longer counts.
  absl::Duration window = absl::Minutes(15);
};

struct ThrottleOptions {
  ThrottleLimits per_user;
  // One address may be a whole office behind one gateway: more room before it is locked.
  ThrottleLimits per_address{.slow_after = 20,
                             .max_delay = absl::Seconds(30),
                             .lock_after = 50,
                             .lock_period = absl::Minutes(15),
                             .window = absl::Minutes(15)};
};

class LoginThrottle {
 public:
  explicit LoginThrottle(ThrottleOptions options) : options_(options) {}

  // OK when an attempt may be checked now; RESOURCE_EXHAUSTED saying how long to wait.
  absl::Status Admit(const std::string& username, const std::string& address, absl::Time now);
  void RecordFailure(const std::string& username, const std::string& address, absl::Time now);
  // A correct password clears the user name's failures (not the address's).
  void RecordSuccess(const std::string& username);
  // An admin's password reset unlocks the user name.
  void Clear(const std::string& username);

 private:
  struct Failures {
    int count = 0;
    absl::Time last;
  };
  static absl::Status Check(const Failures& f, const ThrottleLimits& limits, absl::Time now);
  static void Add(Failures* f, const ThrottleLimits& limits, absl::Time now);

  const ThrottleOptions options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Failures> by_user_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Failures> by_address_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hotline::identity

#endif  // HOTLINE_SERVICES_IDENTITY_LOGIN_THROTTLE_H_
