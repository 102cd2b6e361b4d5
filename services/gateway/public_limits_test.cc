// The citizens' portal's defences, each on its own with a clock of the test's choosing:
// per-address limits, the answer cache and the arithmetic question.
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/gateway/address_limiter.h"
#include "services/gateway/arithmetic_challenge.h"
#include "services/gateway/response_cache.h"

namespace hotline::gateway {
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

TEST(ResponseCacheTest, AnAnswerIsKeptForItsLifetimeOnly) {
  ResponseCache cache(absl::Seconds(30), 100);
  cache.Put("q=公积金", "answer", kStart);
  EXPECT_EQ(cache.Get("q=公积金", kStart + absl::Seconds(29)).value_or(""), "answer");
  EXPECT_FALSE(cache.Get("q=公积金", kStart + absl::Seconds(30)).has_value());
  EXPECT_FALSE(cache.Get("q=医保", kStart).has_value());
}

TEST(ResponseCacheTest, AnExpiredAnswerIsKeptForItsStaleWindowForThoseWhoMayTakeIt) {
  ResponseCache cache(absl::Seconds(30), 100, absl::Minutes(5));
  cache.Put("q=公积金", "answer", kStart);
  EXPECT_FALSE(cache.Get("q=公积金", kStart + absl::Seconds(31)).has_value());
  EXPECT_EQ(cache.GetStale("q=公积金", kStart + absl::Seconds(31)).value_or(""), "answer");
  EXPECT_EQ(cache.GetStale("q=公积金", kStart + absl::Minutes(5)).value_or(""), "answer");
  EXPECT_FALSE(cache.GetStale("q=公积金", kStart + absl::Seconds(330)).has_value());
  // A new answer is fresh again, and pruning keeps what is still within its window.
  cache.Put("q=公积金", "newer", kStart + absl::Minutes(1));
  cache.Put("q=医保", "other", kStart + absl::Minutes(6));
  EXPECT_EQ(cache.GetStale("q=公积金", kStart + absl::Minutes(6)).value_or(""), "newer");
  EXPECT_EQ(cache.size(), 2u);
}

TEST(ResponseCacheTest, WhenFullTheOldestGoFirst) {
  ResponseCache cache(absl::Minutes(10), 3);
  for (int i = 0; i < 5; ++i) cache.Put(absl::StrCat("k", i), "v", kStart + absl::Seconds(i));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.Get("k0", kStart + absl::Seconds(5)).has_value());
  EXPECT_FALSE(cache.Get("k1", kStart + absl::Seconds(5)).has_value());
  EXPECT_TRUE(cache.Get("k4", kStart + absl::Seconds(5)).has_value());
  // A key stored again counts from its new time.
  cache.Put("k2", "v2", kStart + absl::Seconds(6));
  cache.Put("k5", "v", kStart + absl::Seconds(7));
  EXPECT_EQ(cache.Get("k2", kStart + absl::Seconds(7)).value_or(""), "v2");
  EXPECT_FALSE(cache.Get("k3", kStart + absl::Seconds(7)).has_value());
}

// The answer to "a 加 b 等于几？" or "a 减 b 等于几？".
int Solve(const std::string& question) {
  std::vector<std::string> words = absl::StrSplit(question, ' ');
  const int a = std::stoi(words[0]);
  const int b = std::stoi(words[2]);
  return words[1] == "加" ? a + b : a - b;
}

TEST(ArithmeticChallengeTest, TheRightAnswerPassesOnceAndAWrongOneNever) {
  ArithmeticChallenge challenge(absl::Minutes(15));
  ArithmeticChallenge::Question q = challenge.Issue(kStart);
  const int answer = Solve(q.text);
  EXPECT_GE(answer, 0);
  EXPECT_TRUE(challenge.Verify(q.token, std::to_string(answer), kStart + absl::Minutes(1)).ok());
  absl::Status again = challenge.Verify(q.token, std::to_string(answer), kStart + absl::Minutes(1));
  EXPECT_TRUE(absl::IsInvalidArgument(again));
  EXPECT_NE(again.message().find("challenge_token"), std::string::npos) << again;

  ArithmeticChallenge::Question wrong = challenge.Issue(kStart);
  absl::Status refused = challenge.Verify(wrong.token, std::to_string(Solve(wrong.text) + 1), kStart);
  EXPECT_NE(refused.message().find("challenge_answer"), std::string::npos) << refused;
  // A wrong guess used the question up: the right answer no longer helps.
  EXPECT_FALSE(challenge.Verify(wrong.token, std::to_string(Solve(wrong.text)), kStart).ok());
}

TEST(ArithmeticChallengeTest, FullWidthDigitsAreAnswersAndExpiredOrForeignTokensAreNot) {
  ArithmeticChallenge challenge(absl::Minutes(15));
  ArithmeticChallenge::Question q = challenge.Issue(kStart);
  std::string full_width;
  for (char c : std::to_string(Solve(q.text))) {
    full_width += "\xEF\xBC";
    full_width.push_back(static_cast<char>(0x90 + (c - '0')));
  }
  EXPECT_TRUE(challenge.Verify(q.token, full_width, kStart).ok());

  ArithmeticChallenge::Question late = challenge.Issue(kStart);
  absl::Status expired =
      challenge.Verify(late.token, std::to_string(Solve(late.text)), kStart + absl::Minutes(16));
  EXPECT_NE(expired.message().find("expired"), std::string::npos) << expired;

  ArithmeticChallenge other(absl::Minutes(15));
  ArithmeticChallenge::Question foreign = other.Issue(kStart);
  EXPECT_FALSE(challenge.Verify(foreign.token, std::to_string(Solve(foreign.text)), kStart).ok());
  EXPECT_FALSE(challenge.Verify("not.a.token", "3", kStart).ok());
  EXPECT_EQ(ParseSmallNumber("1 2"), 12);
  EXPECT_EQ(ParseSmallNumber("十二"), -1);
  EXPECT_EQ(ParseSmallNumber(""), -1);
}

}  // namespace
}  // namespace hotline::gateway
