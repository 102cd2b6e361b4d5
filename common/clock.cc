#include "common/clock.h"

#include <algorithm>

namespace hotline {
namespace {

class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace

Clock* Clock::Real() {
  static Clock* const clock = new RealClock();
  return clock;
}

absl::Time ManualClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

void ManualClock::Set(absl::Time t) {
  absl::MutexLock lock(&mu_);
  now_ = t;
}

void ManualClock::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  now_ += d;
}

namespace {
// Lagging by `lag` and closing it within `catch_up` takes lag / catch_up extra seconds a second.
double CatchUpSpeed(absl::Duration lag, absl::Duration catch_up) {
  if (lag <= absl::ZeroDuration() || catch_up <= absl::ZeroDuration()) return 1.0;
  return 1.0 + absl::FDivDuration(lag, catch_up);
}
}  // namespace

CatchUpClock::CatchUpClock(Clock* base, absl::Time start, absl::Duration catch_up)
    : base_(base),
      base_start_(base->Now()),
      start_(std::min(start, base_start_)),
      catch_up_(start_ < base_start_ ? std::max(catch_up, absl::ZeroDuration())
                                     : absl::ZeroDuration()),
      speed_(CatchUpSpeed(base_start_ - start_, catch_up_)) {}

absl::Time CatchUpClock::Now() const {
  const absl::Time now = base_->Now();
  const absl::Duration elapsed = now - base_start_;
  if (elapsed >= catch_up_) return now;
  if (elapsed <= absl::ZeroDuration()) return start_;
  // Rounding could overshoot by a few nanoseconds just before catching up; never lead `base`.
  return std::min(now, start_ + elapsed * speed_);
}

}  // namespace hotline
