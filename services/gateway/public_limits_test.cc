// The citizens' portal's defences, each on its own with a clock of the test's choosing: the
// answer cache and the arithmetic question (the per-address limits are common/'s).
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/gateway/arithmetic_challenge.h"
#include "services/gateway/response_cache.h"

namespace hotline::gateway {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1800000000);

// The body under `key` if it is fresh at `now`; Kept: if it is still kept, fresh or not.
std::optional<std::string> Fresh(ResponseCache& cache, const std::string& key, absl::Time now) {
  std::optional<ResponseCache::Cached> cached = cache.Get(key, now);
  if (!cached.has_value() || !cached->fresh) return std::nullopt;
  return cached->body;
}
std::optional<std::string> Kept(ResponseCache& cache, const std::string& key, absl::Time now) {
  std::optional<ResponseCache::Cached> cached = cache.Get(key, now);
  if (!cached.has_value()) return std::nullopt;
  return cached->body;
}

TEST(ResponseCacheTest, AnAnswerIsKeptForItsLifetimeOnly) {
  ResponseCache cache(absl::Seconds(30), 100);
  cache.Put("q=公积金", "answer", kStart);
  EXPECT_EQ(Fresh(cache, "q=公积金", kStart + absl::Seconds(29)).value_or(""), "answer");
  EXPECT_FALSE(Fresh(cache, "q=公积金", kStart + absl::Seconds(30)).has_value());
  EXPECT_FALSE(Fresh(cache, "q=医保", kStart).has_value());
}

TEST(ResponseCacheTest, AnExpiredAnswerIsKeptForItsStaleWindowForThoseWhoMayTakeIt) {
  ResponseCache cache(absl::Seconds(30), 100, absl::Minutes(5));
  cache.Put("q=公积金", "answer", kStart);
  EXPECT_FALSE(Fresh(cache, "q=公积金", kStart + absl::Seconds(31)).has_value());
  EXPECT_EQ(Kept(cache, "q=公积金", kStart + absl::Seconds(31)).value_or(""), "answer");
  EXPECT_EQ(Kept(cache, "q=公积金", kStart + absl::Minutes(5)).value_or(""), "answer");
  EXPECT_FALSE(Kept(cache, "q=公积金", kStart + absl::Seconds(330)).has_value());
  // A new answer is fresh again, and pruning keeps what is still within its window.
  cache.Put("q=公积金", "newer", kStart + absl::Minutes(1));
  cache.Put("q=医保", "other", kStart + absl::Minutes(6));
  EXPECT_EQ(Kept(cache, "q=公积金", kStart + absl::Minutes(6)).value_or(""), "newer");
  EXPECT_EQ(cache.size(), 2u);
}

TEST(ResponseCacheTest, WhenFullTheOldestGoFirst) {
  ResponseCache cache(absl::Minutes(10), 3);
  for (int i = 0; i < 5; ++i) cache.Put(absl::StrCat("k", i), "v", kStart + absl::Seconds(i));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(Fresh(cache, "k0", kStart + absl::Seconds(5)).has_value());
  EXPECT_FALSE(Fresh(cache, "k1", kStart + absl::Seconds(5)).has_value());
  EXPECT_TRUE(Fresh(cache, "k4", kStart + absl::Seconds(5)).has_value());
  // A key stored again counts from its new time.
  cache.Put("k2", "v2", kStart + absl::Seconds(6));
  cache.Put("k5", "v", kStart + absl::Seconds(7));
  EXPECT_EQ(Fresh(cache, "k2", kStart + absl::Seconds(7)).value_or(""), "v2");
  EXPECT_FALSE(Fresh(cache, "k3", kStart + absl::Seconds(7)).has_value());
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
  absl::Status refused =
      challenge.Verify(wrong.token, std::to_string(Solve(wrong.text) + 1), kStart);
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
