#include "services/gateway/web_sessions.h"

#include "absl/time/clock.h"
#include "common/proto_time.h"

namespace hotline::gateway {
namespace {

namespace idv1 = ::hotline::identity::v1;

WebSession FromGrant(const idv1::SessionGrant& grant) {
  return WebSession{grant.credential(), FromProtoTime(grant.credential_expire_time()),
                    grant.account(), grant.session_tag()};
}

}  // namespace

WebSessions::WebSessions(std::shared_ptr<grpc::Channel> identity, absl::Duration refresh_interval,
                         absl::Duration call_timeout)
    : stub_(identity ? idv1::IdentityService::NewStub(identity) : nullptr),
      refresh_interval_(refresh_interval),
      call_timeout_(call_timeout) {}

std::unique_ptr<grpc::ClientContext> WebSessions::Context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + call_timeout_));
  return context;
}

grpc::Status WebSessions::Login(const std::string& username, const std::string& password,
                                const std::string& client_address, std::string* session_id,
                                WebSession* session) {
  if (!stub_)
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "未配置身份服务，无法用密码登录");
  idv1::LoginRequest request;
  request.set_username(username);
  request.set_password(password);
  request.set_client_address(client_address);
  idv1::SessionGrant grant;
  grpc::Status status = stub_->Login(Context().get(), request, &grant);
  if (!status.ok()) return status;
  *session_id = grant.session_id();
  *session = FromGrant(grant);
  std::lock_guard<std::mutex> lock(mu_);
  entries_[grant.session_id()] = Entry{*session, absl::Now()};
  return grpc::Status::OK;
}

grpc::Status WebSessions::Get(const std::string& session_id, bool background,
                              WebSession* session) const {
  if (!stub_) return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "会话已结束，请重新登录");
  absl::Time now = absl::Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(session_id);
    if (it != entries_.end() && now - it->second.renewed < refresh_interval_ &&
        now < it->second.session.credential_expire_time) {
      *session = it->second.session;
      return grpc::Status::OK;
    }
  }
  idv1::RefreshSessionRequest request;
  request.set_session_id(session_id);
  request.set_background(background);
  idv1::SessionGrant grant;
  grpc::Status status = stub_->RefreshSession(Context().get(), request, &grant);
  std::lock_guard<std::mutex> lock(mu_);
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
      status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    entries_.erase(session_id);
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, status.error_message());
  }
  if (!status.ok()) {
    // The identity service is away: the credential in hand is still valid for a while.
    auto it = entries_.find(session_id);
    if (it != entries_.end() && now < it->second.session.credential_expire_time) {
      *session = it->second.session;
      return grpc::Status::OK;
    }
    return status;
  }
  *session = FromGrant(grant);
  entries_[session_id] = Entry{*session, now};
  // Bounded: sessions whose credentials ran out without being renewed are dropped.
  if (entries_.size() > 10000) {
    for (auto e = entries_.begin(); e != entries_.end();) {
      e = now >= e->second.session.credential_expire_time ? entries_.erase(e) : std::next(e);
    }
  }
  return grpc::Status::OK;
}

grpc::Status WebSessions::Logout(const std::string& session_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.erase(session_id);
  }
  if (!stub_) return grpc::Status::OK;
  idv1::LogoutRequest request;
  request.set_session_id(session_id);
  idv1::LogoutResponse response;
  return stub_->Logout(Context().get(), request, &response);
}

}  // namespace hotline::gateway
