// Short-lived signed credentials for people signed in on the web (签名凭证).
//
// People sign in to the identity service with a password; it keeps their session and issues
// the gateway a credential good for a couple of minutes that names the person, role and
// department. Every service checks the Ed25519 signature (libsodium) with the identity
// service's public key and the expiry against its own clock: no lookup of a shared session
// database on every call, and a stolen credential is worth minutes, not a career. Logging
// out or disabling an account ends the session, so no further credential is issued.
//
// A credential is plain ASCII, safe as gRPC metadata and as a bearer token:
//   hlc1.<base64url payload>.<base64url signature of "hlc1." + payload>
// payload: "principal|role|department_id|session_tag|expire_unix_seconds"
#ifndef HOTLINE_COMMON_CREDENTIALS_H_
#define HOTLINE_COMMON_CREDENTIALS_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth.h"

namespace hotline {

inline constexpr absl::string_view kCredentialPrefix = "hlc1.";
// Session ids the identity service issues start with this: a secret for the gateway's cookie,
// never a credential.
inline constexpr absl::string_view kSessionIdPrefix = "hls1.";

struct CredentialClaims {
  Principal principal;
  // Names the session without revealing its id (a digest of it), so that audit entries and
  // logs can tie calls to one sign-in.
  std::string session_tag;
  absl::Time expire_time;
};

// True for strings shaped like a credential (not necessarily valid).
bool LooksLikeCredential(absl::string_view token);

class CredentialVerifier {
 public:
  // `public_key_hex`: 64 hex digits, as written by CredentialSigner::PublicKeyHex.
  static absl::StatusOr<CredentialVerifier> FromPublicKeyHex(absl::string_view public_key_hex);
  // A file holding the public key in hex (whitespace around it is ignored).
  static absl::StatusOr<CredentialVerifier> FromFile(const std::string& path);

  // UNAUTHENTICATED, saying why, when the credential is malformed, forged or expired at `now`.
  absl::StatusOr<CredentialClaims> Verify(absl::string_view credential, absl::Time now) const;

 private:
  std::array<unsigned char, 32> public_key_{};
};

class CredentialSigner {
 public:
  // A new random key pair.
  static CredentialSigner Generate();
  // The secret key in hex (128 digits), as written by SecretKeyHex.
  static absl::StatusOr<CredentialSigner> FromSecretKeyHex(absl::string_view secret_key_hex);
  // Reads the secret key from `path`; with `create`, a missing file is created (mode 0600)
  // with a new key, and `public_path`, when given, receives the public key.
  static absl::StatusOr<CredentialSigner> FromFile(const std::string& path, bool create,
                                                   const std::string& public_path = "");

  std::string SecretKeyHex() const;
  std::string PublicKeyHex() const;
  CredentialVerifier Verifier() const;

  // INVALID_ARGUMENT when a field holds a character the format cannot carry ('|', control
  // bytes, non-ASCII): names and ids are checked when accounts are made, so this is a bug.
  absl::StatusOr<std::string> Sign(const CredentialClaims& claims) const;

 private:
  std::array<unsigned char, 64> secret_key_{};
  std::array<unsigned char, 32> public_key_{};
};

}  // namespace hotline

#endif  // HOTLINE_COMMON_CREDENTIALS_H_
