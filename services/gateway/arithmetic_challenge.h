// The check a citizen passes before an online request is accepted: a small arithmetic
// question ("7 加 5 等于几？"), answered in the form. It needs no outside service and no
// script, reads well aloud, and stops the scripts that post forms blindly; the per-address
// limits stop the rest.
//
// Nothing is stored per question: the token handed out with it carries its expiry and a
// random nonce, signed together with the answer (HMAC-SHA-512-256, libsodium's crypto_auth,
// with a key made at start). A token is good for one submission: its nonce is remembered
// until the token expires.
#ifndef HOTLINE_SERVICES_GATEWAY_ARITHMETIC_CHALLENGE_H_
#define HOTLINE_SERVICES_GATEWAY_ARITHMETIC_CHALLENGE_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace hotline::gateway {

class ArithmeticChallenge {
 public:
  explicit ArithmeticChallenge(absl::Duration lifetime = absl::Minutes(15));

  struct Question {
    std::string token;
    std::string text;  // e.g. "7 加 5 等于几？"
  };
  Question Issue(absl::Time now);

  // OK when `answer` (ASCII or full-width digits, spaces ignored) answers the question of
  // `token`, the token has not expired and was not used before. Otherwise INVALID_ARGUMENT
  // naming challenge_token or challenge_answer. A wrong answer uses the token up too, so
  // each guess needs a new question.
  absl::Status Verify(absl::string_view token, absl::string_view answer, absl::Time now);

 private:
  std::string Mac(absl::string_view signed_part, int answer) const;

  const absl::Duration lifetime_;
  unsigned char key_[32];
  absl::Mutex mu_;
  // Nonces of tokens already presented, with the token's expiry.
  absl::flat_hash_map<std::string, absl::Time> used_ ABSL_GUARDED_BY(mu_);
  absl::Time next_sweep_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

// "０１２" and "012" alike, spaces ignored; -1 when it is not a number of at most 4 digits.
int ParseSmallNumber(absl::string_view text);

}  // namespace hotline::gateway

#endif  // HOTLINE_SERVICES_GATEWAY_ARITHMETIC_CHALLENGE_H_
