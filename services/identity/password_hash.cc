#include "services/identity/password_hash.h"

#include <sodium.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace hotline::identity {

absl::StatusOr<HashStrength> ParseHashStrength(absl::string_view name) {
  if (name == "interactive") return HashStrength::kInteractive;
  if (name == "minimum") return HashStrength::kMinimum;
  return absl::InvalidArgumentError(
      absl::StrCat("password hash strength '", name, "': expected interactive or minimum"));
}

absl::StatusOr<std::string> HashPassword(absl::string_view password, HashStrength strength) {
  if (sodium_init() < 0) abort();
  unsigned long long ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
  size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
  if (strength == HashStrength::kMinimum) {
    ops = crypto_pwhash_OPSLIMIT_MIN;
    mem = crypto_pwhash_MEMLIMIT_MIN;
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), ops, mem,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::ResourceExhaustedError("password hashing ran out of memory");
  }
  return std::string(out);
}

bool VerifyPassword(absl::string_view hash, absl::string_view password) {
  if (sodium_init() < 0) abort();
  std::string terminated(hash);  // crypto_pwhash_str_verify reads a C string.
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

}  // namespace hotline::identity
