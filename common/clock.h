// Time is injected everywhere it matters (deadlines, warnings, rates), so tests can move it
// forward instead of sleeping.
#ifndef HOTLINE_COMMON_CLOCK_H_
#define HOTLINE_COMMON_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace hotline {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;

  // The process-wide wall clock. Never null, never destroyed.
  static Clock* Real();
};

// A clock that only moves when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time start) : now_(start) {}

  absl::Time Now() const override;
  void Set(absl::Time t);
  void Advance(absl::Duration d);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

// A demonstration clock that gives a fresh system a recent past: it reads `start` (an instant
// before `base`'s now) when constructed, runs faster than `base` so that it catches up with it
// after `catch_up` of `base`'s time, and from then on reads exactly as `base`. It is
// continuous and never ahead of `base`, so everything stamped with it stays in the past of the
// real clock that other services use. Never use it on a store that already holds events: they
// would be followed by events stamped earlier.
class CatchUpClock final : public Clock {
 public:
  // A `start` at or after base->Now(), or a non-positive `catch_up`, gives `base`'s time.
  CatchUpClock(Clock* base, absl::Time start, absl::Duration catch_up);

  absl::Time Now() const override;

  // How many times faster than `base` it runs until it has caught up (1 when it never lags).
  double speed() const { return speed_; }
  // The instant, on `base`, from which the two read the same.
  absl::Time caught_up_at() const { return base_start_ + catch_up_; }

 private:
  Clock* const base_;
  const absl::Time base_start_;
  const absl::Time start_;
  const absl::Duration catch_up_;
  const double speed_;
};

}  // namespace hotline

#endif  // HOTLINE_COMMON_CLOCK_H_
