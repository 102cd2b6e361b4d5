// The identity service over gRPC on port 0, with a real RocksDB and a manual clock: sign-in,
// sameness of failures, throttling and lockout, session ends, credentials the other services
// accept, and the audit trail.
#include "services/identity/identity_service.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/service_host.h"
#include "tests/support/service_test_base.h"
#include "tests/support/test_tokens.h"
#include "tests/support/test_util.h"

namespace hotline::identity {
namespace {

using ::hotline::testing::ContextWithToken;

constexpr char kAdminToken[] = "admin-token-for-tests";
constexpr char kPassword[] = "correct horse 12345";

class IdentityTest : public hotline::testing::ServiceTestBase {
 protected:
  // The services check expiry against the real clock, so the manual one starts at it.
  IdentityTest() : clock_(absl::Now()) {
    store_name_ = "identity";
    UsePowerLossFileSystem();
  }
  void SetUp() override { Start(); }
  void TearDown() override { Stop(); }

  std::vector<std::string> StoreFamilies() const override {
    return {kAccountsFamily, kSessionsFamily, kAuditFamily};
  }

  void StartService(RocksStore* store, ServiceHost* host) override {
    tokens_ = hotline::testing::TokensFor({{kAdminToken, "admin-system", "admin"}});
    IdentityOptions options;
    options.clock = &clock_;
    options.hash_strength = HashStrength::kMinimum;
    options.credential_lifetime = absl::Minutes(2);
    options.idle_timeout = absl::Minutes(30);
    options.absolute_lifetime = absl::Hours(12);
    service_ = std::make_unique<IdentityService>(
        tokens_->WithCredentials(std::make_shared<const CredentialVerifier>(signer_.Verifier())),
        store, signer_, options);
    ASSERT_TRUE(service_->Load().ok());
    host->AddService(service_.get(), "identity");
  }

  void Started(int port) override {
    stub_ = v1::IdentityService::NewStub(hotline::testing::LocalChannel(port));
  }

  void StopService() override {
    stub_.reset();
    service_.reset();
  }

  void CreateAccount(const std::string& name, v1::Role role, const std::string& department = "") {
    v1::CreateAccountRequest request;
    request.mutable_account()->set_username(name);
    request.mutable_account()->set_role(role);
    request.mutable_account()->set_department_id(department);
    request.set_password(kPassword);
    v1::Account account;
    grpc::Status s = stub_->CreateAccount(ContextWithToken(kAdminToken).get(), request, &account);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  grpc::Status Login(const std::string& name, const std::string& password, v1::SessionGrant* grant,
                     const std::string& address = "10.0.0.7") {
    v1::LoginRequest request;
    request.set_username(name);
    request.set_password(password);
    request.set_client_address(address);
    return stub_->Login(ContextWithToken("").get(), request, grant);
  }

  grpc::Status Refresh(const std::string& session, v1::SessionGrant* grant) {
    v1::RefreshSessionRequest request;
    request.set_session_id(session);
    return stub_->RefreshSession(ContextWithToken("").get(), request, grant);
  }

  std::vector<v1::AuditEntry> Audit(const std::string& action = "") {
    v1::ListAuditRequest request;
    request.set_action(action);
    request.set_page_size(1000);
    v1::ListAuditResponse response;
    EXPECT_TRUE(stub_->ListAudit(ContextWithToken(kAdminToken).get(), request, &response).ok());
    return {response.entries().begin(), response.entries().end()};
  }

  ManualClock clock_;
  CredentialSigner signer_ = CredentialSigner::Generate();
  std::shared_ptr<const TokenRegistry> tokens_;
  std::unique_ptr<IdentityService> service_;
  std::unique_ptr<v1::IdentityService::Stub> stub_;
};

TEST_F(IdentityTest, LoginIssuesACredentialTheOtherServicesAccept) {
  CreateAccount("li.water", v1::ROLE_DEPARTMENT, "water");
  v1::SessionGrant grant;
  ASSERT_TRUE(Login("li.water", kPassword, &grant).ok());
  EXPECT_EQ(grant.session_id().substr(0, 5), kSessionIdPrefix);
  EXPECT_EQ(grant.session_id().size(), 5u + 43u);  // 32 random bytes, base64url.
  EXPECT_EQ(grant.account().department_id(), "water");
  // A service that knows only the public key and its token file.
  std::shared_ptr<const TokenRegistry> other_service =
      tokens_->WithCredentials(std::make_shared<const CredentialVerifier>(signer_.Verifier()));
  absl::StatusOr<CredentialClaims> claims =
      signer_.Verifier().Verify(grant.credential(), clock_.Now());
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->principal.name, "li.water");
  EXPECT_EQ(claims->principal.role, Role::kDepartment);
  EXPECT_EQ(claims->principal.department_id, "water");
  EXPECT_EQ(claims->session_tag, grant.session_tag());
  EXPECT_EQ(absl::ToUnixSeconds(claims->expire_time),
            absl::ToUnixSeconds(clock_.Now() + absl::Minutes(2)));
  // The session id itself is not a credential anywhere.
  EXPECT_FALSE(other_service->AuthenticateToken(grant.session_id()).ok());
  // Nor is the password hash's store readable as a session: the store keys are digests.
  EXPECT_FALSE(store_->Get(store_->Family(kSessionsFamily), grant.session_id())->has_value());
}

TEST_F(IdentityTest, WrongPasswordUnknownUserAndDisabledAccountGetTheSameAnswer) {
  CreateAccount("zhang", v1::ROLE_AGENT);
  CreateAccount("wang", v1::ROLE_AGENT);
  v1::SetAccountDisabledRequest disable;
  disable.set_username("wang");
  disable.set_disabled(true);
  v1::Account account;
  ASSERT_TRUE(
      stub_->SetAccountDisabled(ContextWithToken(kAdminToken).get(), disable, &account).ok());

  v1::SessionGrant grant;
  grpc::Status wrong = Login("zhang", "not the password", &grant, "10.0.0.1");
  grpc::Status unknown = Login("nobody", "not the password", &grant, "10.0.0.2");
  grpc::Status disabled = Login("wang", kPassword, &grant, "10.0.0.3");
  for (const grpc::Status& s : {wrong, unknown, disabled}) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(s.error_message(), "用户名或密码错误");
    EXPECT_EQ(s.error_details(), "");
  }
  EXPECT_EQ(Audit("login_failed").size(), 3u);
}

TEST_F(IdentityTest, RepeatedFailuresSlowThenLockAndThePeriodUnlocks) {
  CreateAccount("zhang", v1::ROLE_AGENT);
  v1::SessionGrant grant;
  auto attempt = [&](const std::string& name, const std::string& password) {
    return Login(name, password, &grant).error_code();
  };
  // Three failures are free; then each further attempt must wait, doubling.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(attempt("zhang", "wrong-password"), grpc::UNAUTHENTICATED);
  EXPECT_EQ(attempt("zhang", kPassword), grpc::RESOURCE_EXHAUSTED);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(attempt("zhang", "wrong-password"), grpc::UNAUTHENTICATED);  // 4th
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(attempt("zhang", "wrong-password"), grpc::RESOURCE_EXHAUSTED);  // must wait 2 s
  // The same happens to a name that does not exist: its answers tell nothing.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(attempt("ghost", "wrong-password"), grpc::UNAUTHENTICATED);
  EXPECT_EQ(attempt("ghost", "wrong-password"), grpc::RESOURCE_EXHAUSTED);

  // Keep failing, waiting out each delay, until the tenth failure locks the name.
  int failures = 4;
  while (failures < 10) {
    clock_.Advance(absl::Seconds(60));
    ASSERT_EQ(attempt("zhang", "wrong-password"), grpc::UNAUTHENTICATED);
    ++failures;
  }
  clock_.Advance(absl::Minutes(1));
  grpc::Status locked = Login("zhang", kPassword, &grant);
  EXPECT_EQ(locked.error_code(), grpc::RESOURCE_EXHAUSTED);
  EXPECT_NE(locked.error_message().find("已锁定"), std::string::npos) << locked.error_message();
  clock_.Advance(absl::Minutes(13));
  EXPECT_EQ(attempt("zhang", kPassword), grpc::RESOURCE_EXHAUSTED);
  // After the lock period the right password works again, and clears the count.
  clock_.Advance(absl::Minutes(2));
  EXPECT_EQ(attempt("zhang", kPassword), grpc::OK);
  EXPECT_EQ(attempt("zhang", "wrong-password"), grpc::UNAUTHENTICATED);
  EXPECT_EQ(attempt("zhang", kPassword), grpc::OK);
}

TEST_F(IdentityTest, ManyNamesFromOneAddressLockTheAddress) {
  v1::SessionGrant grant;
  int refused = 0;
  for (int i = 0; i < 60; ++i) {
    clock_.Advance(absl::Seconds(31));  // Never slowed per name: each name is new.
    if (Login(absl::StrCat("guess", i), "wrong-password", &grant, "10.9.9.9").error_code() ==
        grpc::RESOURCE_EXHAUSTED) {
      ++refused;
    }
  }
  EXPECT_GT(refused, 0);
  // Another address is not affected.
  CreateAccount("zhang", v1::ROLE_AGENT);
  EXPECT_TRUE(Login("zhang", kPassword, &grant, "10.1.1.1").ok());
}

TEST_F(IdentityTest, SessionsEndAtLogoutIdleLifetimeDisableAndPasswordChange) {
  CreateAccount("zhang", v1::ROLE_AGENT);
  v1::SessionGrant a, b, refreshed;
  ASSERT_TRUE(Login("zhang", kPassword, &a).ok());
  ASSERT_TRUE(Login("zhang", kPassword, &b).ok());
  EXPECT_NE(a.session_id(), b.session_id());  // A new id at every sign-in.

  // Logout ends that session only, and ending it again is harmless.
  v1::LogoutRequest logout;
  logout.set_session_id(a.session_id());
  v1::LogoutResponse out;
  ASSERT_TRUE(stub_->Logout(ContextWithToken("").get(), logout, &out).ok());
  ASSERT_TRUE(stub_->Logout(ContextWithToken("").get(), logout, &out).ok());
  EXPECT_EQ(Refresh(a.session_id(), &refreshed).error_code(), grpc::UNAUTHENTICATED);
  EXPECT_TRUE(Refresh(b.session_id(), &refreshed).ok());

  // Idle: activity keeps it alive, a background refresh does not.
  clock_.Advance(absl::Minutes(29));
  ASSERT_TRUE(Refresh(b.session_id(), &refreshed).ok());
  clock_.Advance(absl::Minutes(29));
  v1::RefreshSessionRequest background;
  background.set_session_id(b.session_id());
  background.set_background(true);
  ASSERT_TRUE(stub_->RefreshSession(ContextWithToken("").get(), background, &refreshed).ok());
  clock_.Advance(absl::Minutes(2));
  EXPECT_EQ(stub_->RefreshSession(ContextWithToken("").get(), background, &refreshed).error_code(),
            grpc::UNAUTHENTICATED);

  // Absolute lifetime: even a busy session ends after 12 hours.
  v1::SessionGrant c;
  ASSERT_TRUE(Login("zhang", kPassword, &c).ok());
  for (int i = 0; i < 28; ++i) {  // 11 h 40 min of work
    clock_.Advance(absl::Minutes(25));
    ASSERT_TRUE(Refresh(c.session_id(), &refreshed).ok()) << i;
  }
  clock_.Advance(absl::Minutes(25));
  EXPECT_EQ(Refresh(c.session_id(), &refreshed).error_code(), grpc::UNAUTHENTICATED);
  // The last credential issued runs out at the session's end, not two minutes after it.
  EXPECT_LE(FromProtoTime(refreshed.credential_expire_time()),
            FromProtoTime(c.session_expire_time()));

  // Disabling ends every session of the account; re-enabling does not revive them.
  v1::SessionGrant d, e;
  ASSERT_TRUE(Login("zhang", kPassword, &d).ok());
  ASSERT_TRUE(Login("zhang", kPassword, &e).ok());
  v1::SetAccountDisabledRequest disable;
  disable.set_username("zhang");
  disable.set_disabled(true);
  v1::Account account;
  ASSERT_TRUE(
      stub_->SetAccountDisabled(ContextWithToken(kAdminToken).get(), disable, &account).ok());
  EXPECT_EQ(Refresh(d.session_id(), &refreshed).error_code(), grpc::UNAUTHENTICATED);
  disable.set_disabled(false);
  ASSERT_TRUE(
      stub_->SetAccountDisabled(ContextWithToken(kAdminToken).get(), disable, &account).ok());
  EXPECT_EQ(Refresh(e.session_id(), &refreshed).error_code(), grpc::UNAUTHENTICATED);

  // A password change (own or by reset) ends every session, the changing one too.
  v1::SessionGrant f, g;
  ASSERT_TRUE(Login("zhang", kPassword, &f).ok());
  ASSERT_TRUE(Login("zhang", kPassword, &g).ok());
  v1::ChangePasswordRequest change;
  change.set_session_id(f.session_id());
  change.set_old_password(kPassword);
  change.set_new_password("short");
  v1::ChangePasswordResponse changed;
  grpc::Status weak = stub_->ChangePassword(ContextWithToken("").get(), change, &changed);
  EXPECT_EQ(weak.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(weak.error_message(), "new_password: at least 10 characters");
  change.set_new_password("a much better passphrase");
  ASSERT_TRUE(stub_->ChangePassword(ContextWithToken("").get(), change, &changed).ok());
  EXPECT_EQ(Refresh(f.session_id(), &refreshed).error_code(), grpc::UNAUTHENTICATED);
  EXPECT_EQ(Refresh(g.session_id(), &refreshed).error_code(), grpc::UNAUTHENTICATED);
  EXPECT_EQ(Login("zhang", kPassword, &f).error_code(), grpc::UNAUTHENTICATED);
  EXPECT_TRUE(Login("zhang", "a much better passphrase", &f).ok());
}

TEST_F(IdentityTest, AccountsSurviveARestartAndBadRequestsNameTheField) {
  CreateAccount("li.water", v1::ROLE_DEPARTMENT, "water");
  v1::SessionGrant grant;
  ASSERT_TRUE(Login("li.water", kPassword, &grant).ok());
  Stop();
  Start();
  v1::SessionGrant refreshed;
  EXPECT_TRUE(Refresh(grant.session_id(), &refreshed).ok());

  auto create = [&](const std::string& name, v1::Role role, const std::string& department,
                    const std::string& password) {
    v1::CreateAccountRequest request;
    request.mutable_account()->set_username(name);
    request.mutable_account()->set_role(role);
    request.mutable_account()->set_department_id(department);
    request.set_password(password);
    v1::Account account;
    return stub_->CreateAccount(ContextWithToken(kAdminToken).get(), request, &account);
  };
  EXPECT_EQ(create("Li Water", v1::ROLE_AGENT, "", kPassword).error_message(),
            "account.username: 2 to 32 of a-z, 0-9, '.', '_', '-'");
  EXPECT_EQ(create("hu", v1::ROLE_UNSPECIFIED, "", kPassword).error_message(), "role: must be set");
  EXPECT_EQ(create("hu", v1::ROLE_DEPARTMENT, "", kPassword).error_message(),
            "account.department_id: required for ROLE_DEPARTMENT");
  EXPECT_EQ(create("hu", v1::ROLE_AGENT, "", "short").error_message(),
            "password: at least 10 characters");
  EXPECT_EQ(create("li.water", v1::ROLE_AGENT, "", kPassword).error_code(), grpc::ALREADY_EXISTS);
  // Only admins administer: a department's own credential is refused.
  v1::CreateAccountRequest request;
  request.mutable_account()->set_username("mallory");
  request.mutable_account()->set_role(v1::ROLE_ADMIN);
  request.set_password(kPassword);
  v1::Account account;
  EXPECT_EQ(stub_->CreateAccount(ContextWithToken(refreshed.credential()).get(), request, &account)
                .error_code(),
            grpc::PERMISSION_DENIED);
}

TEST_F(IdentityTest, AuditEntriesNameTheCallerFromItsCredentialNeverFromTheRequest) {
  CreateAccount("li.water", v1::ROLE_DEPARTMENT, "water");
  v1::SessionGrant grant;
  ASSERT_TRUE(Login("li.water", kPassword, &grant).ok());
  v1::RecordAuditRequest request;
  v1::AuditEntry* entry = request.add_entries();
  entry->set_action("view_ticket");
  entry->set_ticket_id("T-1");
  entry->set_client_address("10.0.0.7");
  entry->set_principal("somebody-else");  // Ignored.
  entry->set_role(v1::ROLE_ADMIN);        // Ignored.
  v1::RecordAuditResponse response;
  ASSERT_TRUE(
      stub_->RecordAudit(ContextWithToken(grant.credential()).get(), request, &response).ok());

  std::vector<v1::AuditEntry> views = Audit("view_ticket");
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].principal(), "li.water");
  EXPECT_EQ(views[0].role(), v1::ROLE_DEPARTMENT);
  EXPECT_EQ(views[0].department_id(), "water");
  EXPECT_EQ(views[0].session_tag(), grant.session_tag());
  EXPECT_EQ(views[0].ticket_id(), "T-1");
  EXPECT_EQ(views[0].client_address(), "10.0.0.7");
  EXPECT_EQ(views[0].time().seconds(), absl::ToUnixSeconds(clock_.Now()));

  // Forged and expired credentials record nothing.
  CredentialSigner stranger = CredentialSigner::Generate();
  CredentialClaims claims{Principal{"li.water", Role::kAdmin, "", ""}, "x",
                          absl::Now() + absl::Minutes(1)};
  EXPECT_EQ(stub_->RecordAudit(ContextWithToken(*stranger.Sign(claims)).get(), request, &response)
                .error_code(),
            grpc::UNAUTHENTICATED);
  claims.principal.role = Role::kAgent;
  claims.expire_time = absl::Now() - absl::Seconds(1);
  EXPECT_EQ(stub_->RecordAudit(ContextWithToken(*signer_.Sign(claims)).get(), request, &response)
                .error_code(),
            grpc::UNAUTHENTICATED);
  request.mutable_entries(0)->clear_action();
  grpc::Status unnamed =
      stub_->RecordAudit(ContextWithToken(grant.credential()).get(), request, &response);
  EXPECT_EQ(unnamed.error_message(), "entries[0].action: must be set");
  EXPECT_EQ(Audit("view_ticket").size(), 1u);

  // The trail survives a restart and keeps numbering without a gap; newest first.
  Stop();
  Start();
  request.mutable_entries(0)->set_action("view_ticket");
  ASSERT_TRUE(
      stub_->RecordAudit(ContextWithToken(grant.credential()).get(), request, &response).ok());
  std::vector<v1::AuditEntry> all = Audit();
  ASSERT_GE(all.size(), 4u);  // create_account, login, 2 views
  for (size_t i = 0; i + 1 < all.size(); ++i) {
    EXPECT_EQ(all[i].sequence(), all[i + 1].sequence() + 1);
  }
  EXPECT_EQ(all.back().sequence(), 1);
}

// What the service acknowledged is on the disk when the power goes: the account, the session,
// the audit entries. The same run with unsynced writes loses them, which shows the test can
// tell the difference (a SIGKILL, keeping the page cache, could not).
class IdentityPowerLossTest : public IdentityTest, public ::testing::WithParamInterface<bool> {};

TEST_P(IdentityPowerLossTest, AcknowledgedAccountsSessionsAndAuditEntriesSurviveAPowerCut) {
  const bool synced = GetParam();
  if (!synced) {
    Stop();
    sync_writes_ = false;
    Start();
  }
  CreateAccount("li.water", v1::ROLE_DEPARTMENT, "water");
  v1::SessionGrant grant;
  ASSERT_TRUE(Login("li.water", kPassword, &grant).ok());
  v1::RecordAuditRequest request;
  request.add_entries()->set_action("view_ticket");
  request.mutable_entries(0)->set_ticket_id("T-1");
  v1::RecordAuditResponse recorded;
  ASSERT_TRUE(
      stub_->RecordAudit(ContextWithToken(grant.credential()).get(), request, &recorded).ok());

  PowerCutAndReopen();
  v1::SessionGrant after;
  std::vector<v1::AuditEntry> views = Audit("view_ticket");
  if (synced) {
    EXPECT_TRUE(Refresh(grant.session_id(), &after).ok());
    EXPECT_TRUE(Login("li.water", kPassword, &after).ok());
    ASSERT_EQ(views.size(), 1u);
    EXPECT_EQ(views[0].ticket_id(), "T-1");
    EXPECT_EQ(views[0].sequence(), recorded.last_sequence());
  } else {
    EXPECT_FALSE(Refresh(grant.session_id(), &after).ok());
    EXPECT_TRUE(views.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(SyncedAndUnsynced, IdentityPowerLossTest, ::testing::Bool(),
                         [](const auto& info) {
                           return info.param ? "Synced" : "UnsyncedControl";
                         });

}  // namespace
}  // namespace hotline::identity
