// hotline.identity.v1.IdentityService: accounts, sign-in sessions, signed credentials and
// the audit trail. See proto/hotline/identity/v1/identity.proto for the contract.
#ifndef HOTLINE_SERVICES_IDENTITY_IDENTITY_SERVICE_H_
#define HOTLINE_SERVICES_IDENTITY_IDENTITY_SERVICE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth.h"
#include "common/clock.h"
#include "common/credentials.h"
#include "common/rocks_store.h"
#include "common/worker_pool.h"
#include "hotline/identity/v1/identity.grpc.pb.h"
#include "services/identity/audit_trail.h"
#include "services/identity/identity_records.pb.h"
#include "services/identity/login_throttle.h"
#include "services/identity/password_hash.h"

namespace hotline::identity {

inline constexpr char kAccountsFamily[] = "accounts";
inline constexpr char kSessionsFamily[] = "sessions";

struct IdentityOptions {
  Clock* clock = Clock::Real();
  // How long a credential is good for. Short: it is what bounds the use of one that leaked,
  // and how long a disabled person's open page keeps working.
  absl::Duration credential_lifetime = absl::Minutes(2);
  // A session without activity for this long is over (the person walked away).
  absl::Duration idle_timeout = absl::Minutes(30);
  // A session is over this long after sign-in whatever happens: a working day and a bit.
  absl::Duration absolute_lifetime = absl::Hours(12);
  HashStrength hash_strength = HashStrength::kInteractive;
  ThrottleOptions throttle;
  int worker_threads = 4;
};

class IdentityService final : public v1::IdentityService::CallbackService {
 public:
  IdentityService(std::shared_ptr<const TokenRegistry> tokens, RocksStore* store,
                  CredentialSigner signer, IdentityOptions options);

  // Reads the trail's end. Call once before serving.
  absl::Status Load();

  // Creates the account unless one of that name exists (for demo and first-admin set-up).
  // Returns true when it was created.
  absl::StatusOr<bool> EnsureAccount(const v1::Account& account, const std::string& password);

  // The accounts a gateway or test needs in process: the same checks as the rpcs.
  absl::StatusOr<v1::SessionGrant> DoLogin(const v1::LoginRequest& request);
  absl::StatusOr<v1::SessionGrant> DoRefresh(const v1::RefreshSessionRequest& request);

  grpc::ServerUnaryReactor* Login(grpc::CallbackServerContext* context,
                                  const v1::LoginRequest* request,
                                  v1::SessionGrant* response) override;
  grpc::ServerUnaryReactor* RefreshSession(grpc::CallbackServerContext* context,
                                           const v1::RefreshSessionRequest* request,
                                           v1::SessionGrant* response) override;
  grpc::ServerUnaryReactor* Logout(grpc::CallbackServerContext* context,
                                   const v1::LogoutRequest* request,
                                   v1::LogoutResponse* response) override;
  grpc::ServerUnaryReactor* ChangePassword(grpc::CallbackServerContext* context,
                                           const v1::ChangePasswordRequest* request,
                                           v1::ChangePasswordResponse* response) override;
  grpc::ServerUnaryReactor* CreateAccount(grpc::CallbackServerContext* context,
                                          const v1::CreateAccountRequest* request,
                                          v1::Account* response) override;
  grpc::ServerUnaryReactor* SetAccountDisabled(grpc::CallbackServerContext* context,
                                               const v1::SetAccountDisabledRequest* request,
                                               v1::Account* response) override;
  grpc::ServerUnaryReactor* ResetPassword(grpc::CallbackServerContext* context,
                                          const v1::ResetPasswordRequest* request,
                                          v1::Account* response) override;
  grpc::ServerUnaryReactor* ListAccounts(grpc::CallbackServerContext* context,
                                         const v1::ListAccountsRequest* request,
                                         v1::ListAccountsResponse* response) override;
  grpc::ServerUnaryReactor* RecordAudit(grpc::CallbackServerContext* context,
                                        const v1::RecordAuditRequest* request,
                                        v1::RecordAuditResponse* response) override;
  grpc::ServerUnaryReactor* ListAudit(grpc::CallbackServerContext* context,
                                      const v1::ListAuditRequest* request,
                                      v1::ListAuditResponse* response) override;

 private:
  absl::StatusOr<std::optional<store::StoredAccount>> ReadAccount(const std::string& username);
  absl::Status WriteAccount(const store::StoredAccount& account);
  // The live session named by `session_id` and its account, or UNAUTHENTICATED (and an
  // ended session is deleted).
  absl::StatusOr<std::pair<store::StoredSession, store::StoredAccount>> LiveSession(
      const std::string& session_id);
  absl::StatusOr<v1::SessionGrant> Grant(const store::StoredSession& session,
                                         const store::StoredAccount& account);
  absl::StatusOr<v1::Account> DoCreate(const Principal& admin, const std::string& address,
                                       const v1::CreateAccountRequest& request);
  // A new password (checked, hashed): a change that ends every session of the account.
  absl::StatusOr<v1::Account> SetPassword(const std::string& username, const std::string& password);
  // Applies `change` to the account and bumps its generation (ending its sessions).
  absl::StatusOr<v1::Account> ChangeAccount(
      const std::string& username,
      const std::function<absl::Status(store::StoredAccount*)>& change);
  void Audit(const Principal& who, const std::string& address, const std::string& action,
             const std::string& detail);

  const std::shared_ptr<const TokenRegistry> tokens_;
  RocksStore* const store_;
  const CredentialSigner signer_;
  const IdentityOptions options_;
  LoginThrottle throttle_;
  AuditTrail audit_;
  // Verified against when the user name is unknown, so that the answer takes as long.
  std::string decoy_hash_;
  // Serialises read-modify-write of accounts.
  absl::Mutex accounts_mu_;
  WorkerPool pool_;
};

}  // namespace hotline::identity

#endif  // HOTLINE_SERVICES_IDENTITY_IDENTITY_SERVICE_H_
