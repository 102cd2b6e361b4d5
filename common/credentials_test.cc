#include "common/credentials.h"

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace hotline {
namespace {

CredentialClaims Claims(absl::Time expire) {
  return {Principal{"li-water", Role::kDepartment, "water", ""}, "tag123", expire};
}

TEST(CredentialTest, SignedCredentialVerifiesAndCarriesThePrincipal) {
  CredentialSigner signer = CredentialSigner::Generate();
  absl::Time now = absl::Now();
  absl::StatusOr<std::string> credential = signer.Sign(Claims(now + absl::Minutes(2)));
  ASSERT_TRUE(credential.ok()) << credential.status();
  EXPECT_TRUE(LooksLikeCredential(*credential));
  absl::StatusOr<CredentialClaims> claims = signer.Verifier().Verify(*credential, now);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->principal.name, "li-water");
  EXPECT_EQ(claims->principal.role, Role::kDepartment);
  EXPECT_EQ(claims->principal.department_id, "water");
  EXPECT_EQ(claims->session_tag, "tag123");
  EXPECT_EQ(absl::ToUnixSeconds(claims->expire_time), absl::ToUnixSeconds(now + absl::Minutes(2)));
}

TEST(CredentialTest, ExpiredForgedAndForeignCredentialsAreRefused) {
  CredentialSigner signer = CredentialSigner::Generate();
  absl::Time now = absl::Now();
  std::string good = *signer.Sign(Claims(now + absl::Minutes(2)));

  auto code = [&](const std::string& credential, absl::Time at) {
    return signer.Verifier().Verify(credential, at).status().code();
  };
  EXPECT_EQ(code(good, now + absl::Minutes(2)), absl::StatusCode::kUnauthenticated);

  // The same claims with a supervisor's role and the original signature.
  std::string payload = absl::WebSafeBase64Escape(
      absl::StrCat("li-water|supervisor||tag123|", absl::ToUnixSeconds(now + absl::Minutes(2))));
  std::string signature = good.substr(good.rfind('.') + 1);
  EXPECT_EQ(code(absl::StrCat(kCredentialPrefix, payload, ".", signature), now),
            absl::StatusCode::kUnauthenticated);
  // A credential from another signer (another installation, or someone's own key).
  CredentialSigner other = CredentialSigner::Generate();
  EXPECT_EQ(code(*other.Sign(Claims(now + absl::Minutes(2))), now),
            absl::StatusCode::kUnauthenticated);
  for (const std::string& broken : {std::string("hlc1."), std::string("hlc1.abc"),
                                    absl::StrCat(good, "x"), good.substr(0, good.size() - 4)}) {
    EXPECT_EQ(code(broken, now), absl::StatusCode::kUnauthenticated) << broken;
  }
  EXPECT_EQ(code(good, now), absl::StatusCode::kOk);
}

TEST(CredentialTest, SecretKeyRoundTripsThroughHex) {
  CredentialSigner signer = CredentialSigner::Generate();
  absl::StatusOr<CredentialSigner> again =
      CredentialSigner::FromSecretKeyHex(signer.SecretKeyHex());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->PublicKeyHex(), signer.PublicKeyHex());
  std::string credential = *again->Sign(Claims(absl::Now() + absl::Minutes(1)));
  EXPECT_TRUE(signer.Verifier().Verify(credential, absl::Now()).ok());
  EXPECT_FALSE(CredentialSigner::FromSecretKeyHex("abcd").ok());
}

TEST(CredentialTest, SignRefusesFieldsTheFormatCannotCarry) {
  CredentialSigner signer = CredentialSigner::Generate();
  CredentialClaims claims = Claims(absl::Now() + absl::Minutes(1));
  claims.principal.name = "li|supervisor";
  EXPECT_EQ(signer.Sign(claims).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CredentialTest, TokenRegistryAcceptsCredentialsOnlyWithTheKey) {
  CredentialSigner signer = CredentialSigner::Generate();
  std::string credential = *signer.Sign(Claims(absl::Now() + absl::Minutes(1)));
  std::shared_ptr<const TokenRegistry> plain =
      *TokenRegistry::Parse(absl::StrCat(HashToken("t"), " system admin\n"));
  EXPECT_EQ(plain->AuthenticateToken(credential).status().code(),
            absl::StatusCode::kUnauthenticated);
  std::shared_ptr<const TokenRegistry> with =
      plain->WithCredentials(std::make_shared<const CredentialVerifier>(signer.Verifier()));
  absl::StatusOr<Principal> principal = with->AuthenticateToken(credential);
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->department_id, "water");
  // Tokens from the file keep working.
  EXPECT_TRUE(with->AuthenticateToken("t").ok());
}

}  // namespace
}  // namespace hotline
