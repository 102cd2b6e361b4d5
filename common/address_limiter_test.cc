// Per-address token buckets with a clock of the test's choosing.
#include "common/address_limiter.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace hotline {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1800000000);

TEST(AddressLimiterTest, AFloodingAddressIsRefusedWhileAnotherKeepsItsAllowance) {
  AddressLimiter limiter(RateLimit{10, 20});
  int allowed = 0;
  // 5,000 requests in one second from one address: the burst and one second's refill pass.
  for (int i = 0; i < 5000; ++i) {
    allowed += limiter.Allow("10.0.0.1", kStart + absl::Microseconds(200 * i));
  }
  EXPECT_GE(allowed, 20);
  EXPECT_LE(allowed, 31);
  const absl::Time end = kStart + absl::Microseconds(200 * 5000);
  EXPECT_TRUE(limiter.Allow("10.0.0.2", end));
  absl::Duration wait;
  // Drain what refilled meanwhile, then the next is refused with the time until a token.
  while (limiter.Allow("10.0.0.1", end, &wait)) {
  }
  EXPECT_GT(wait, absl::ZeroDuration());
  EXPECT_LE(wait, absl::Milliseconds(100));
  EXPECT_FALSE(limiter.Allow("10.0.0.1", end + wait - absl::Milliseconds(1)));
  // After the wait it is let in again.
  EXPECT_TRUE(limiter.Allow("10.0.0.1", end + wait + absl::Milliseconds(1)));
}

TEST(AddressLimiterTest, TheTableOfAddressesStaysWithinItsBound) {
  AddressLimiter limiter(RateLimit{1, 2}, /*max_addresses=*/1600);
  for (int i = 0; i < 100000; ++i) {
    limiter.Allow(absl::StrCat("10.", i / 65536, ".", (i / 256) % 256, ".", i % 256),
                  kStart + absl::Milliseconds(i));
  }
  EXPECT_LE(limiter.tracked_addresses(), 1600u);
  EXPECT_GT(limiter.tracked_addresses(), 0u);
}

}  // namespace
}  // namespace hotline
