#include "services/identity/login_throttle.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace hotline::identity {

absl::Status LoginThrottle::Check(const Failures& f, const ThrottleLimits& limits, absl::Time now) {
  if (f.count == 0 || now - f.last >= limits.window + limits.lock_period) {
    return absl::OkStatus();
  }
  if (f.count >= limits.lock_after) {
    absl::Time until = f.last + limits.lock_period;
    if (now < until) {
      int64_t minutes = std::max<int64_t>(1, absl::ToInt64Minutes(until - now + absl::Seconds(59)));
      return absl::ResourceExhaustedError(
          absl::StrCat("登录失败次数过多，已锁定，请 ", minutes, " 分钟后再试"));
    }
    return absl::OkStatus();
  }
  if (f.count >= limits.slow_after && now - f.last < limits.window) {
    absl::Duration delay =
        std::min(limits.max_delay, absl::Seconds(std::ldexp(1.0, f.count - limits.slow_after)));
    absl::Time until = f.last + delay;
    if (now < until) {
      int64_t seconds =
          std::max<int64_t>(1, absl::ToInt64Seconds(until - now + absl::Milliseconds(999)));
      return absl::ResourceExhaustedError(
          absl::StrCat("登录失败次数过多，请 ", seconds, " 秒后再试"));
    }
  }
  return absl::OkStatus();
}

void LoginThrottle::Add(Failures* f, const ThrottleLimits& limits, absl::Time now) {
  // Failures outside the window, or before a lock that has run out, start a new count.
  if (f->count > 0 && (now - f->last >= limits.window ||
                       (f->count >= limits.lock_after && now >= f->last + limits.lock_period))) {
    f->count = 0;
  }
  ++f->count;
  f->last = now;
}

absl::Status LoginThrottle::Admit(const std::string& username, const std::string& address,
                                  absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (auto it = by_user_.find(username); it != by_user_.end()) {
    if (absl::Status s = Check(it->second, options_.per_user, now); !s.ok()) return s;
  }
  if (auto it = by_address_.find(address); it != by_address_.end()) {
    if (absl::Status s = Check(it->second, options_.per_address, now); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void LoginThrottle::RecordFailure(const std::string& username, const std::string& address,
                                  absl::Time now) {
  absl::MutexLock lock(&mu_);
  Add(&by_user_[username], options_.per_user, now);
  Add(&by_address_[address], options_.per_address, now);
  // Bounded memory under a spray of random names: forget entries that no longer count.
  if (by_user_.size() > 100000) {
    absl::erase_if(by_user_, [&](const auto& e) {
      return now - e.second.last >= options_.per_user.window + options_.per_user.lock_period;
    });
  }
  if (by_address_.size() > 100000) {
    absl::erase_if(by_address_, [&](const auto& e) {
      return now - e.second.last >= options_.per_address.window + options_.per_address.lock_period;
    });
  }
}

void LoginThrottle::RecordSuccess(const std::string& username) {
  absl::MutexLock lock(&mu_);
  by_user_.erase(username);
}

void LoginThrottle::Clear(const std::string& username) { RecordSuccess(username); }

}  // namespace hotline::identity
