// The supervisors' web dashboard gateway: serves the pages in web/, a JSON API over the
// knowledge-base, ticket and metrics services, and the live dashboard as server-sent events.
//
// Every upstream call carries the browser user's own token as `authorization: Bearer ...`,
// so the services decide what each user may see and do; the gateway holds no credentials of
// its own. The token comes from the `Authorization: Bearer` header (scripts and systems), or
// from the HttpOnly session cookie set at login (pages; EventSource cannot send headers):
// for a person signed in with a password the cookie holds the session id, exchanged for the
// identity service's short-lived credential (web_sessions.h); for a token login, the token.
//
// What people see of callers and what they change is written to the identity service's audit
// trail: a ticket's details only after their view is recorded (no record, no details).
#ifndef HOTLINE_SERVICES_GATEWAY_GATEWAY_H_
#define HOTLINE_SERVICES_GATEWAY_GATEWAY_H_

#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "hotline/identity/v1/identity.grpc.pb.h"
#include "hotline/kb/v1/kb.grpc.pb.h"
#include "hotline/metrics/v1/metrics.grpc.pb.h"
#include "hotline/ticket/v1/ticket.grpc.pb.h"
#include "services/gateway/dashboard_stream.h"
#include "services/gateway/web_sessions.h"
#include "services/ticket/working_calendar.h"

namespace hotline::gateway {

struct GatewayOptions {
  // Directory of the static pages (index.html, *.js, *.css).
  std::string web_root;
  // Deadline of each unary upstream call.
  absl::Duration call_timeout = absl::Seconds(5);
  // An SSE heartbeat is sent after this long without a snapshot; it is also how the gateway
  // notices a browser that went away without closing its connection.
  absl::Duration sse_heartbeat = absl::Seconds(15);
  // WatchDashboard's min_interval: how often at most a dashboard is redrawn.
  absl::Duration dashboard_min_interval = absl::Seconds(1);
  // Overdue items sent with every snapshot.
  int overdue_preview_size = 20;
  // Adds `Secure` to the session cookie; set it whenever the gateway is behind HTTPS.
  bool secure_cookie = false;
  // Live dashboards each hold an HTTP worker thread while open. One user (token) may keep
  // this many open (tabs, screens on a wall); beyond it they get 429.
  int max_streams_per_user = 8;
  // All users together; keep it below the HTTP worker threads so that pages and the API
  // always have threads left. Beyond it: 503.
  int max_streams = 48;
  // The official working calendar, for showing departments the working time left before a
  // deadline; null: calendar time only.
  std::shared_ptr<const ticket::WorkingCalendar> calendar;
  // Behind a reverse proxy every browser comes from the proxy's address: name the header in
  // which the proxy passes the client's own (e.g. X-Real-IP) for sign-in throttling and the
  // audit trail. Empty: the connection's peer address. Set it only behind such a proxy, or
  // clients could write what they like into the trail.
  std::string client_address_header;
  // How often a signed-in person's credential is renewed (see web_sessions.h).
  absl::Duration session_refresh = absl::Seconds(15);
};

class Gateway {
 public:
  // `identity` may be null: no password sign-in, no audit trail (token sign-in only).
  Gateway(GatewayOptions options, std::shared_ptr<grpc::Channel> kb,
          std::shared_ptr<grpc::Channel> ticket, std::shared_ptr<grpc::Channel> metrics,
          std::shared_ptr<grpc::Channel> identity = nullptr);

  // Adds the routes and the static pages to `server`. Fails if web_root is not a directory.
  bool Register(httplib::Server* server);

  // Ends every live dashboard stream (their SSE responses finish) and refuses new ones, so
  // that the HTTP server can stop without waiting for browsers.
  void BeginShutdown();

  int open_dashboard_streams();

 private:
  // The caller's token if it is well formed (IsPlausibleToken), or empty.
  std::string TokenOf(const httplib::Request& request) const;
  // Whatever the caller presented as a token, well formed or not; only to tell "no token"
  // from "a malformed one". Never log it or pass it on.
  std::string PresentedTokenOf(const httplib::Request& request) const;
  std::unique_ptr<grpc::ClientContext> ContextFor(const std::string& token) const;
  // Where the request comes from (see GatewayOptions::client_address_header).
  std::string ClientAddressOf(const httplib::Request& request) const;
  // The session id in the cookie, when the caller signed in with a password; else empty.
  std::string SessionIdOf(const httplib::Request& request) const;

  // Records, before the data goes out, that the caller saw `what` of `ticket_id`. False (and
  // a 503 sent) when the trail cannot be written: then nothing is shown. Without an identity
  // service there is no trail and this is a no-op.
  bool AuditView(const httplib::Request& request, httplib::Response& response,
                 const std::string& action, const std::string& ticket_id,
                 const std::string& detail);
  // One entry of the audit trail, with the caller's own credential (which names who).
  grpc::Status RecordAudit(const httplib::Request& request, const std::string& action,
                           const std::string& ticket_id, const std::string& detail);
  void SetSessionCookie(httplib::Response& response, const std::string& value) const;
  // After a change went through: which change, by whom (from the credential), from where.
  void AuditChange(const httplib::Request& request, const httplib::Response& response);
  // Ends the live streams of a session that ended (logout).
  void EndStreamsOf(const std::string& session_id);

  void Healthz(const httplib::Request& request, httplib::Response& response);
  void Login(const httplib::Request& request, httplib::Response& response);
  void Logout(const httplib::Request& request, httplib::Response& response);
  void Session(const httplib::Request& request, httplib::Response& response);
  void Summary(const httplib::Request& request, httplib::Response& response);
  void Trend(const httplib::Request& request, httplib::Response& response);
  void Overdue(const httplib::Request& request, httplib::Response& response);
  void DashboardEvents(const httplib::Request& request, httplib::Response& response);
  void ListTickets(const httplib::Request& request, httplib::Response& response);
  void GetTicket(const httplib::Request& request, httplib::Response& response);
  void ListEvents(const httplib::Request& request, httplib::Response& response);
  void Urge(const httplib::Request& request, httplib::Response& response);
  void DecideExtension(const httplib::Request& request, httplib::Response& response);
  void Search(const httplib::Request& request, httplib::Response& response);
  void ChangePassword(const httplib::Request& request, httplib::Response& response);

  // The department portal and the callback console (portal_api.cc).
  void RegisterPortalApi(httplib::Server* server);
  void DepartmentOrders(const httplib::Request& request, httplib::Response& response);
  void CallbackQueue(const httplib::Request& request, httplib::Response& response);

  // The monthly ranking and its exports (ranking_api.cc).
  void RegisterRankingApi(httplib::Server* server);
  void Ranking(const httplib::Request& request, httplib::Response& response);
  void RankingCsv(const httplib::Request& request, httplib::Response& response);
  void RankingXlsx(const httplib::Request& request, httplib::Response& response);
  bool RankingFigures(const httplib::Request& request, httplib::Response& response,
                      metrics::v1::GetSummaryResponse* month,
                      metrics::v1::GetSummaryResponse* previous);

  // Draft Q&A pairs for knowledge-base editors (editor_api.cc).
  void RegisterEditorApi(httplib::Server* server);

  // Accounts and the audit trail for admins (admin_api.cc).
  void RegisterAdminApi(httplib::Server* server);
  void ListAccounts(const httplib::Request& request, httplib::Response& response);
  void CreateAccount(const httplib::Request& request, httplib::Response& response);
  void AccountAction(const httplib::Request& request, httplib::Response& response);
  void ListAudit(const httplib::Request& request, httplib::Response& response);

  // The agents' and reviewers' consoles (console_api.cc).
  void RegisterConsoleApi(httplib::Server* server);
  void IntakeSettings(const httplib::Request& request, httplib::Response& response);
  void CallerTickets(const httplib::Request& request, httplib::Response& response);
  void Classify(const httplib::Request& request, httplib::Response& response);
  void Similar(const httplib::Request& request, httplib::Response& response);
  void CreateTicket(const httplib::Request& request, httplib::Response& response);
  void Queues(const httplib::Request& request, httplib::Response& response);
  void TicketSimilar(const httplib::Request& request, httplib::Response& response);
  void TicketSuggestions(const httplib::Request& request, httplib::Response& response);
  // POST /api/tickets/{id}/<action>: the body is the upstream request in proto JSON.
  template <typename Request>
  void TicketAction(const httplib::Request& request, httplib::Response& response,
                    grpc::Status (ticket::v1::TicketService::Stub::*rpc)(grpc::ClientContext*,
                                                                         const Request&,
                                                                         ticket::v1::Ticket*));

  // Who the token belongs to (the ticket service's view of it), or why not.
  grpc::Status WhoIs(const std::string& token, ticket::v1::CallerIdentity* caller);

  GatewayOptions options_;
  std::unique_ptr<kb::v1::KnowledgeBaseService::Stub> kb_;
  std::unique_ptr<ticket::v1::TicketService::Stub> ticket_;
  std::unique_ptr<metrics::v1::MetricsService::Stub> metrics_;
  std::shared_ptr<grpc::Channel> channels_[3];
  WebSessions sessions_;

  std::mutex mu_;
  bool shutting_down_ = false;                                          // Guarded by mu_.
  std::map<DashboardStream*, std::weak_ptr<DashboardStream>> streams_;  // Guarded by mu_.
  std::map<std::string, int> streams_per_token_;                        // Guarded by mu_.
  std::map<DashboardStream*, std::string> stream_sessions_;             // Guarded by mu_.
};

}  // namespace hotline::gateway

#endif  // HOTLINE_SERVICES_GATEWAY_GATEWAY_H_
