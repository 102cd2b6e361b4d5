#include "common/credentials.h"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/files.h"
#include "common/sha256.h"

namespace hotline {
namespace {

void InitSodium() {
  // Idempotent and thread-safe after the first call; a failure means no usable RNG.
  static const bool ok = sodium_init() >= 0;
  if (!ok) abort();
}

template <size_t N>
bool FromHex(absl::string_view hex, std::array<unsigned char, N>* out) {
  if (hex.size() != 2 * N) return false;
  std::string bytes;
  for (char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  bytes = absl::HexStringToBytes(hex);
  std::copy(bytes.begin(), bytes.end(), out->begin());
  return true;
}

template <size_t N>
std::string ToHex(const std::array<unsigned char, N>& bytes) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

bool CarriesSafely(absl::string_view field) {
  for (char c : field) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e || c == '|') return false;
  }
  return true;
}

absl::Status Unauthenticated(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("credential ", why));
}

}  // namespace

bool LooksLikeCredential(absl::string_view token) {
  return absl::StartsWith(token, kCredentialPrefix);
}

absl::StatusOr<CredentialVerifier> CredentialVerifier::FromPublicKeyHex(
    absl::string_view public_key_hex) {
  InitSodium();
  CredentialVerifier verifier;
  if (!FromHex(absl::StripAsciiWhitespace(public_key_hex), &verifier.public_key_)) {
    return absl::InvalidArgumentError("credential public key: expected 64 hex digits");
  }
  return verifier;
}

absl::StatusOr<CredentialVerifier> CredentialVerifier::FromFile(const std::string& path) {
  absl::StatusOr<std::string> contents = ReadFileToString(path, "credential public key file");
  if (!contents.ok()) return contents.status();
  absl::StatusOr<CredentialVerifier> verifier = FromPublicKeyHex(*contents);
  if (!verifier.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", verifier.status().message()));
  }
  return verifier;
}

absl::StatusOr<CredentialClaims> CredentialVerifier::Verify(absl::string_view credential,
                                                            absl::Time now) const {
  absl::string_view rest = credential;
  if (!absl::ConsumePrefix(&rest, kCredentialPrefix)) return Unauthenticated("malformed");
  size_t dot = rest.find('.');
  if (dot == absl::string_view::npos) return Unauthenticated("malformed");
  absl::string_view payload_b64 = rest.substr(0, dot);
  std::string payload, signature;
  if (!absl::WebSafeBase64Unescape(payload_b64, &payload) ||
      !absl::WebSafeBase64Unescape(rest.substr(dot + 1), &signature) ||
      signature.size() != crypto_sign_BYTES) {
    return Unauthenticated("malformed");
  }
  // The signature covers the version prefix as well, so a payload cannot be replayed under
  // another format.
  std::string signed_part = absl::StrCat(kCredentialPrefix, payload_b64);
  if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                  reinterpret_cast<const unsigned char*>(signed_part.data()),
                                  signed_part.size(), public_key_.data()) != 0) {
    return Unauthenticated("signature is not valid");
  }
  std::vector<std::string> fields = absl::StrSplit(payload, '|');
  int64_t expire_seconds = 0;
  if (fields.size() != 5 || !absl::SimpleAtoi(fields[4], &expire_seconds)) {
    return Unauthenticated("payload is malformed");
  }
  absl::StatusOr<Role> role = ParseRole(fields[1]);
  if (!role.ok() || fields[0].empty()) return Unauthenticated("payload is malformed");
  if ((*role == Role::kDepartment) == fields[2].empty()) {
    return Unauthenticated("payload is malformed");
  }
  CredentialClaims claims;
  claims.principal = Principal{fields[0], *role, fields[2], ""};
  claims.session_tag = fields[3];
  claims.expire_time = absl::FromUnixSeconds(expire_seconds);
  if (now >= claims.expire_time) return Unauthenticated("has expired; sign in again");
  return claims;
}

CredentialSigner CredentialSigner::Generate() {
  InitSodium();
  CredentialSigner signer;
  crypto_sign_keypair(signer.public_key_.data(), signer.secret_key_.data());
  return signer;
}

absl::StatusOr<CredentialSigner> CredentialSigner::FromSecretKeyHex(
    absl::string_view secret_key_hex) {
  InitSodium();
  CredentialSigner signer;
  if (!FromHex(absl::StripAsciiWhitespace(secret_key_hex), &signer.secret_key_)) {
    return absl::InvalidArgumentError("credential signing key: expected 128 hex digits");
  }
  crypto_sign_ed25519_sk_to_pk(signer.public_key_.data(), signer.secret_key_.data());
  return signer;
}

absl::StatusOr<CredentialSigner> CredentialSigner::FromFile(const std::string& path, bool create,
                                                            const std::string& public_path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0 && create) {
    CredentialSigner signer = Generate();
    // Written to a new file only readable by the owner, then renamed into place, so that a
    // crash never leaves half a key.
    std::string tmp = path + ".tmp";
    FILE* f = fopen(tmp.c_str(), "wx");
    if (f == nullptr) return absl::InternalError(absl::StrCat("cannot create ", tmp));
    chmod(tmp.c_str(), 0600);
    std::string hex = signer.SecretKeyHex() + "\n";
    bool written = fwrite(hex.data(), 1, hex.size(), f) == hex.size() && fflush(f) == 0 &&
                   fsync(fileno(f)) == 0;
    fclose(f);
    if (!written || rename(tmp.c_str(), path.c_str()) != 0) {
      return absl::InternalError(absl::StrCat("cannot write ", path));
    }
    if (!public_path.empty()) {
      std::ofstream out(public_path, std::ios::trunc);
      out << signer.PublicKeyHex() << "\n";
      if (!out.flush()) return absl::InternalError(absl::StrCat("cannot write ", public_path));
    }
    return signer;
  }
  absl::StatusOr<std::string> contents = ReadFileToString(path, "credential signing key file");
  if (!contents.ok()) return contents.status();
  absl::StatusOr<CredentialSigner> signer = FromSecretKeyHex(*contents);
  if (!signer.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", signer.status().message()));
  }
  if (!public_path.empty()) {
    std::ofstream out(public_path, std::ios::trunc);
    out << signer->PublicKeyHex() << "\n";
    if (!out.flush()) return absl::InternalError(absl::StrCat("cannot write ", public_path));
  }
  return signer;
}

std::string CredentialSigner::SecretKeyHex() const { return ToHex(secret_key_); }
std::string CredentialSigner::PublicKeyHex() const { return ToHex(public_key_); }

CredentialVerifier CredentialSigner::Verifier() const {
  return *CredentialVerifier::FromPublicKeyHex(PublicKeyHex());
}

absl::StatusOr<std::string> CredentialSigner::Sign(const CredentialClaims& claims) const {
  const Principal& p = claims.principal;
  if (!CarriesSafely(p.name) || p.name.empty() || !CarriesSafely(p.department_id) ||
      !CarriesSafely(claims.session_tag)) {
    return absl::InvalidArgumentError(
        "credential: principal, department and session tag must be printable ASCII without '|'");
  }
  std::string payload =
      absl::StrCat(p.name, "|", RoleName(p.role), "|", p.department_id, "|", claims.session_tag,
                   "|", absl::ToUnixSeconds(claims.expire_time));
  std::string payload_b64 = absl::WebSafeBase64Escape(payload);
  std::string signed_part = absl::StrCat(kCredentialPrefix, payload_b64);
  unsigned char signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr,
                       reinterpret_cast<const unsigned char*>(signed_part.data()),
                       signed_part.size(), secret_key_.data());
  return absl::StrCat(signed_part, ".",
                      absl::WebSafeBase64Escape(absl::string_view(
                          reinterpret_cast<const char*>(signature), sizeof(signature))));
}

}  // namespace hotline
