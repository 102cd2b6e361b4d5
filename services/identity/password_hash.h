// Password hashing with Argon2id (libsodium's crypto_pwhash_str): memory-hard, salted, and
// self-describing, so the parameters can be raised later without invalidating old hashes.
#ifndef HOTLINE_SERVICES_IDENTITY_PASSWORD_HASH_H_
#define HOTLINE_SERVICES_IDENTITY_PASSWORD_HASH_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hotline::identity {

enum class HashStrength {
  // libsodium's "interactive" limits (64 MiB, 2 passes): the production setting.
  kInteractive,
  // The smallest limits libsodium allows: only for tests that sign in hundreds of times.
  kMinimum,
};

absl::StatusOr<HashStrength> ParseHashStrength(absl::string_view name);

// A new hash of `password` with a fresh random salt.
absl::StatusOr<std::string> HashPassword(absl::string_view password, HashStrength strength);

// True when `password` matches `hash`. Takes the same time for a wrong password as for a
// right one (the whole Argon2id computation runs either way).
bool VerifyPassword(absl::string_view hash, absl::string_view password);

}  // namespace hotline::identity

#endif  // HOTLINE_SERVICES_IDENTITY_PASSWORD_HASH_H_
