#include "common/clock.h"

#include <gtest/gtest.h>

namespace hotline {
namespace {

const absl::Time kRealStart = absl::FromUnixSeconds(1795000000);  // 2026-11-18, a Wednesday.

TEST(CatchUpClockTest, StartsInThePastRunsFastAndJoinsTheBaseClock) {
  ManualClock real(kRealStart);
  const absl::Time start = kRealStart - absl::Hours(24 * 14);
  CatchUpClock demo(&real, start, absl::Seconds(40));
  // Fourteen days in forty seconds, plus the forty seconds themselves.
  EXPECT_DOUBLE_EQ(demo.speed(), 1.0 + 14 * 24 * 3600 / 40.0);
  EXPECT_EQ(demo.caught_up_at(), kRealStart + absl::Seconds(40));
  EXPECT_EQ(demo.Now(), start);

  real.Advance(absl::Seconds(20));  // Halfway: half of the lag is closed.
  EXPECT_EQ(demo.Now(), start + absl::Hours(24 * 7) + absl::Seconds(20));

  real.Advance(absl::Seconds(20));
  EXPECT_EQ(demo.Now(), real.Now());
  real.Advance(absl::Hours(3));  // From then on it is the base clock.
  EXPECT_EQ(demo.Now(), real.Now());
}

TEST(CatchUpClockTest, IsMonotonicAndNeverAheadOfTheBaseClock) {
  ManualClock real(kRealStart);
  CatchUpClock demo(&real, kRealStart - absl::Hours(24 * 10) - absl::Minutes(7), absl::Seconds(45));
  absl::Time previous = absl::InfinitePast();
  for (int step = 0; step < 600; ++step) {  // 60 s in 100 ms steps, across the join.
    absl::Time now = demo.Now();
    EXPECT_GE(now, previous) << "step " << step;
    EXPECT_LE(now, real.Now()) << "step " << step;
    previous = now;
    real.Advance(absl::Milliseconds(100));
  }
  EXPECT_EQ(demo.Now(), real.Now());
}

TEST(CatchUpClockTest, AStartThatIsNotInThePastIsTheBaseClock) {
  ManualClock real(kRealStart);
  CatchUpClock future(&real, kRealStart + absl::Hours(1), absl::Seconds(45));
  EXPECT_EQ(future.Now(), kRealStart);
  EXPECT_DOUBLE_EQ(future.speed(), 1.0);
  CatchUpClock instant(&real, kRealStart - absl::Hours(1), absl::ZeroDuration());
  real.Advance(absl::Seconds(1));
  EXPECT_EQ(instant.Now(), real.Now());
}

TEST(ManualClockTest, MovesOnlyWhenTold) {
  ManualClock clock(kRealStart);
  EXPECT_EQ(clock.Now(), kRealStart);
  clock.Advance(absl::Minutes(5));
  EXPECT_EQ(clock.Now(), kRealStart + absl::Minutes(5));
  clock.Set(kRealStart);
  EXPECT_EQ(clock.Now(), kRealStart);
}

}  // namespace
}  // namespace hotline
