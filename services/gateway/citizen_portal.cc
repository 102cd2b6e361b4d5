#include "services/gateway/citizen_portal.h"

#include <glog/logging.h>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/thread_priority.h"
#include "common/utf8.h"
#include "services/gateway/api_errors.h"
#include "services/gateway/api_helpers.h"
#include "services/gateway/http_hardening.h"
#include "services/gateway/navigation.h"

namespace hotline::gateway {
namespace {

namespace kv1 = ::hotline::kb::v1;
namespace tv1 = ::hotline::ticket::v1;

constexpr int kMaxQueryChars = 200;
constexpr int kMaxPrefixChars = 64;
constexpr int kSearchPageSize = 10;
constexpr int kBrowsePageSize = 20;
constexpr size_t kMaxBodyBytes = 16 * 1024;

// The portal's own names for the kinds a citizen may filter by.
bool KindParam(const std::string& value, kv1::EntryKind* kind) {
  if (value == "policy")
    *kind = kv1::ENTRY_KIND_POLICY_DOCUMENT;
  else if (value == "qa")
    *kind = kv1::ENTRY_KIND_QA_PAIR;
  else if (value == "guide")
    *kind = kv1::ENTRY_KIND_SERVICE_GUIDE;
  else
    return false;
  return true;
}

// The filters shared by search and browse: category, agency, kind.
bool Filters(const httplib::Request& request, httplib::Response& response,
             kv1::SearchFilter* filter) {
  if (std::string c = request.get_param_value("category"); !c.empty()) {
    filter->add_category_prefixes(c);
  }
  if (std::string a = request.get_param_value("agency"); !a.empty()) {
    filter->add_issuing_agencies(a);
  }
  if (std::string k = request.get_param_value("kind"); !k.empty()) {
    kv1::EntryKind kind;
    if (!KindParam(k, &kind)) {
      InvalidField(response, "kind", "须为 policy、qa 或 guide");
      return false;
    }
    filter->add_kinds(kind);
  }
  return true;
}

void SendStatus(httplib::Response& response, const grpc::Status& status) {
  SendJson(response, HttpStatusFor(status.error_code()), ErrorBodyFromGrpc(status));
}

// A knowledge-base read's outcome: its JSON, or its error (with Retry-After when busy).
void SendAnswer(httplib::Response& response, const grpc::Status& status, const std::string& json) {
  if (status.ok()) {
    SendJson(response, 200, json);
    return;
  }
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) response.set_header("Retry-After", "1");
  SendStatus(response, status);
}

}  // namespace

CitizenPortal::CitizenPortal(CitizenPortalOptions options, std::shared_ptr<grpc::Channel> kb,
                             std::shared_ptr<grpc::Channel> ticket)
    : options_(std::move(options)),
      kb_(kv1::KnowledgeBaseService::NewStub(kb)),
      ticket_(tv1::TicketService::NewStub(ticket)),
      reads_(options_.reads),
      writes_(options_.writes),
      cache_(options_.cache_ttl, options_.cache_entries,
             options_.cache_ttl > absl::ZeroDuration() ? options_.cache_stale_for
                                                       : absl::ZeroDuration()),
      refreshes_(std::make_unique<WorkerPool>("portal-refresh", 2)) {}

std::unique_ptr<grpc::ClientContext> CitizenPortal::Context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.call_timeout));
  context->AddMetadata("authorization", absl::StrCat("Bearer ", options_.token));
  return context;
}

bool CitizenPortal::Admit(AddressLimiter& limiter, const httplib::Request& request,
                          httplib::Response& response) {
  absl::Duration wait;
  const std::string address = ClientAddress(request, options_.client_address_header);
  if (limiter.Allow(address, options_.clock->Now(), &wait)) return true;
  response.set_header("Retry-After",
                      std::to_string(std::max<int64_t>(
                          1, absl::ToInt64Seconds(absl::Ceil(wait, absl::Seconds(1))))));
  SendJson(response, 429,
           ErrorBodyFromGrpc(
               grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "访问过于频繁，请稍后再试。")));
  return false;
}

void CitizenPortal::CachedKbRead(const httplib::Request& request, httplib::Response& response,
                                 KbCall call) {
  // The path and the parameters in httplib's (sorted) order: one key per distinct question.
  std::string key = request.path;
  for (const auto& [name, value] : request.params) absl::StrAppend(&key, "\n", name, "=", value);
  const absl::Time now = options_.clock->Now();
  std::optional<ResponseCache::Cached> cached = cache_.Get(key, now);
  if (cached.has_value() && cached->fresh) {
    SendJson(response, 200, cached->body);
    return;
  }
  std::optional<std::string> stale;
  if (cached.has_value()) stale = std::move(cached->body);
  // The same question asked by many at once (a cold cache) costs the knowledge base one
  // search: the first asks, the others wait for its answer, or take the expired one meanwhile.
  std::shared_ptr<InFlight> flight;
  bool first = false;
  {
    absl::MutexLock lock(&in_flight_mu_);
    auto [it, fresh] = in_flight_.try_emplace(key);
    if (fresh) it->second = std::make_shared<InFlight>();
    flight = it->second;
    first = fresh;
  }
  if (!first) {
    if (stale.has_value()) {
      SendJson(response, 200, *stale);
    } else if (!flight->done.WaitForNotificationWithTimeout(options_.call_timeout)) {
      SendJson(response, 504,
               ErrorBodyFromGrpc(
                   grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "查询超时，请稍后再试。")));
    } else {
      SendAnswer(response, flight->status, flight->json);
    }
    return;
  }
  if (stale.has_value()) {
    // The first to find the answer expired gets it too; the new one is fetched behind it, so
    // that the answers stored in one busy second do not make their askers wait a ttl later.
    refreshes_->Schedule([this, key, call = std::move(call), flight] {
      LowerThisThreadsPriority(options_.thread_niceness);
      Fetch(key, call, *flight);
    });
    SendJson(response, 200, *stale);
    return;
  }
  Fetch(key, call, *flight);
  SendAnswer(response, flight->status, flight->json);
}

void CitizenPortal::Fetch(const std::string& key, const KbCall& call, InFlight& flight) {
  // The knowledge base's cores are the agents' too: past this many calls at once, a citizen
  // waits a moment for one to end, and is asked to come back if none does.
  if (AcquireKbSlot()) {
    flight.status = call(Context().get(), &flight.json);
    ReleaseKbSlot();
  } else {
    flight.status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "查询的人较多，请稍后再试。");
  }
  if (flight.status.ok()) cache_.Put(key, flight.json, options_.clock->Now());
  {
    absl::MutexLock lock(&in_flight_mu_);
    in_flight_.erase(key);
  }
  flight.done.Notify();
}

bool CitizenPortal::AcquireKbSlot() {
  absl::MutexLock lock(&kb_mu_);
  const auto free = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(kb_mu_) {
    return kb_calls_ < options_.max_concurrent_kb_calls;
  };
  if (!kb_mu_.AwaitWithTimeout(absl::Condition(&free), options_.kb_slot_wait)) return false;
  ++kb_calls_;
  return true;
}

void CitizenPortal::ReleaseKbSlot() {
  absl::MutexLock lock(&kb_mu_);
  --kb_calls_;
}

bool CitizenPortal::Register(httplib::Server* server) {
  const std::string pages = options_.web_root + "/public";
  if (!IsDirectory(pages) || !server->set_mount_point("/public", pages)) {
    LOG(ERROR) << "--web_root " << options_.web_root << " has no public/ pages";
    return false;
  }
  // The shared stylesheet and script (display modes, voice reading) and nothing else of the
  // staff pages.
  for (const char* shared : {"/app.css", "/common.js"}) {
    absl::StatusOr<std::string> text = ReadFileToString(options_.web_root + shared);
    if (!text.ok()) {
      LOG(ERROR) << text.status();
      return false;
    }
    const char* type = absl::EndsWith(shared, ".css") ? "text/css" : "text/javascript";
    server->Get(shared, [body = *text, type](const httplib::Request&, httplib::Response& r) {
      r.set_content(body, type);
    });
  }
  auto bind = [this](void (CitizenPortal::*handler)(const httplib::Request&, httplib::Response&)) {
    return Bound(this, handler);
  };
  // Every page's navigation bar, from one definition (navigation.h).
  InsertNavigationIntoPages(server);
  server->Get("/", [](const httplib::Request&, httplib::Response& response) {
    response.set_redirect("/public/index.html");
  });
  server->Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    SendJson(response, 200, R"({"status":"SERVING"})");
  });
  server->Get("/api/public/search", bind(&CitizenPortal::Search));
  server->Get("/api/public/browse", bind(&CitizenPortal::Browse));
  server->Get("/api/public/suggest", bind(&CitizenPortal::Suggest));
  server->Get(R"(/api/public/entries/([^/]+))", bind(&CitizenPortal::Entry));
  server->Post("/api/public/feedback", bind(&CitizenPortal::Feedback));
  server->Get("/api/public/challenge", bind(&CitizenPortal::Challenge));
  server->Post("/api/public/requests", bind(&CitizenPortal::Submit));
  server->Post("/api/public/requests/lookup", bind(&CitizenPortal::Lookup));
  server->set_pre_routing_handler([](const httplib::Request& request, httplib::Response& response) {
    return RefuseMalformedRequest(request, response) ? httplib::Server::HandlerResponse::Handled
                                                     : httplib::Server::HandlerResponse::Unhandled;
  });
  // A citizen's request is a few kilobytes; httplib answers 413 past this before reading on.
  server->set_payload_max_length(kMaxBodyBytes);
  InstallErrorHandlers(server);
  server->set_post_routing_handler(SetSecurityHeaders);
  return true;
}

CitizenPortal::KbCall CitizenPortal::SearchCall(const httplib::Request& request,
                                                kv1::SearchRequest upstream) const {
  // A hit an entry, with a few of its links: a citizen reads a list, not a dossier.
  upstream.set_page_token(request.get_param_value("page_token"));
  upstream.set_max_hits_per_entry(1);
  upstream.set_max_links_per_group(3);
  return [this, upstream](grpc::ClientContext* context, std::string* json) {
    kv1::SearchResponse found;
    grpc::Status status = kb_->Search(context, upstream, &found);
    return status.ok() ? ToPublicJson(found, json) : status;
  };
}

void CitizenPortal::Search(const httplib::Request& request, httplib::Response& response) {
  if (!Admit(reads_, request, response)) return;
  kv1::SearchRequest upstream;
  upstream.set_query(request.get_param_value("q"));
  if (upstream.query().find_first_not_of(" \t") == std::string::npos) {
    InvalidField(response, "q", "请输入要查询的内容");
    return;
  }
  if (CodePointCount(upstream.query()) > kMaxQueryChars) {
    InvalidField(response, "q", absl::StrCat("不能超过 ", kMaxQueryChars, " 个字"));
    return;
  }
  if (!Filters(request, response, upstream.mutable_filter())) return;
  upstream.set_page_size(kSearchPageSize);
  CachedKbRead(request, response, SearchCall(request, std::move(upstream)));
}

void CitizenPortal::Browse(const httplib::Request& request, httplib::Response& response) {
  if (!Admit(reads_, request, response)) return;
  kv1::SearchRequest upstream;
  if (!Filters(request, response, upstream.mutable_filter())) return;
  upstream.set_order_by(kv1::SEARCH_ORDER_PUBLISH_DATE_DESC);
  upstream.set_page_size(kBrowsePageSize);
  for (kv1::FacetField field : {kv1::FACET_FIELD_CATEGORY, kv1::FACET_FIELD_ISSUING_AGENCY}) {
    kv1::FacetRequest* facet = upstream.add_facets();
    facet->set_field(field);
    facet->set_max_values(40);
  }
  CachedKbRead(request, response, SearchCall(request, std::move(upstream)));
}

void CitizenPortal::Suggest(const httplib::Request& request, httplib::Response& response) {
  if (!Admit(reads_, request, response)) return;
  kv1::SuggestRequest upstream;
  upstream.set_prefix(request.get_param_value("prefix"));
  if (CodePointCount(upstream.prefix()) > kMaxPrefixChars) {
    InvalidField(response, "prefix", absl::StrCat("不能超过 ", kMaxPrefixChars, " 个字"));
    return;
  }
  upstream.set_max_suggestions(8);
  CachedKbRead(request, response,
               [this, upstream](grpc::ClientContext* context, std::string* json) {
                 kv1::SuggestResponse suggested;
                 grpc::Status status = kb_->Suggest(context, upstream, &suggested);
                 return status.ok() ? ToPublicJson(suggested, json) : status;
               });
}

void CitizenPortal::Entry(const httplib::Request& request, httplib::Response& response) {
  if (!Admit(reads_, request, response)) return;
  kv1::GetEntryRequest upstream;
  upstream.set_entry_id(request.matches[1]);
  upstream.set_view(kv1::ENTRY_VIEW_FULL);
  CachedKbRead(request, response,
               [this, upstream](grpc::ClientContext* context, std::string* json) {
                 kv1::Entry entry;
                 grpc::Status status = kb_->GetEntry(context, upstream, &entry);
                 return status.ok() ? ToPublicJson(entry, json) : status;
               });
}

void CitizenPortal::Feedback(const httplib::Request& request, httplib::Response& response) {
  if (!Admit(writes_, request, response) || !RequireJsonContent(request, response)) return;
  nlohmann::json body;
  if (!ParseBody(request, response, &body)) return;
  kv1::RecordCitizenFeedbackRequest upstream;
  std::string entry_id;
  if (!StringField(body, response, "entry_id", true, &entry_id)) return;
  if (!body.contains("helpful") || !body["helpful"].is_boolean()) {
    InvalidField(response, "helpful", "须为 true 或 false");
    return;
  }
  upstream.set_entry_id(entry_id);
  upstream.set_helpful(body["helpful"].get<bool>());
  upstream.set_client_address(ClientAddress(request, options_.client_address_header));
  kv1::RecordCitizenFeedbackResponse recorded;
  Reply(response, kb_->RecordCitizenFeedback(Context().get(), upstream, &recorded), recorded);
}

void CitizenPortal::Challenge(const httplib::Request& request, httplib::Response& response) {
  if (!Admit(reads_, request, response)) return;
  ArithmeticChallenge::Question question = challenge_.Issue(options_.clock->Now());
  SendJson(response, 200, nlohmann::json{{"token", question.token}, {"question", question.text}});
}

void CitizenPortal::Submit(const httplib::Request& request, httplib::Response& response) {
  if (!Admit(writes_, request, response) || !RequireJsonContent(request, response)) return;
  nlohmann::json body;
  if (!ParseBody(request, response, &body)) return;
  std::string token, answer, kind;
  if (!StringField(body, response, "challenge_token", true, &token) ||
      !StringField(body, response, "challenge_answer", true, &answer) ||
      !StringField(body, response, "kind", true, &kind)) {
    return;
  }
  tv1::SubmitOnlineRequestRequest upstream;
  tv1::TicketKind parsed;
  if (!tv1::TicketKind_Parse(kind, &parsed)) {
    InvalidField(response, "kind", "不是可选的诉求类型");
    return;
  }
  upstream.set_kind(parsed);
  for (auto [name, setter] : std::initializer_list<
           std::pair<const char*, void (tv1::SubmitOnlineRequestRequest::*)(const std::string&)>>{
           {"request_id", &tv1::SubmitOnlineRequestRequest::set_request_id},
           {"content", &tv1::SubmitOnlineRequestRequest::set_content},
           {"address", &tv1::SubmitOnlineRequestRequest::set_address},
           {"caller_phone", &tv1::SubmitOnlineRequestRequest::set_caller_phone},
           {"caller_name", &tv1::SubmitOnlineRequestRequest::set_caller_name}}) {
    std::string value;
    if (!StringField(body, response, name, false, &value)) return;
    (upstream.*setter)(value);
  }
  // The question is checked last of what the portal checks and before anything is stored,
  // so that a typo elsewhere does not use it up.
  if (absl::Status checked = challenge_.Verify(token, answer, options_.clock->Now());
      !checked.ok()) {
    const std::string message(checked.message());
    const size_t colon = message.find(':');
    InvalidField(response, message.substr(0, colon),
                 absl::StartsWith(message.substr(colon + 2), "not the answer")
                     ? "验证问题回答不正确，请回答新的问题"
                     : "验证问题已失效，请回答新的问题");
    return;
  }
  tv1::SubmitOnlineRequestResponse submitted;
  Reply(response, ticket_->SubmitOnlineRequest(Context().get(), upstream, &submitted), submitted);
}

void CitizenPortal::Lookup(const httplib::Request& request, httplib::Response& response) {
  if (!Admit(writes_, request, response) || !RequireJsonContent(request, response)) return;
  nlohmann::json body;
  if (!ParseBody(request, response, &body)) return;
  tv1::GetOnlineRequestRequest upstream;
  std::string number, code;
  if (!StringField(body, response, "tracking_number", true, &number) ||
      !StringField(body, response, "query_code", true, &code)) {
    return;
  }
  upstream.set_tracking_number(number);
  upstream.set_query_code(code);
  tv1::OnlineRequest found;
  Reply(response, ticket_->GetOnlineRequest(Context().get(), upstream, &found), found);
}

}  // namespace hotline::gateway
