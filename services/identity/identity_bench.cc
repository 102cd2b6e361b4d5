// identity_bench: what signing in and checking a credential cost on this machine. Prints the
// median and p99 of each, in-process:
//   hash (Argon2id, a sign-in's or a password change's cost), verify a password, sign a
//   credential (the identity service, every renewal), verify a credential (every service, on
//   every call of a signed-in person).
#include <algorithm>
#include <cstdio>
#include <functional>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/time/clock.h"
#include "common/credentials.h"
#include "common/program.h"
#include "services/identity/password_hash.h"

ABSL_FLAG(int, hash_rounds, 20, "password hashes and verifications to time");
ABSL_FLAG(int, credential_rounds, 20000, "credentials to sign and verify");

namespace hotline::identity {
namespace {

void Time(const char* what, int rounds, const std::function<void()>& work) {
  std::vector<double> us;
  for (int i = 0; i < rounds; ++i) {
    absl::Time start = absl::Now();
    work();
    us.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
  }
  std::sort(us.begin(), us.end());
  std::printf("%-32s rounds %6d  median %10.1f us  p99 %10.1f us\n", what, rounds,
              us[us.size() / 2], us[std::min(us.size() - 1, us.size() * 99 / 100)]);
}

int Main() {
  const int hashes = absl::GetFlag(FLAGS_hash_rounds);
  std::string hash = *HashPassword("a sample passphrase", HashStrength::kInteractive);
  Time("argon2id hash (interactive)", hashes,
       [] { (void)HashPassword("a sample passphrase", HashStrength::kInteractive); });
  Time("argon2id verify (interactive)", hashes,
       [&] { (void)VerifyPassword(hash, "a sample passphrase"); });
  CredentialSigner signer = CredentialSigner::Generate();
  CredentialVerifier verifier = signer.Verifier();
  CredentialClaims claims{Principal{"li.water", Role::kDepartment, "water", ""}, "0123456789abcdef",
                          absl::Now() + absl::Minutes(2)};
  std::string credential = *signer.Sign(claims);
  const int rounds = absl::GetFlag(FLAGS_credential_rounds);
  Time("ed25519 sign credential", rounds, [&] { (void)signer.Sign(claims); });
  Time("ed25519 verify credential", rounds,
       [&] { (void)verifier.Verify(credential, absl::Now()); });
  return 0;
}

}  // namespace
}  // namespace hotline::identity

int main(int argc, char** argv) {
  hotline::InitProgram(argc, argv, "identity_bench [--hash_rounds=N] [--credential_rounds=N]");
  return hotline::identity::Main();
}
