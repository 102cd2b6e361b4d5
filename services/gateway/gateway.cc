#include "services/gateway/gateway.h"

#include <glog/logging.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/credentials.h"
#include "common/files.h"
#include "common/utf8.h"
#include "services/gateway/api_errors.h"
#include "services/gateway/api_helpers.h"
#include "services/gateway/http_hardening.h"
#include "services/gateway/navigation.h"
#include "services/gateway/roles.h"

namespace hotline::gateway {
namespace {

namespace kbv1 = ::hotline::kb::v1;
namespace mv1 = ::hotline::metrics::v1;
namespace tv1 = ::hotline::ticket::v1;

constexpr char kSessionCookie[] = "hotline_session";
// Pages of a ticket's history (1000 events each) the drill-down fetches; a longer history is
// cut, and says so, rather than slowing the page down.
constexpr int kMaxEventPages = 20;

// Tokens become a cookie value, which cannot hold spaces, quotes, commas or semicolons;
// the tokens the project issues are base64url text, well inside this set.
bool IsPlausibleToken(absl::string_view token) {
  if (token.empty() || token.size() > 512) return false;
  for (char c : token) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
          c == '~' || c == '+' || c == '/' || c == '=')) {
      return false;
    }
  }
  return true;
}

std::optional<mv1::PeriodKind> ParsePeriod(const httplib::Request& request) {
  std::string period =
      request.has_param("period") ? request.get_param_value("period") : std::string("month");
  if (period == "day") return mv1::PERIOD_KIND_DAY;
  if (period == "week") return mv1::PERIOD_KIND_WEEK;
  if (period == "month") return mv1::PERIOD_KIND_MONTH;
  return std::nullopt;
}

std::string SseEvent(absl::string_view name, absl::string_view data) {
  return absl::StrCat("event: ", name, "\ndata: ", data, "\n\n");
}

}  // namespace

Gateway::Gateway(GatewayOptions options, std::shared_ptr<grpc::Channel> kb,
                 std::shared_ptr<grpc::Channel> ticket, std::shared_ptr<grpc::Channel> metrics,
                 std::shared_ptr<grpc::Channel> identity)
    : options_(std::move(options)),
      kb_(kbv1::KnowledgeBaseService::NewStub(kb)),
      ticket_(tv1::TicketService::NewStub(ticket)),
      metrics_(mv1::MetricsService::NewStub(metrics)),
      channels_{kb, ticket, metrics},
      sessions_(identity, options_.session_refresh, options_.call_timeout) {}

std::string Gateway::PresentedTokenOf(const httplib::Request& request) const {
  // A script's explicit header wins over a cookie the same client may also carry.
  std::string authorization = request.get_header_value("Authorization");
  if (!authorization.empty()) {
    absl::string_view value = absl::StripAsciiWhitespace(authorization);
    if (value.size() > 7 && absl::EqualsIgnoreCase(value.substr(0, 7), "bearer ")) {
      return std::string(absl::StripAsciiWhitespace(value.substr(7)));
    }
    return std::string(value);  // Not a bearer token: presented, and refused as malformed.
  }
  for (size_t i = 0; i < request.get_header_value_count("Cookie"); ++i) {
    for (absl::string_view cookie :
         absl::StrSplit(request.get_header_value("Cookie", i), ';', absl::SkipWhitespace())) {
      cookie = absl::StripAsciiWhitespace(cookie);
      if (absl::ConsumePrefix(&cookie, kSessionCookie) && absl::ConsumePrefix(&cookie, "=")) {
        return std::string(cookie);
      }
    }
  }
  return "";
}

std::string Gateway::TokenOf(const httplib::Request& request) const {
  // Only a token of the characters tokens are made of may become gRPC metadata: gRPC aborts
  // the whole process on a metadata value with a control or non-ASCII byte.
  std::string token = PresentedTokenOf(request);
  if (!IsPlausibleToken(token)) return "";
  if (request.has_header("Authorization") || !absl::StartsWith(token, kSessionIdPrefix)) {
    return token;
  }
  // A person's session: what goes upstream is its current credential, never the session id.
  WebSession session;
  if (!sessions_.Get(token, false, &session).ok()) return "";
  return session.credential;
}

std::string Gateway::ClientAddressOf(const httplib::Request& request) const {
  return ClientAddress(request, options_.client_address_header);
}

std::string Gateway::SessionIdOf(const httplib::Request& request) const {
  if (request.has_header("Authorization")) return "";
  std::string token = PresentedTokenOf(request);
  return IsPlausibleToken(token) && absl::StartsWith(token, kSessionIdPrefix) ? token : "";
}

grpc::Status Gateway::RecordAudit(const httplib::Request& request, const std::string& action,
                                  const std::string& ticket_id, const std::string& detail) {
  identity::v1::RecordAuditRequest audit;
  identity::v1::AuditEntry* entry = audit.add_entries();
  entry->set_action(action);
  entry->set_ticket_id(ticket_id.substr(0, 64));
  entry->set_client_address(ClientAddressOf(request));
  entry->set_detail(detail);
  identity::v1::RecordAuditResponse recorded;
  return sessions_.stub()->RecordAudit(ContextFor(TokenOf(request)).get(), audit, &recorded);
}

bool Gateway::AuditView(const httplib::Request& request, httplib::Response& response,
                        const std::string& action, const std::string& ticket_id,
                        const std::string& detail) {
  if (!sessions_.enabled()) return true;
  grpc::Status status = RecordAudit(request, action, ticket_id, detail);
  if (status.ok()) return true;
  LOG(ERROR) << "audit of " << action << " " << ticket_id
             << " not recorded: " << status.error_message();
  SendJson(response, 503,
           ErrorBodyFromGrpc(
               grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "审计记录暂时无法写入，为保护个人信息，暂不显示详情，请稍后重试。")));
  return false;
}

void Gateway::AuditChange(const httplib::Request& request, const httplib::Response& response) {
  if (!sessions_.enabled() || request.method != "POST" || response.status >= 300 ||
      !absl::StartsWith(request.path, "/api/") || absl::StartsWith(request.path, "/api/admin/") ||
      request.path == "/api/session" || request.path == "/api/logout" ||
      request.path == "/api/password") {
    return;  // Sign-in and account changes are recorded by the identity service itself.
  }
  std::string action = "create_ticket", ticket_id;
  absl::string_view rest = request.path;
  if (absl::ConsumePrefix(&rest, "/api/tickets/")) {
    std::vector<std::string> parts = absl::StrSplit(rest, '/');
    ticket_id = parts[0];
    action = parts.size() > 1 ? parts[1] : "change";
  } else if (request.path != "/api/tickets") {
    action = std::string(request.path.substr(5));
  }
  // The ticket service keeps the change itself in the ticket's history, with its actor; the
  // trail adds where it came from. A trail that cannot be written is logged, not undone.
  grpc::Status status = RecordAudit(request, action, ticket_id, "");
  if (!status.ok())
    LOG(ERROR) << "audit of " << action << " not recorded: " << status.error_message();
}

void Gateway::EndStreamsOf(const std::string& session_id) {
  std::vector<std::shared_ptr<DashboardStream>> ending;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [raw, session] : stream_sessions_) {
      if (session != session_id) continue;
      if (auto it = streams_.find(raw); it != streams_.end()) {
        if (auto stream = it->second.lock()) ending.push_back(std::move(stream));
      }
    }
  }
  for (auto& stream : ending) stream->Cancel();
}

std::unique_ptr<grpc::ClientContext> Gateway::ContextFor(const std::string& token) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.call_timeout));
  // TokenOf() lets only plausible tokens through; this is the last fence before gRPC, which
  // would abort the process on a bad byte. An empty bearer is refused upstream.
  context->AddMetadata("authorization",
                       absl::StrCat("Bearer ", IsPlausibleToken(token) ? token : ""));
  return context;
}

grpc::Status Gateway::WhoIs(const std::string& token, tv1::CallerIdentity* caller) {
  // Every valid token may read the intake settings, which name the caller's role.
  tv1::IntakeSettings settings;
  grpc::Status status = ticket_->GetIntakeSettings(ContextFor(token).get(),
                                                   tv1::GetIntakeSettingsRequest(), &settings);
  if (status.ok()) *caller = settings.caller();
  return status;
}

bool Gateway::Register(httplib::Server* server) {
  if (!IsDirectory(options_.web_root) || !server->set_mount_point("/", options_.web_root)) {
    LOG(ERROR) << "--web_root " << options_.web_root << " is not a directory of pages";
    return false;
  }
  auto bind = [this](void (Gateway::*handler)(const httplib::Request&, httplib::Response&)) {
    return Bound(this, handler);
  };
  // Every page's navigation bar, from one definition (navigation.h).
  InsertNavigationIntoPages(server);
  server->Get("/", [](const httplib::Request&, httplib::Response& response) {
    response.set_redirect("/overview.html");
  });
  server->Get("/healthz", bind(&Gateway::Healthz));
  server->Post("/api/session", bind(&Gateway::Login));
  server->Get("/api/session", bind(&Gateway::Session));
  server->Post("/api/logout", bind(&Gateway::Logout));
  server->Get("/api/summary", bind(&Gateway::Summary));
  server->Get("/api/trend", bind(&Gateway::Trend));
  server->Get("/api/overdue", bind(&Gateway::Overdue));
  server->Get("/api/dashboard/stream", bind(&Gateway::DashboardEvents));
  server->Get("/api/tickets", bind(&Gateway::ListTickets));
  server->Get(R"(/api/tickets/([^/]+))", bind(&Gateway::GetTicket));
  server->Get(R"(/api/tickets/([^/]+)/events)", bind(&Gateway::ListEvents));
  server->Post(R"(/api/tickets/([^/]+)/urge)", bind(&Gateway::Urge));
  server->Post(R"(/api/tickets/([^/]+)/extension-decision)", bind(&Gateway::DecideExtension));
  server->Get("/api/search", bind(&Gateway::Search));
  server->Post("/api/password", bind(&Gateway::ChangePassword));
  RegisterConsoleApi(server);
  RegisterPortalApi(server);
  RegisterRankingApi(server);
  RegisterAdminApi(server);
  RegisterEditorApi(server);

  server->set_pre_routing_handler(
      [this](const httplib::Request& request, httplib::Response& response) {
        if (RefuseMalformedRequest(request, response)) {
          return httplib::Server::HandlerResponse::Handled;
        }
        // One check for the whole API instead of one per handler: no token, no upstream call.
        if (!absl::StartsWith(request.path, "/api/") || request.path == "/api/logout" ||
            (request.path == "/api/session" && request.method == "POST")) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        if (TokenOf(request).empty()) {
          // The presented value is never echoed or logged: it may be most of a real token.
          SendJson(response, 401,
                   !SessionIdOf(request).empty()       ? SessionEndedBody()
                   : PresentedTokenOf(request).empty() ? MissingTokenBody()
                                                       : MalformedTokenBody());
          return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
      });
  InstallErrorHandlers(server);
  server->set_post_routing_handler(
      [this](const httplib::Request& request, httplib::Response& response) {
        AuditChange(request, response);
        SetSecurityHeaders(request, response);
      });
  return true;
}

void Gateway::Healthz(const httplib::Request&, httplib::Response& response) {
  // Liveness of the gateway itself; the upstream channels' states are reported for operators
  // but do not fail the check (a restarting service must not take the pages down with it).
  auto state_name = [](grpc_connectivity_state state) {
    switch (state) {
      case GRPC_CHANNEL_IDLE:
        return "IDLE";
      case GRPC_CHANNEL_CONNECTING:
        return "CONNECTING";
      case GRPC_CHANNEL_READY:
        return "READY";
      case GRPC_CHANNEL_TRANSIENT_FAILURE:
        return "TRANSIENT_FAILURE";
      case GRPC_CHANNEL_SHUTDOWN:
        return "SHUTDOWN";
    }
    return "UNKNOWN";
  };
  bool shutting_down;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down = shutting_down_;
  }
  nlohmann::json body = {{"status", shutting_down ? "NOT_SERVING" : "SERVING"},
                         {"upstreams",
                          {{"kb", state_name(channels_[0]->GetState(false))},
                           {"ticket", state_name(channels_[1]->GetState(false))},
                           {"metrics", state_name(channels_[2]->GetState(false))}}},
                         {"open_dashboard_streams", open_dashboard_streams()}};
  SendJson(response, shutting_down ? 503 : 200, body);
}

void Gateway::Login(const httplib::Request& request, httplib::Response& response) {
  if (!RequireJsonContent(request, response)) return;
  nlohmann::json body;
  if (!ParseBody(request, response, &body)) return;
  if (body.contains("username")) {
    std::string username, password;
    if (!StringField(body, response, "username", true, &username)) return;
    if (!StringField(body, response, "password", true, &password)) return;
    std::string session_id;
    WebSession session;
    grpc::Status status =
        sessions_.Login(std::string(absl::StripAsciiWhitespace(username)), password,
                        ClientAddressOf(request), &session_id, &session);
    if (!status.ok()) {
      SendJson(response, HttpStatusFor(status.error_code()), ErrorBodyFromGrpc(status));
      return;
    }
    tv1::CallerIdentity caller;
    if (grpc::Status who = WhoIs(session.credential, &caller); !who.ok()) {
      SendJson(response, HttpStatusFor(who.error_code()), ErrorBodyFromGrpc(who));
      return;
    }
    SetSessionCookie(response, session_id);
    SendJson(response, 200, SessionBody(caller, session.account.display_name()));
    return;
  }
  std::string token;
  if (!StringField(body, response, "token", true, &token)) return;
  token = std::string(absl::StripAsciiWhitespace(token));
  if (!IsPlausibleToken(token)) {
    InvalidField(response, "token", "令牌格式不正确（应为一串字母、数字和 -_ 等符号，不含空格）");
    return;
  }
  tv1::CallerIdentity caller;
  grpc::Status status = WhoIs(token, &caller);
  if (!status.ok()) {
    SendJson(response, HttpStatusFor(status.error_code()), ErrorBodyFromGrpc(status));
    return;
  }
  if (caller.role() == tv1::ROLE_PUBLIC) {
    // The portal's system account sees what anyone sees; it has no console to sign in to.
    SendJson(response, 403,
             ErrorBodyFromGrpc(grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                            "token: 市民门户的系统令牌不能登录工作台")));
    return;
  }
  SetSessionCookie(response, token);
  SendJson(response, 200, SessionBody(caller));
}

void Gateway::SetSessionCookie(httplib::Response& response, const std::string& value) const {
  // No Max-Age: the cookie ends with the browser; a session also ends on the server (logout,
  // idle, lifetime) and a token by its own expiry upstream, whatever the browser keeps.
  response.set_header(
      "Set-Cookie", absl::StrCat(kSessionCookie, "=", value, "; Path=/; HttpOnly; SameSite=Strict",
                                 options_.secure_cookie ? "; Secure" : ""));
}

void Gateway::Logout(const httplib::Request& request, httplib::Response& response) {
  if (std::string session_id = SessionIdOf(request); !session_id.empty()) {
    EndStreamsOf(session_id);
    if (grpc::Status ended = sessions_.Logout(session_id); !ended.ok()) {
      // The cookie is cleared anyway; the session ends at the latest when idle.
      LOG(WARNING) << "logout not confirmed by the identity service: " << ended.error_message();
    }
  }
  response.set_header(
      "Set-Cookie", absl::StrCat(kSessionCookie, "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict",
                                 options_.secure_cookie ? "; Secure" : ""));
  SendJson(response, 200, "{}");
}

void Gateway::Session(const httplib::Request& request, httplib::Response& response) {
  std::string token = TokenOf(request);
  if (token.empty()) {
    SendJson(response, 401, MissingTokenBody());
    return;
  }
  tv1::CallerIdentity caller;
  grpc::Status status = WhoIs(token, &caller);
  if (!status.ok()) {
    SendJson(response, HttpStatusFor(status.error_code()), ErrorBodyFromGrpc(status));
    return;
  }
  WebSession session;
  std::string session_id = SessionIdOf(request);
  if (!session_id.empty()) sessions_.Get(session_id, false, &session);
  SendJson(response, 200, SessionBody(caller, session.account.display_name()));
}

void Gateway::ChangePassword(const httplib::Request& request, httplib::Response& response) {
  if (!RequireJsonContent(request, response)) return;
  nlohmann::json body;
  if (!ParseBody(request, response, &body)) return;
  std::string old_password, new_password;
  if (!StringField(body, response, "old_password", true, &old_password)) return;
  if (!StringField(body, response, "new_password", true, &new_password)) return;
  std::string session_id = SessionIdOf(request);
  if (session_id.empty()) {
    return InvalidField(response, "session", "只有用密码登录的用户可以修改密码");
  }
  identity::v1::ChangePasswordRequest upstream;
  upstream.set_session_id(session_id);
  upstream.set_old_password(old_password);
  upstream.set_new_password(new_password);
  identity::v1::ChangePasswordResponse reply;
  grpc::Status status = sessions_.stub()->ChangePassword(ContextFor("").get(), upstream, &reply);
  if (status.ok()) EndStreamsOf(session_id);
  Reply(response, status, reply);
}

void Gateway::Summary(const httplib::Request& request, httplib::Response& response) {
  std::optional<mv1::PeriodKind> period = ParsePeriod(request);
  if (!period) return InvalidField(response, "period", "必须是 day、week 或 month");
  mv1::GetSummaryRequest upstream;
  upstream.mutable_period()->set_kind(*period);
  upstream.set_group_by(mv1::DIMENSION_DEPARTMENT);
  mv1::GetSummaryResponse reply;
  Reply(response, metrics_->GetSummary(ContextFor(TokenOf(request)).get(), upstream, &reply),
        reply);
}

void Gateway::Trend(const httplib::Request& request, httplib::Response& response) {
  std::string period_name =
      request.has_param("period") ? request.get_param_value("period") : std::string("day");
  mv1::GetTrendRequest upstream;
  if (period_name == "day") {
    upstream.set_period_kind(mv1::PERIOD_KIND_DAY);
  } else if (period_name == "week") {
    upstream.set_period_kind(mv1::PERIOD_KIND_WEEK);
  } else if (period_name == "month") {
    upstream.set_period_kind(mv1::PERIOD_KIND_MONTH);
  } else {
    return InvalidField(response, "period", "必须是 day、week 或 month");
  }
  int count = 14;
  if (!IntParam(request, response, "count", 1, 366, &count)) return;
  upstream.set_period_count(count);
  mv1::GetTrendResponse reply;
  Reply(response, metrics_->GetTrend(ContextFor(TokenOf(request)).get(), upstream, &reply), reply);
}

void Gateway::Overdue(const httplib::Request& request, httplib::Response& response) {
  mv1::ListOverdueRequest upstream;
  int page_size = 50;
  if (!IntParam(request, response, "page_size", 1, 500, &page_size)) return;
  upstream.set_page_size(page_size);
  upstream.set_page_token(request.get_param_value("page_token"));
  if (request.has_param("level")) {
    std::string level = request.get_param_value("level");
    if (level == "yellow") {
      upstream.add_warning_levels(mv1::WARNING_LEVEL_YELLOW);
    } else if (level == "red") {
      upstream.add_warning_levels(mv1::WARNING_LEVEL_RED);
    } else {
      return InvalidField(response, "level", "必须是 yellow 或 red");
    }
  }
  mv1::ListOverdueResponse reply;
  Reply(response, metrics_->ListOverdue(ContextFor(TokenOf(request)).get(), upstream, &reply),
        reply);
}

void Gateway::DashboardEvents(const httplib::Request& request, httplib::Response& response) {
  std::optional<mv1::PeriodKind> period = ParsePeriod(request);
  if (!period) return InvalidField(response, "period", "必须是 day、week 或 month");
  mv1::WatchDashboardRequest upstream;
  upstream.set_period_kind(*period);
  upstream.set_group_by(mv1::DIMENSION_DEPARTMENT);
  upstream.set_overdue_preview_size(options_.overdue_preview_size);
  *upstream.mutable_min_interval() = [&] {
    google::protobuf::Duration d;
    int64_t ms = absl::ToInt64Milliseconds(options_.dashboard_min_interval);
    d.set_seconds(ms / 1000);
    d.set_nanos(static_cast<int32_t>(ms % 1000) * 1000000);
    return d;
  }();

  const std::string token = TokenOf(request);
  // A person's stream ends with their session: at logout at once, otherwise (disabled,
  // password changed, idle) at the next renewal of the credential.
  const std::string session_id = SessionIdOf(request);
  std::shared_ptr<DashboardStream> stream;
  {
    std::lock_guard<std::mutex> lock(mu_);
    grpc::Status refusal;
    if (shutting_down_) {
      refusal = grpc::Status(grpc::StatusCode::UNAVAILABLE, "gateway is shutting down");
    } else if (streams_per_token_[token] >= options_.max_streams_per_user) {
      refusal = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                             absl::StrCat("this user already has ", options_.max_streams_per_user,
                                          " live dashboards open; close one first"));
    } else if (static_cast<int>(streams_.size()) >= options_.max_streams) {
      refusal = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                             "too many live dashboards open; the page refreshes on its own");
    }
    if (!refusal.ok()) {
      if (streams_per_token_[token] == 0) streams_per_token_.erase(token);
      SendJson(response, HttpStatusFor(refusal.error_code()), ErrorBodyFromGrpc(refusal));
      return;
    }
    stream = DashboardStream::Start(metrics_.get(), token, upstream);
    streams_[stream.get()] = stream;
    ++streams_per_token_[token];
    if (!session_id.empty()) stream_sessions_[stream.get()] = session_id;
  }
  auto forget = [this, stream, token, forgotten = std::make_shared<std::once_flag>()] {
    stream->Cancel();
    std::call_once(*forgotten, [&] {
      std::lock_guard<std::mutex> lock(mu_);
      streams_.erase(stream.get());
      stream_sessions_.erase(stream.get());
      if (--streams_per_token_[token] <= 0) streams_per_token_.erase(token);
    });
  };

  // The first snapshot (or the refusal) decides the HTTP status: a bad token or a forbidden
  // role is a plain 401/403 the page can act on, not an event inside a 200 stream.
  std::string first;
  grpc::Status status;
  switch (stream->Wait(options_.call_timeout, &first, &status)) {
    case DashboardStream::Next::kEnded:
      forget();
      if (status.ok()) status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream ended");
      SendJson(response, HttpStatusFor(status.error_code()), ErrorBodyFromGrpc(status));
      return;
    case DashboardStream::Next::kQuiet:
    case DashboardStream::Next::kSnapshot:
      break;
  }

  // Proxies (nginx) must pass events through at once rather than buffer them.
  response.set_header("X-Accel-Buffering", "no");
  const absl::Duration heartbeat = session_id.empty()
                                       ? options_.sse_heartbeat
                                       : std::min(options_.sse_heartbeat, options_.session_refresh);
  response.set_chunked_content_provider(
      "text/event-stream",
      [this, stream, heartbeat, session_id, first = std::move(first)](
          size_t, httplib::DataSink& sink) mutable {
        if (!first.empty()) {
          // How long the browser waits before reconnecting after the stream ends.
          std::string opening = absl::StrCat("retry: 3000\n\n", SseEvent("snapshot", first));
          first.clear();
          return sink.write(opening.data(), opening.size());
        }
        std::string json;
        grpc::Status status;
        std::string out;
        DashboardStream::Next next = stream->Wait(heartbeat, &json, &status);
        WebSession session;
        if (!session_id.empty() && next != DashboardStream::Next::kEnded &&
            !sessions_.Get(session_id, /*background=*/true, &session).ok()) {
          next = DashboardStream::Next::kEnded;
          status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "会话已结束，请重新登录");
        }
        switch (next) {
          case DashboardStream::Next::kSnapshot:
            out = SseEvent("snapshot", json);
            break;
          case DashboardStream::Next::kQuiet:
            // A write is also the only way to learn that the browser has gone away.
            out = SseEvent(
                "heartbeat",
                ToJsonText(nlohmann::json{{"time", absl::FormatTime(absl::RFC3339_sec, absl::Now(),
                                                                    absl::UTCTimeZone())}}));
            break;
          case DashboardStream::Next::kEnded:
            out = SseEvent("upstream-error",
                           status.ok() ? std::string("{}") : ErrorBodyFromGrpc(status));
            sink.write(out.data(), out.size());
            sink.done();
            return true;
        }
        return sink.write(out.data(), out.size());
      },
      [forget](bool) { forget(); });
}

void Gateway::ListTickets(const httplib::Request& request, httplib::Response& response) {
  tv1::ListTicketsRequest upstream;
  int page_size = 20;
  if (!IntParam(request, response, "page_size", 1, 100, &page_size)) return;
  upstream.set_page_size(page_size);
  upstream.set_page_token(request.get_param_value("page_token"));
  upstream.set_order_by("update_time desc");
  tv1::ListTicketsResponse reply;
  grpc::Status status = ticket_->ListTickets(ContextFor(TokenOf(request)).get(), upstream, &reply);
  // Lists show callers' numbers masked; the number itself comes with a ticket's details,
  // whose every view is recorded.
  for (tv1::Ticket& t : *reply.mutable_tickets()) MaskCallerPhone(&t);
  Reply(response, status, reply);
}

void Gateway::GetTicket(const httplib::Request& request, httplib::Response& response) {
  tv1::GetTicketRequest upstream;
  upstream.set_ticket_id(request.matches[1]);
  upstream.set_view(tv1::TICKET_VIEW_BASIC);
  tv1::Ticket reply;
  grpc::Status status = ticket_->GetTicket(ContextFor(TokenOf(request)).get(), upstream, &reply);
  if (status.ok() &&
      !AuditView(request, response, "view_ticket", reply.id(),
                 absl::StrCat("caller_phone ", PhoneVisibility(reply.caller_phone())))) {
    return;
  }
  Reply(response, status, reply);
}

void Gateway::ListEvents(const httplib::Request& request, httplib::Response& response) {
  // The whole history in one answer: the drill-down shows it as one timeline.
  tv1::ListEventsResponse all;
  tv1::ListEventsRequest upstream;
  upstream.set_ticket_id(request.matches[1]);
  upstream.set_page_size(1000);
  const std::string token = TokenOf(request);
  for (int page = 0; page < kMaxEventPages; ++page) {
    tv1::ListEventsResponse reply;
    grpc::Status status = ticket_->ListEvents(ContextFor(token).get(), upstream, &reply);
    if (!status.ok()) return Reply(response, status, reply);
    for (tv1::TicketEvent& event : *reply.mutable_events()) *all.add_events() = std::move(event);
    // Non-empty only when the history is longer than the pages fetched here.
    all.set_next_page_token(reply.next_page_token());
    if (reply.next_page_token().empty()) break;
    upstream.set_page_token(reply.next_page_token());
  }
  if (!AuditView(request, response, "view_ticket_history", upstream.ticket_id(), "")) return;
  Reply(response, grpc::Status::OK, all);
}

void Gateway::Urge(const httplib::Request& request, httplib::Response& response) {
  if (!RequireJsonContent(request, response)) return;
  nlohmann::json body;
  if (!ParseBody(request, response, &body)) return;
  tv1::UrgeTicketRequest upstream;
  upstream.set_ticket_id(request.matches[1]);
  int64_t version = 0;
  std::string request_id, message;
  if (!VersionAndRequestId(body, response, &version, &request_id)) return;
  // Left to the ticket service to judge ("message: must not be empty"), so the rules live in
  // one place.
  if (!StringField(body, response, "message", false, &message)) return;
  upstream.set_expected_version(version);
  upstream.set_request_id(request_id);
  upstream.set_message(message);
  if (auto ids = body.find("work_order_ids"); ids != body.end() && !ids->is_null()) {
    if (!ids->is_array()) return InvalidField(response, "work_order_ids", "必须是字符串数组");
    for (const nlohmann::json& id : *ids) {
      if (!id.is_string()) return InvalidField(response, "work_order_ids", "必须是字符串数组");
      upstream.add_work_order_ids(id.get<std::string>());
    }
  }
  tv1::Ticket reply;
  Reply(response, ticket_->UrgeTicket(ContextFor(TokenOf(request)).get(), upstream, &reply), reply);
}

void Gateway::DecideExtension(const httplib::Request& request, httplib::Response& response) {
  if (!RequireJsonContent(request, response)) return;
  nlohmann::json body;
  if (!ParseBody(request, response, &body)) return;
  tv1::DecideExtensionRequest upstream;
  upstream.set_ticket_id(request.matches[1]);
  int64_t version = 0;
  std::string request_id, work_order_id, decision, reason;
  if (!VersionAndRequestId(body, response, &version, &request_id)) return;
  if (!StringField(body, response, "work_order_id", true, &work_order_id)) return;
  if (!StringField(body, response, "decision", true, &decision)) return;
  if (!StringField(body, response, "reason", false, &reason)) return;
  if (decision == "approve") {
    upstream.set_decision(tv1::EXTENSION_DECISION_APPROVE);
  } else if (decision == "refuse") {
    upstream.set_decision(tv1::EXTENSION_DECISION_REFUSE);
  } else {
    return InvalidField(response, "decision", "必须是 approve（同意）或 refuse（不同意）");
  }
  upstream.set_expected_version(version);
  upstream.set_request_id(request_id);
  upstream.set_work_order_id(work_order_id);
  upstream.set_reason(reason);
  tv1::Ticket reply;
  Reply(response, ticket_->DecideExtension(ContextFor(TokenOf(request)).get(), upstream, &reply),
        reply);
}

void Gateway::Search(const httplib::Request& request, httplib::Response& response) {
  std::string query = std::string(absl::StripAsciiWhitespace(request.get_param_value("q")));
  if (query.empty()) return InvalidField(response, "q", "请输入查询内容");
  kbv1::SearchRequest upstream;
  upstream.set_query(query);
  std::string mode = request.get_param_value("mode");
  if (mode.empty() || mode == "full_text") {
    upstream.set_mode(kbv1::SEARCH_MODE_FULL_TEXT);
  } else if (mode == "keyword") {
    upstream.set_mode(kbv1::SEARCH_MODE_KEYWORD);
  } else {
    return InvalidField(response, "mode", "必须是 full_text 或 keyword");
  }
  int page_size = 10;
  if (!IntParam(request, response, "page_size", 1, 50, &page_size)) return;
  upstream.set_page_size(page_size);
  upstream.set_page_token(request.get_param_value("page_token"));
  upstream.set_include_inactive(request.get_param_value("include_inactive") == "1");
  // Two passages per entry: an agent wants more documents on screen, not ten clauses of one.
  upstream.set_max_hits_per_entry(2);
  kbv1::SearchResponse reply;
  Reply(response, kb_->Search(ContextFor(TokenOf(request)).get(), upstream, &reply), reply);
}

void Gateway::BeginShutdown() {
  std::vector<std::shared_ptr<DashboardStream>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
    for (auto& [raw, weak] : streams_) {
      if (auto stream = weak.lock()) live.push_back(std::move(stream));
    }
  }
  for (auto& stream : live) stream->Cancel();
}

int Gateway::open_dashboard_streams() {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(streams_.size());
}

}  // namespace hotline::gateway
