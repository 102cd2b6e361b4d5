// identity_server: accounts, sign-in sessions, signed credentials and the audit trail
// (hotline.identity.v1.IdentityService).
#include <glog/logging.h>

#include "absl/flags/flag.h"
#include "common/server_main.h"
#include "services/identity/identity_service.h"

ABSL_FLAG(std::string, signing_key_file, "",
          "file with the Ed25519 secret key credentials are signed with (hex); created with a "
          "new key when missing (required)");
ABSL_FLAG(std::string, public_key_file, "",
          "where to write the public key, which every other service is given as "
          "--credential_key_file");
ABSL_FLAG(absl::Duration, credential_lifetime, absl::Minutes(2),
          "how long a credential is good for: the longest a disabled person keeps access");
ABSL_FLAG(absl::Duration, idle_timeout, absl::Minutes(30), "a session without activity ends");
ABSL_FLAG(absl::Duration, absolute_lifetime, absl::Hours(12), "a session ends after this");
ABSL_FLAG(std::string, password_hash_strength, "interactive",
          "Argon2id limits: interactive (production) or minimum (tests only)");
ABSL_FLAG(int, lock_after, 10, "failed sign-ins of one user name that lock it");
ABSL_FLAG(absl::Duration, lock_period, absl::Minutes(15), "how long a lock lasts");

namespace hotline::identity {
namespace {

absl::StatusOr<std::vector<HostedService>> Build(const ServerContext& server) {
  const std::string key_file = absl::GetFlag(FLAGS_signing_key_file);
  if (key_file.empty()) return absl::InvalidArgumentError("--signing_key_file is required");
  absl::StatusOr<CredentialSigner> signer =
      CredentialSigner::FromFile(key_file, /*create=*/true, absl::GetFlag(FLAGS_public_key_file));
  if (!signer.ok()) return signer.status();
  absl::StatusOr<HashStrength> strength =
      ParseHashStrength(absl::GetFlag(FLAGS_password_hash_strength));
  if (!strength.ok()) return strength.status();

  IdentityOptions options;
  options.clock = server.clock;
  options.credential_lifetime = absl::GetFlag(FLAGS_credential_lifetime);
  options.idle_timeout = absl::GetFlag(FLAGS_idle_timeout);
  options.absolute_lifetime = absl::GetFlag(FLAGS_absolute_lifetime);
  options.hash_strength = *strength;
  options.throttle.per_user.lock_after = absl::GetFlag(FLAGS_lock_after);
  options.throttle.per_user.lock_period = absl::GetFlag(FLAGS_lock_period);
  options.throttle.per_address.lock_period = absl::GetFlag(FLAGS_lock_period);
  // This service takes its own credentials (RecordAudit by people on the web).
  std::shared_ptr<const TokenRegistry> tokens = server.tokens->WithCredentials(
      std::make_shared<const CredentialVerifier>(signer->Verifier()));
  auto service = std::make_shared<IdentityService>(std::move(tokens), server.store,
                                                   std::move(*signer), options);
  if (absl::Status s = service->Load(); !s.ok()) return s;
  std::vector<HostedService> services;
  services.push_back({service, "hotline.identity.v1.IdentityService", nullptr});
  return services;
}

}  // namespace
}  // namespace hotline::identity

int main(int argc, char** argv) {
  return hotline::RunServerMain(
      argc, argv,
      "identity_server --listen=ADDR --data_dir=DIR --token_file=FILE "
      "--signing_key_file=FILE [--public_key_file=FILE]",
      {hotline::identity::kAccountsFamily, hotline::identity::kSessionsFamily,
       hotline::identity::kAuditFamily},
      hotline::identity::Build);
}
