// The admins' API: accounts (create, disable, enable, reset a password) and the audit trail,
// passed to the identity service with the admin's own credential, which decides.
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "common/proto_time.h"
#include "services/gateway/api_errors.h"
#include "services/gateway/api_helpers.h"
#include "services/gateway/gateway.h"

namespace hotline::gateway {
namespace {

namespace idv1 = ::hotline::identity::v1;

bool NeedsIdentity(const WebSessions& sessions, httplib::Response& response) {
  if (sessions.enabled()) return true;
  SendJson(response, 501,
           ErrorBodyFromGrpc(
               grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "未配置身份服务（--identity）")));
  return false;
}

}  // namespace

void Gateway::RegisterAdminApi(httplib::Server* server) {
  server->Get("/api/admin/accounts",
              [this](const httplib::Request& q, httplib::Response& r) { ListAccounts(q, r); });
  server->Post("/api/admin/accounts",
               [this](const httplib::Request& q, httplib::Response& r) { CreateAccount(q, r); });
  server->Post(R"(/api/admin/accounts/([^/]+)/(disable|enable|reset-password))",
               [this](const httplib::Request& q, httplib::Response& r) { AccountAction(q, r); });
  server->Get("/api/admin/audit",
              [this](const httplib::Request& q, httplib::Response& r) { ListAudit(q, r); });
}

void Gateway::ListAccounts(const httplib::Request& request, httplib::Response& response) {
  if (!NeedsIdentity(sessions_, response)) return;
  idv1::ListAccountsResponse reply;
  Reply(response,
        sessions_.stub()->ListAccounts(ContextFor(TokenOf(request)).get(),
                                       idv1::ListAccountsRequest(), &reply),
        reply);
}

// The body is CreateAccountRequest in proto JSON: {"account": {...}, "password": "..."}.
void Gateway::CreateAccount(const httplib::Request& request, httplib::Response& response) {
  if (!NeedsIdentity(sessions_, response)) return;
  idv1::CreateAccountRequest upstream;
  if (!BodyAsProto(request, response, &upstream)) return;
  auto context = ContextFor(TokenOf(request));
  context->AddMetadata("x-hotline-client-address", ClientAddressOf(request));
  idv1::Account reply;
  Reply(response, sessions_.stub()->CreateAccount(context.get(), upstream, &reply), reply);
}

void Gateway::AccountAction(const httplib::Request& request, httplib::Response& response) {
  if (!NeedsIdentity(sessions_, response)) return;
  const std::string username = request.matches[1];
  const std::string action = request.matches[2];
  auto context = ContextFor(TokenOf(request));
  context->AddMetadata("x-hotline-client-address", ClientAddressOf(request));
  idv1::Account reply;
  grpc::Status status;
  if (action == "reset-password") {
    if (!RequireJsonContent(request, response)) return;
    nlohmann::json body;
    if (!ParseBody(request, response, &body)) return;
    idv1::ResetPasswordRequest upstream;
    std::string password;
    if (!StringField(body, response, "new_password", true, &password)) return;
    upstream.set_username(username);
    upstream.set_new_password(password);
    status = sessions_.stub()->ResetPassword(context.get(), upstream, &reply);
  } else {
    idv1::SetAccountDisabledRequest upstream;
    upstream.set_username(username);
    upstream.set_disabled(action == "disable");
    status = sessions_.stub()->SetAccountDisabled(context.get(), upstream, &reply);
  }
  Reply(response, status, reply);
}

void Gateway::ListAudit(const httplib::Request& request, httplib::Response& response) {
  if (!NeedsIdentity(sessions_, response)) return;
  idv1::ListAuditRequest upstream;
  upstream.set_principal(request.get_param_value("principal"));
  upstream.set_ticket_id(request.get_param_value("ticket_id"));
  upstream.set_action(request.get_param_value("action"));
  int page_size = 100;
  if (!IntParam(request, response, "page_size", 1, 1000, &page_size)) return;
  upstream.set_page_size(page_size);
  if (request.has_param("before_sequence")) {
    int64_t before = 0;
    if (!absl::SimpleAtoi(request.get_param_value("before_sequence"), &before) || before < 0) {
      return InvalidField(response, "before_sequence", "必须是非负整数");
    }
    upstream.set_before_sequence(before);
  }
  for (const char* name : {"since", "until"}) {
    if (!request.has_param(name)) continue;
    absl::Time t;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, request.get_param_value(name), &t, &error)) {
      return InvalidField(response, name, "必须是 RFC 3339 时间，例如 2026-11-30T08:00:00+08:00");
    }
    *(std::string(name) == "since" ? upstream.mutable_since() : upstream.mutable_until()) =
        ToProtoTime(t);
  }
  idv1::ListAuditResponse reply;
  Reply(response, sessions_.stub()->ListAudit(ContextFor(TokenOf(request)).get(), upstream, &reply),
        reply);
}

}  // namespace hotline::gateway
