#include "services/identity/identity_service.h"

#include <glog/logging.h>
#include <sodium.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/proto_time.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "common/unary_call.h"

namespace hotline::identity {
namespace {

// One answer for a wrong password, an unknown user and a disabled account.
constexpr char kBadLogin[] = "用户名或密码错误";
constexpr char kSessionOver[] = "会话已结束，请重新登录";
constexpr int kMinPassword = 10;
constexpr int kMaxPassword = 256;

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

absl::Status CheckUsername(absl::string_view field, absl::string_view name) {
  bool ok = name.size() >= 2 && name.size() <= 32;
  for (char c : name) {
    ok = ok &&
         (absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  }
  return ok ? absl::OkStatus() : Invalid(field, "2 to 32 of a-z, 0-9, '.', '_', '-'");
}

absl::Status CheckPassword(absl::string_view field, absl::string_view password) {
  if (password.size() < kMinPassword) {
    return Invalid(field, absl::StrCat("at least ", kMinPassword, " characters"));
  }
  if (password.size() > kMaxPassword) {
    return Invalid(field, absl::StrCat("at most ", kMaxPassword, " bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Role> RoleFromProto(v1::Role role) {
  switch (role) {
    case v1::ROLE_AGENT:
      return Role::kAgent;
    case v1::ROLE_REVIEWER:
      return Role::kReviewer;
    case v1::ROLE_DEPARTMENT:
      return Role::kDepartment;
    case v1::ROLE_SUPERVISOR:
      return Role::kSupervisor;
    case v1::ROLE_EDITOR:
      return Role::kEditor;
    case v1::ROLE_ADMIN:
      return Role::kAdmin;
    case v1::ROLE_CALLBACK:
      return Role::kCallback;
    default:
      return Invalid("role", "must be set");
  }
}

v1::Role RoleToProto(Role role) {
  switch (role) {
    case Role::kAgent:
      return v1::ROLE_AGENT;
    case Role::kReviewer:
      return v1::ROLE_REVIEWER;
    case Role::kDepartment:
      return v1::ROLE_DEPARTMENT;
    case Role::kSupervisor:
      return v1::ROLE_SUPERVISOR;
    case Role::kEditor:
      return v1::ROLE_EDITOR;
    case Role::kAdmin:
      return v1::ROLE_ADMIN;
    case Role::kCallback:
      return v1::ROLE_CALLBACK;
    case Role::kPublic:
      break;  // A system account's role; no person has it.
  }
  return v1::ROLE_UNSPECIFIED;
}

std::string SessionKey(absl::string_view session_id) { return Sha256Hex(session_id); }

// Where the caller is, as the gateway reports it for the person it acts for.
std::string ClientAddress(const grpc::CallbackServerContext& context) {
  auto it = context.client_metadata().find("x-hotline-client-address");
  if (it != context.client_metadata().end() && it->second.size() <= 64) {
    return std::string(it->second.data(), it->second.size());
  }
  // gRPC names peers "ipv4:127.0.0.1:34842": the address without the scheme, as the gateway
  // reports browsers' addresses.
  const std::string peer = context.peer();
  absl::string_view address = peer;
  if (!absl::ConsumePrefix(&address, "ipv4:")) absl::ConsumePrefix(&address, "ipv6:");
  return std::string(address);
}

std::string Bounded(absl::string_view s, size_t n) { return std::string(s.substr(0, n)); }

}  // namespace

IdentityService::IdentityService(std::shared_ptr<const TokenRegistry> tokens, RocksStore* store,
                                 CredentialSigner signer, IdentityOptions options)
    : tokens_(std::move(tokens)),
      store_(store),
      signer_(std::move(signer)),
      options_(options),
      throttle_(options.throttle),
      audit_(store),
      pool_("identity-worker", options.worker_threads) {}

absl::Status IdentityService::Load() {
  unsigned char random[32];
  randombytes_buf(random, sizeof(random));
  absl::StatusOr<std::string> decoy = HashPassword(
      absl::string_view(reinterpret_cast<char*>(random), sizeof(random)), options_.hash_strength);
  if (!decoy.ok()) return decoy.status();
  decoy_hash_ = *decoy;
  return audit_.Load();
}

absl::StatusOr<std::optional<store::StoredAccount>> IdentityService::ReadAccount(
    const std::string& username) {
  ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                   store_->Get(store_->Family(kAccountsFamily), username));
  if (!bytes) return std::optional<store::StoredAccount>();
  store::StoredAccount account;
  if (!account.ParseFromString(*bytes)) {
    return absl::DataLossError(absl::StrCat("account '", username, "' cannot be read"));
  }
  return std::optional<store::StoredAccount>(std::move(account));
}

absl::Status IdentityService::WriteAccount(const store::StoredAccount& account) {
  return store_->Put(store_->Family(kAccountsFamily), account.account().username(),
                     account.SerializeAsString());
}

void IdentityService::Audit(const Principal& who, const std::string& address,
                            const std::string& action, const std::string& detail) {
  v1::AuditEntry entry;
  *entry.mutable_time() = ToProtoTime(options_.clock->Now());
  entry.set_principal(who.name);
  entry.set_role(RoleToProto(who.role));
  entry.set_department_id(who.department_id);
  entry.set_session_tag(who.session_tag);
  entry.set_client_address(Bounded(address, 64));
  entry.set_action(action);
  entry.set_detail(Bounded(detail, 1000));
  // The change itself is already durable; a trail that cannot be written is reported in the
  // log and by the failing RecordAudit calls of the gateway.
  if (absl::StatusOr<int64_t> s = audit_.Append({std::move(entry)}); !s.ok()) {
    LOG(ERROR) << "audit entry for " << action << " not written: " << s.status();
  }
}

absl::StatusOr<v1::SessionGrant> IdentityService::Grant(const store::StoredSession& session,
                                                        const store::StoredAccount& stored) {
  const v1::Account& account = stored.account();
  absl::Time now = options_.clock->Now();
  absl::Time session_end = FromProtoTime(session.create_time()) + options_.absolute_lifetime;
  ASSIGN_OR_RETURN(Role role, RoleFromProto(account.role()));
  CredentialClaims claims{Principal{account.username(), role, account.department_id(), ""},
                          session.session_tag(),
                          std::min(now + options_.credential_lifetime, session_end)};
  ASSIGN_OR_RETURN(std::string credential, signer_.Sign(claims));
  v1::SessionGrant grant;
  grant.set_credential(std::move(credential));
  *grant.mutable_credential_expire_time() = ToProtoTime(claims.expire_time);
  *grant.mutable_session_expire_time() = ToProtoTime(session_end);
  *grant.mutable_account() = account;
  grant.set_session_tag(session.session_tag());
  grant.mutable_idle_timeout()->set_seconds(absl::ToInt64Seconds(options_.idle_timeout));
  return grant;
}

absl::StatusOr<v1::SessionGrant> IdentityService::DoLogin(const v1::LoginRequest& request) {
  if (request.username().empty()) return Invalid("username", "must not be empty");
  if (request.password().empty()) return Invalid("password", "must not be empty");
  if (request.username().size() > 64 || request.password().size() > kMaxPassword) {
    return absl::UnauthenticatedError(kBadLogin);
  }
  const std::string address = Bounded(request.client_address(), 64);
  absl::Time now = options_.clock->Now();
  RETURN_IF_ERROR(throttle_.Admit(request.username(), address, now));

  ASSIGN_OR_RETURN(std::optional<store::StoredAccount> account, ReadAccount(request.username()));
  // The hash is always computed, for an unknown name against a decoy: the time taken does
  // not tell whether the name exists.
  bool password_ok =
      VerifyPassword(account ? account->password_hash() : decoy_hash_, request.password());
  if (!account || !password_ok || account->account().disabled()) {
    throttle_.RecordFailure(request.username(), address, now);
    Audit(Principal{Bounded(request.username(), 32), Role::kAgent, "", ""}, address, "login_failed",
          "");
    return absl::UnauthenticatedError(kBadLogin);
  }
  throttle_.RecordSuccess(request.username());

  unsigned char random[32];
  randombytes_buf(random, sizeof(random));
  // The prefix tells the gateway's cookie of a session from one holding an API token.
  std::string session_id =
      absl::StrCat(kSessionIdPrefix, absl::WebSafeBase64Escape(absl::string_view(
                                         reinterpret_cast<char*>(random), sizeof(random))));
  store::StoredSession session;
  session.set_username(account->account().username());
  session.set_account_generation(account->generation());
  *session.mutable_create_time() = ToProtoTime(now);
  *session.mutable_last_activity_time() = ToProtoTime(now);
  session.set_client_address(address);
  session.set_session_tag(SessionKey(session_id).substr(0, 16));
  *account->mutable_account()->mutable_last_login_time() = ToProtoTime(now);
  {
    absl::MutexLock lock(&accounts_mu_);
    rocksdb::WriteBatch batch;
    batch.Put(store_->Family(kSessionsFamily), SessionKey(session_id), session.SerializeAsString());
    // Only the login time changes: re-read under the lock so a concurrent disable wins.
    ASSIGN_OR_RETURN(std::optional<store::StoredAccount> current, ReadAccount(request.username()));
    if (!current || current->generation() != account->generation()) {
      return absl::UnauthenticatedError(kBadLogin);
    }
    *current->mutable_account()->mutable_last_login_time() = ToProtoTime(now);
    batch.Put(store_->Family(kAccountsFamily), request.username(), current->SerializeAsString());
    RETURN_IF_ERROR(store_->Write(&batch));
  }
  ASSIGN_OR_RETURN(v1::SessionGrant grant, Grant(session, *account));
  grant.set_session_id(session_id);
  ASSIGN_OR_RETURN(Role role, RoleFromProto(account->account().role()));
  Audit(Principal{account->account().username(), role, account->account().department_id(),
                  session.session_tag()},
        address, "login", "");
  return grant;
}

absl::StatusOr<std::pair<store::StoredSession, store::StoredAccount>> IdentityService::LiveSession(
    const std::string& session_id) {
  if (session_id.empty() || session_id.size() > 128) {
    return absl::UnauthenticatedError(kSessionOver);
  }
  const std::string key = SessionKey(session_id);
  ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                   store_->Get(store_->Family(kSessionsFamily), key));
  if (!bytes) return absl::UnauthenticatedError(kSessionOver);
  store::StoredSession session;
  if (!session.ParseFromString(*bytes)) {
    return absl::DataLossError("a session record cannot be read");
  }
  ASSIGN_OR_RETURN(std::optional<store::StoredAccount> account, ReadAccount(session.username()));
  absl::Time now = options_.clock->Now();
  bool live = account && !account->account().disabled() &&
              account->generation() == session.account_generation() &&
              now - FromProtoTime(session.last_activity_time()) < options_.idle_timeout &&
              now < FromProtoTime(session.create_time()) + options_.absolute_lifetime;
  if (!live) {
    rocksdb::WriteBatch batch;
    batch.Delete(store_->Family(kSessionsFamily), key);
    RETURN_IF_ERROR(store_->Write(&batch));
    return absl::UnauthenticatedError(kSessionOver);
  }
  return std::make_pair(std::move(session), std::move(*account));
}

absl::StatusOr<v1::SessionGrant> IdentityService::DoRefresh(
    const v1::RefreshSessionRequest& request) {
  ASSIGN_OR_RETURN(auto live, LiveSession(request.session_id()));
  if (!request.background()) {
    *live.first.mutable_last_activity_time() = ToProtoTime(options_.clock->Now());
    // Not synced: losing it in a crash only makes the session look idle a little earlier.
    rocksdb::WriteBatch batch;
    batch.Put(store_->Family(kSessionsFamily), SessionKey(request.session_id()),
              live.first.SerializeAsString());
    RETURN_IF_ERROR(store_->WriteUnsynced(&batch));
  }
  return Grant(live.first, live.second);
}

absl::StatusOr<v1::Account> IdentityService::ChangeAccount(
    const std::string& username, const std::function<absl::Status(store::StoredAccount*)>& change) {
  RETURN_IF_ERROR(CheckUsername("username", username));
  absl::MutexLock lock(&accounts_mu_);
  ASSIGN_OR_RETURN(std::optional<store::StoredAccount> account, ReadAccount(username));
  if (!account) return absl::NotFoundError(absl::StrCat("account '", username, "' does not exist"));
  RETURN_IF_ERROR(change(&*account));
  account->set_generation(account->generation() + 1);
  RETURN_IF_ERROR(WriteAccount(*account));
  return account->account();
}

absl::StatusOr<v1::Account> IdentityService::SetPassword(const std::string& username,
                                                         const std::string& password) {
  RETURN_IF_ERROR(CheckPassword("new_password", password));
  ASSIGN_OR_RETURN(std::string hash, HashPassword(password, options_.hash_strength));
  const absl::Time now = options_.clock->Now();
  return ChangeAccount(username, [&](store::StoredAccount* a) {
    a->set_password_hash(hash);
    *a->mutable_account()->mutable_password_change_time() = ToProtoTime(now);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Account> IdentityService::DoCreate(const Principal& admin,
                                                      const std::string& address,
                                                      const v1::CreateAccountRequest& request) {
  const v1::Account& in = request.account();
  RETURN_IF_ERROR(CheckUsername("account.username", in.username()));
  ASSIGN_OR_RETURN(Role role, RoleFromProto(in.role()));
  (void)role;
  if (in.role() == v1::ROLE_DEPARTMENT) {
    if (in.department_id().empty()) {
      return Invalid("account.department_id", "required for ROLE_DEPARTMENT");
    }
    RETURN_IF_ERROR(CheckUsername("account.department_id", in.department_id()));
  } else if (!in.department_id().empty()) {
    return Invalid("account.department_id", "only for ROLE_DEPARTMENT");
  }
  if (in.display_name().size() > 192) return Invalid("account.display_name", "too long");
  RETURN_IF_ERROR(CheckPassword("password", request.password()));
  ASSIGN_OR_RETURN(std::string hash, HashPassword(request.password(), options_.hash_strength));
  store::StoredAccount stored;
  v1::Account* account = stored.mutable_account();
  account->set_username(in.username());
  account->set_display_name(in.display_name());
  account->set_role(in.role());
  account->set_department_id(in.department_id());
  absl::Time now = options_.clock->Now();
  *account->mutable_create_time() = ToProtoTime(now);
  *account->mutable_password_change_time() = ToProtoTime(now);
  stored.set_password_hash(hash);
  {
    absl::MutexLock lock(&accounts_mu_);
    ASSIGN_OR_RETURN(std::optional<store::StoredAccount> existing, ReadAccount(in.username()));
    if (existing) {
      return absl::AlreadyExistsError(absl::StrCat("account '", in.username(), "' exists"));
    }
    RETURN_IF_ERROR(WriteAccount(stored));
  }
  Audit(admin, address, "create_account",
        absl::StrCat(in.username(), " ", v1::Role_Name(in.role()), " ", in.department_id()));
  return stored.account();
}

// ---- rpcs -------------------------------------------------------------------------------

grpc::ServerUnaryReactor* IdentityService::Login(grpc::CallbackServerContext* context,
                                                 const v1::LoginRequest* request,
                                                 v1::SessionGrant* response) {
  return ServeOnPool(context, pool_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(*response, DoLogin(*request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IdentityService::RefreshSession(grpc::CallbackServerContext* context,
                                                          const v1::RefreshSessionRequest* request,
                                                          v1::SessionGrant* response) {
  return ServeOnPool(context, pool_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(*response, DoRefresh(*request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IdentityService::Logout(grpc::CallbackServerContext* context,
                                                  const v1::LogoutRequest* request,
                                                  v1::LogoutResponse*) {
  return ServeOnPool(context, pool_, [=]() -> absl::Status {
    absl::StatusOr<std::pair<store::StoredSession, store::StoredAccount>> live =
        LiveSession(request->session_id());
    if (!live.ok()) {
      return live.status().code() == absl::StatusCode::kUnauthenticated ? absl::OkStatus()
                                                                        : live.status();
    }
    rocksdb::WriteBatch batch;
    batch.Delete(store_->Family(kSessionsFamily), SessionKey(request->session_id()));
    RETURN_IF_ERROR(store_->Write(&batch));
    const v1::Account& a = live->second.account();
    ASSIGN_OR_RETURN(Role role, RoleFromProto(a.role()));
    Audit(Principal{a.username(), role, a.department_id(), live->first.session_tag()},
          ClientAddress(*context), "logout", "");
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IdentityService::ChangePassword(grpc::CallbackServerContext* context,
                                                          const v1::ChangePasswordRequest* request,
                                                          v1::ChangePasswordResponse*) {
  return ServeOnPool(context, pool_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(auto live, LiveSession(request->session_id()));
    if (!VerifyPassword(live.second.password_hash(), request->old_password())) {
      return absl::UnauthenticatedError("old_password: 原密码不正确");
    }
    const std::string username = live.second.account().username();
    ASSIGN_OR_RETURN(v1::Account account, SetPassword(username, request->new_password()));
    ASSIGN_OR_RETURN(Role role, RoleFromProto(account.role()));
    Audit(Principal{username, role, account.department_id(), live.first.session_tag()},
          ClientAddress(*context), "change_password", "");
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IdentityService::CreateAccount(grpc::CallbackServerContext* context,
                                                         const v1::CreateAccountRequest* request,
                                                         v1::Account* response) {
  return ServeOnPool(context, pool_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal admin,
                     AuthenticateAndAuthorize(*tokens_, *context, {Role::kAdmin}, *request));
    ASSIGN_OR_RETURN(*response, DoCreate(admin, ClientAddress(*context), *request));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IdentityService::SetAccountDisabled(
    grpc::CallbackServerContext* context, const v1::SetAccountDisabledRequest* request,
    v1::Account* response) {
  return ServeOnPool(context, pool_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal admin,
                     AuthenticateAndAuthorize(*tokens_, *context, {Role::kAdmin}, *request));
    if (admin.name == request->username() && request->disabled()) {
      return Invalid("username", "an admin cannot disable their own account");
    }
    ASSIGN_OR_RETURN(*response, ChangeAccount(request->username(), [&](store::StoredAccount* a) {
      a->mutable_account()->set_disabled(request->disabled());
      return absl::OkStatus();
    }));
    Audit(admin, ClientAddress(*context),
          request->disabled() ? "disable_account" : "enable_account", request->username());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IdentityService::ResetPassword(grpc::CallbackServerContext* context,
                                                         const v1::ResetPasswordRequest* request,
                                                         v1::Account* response) {
  return ServeOnPool(context, pool_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal admin,
                     AuthenticateAndAuthorize(*tokens_, *context, {Role::kAdmin}, *request));
    RETURN_IF_ERROR(CheckUsername("username", request->username()));
    ASSIGN_OR_RETURN(*response, SetPassword(request->username(), request->new_password()));
    throttle_.Clear(request->username());
    Audit(admin, ClientAddress(*context), "reset_password", request->username());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IdentityService::ListAccounts(grpc::CallbackServerContext* context,
                                                        const v1::ListAccountsRequest* request,
                                                        v1::ListAccountsResponse* response) {
  return ServeOnPool(context, pool_, [=]() -> absl::Status {
    RETURN_IF_ERROR(
        AuthenticateAndAuthorize(*tokens_, *context, {Role::kAdmin}, *request).status());
    absl::Status parse = absl::OkStatus();
    RETURN_IF_ERROR(store_->ScanPrefix(
        store_->Family(kAccountsFamily), "", [&](absl::string_view key, absl::string_view value) {
          store::StoredAccount a;
          if (!a.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
            parse = absl::DataLossError(absl::StrCat("account '", key, "' cannot be read"));
            return false;
          }
          *response->add_accounts() = a.account();
          return true;
        }));
    return parse;
  });
}

grpc::ServerUnaryReactor* IdentityService::RecordAudit(grpc::CallbackServerContext* context,
                                                       const v1::RecordAuditRequest* request,
                                                       v1::RecordAuditResponse* response) {
  return ServeOnPool(context, pool_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal who,
                     AuthenticateAndAuthorize(*tokens_, *context,
                                              {Role::kAgent, Role::kReviewer, Role::kDepartment,
                                               Role::kSupervisor, Role::kEditor, Role::kCallback},
                                              *request));
    if (request->entries_size() < 1 || request->entries_size() > 500) {
      return Invalid("entries", "1 to 500");
    }
    std::vector<v1::AuditEntry> entries;
    absl::Time now = options_.clock->Now();
    for (int i = 0; i < request->entries_size(); ++i) {
      const v1::AuditEntry& in = request->entries(i);
      std::string field = absl::StrCat("entries[", i, "]");
      if (in.action().empty()) return Invalid(absl::StrCat(field, ".action"), "must be set");
      if (in.action().size() > 64)
        return Invalid(absl::StrCat(field, ".action"), "at most 64 bytes");
      if (in.ticket_id().size() > 64)
        return Invalid(absl::StrCat(field, ".ticket_id"), "at most 64 bytes");
      if (in.client_address().size() > 64) {
        return Invalid(absl::StrCat(field, ".client_address"), "at most 64 bytes");
      }
      if (in.detail().size() > 1000)
        return Invalid(absl::StrCat(field, ".detail"), "at most 1000 bytes");
      v1::AuditEntry entry;
      *entry.mutable_time() = ToProtoTime(now);
      entry.set_principal(who.name);
      entry.set_role(RoleToProto(who.role));
      entry.set_department_id(who.department_id);
      entry.set_session_tag(who.session_tag);
      entry.set_client_address(in.client_address().empty() ? ClientAddress(*context)
                                                           : in.client_address());
      entry.set_action(in.action());
      entry.set_ticket_id(in.ticket_id());
      entry.set_detail(in.detail());
      entries.push_back(std::move(entry));
    }
    ASSIGN_OR_RETURN(int64_t last, audit_.Append(std::move(entries)));
    response->set_last_sequence(last);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IdentityService::ListAudit(grpc::CallbackServerContext* context,
                                                     const v1::ListAuditRequest* request,
                                                     v1::ListAuditResponse* response) {
  return ServeOnPool(context, pool_, [=]() -> absl::Status {
    RETURN_IF_ERROR(
        AuthenticateAndAuthorize(*tokens_, *context, {Role::kAdmin}, *request).status());
    if (request->page_size() < 0) return Invalid("page_size", "must not be negative");
    if (request->before_sequence() < 0) return Invalid("before_sequence", "must not be negative");
    ASSIGN_OR_RETURN(*response, audit_.List(*request));
    return absl::OkStatus();
  });
}

}  // namespace hotline::identity
