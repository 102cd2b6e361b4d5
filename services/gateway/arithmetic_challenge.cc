#include "services/gateway/arithmetic_challenge.h"

#include <sodium.h>

#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace hotline::gateway {
namespace {

constexpr size_t kNonceBytes = 12;

}  // namespace

ArithmeticChallenge::ArithmeticChallenge(absl::Duration lifetime) : lifetime_(lifetime) {
  if (sodium_init() < 0) abort();
  crypto_auth_keygen(key_);
}

std::string ArithmeticChallenge::Mac(absl::string_view signed_part, int answer) const {
  const std::string message = absl::StrCat(signed_part, "=", answer);
  unsigned char mac[crypto_auth_BYTES];
  crypto_auth(mac, reinterpret_cast<const unsigned char*>(message.data()), message.size(), key_);
  return std::string(reinterpret_cast<const char*>(mac), sizeof mac);
}

ArithmeticChallenge::Question ArithmeticChallenge::Issue(absl::Time now) {
  // Sums and differences of numbers up to 20, never negative: easy to do in one's head.
  int a = 1 + static_cast<int>(randombytes_uniform(20));
  int b = 1 + static_cast<int>(randombytes_uniform(20));
  const bool add = randombytes_uniform(2) == 0;
  if (!add && b > a) std::swap(a, b);
  const int answer = add ? a + b : a - b;
  unsigned char nonce[kNonceBytes];
  randombytes_buf(nonce, sizeof nonce);
  const std::string signed_part = absl::StrCat(
      absl::ToUnixSeconds(now + lifetime_), ".",
      absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<char*>(nonce), sizeof nonce)));
  Question question;
  question.token =
      absl::StrCat(signed_part, ".", absl::WebSafeBase64Escape(Mac(signed_part, answer)));
  question.text = absl::StrCat(a, add ? " 加 " : " 减 ", b, " 等于几？");
  return question;
}

absl::Status ArithmeticChallenge::Verify(absl::string_view token, absl::string_view answer,
                                         absl::Time now) {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  int64_t expiry = 0;
  std::string mac;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &expiry) ||
      !absl::WebSafeBase64Unescape(parts[2], &mac) || mac.size() != crypto_auth_BYTES) {
    return absl::InvalidArgumentError("challenge_token: not a question of this portal");
  }
  // No token of ours expires later than a lifetime from now: such a one is made up, and its
  // nonce must not be remembered for longer than a real one's.
  if (absl::FromUnixSeconds(expiry) > now + lifetime_ + absl::Seconds(1)) {
    return absl::InvalidArgumentError("challenge_token: not a question of this portal");
  }
  if (absl::FromUnixSeconds(expiry) < now) {
    return absl::InvalidArgumentError(
        "challenge_token: the question has expired; answer a new one");
  }
  const int number = ParseSmallNumber(answer);
  if (number < 0) return absl::InvalidArgumentError("challenge_answer: must be a number");
  const std::string nonce(parts[1]);
  {
    absl::MutexLock lock(&mu_);
    if (now >= next_sweep_) {
      absl::erase_if(used_, [now](const auto& used) { return used.second < now; });
      next_sweep_ = now + absl::Minutes(1);
    }
    if (!used_.emplace(nonce, absl::FromUnixSeconds(expiry)).second) {
      return absl::InvalidArgumentError("challenge_token: already used; answer a new question");
    }
  }
  const std::string signed_part = absl::StrCat(parts[0], ".", parts[1]);
  const std::string expected = Mac(signed_part, number);
  if (sodium_memcmp(expected.data(), mac.data(), crypto_auth_BYTES) != 0) {
    return absl::InvalidArgumentError("challenge_answer: not the answer to the question");
  }
  return absl::OkStatus();
}

int ParseSmallNumber(absl::string_view text) {
  int value = 0;
  int digits = 0;
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = text[i];
    if (c == ' ') {
      ++i;
    } else if (c >= '0' && c <= '9') {
      value = value * 10 + (c - '0');
      ++digits;
      ++i;
    } else if (c == 0xEF && i + 2 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) == 0xBC &&
               static_cast<unsigned char>(text[i + 2]) >= 0x90 &&
               static_cast<unsigned char>(text[i + 2]) <= 0x99) {
      // Full-width ０ to ９ (U+FF10..U+FF19), as Chinese input methods type them.
      value = value * 10 + (static_cast<unsigned char>(text[i + 2]) - 0x90);
      ++digits;
      i += 3;
    } else {
      return -1;
    }
    if (digits > 4) return -1;
  }
  return digits == 0 ? -1 : value;
}

}  // namespace hotline::gateway
