// The gateway's side of sign-in: the session id in the browser's cookie is exchanged for a
// short-lived credential from the identity service, cached here and renewed every
// `refresh_interval`, so a page's calls cost no extra round trip while a session that ended
// (logout elsewhere, disabled account, new password, idle) stops working within that interval.
#ifndef HOTLINE_SERVICES_GATEWAY_WEB_SESSIONS_H_
#define HOTLINE_SERVICES_GATEWAY_WEB_SESSIONS_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "hotline/identity/v1/identity.grpc.pb.h"

namespace hotline::gateway {

struct WebSession {
  std::string credential;
  absl::Time credential_expire_time;
  identity::v1::Account account;
  std::string session_tag;
};

class WebSessions {
 public:
  // `identity` may be null: then there is no password sign-in (token sign-in still works).
  WebSessions(std::shared_ptr<grpc::Channel> identity, absl::Duration refresh_interval,
              absl::Duration call_timeout);

  bool enabled() const { return stub_ != nullptr; }
  identity::v1::IdentityService::Stub* stub() { return stub_.get(); }

  grpc::Status Login(const std::string& username, const std::string& password,
                     const std::string& client_address, std::string* session_id,
                     WebSession* session);

  // The session's credential, renewed when it is older than the refresh interval.
  // `background` renewals (for an open live stream) do not count as the person's activity.
  // UNAUTHENTICATED once the session has ended. While the identity service cannot be
  // reached, a credential not yet expired keeps serving.
  // Const for callers: the cache it keeps is not what they see.
  grpc::Status Get(const std::string& session_id, bool background, WebSession* session) const;

  grpc::Status Logout(const std::string& session_id);

 private:
  struct Entry {
    WebSession session;
    absl::Time renewed;
  };
  std::unique_ptr<grpc::ClientContext> Context() const;

  std::unique_ptr<identity::v1::IdentityService::Stub> stub_;
  const absl::Duration refresh_interval_;
  const absl::Duration call_timeout_;
  mutable std::mutex mu_;
  mutable std::map<std::string, Entry> entries_;  // By session id. Guarded by mu_.
};

}  // namespace hotline::gateway

#endif  // HOTLINE_SERVICES_GATEWAY_WEB_SESSIONS_H_
