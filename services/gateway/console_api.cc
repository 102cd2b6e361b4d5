// The JSON API of the agents' intake console and the reviewers' dispatch console. Each call
// goes upstream with the user's own token, so the services keep deciding who may do what;
// bodies of the ticket actions are the upstream request in proto JSON, so the contract's
// field names and checks are the API's too.
#include <glog/logging.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/proto_time.h"
#include "services/gateway/api_errors.h"
#include "services/gateway/api_helpers.h"
#include "services/gateway/gateway.h"
#include "services/metrics/figures.h"
#include "services/ticket/transitions.h"

namespace hotline::gateway {
namespace {

namespace kbv1 = ::hotline::kb::v1;
namespace tv1 = ::hotline::ticket::v1;

// Longest caller's words the knowledge base takes as a feedback query (kb.v1 RecordFeedback).
constexpr size_t kMaxFeedbackQueryCodePoints = 256;
// Tickets per console queue; the counts say when there are more.
constexpr int kQueuePageSize = 50;
// Extension requests are found among the open tickets nearest their deadlines (no index
// holds the extension state): this many pages of them.
constexpr int kExtensionScanPages = 4;

std::string FirstCodePoints(const std::string& text, size_t n) {
  size_t i = 0, count = 0;
  while (i < text.size() && count < n) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    i += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    ++count;
  }
  return text.substr(0, std::min(i, text.size()));
}

bool IsPhone(absl::string_view phone) {
  if (!phone.empty() && phone[0] == '+') phone.remove_prefix(1);
  return phone.size() >= 3 && phone.size() <= 20 &&
         phone.find_first_not_of("0123456789") == absl::string_view::npos;
}

}  // namespace

void Gateway::RegisterConsoleApi(httplib::Server* server) {
  auto bind = [this](void (Gateway::*handler)(const httplib::Request&, httplib::Response&)) {
    return Bound(this, handler);
  };
  using Stub = tv1::TicketService::Stub;
  server->Get("/api/intake/settings", bind(&Gateway::IntakeSettings));
  server->Get(R"(/api/callers/([^/]+)/tickets)", bind(&Gateway::CallerTickets));
  server->Get("/api/classify", bind(&Gateway::Classify));
  server->Get("/api/similar", bind(&Gateway::Similar));
  server->Post("/api/tickets", bind(&Gateway::CreateTicket));
  server->Get("/api/queues", bind(&Gateway::Queues));
  server->Get(R"(/api/tickets/([^/]+)/similar)", bind(&Gateway::TicketSimilar));
  server->Get(R"(/api/tickets/([^/]+)/suggestions)", bind(&Gateway::TicketSuggestions));
  // Every transition the table (services/ticket/transitions.h) offers to the consoles, at
  // POST /api/tickets/ID/ROUTE with the upstream request as its body.
  auto route = [this, server](const char* rpc_name, auto rpc) {
    const ticket::TransitionSpec* transition = ticket::TransitionForRpc(rpc_name);
    if (transition == nullptr || transition->console_route == nullptr) return;
    server->Post(absl::StrCat(R"(/api/tickets/([^/]+)/)", transition->console_route),
                 [this, rpc](const httplib::Request& request, httplib::Response& response) {
                   TicketAction(request, response, rpc);
                 });
  };
  route("MergeTicket", &Stub::MergeTicket);
#define HOTLINE_CONSOLE_ROUTE(Rpc, Method, Target) route(#Rpc, &Stub::Rpc);
  HOTLINE_TICKET_UPDATES(HOTLINE_CONSOLE_ROUTE)
#undef HOTLINE_CONSOLE_ROUTE
  // The labels of the transitions and events, for every page (common.js reads them).
  server->Get("/ticket_vocabulary.js", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(ticket::VocabularyScript(), "text/javascript; charset=utf-8");
  });
  // The declared rates and averages, for the dashboard's tiles (overview.js).
  server->Get("/metrics_vocabulary.js", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(metrics::VocabularyScript(), "text/javascript; charset=utf-8");
  });
}

void Gateway::IntakeSettings(const httplib::Request& request, httplib::Response& response) {
  tv1::IntakeSettings reply;
  Reply(response,
        ticket_->GetIntakeSettings(ContextFor(TokenOf(request)).get(),
                                   tv1::GetIntakeSettingsRequest(), &reply),
        reply);
}

// The screen pop: a caller's earlier tickets, newest first, and whether this call repeats a
// matter raised within the configured window (重复来电).
void Gateway::CallerTickets(const httplib::Request& request, httplib::Response& response) {
  const std::string phone = request.matches[1];
  if (!IsPhone(phone)) {
    return InvalidField(response, "caller_phone", "必须是 3 到 20 位数字，可以 + 开头");
  }
  const std::string token = TokenOf(request);
  tv1::IntakeSettings settings;
  if (Failed(response, ticket_->GetIntakeSettings(ContextFor(token).get(),
                                                  tv1::GetIntakeSettingsRequest(), &settings))) {
    return;
  }
  tv1::ListTicketsRequest upstream;
  upstream.set_caller_phone(phone);
  upstream.set_order_by("create_time desc");
  upstream.set_page_size(20);
  tv1::ListTicketsResponse reply;
  if (Failed(response, ticket_->ListTickets(ContextFor(token).get(), upstream, &reply))) return;
  std::string shown;
  for (const tv1::Ticket& t : reply.tickets())
    absl::StrAppend(&shown, shown.empty() ? "" : " ", t.id());
  // The agent typed the number; what the trail keeps is which of the caller's tickets she saw.
  if (!reply.tickets().empty() &&
      !AuditView(request, response, "view_caller_tickets", reply.tickets(0).id(), shown)) {
    return;
  }
  const absl::Time window_start =
      absl::Now() - absl::Hours(24 * settings.repeat_call_window_days());
  nlohmann::json tickets = nlohmann::json::array();
  nlohmann::json within = nlohmann::json::array();
  std::string last_name;
  for (const tv1::Ticket& t : reply.tickets()) {
    nlohmann::json value;
    if (!JsonValue(t, response, &value)) return;
    const bool recent = FromProtoTime(t.create_time()) >= window_start;
    value["within_repeat_window"] = recent;
    if (recent) within.push_back(t.id());
    if (last_name.empty()) last_name = t.caller_name();
    tickets.push_back(std::move(value));
  }
  SendJson(response, 200,
           nlohmann::json{{"tickets", tickets},
                          {"more", !reply.next_page_token().empty()},
                          {"repeat_call", !within.empty()},
                          {"repeat_of", within},
                          {"repeat_call_window_days", settings.repeat_call_window_days()},
                          {"last_caller_name", last_name}});
}

void Gateway::Classify(const httplib::Request& request, httplib::Response& response) {
  kbv1::ClassifyTextRequest upstream;
  upstream.set_text(request.get_param_value("text"));
  kbv1::ClassifyTextResponse reply;
  Reply(response, kb_->ClassifyText(ContextFor(TokenOf(request)).get(), upstream, &reply), reply);
}

void Gateway::Similar(const httplib::Request& request, httplib::Response& response) {
  tv1::FindSimilarTicketsRequest upstream;
  upstream.set_content(request.get_param_value("content"));
  upstream.set_district_code(request.get_param_value("district_code"));
  upstream.set_open_only(request.get_param_value("open_only") == "1");
  upstream.set_exclude_ticket_id(request.get_param_value("exclude"));
  int days = 0, page_size = 5;
  if (!IntParam(request, response, "within_days", 0, 366, &days)) return;
  if (!IntParam(request, response, "page_size", 1, 50, &page_size)) return;
  upstream.set_within_days(days);
  upstream.set_page_size(page_size);
  tv1::FindSimilarTicketsResponse reply;
  Reply(response, ticket_->FindSimilarTickets(ContextFor(TokenOf(request)).get(), upstream, &reply),
        reply);
}

// Creates a ticket; one answered on the spot is also the knowledge base's feedback: each
// passage cited answered this question (ANSWERED), so that the knowledge base learns.
void Gateway::CreateTicket(const httplib::Request& request, httplib::Response& response) {
  tv1::CreateTicketRequest upstream;
  if (!BodyAsProto(request, response, &upstream)) return;
  const std::string token = TokenOf(request);
  tv1::Ticket ticket;
  if (Failed(response, ticket_->CreateTicket(ContextFor(token).get(), upstream, &ticket))) return;
  nlohmann::json body;
  if (!JsonValue(ticket, response, &body["ticket"])) return;
  int recorded = 0;
  std::string feedback_error;
  std::string query = std::string(absl::StripAsciiWhitespace(request.get_param_value("query")));
  if (query.empty()) query = ticket.content();
  query = FirstCodePoints(query, kMaxFeedbackQueryCodePoints);
  const tv1::DirectAnswer& answer = ticket.direct_answer();
  for (int i = 0; i < answer.citations_size(); ++i) {
    const tv1::KnowledgeCitation& c = answer.citations(i);
    kbv1::RecordFeedbackRequest feedback;
    // Derived from the ticket's own key, so a retried create records nothing twice.
    feedback.set_request_id(absl::StrCat(upstream.request_id().substr(0, 48), "-fb", i));
    feedback.set_search_id(request.get_param_value("search_id"));
    feedback.set_query(query);
    feedback.set_type(kbv1::FEEDBACK_TYPE_ANSWERED);
    feedback.set_entry_id(c.entry_id());
    feedback.set_entry_version(c.entry_version());
    feedback.set_passage_ordinal(c.passage_ordinal());
    feedback.set_passage_label(c.passage_label());
    feedback.set_rank(i + 1);
    feedback.set_ticket_id(ticket.id());
    kbv1::RecordFeedbackResponse ignored;
    grpc::Status status = kb_->RecordFeedback(ContextFor(token).get(), feedback, &ignored);
    if (status.ok()) {
      ++recorded;
    } else if (feedback_error.empty()) {
      // The ticket stands; the page says the knowledge base did not take the feedback.
      feedback_error = absl::StrCat(CodeName(status.error_code()), ": ", status.error_message());
    }
  }
  body["feedback_recorded"] = recorded;
  if (!feedback_error.empty()) body["feedback_error"] = feedback_error;
  SendJson(response, 200, body);
}

// The dispatch console's queues, oldest first: to review, to dispatch, returned work orders to
// re-route, and extension requests awaiting a decision.
void Gateway::Queues(const httplib::Request& request, httplib::Response& response) {
  const std::string token = TokenOf(request);
  nlohmann::json body;
  auto queue = [&](const char* name, tv1::TicketState state) {
    tv1::ListTicketsRequest upstream;
    upstream.add_states(state);
    upstream.set_order_by("create_time");
    upstream.set_page_size(kQueuePageSize);
    tv1::ListTicketsResponse reply;
    if (Failed(response, ticket_->ListTickets(ContextFor(token).get(), upstream, &reply))) {
      return false;
    }
    nlohmann::json tickets = nlohmann::json::array();
    for (tv1::Ticket& t : *reply.mutable_tickets()) {
      MaskCallerPhone(&t);
      nlohmann::json value;
      if (!JsonValue(t, response, &value)) return false;
      tickets.push_back(std::move(value));
    }
    body[name] = {{"tickets", tickets}, {"more", !reply.next_page_token().empty()}};
    return true;
  };
  if (!queue("pending_review", tv1::TICKET_STATE_PENDING_REVIEW) ||
      !queue("pending_dispatch", tv1::TICKET_STATE_PENDING_DISPATCH) ||
      !queue("pending_redispatch", tv1::TICKET_STATE_PENDING_REDISPATCH)) {
    return;
  }
  tv1::ListTicketsRequest upstream;
  upstream.add_states(tv1::TICKET_STATE_IN_PROGRESS);
  upstream.add_states(tv1::TICKET_STATE_PENDING_REDISPATCH);
  upstream.add_work_order_states(tv1::WORK_ORDER_STATE_SIGNED);
  upstream.set_order_by("deadline");
  upstream.set_page_size(100);
  nlohmann::json extensions = nlohmann::json::array();
  bool more = false;
  for (int page = 0; page < kExtensionScanPages; ++page) {
    tv1::ListTicketsResponse reply;
    if (Failed(response, ticket_->ListTickets(ContextFor(token).get(), upstream, &reply))) return;
    for (tv1::Ticket& t : *reply.mutable_tickets()) {
      MaskCallerPhone(&t);
      bool requested = false;
      for (const tv1::WorkOrder& w : t.work_orders()) {
        requested |=
            w.cycle() == t.cycle() && w.extension().state() == tv1::EXTENSION_STATE_REQUESTED;
      }
      if (!requested) continue;
      nlohmann::json value;
      if (!JsonValue(t, response, &value)) return;
      extensions.push_back(std::move(value));
    }
    more = !reply.next_page_token().empty();
    if (!more) break;
    upstream.set_page_token(reply.next_page_token());
  }
  body["extension_requests"] = {{"tickets", extensions}, {"more", more}};
  SendJson(response, 200, body);
}

// Merge targets: open tickets like this one (itself left out).
void Gateway::TicketSimilar(const httplib::Request& request, httplib::Response& response) {
  const std::string token = TokenOf(request);
  tv1::GetTicketRequest get;
  get.set_ticket_id(request.matches[1]);
  get.set_view(tv1::TICKET_VIEW_BASIC);
  tv1::Ticket ticket;
  if (Failed(response, ticket_->GetTicket(ContextFor(token).get(), get, &ticket))) return;
  tv1::FindSimilarTicketsRequest upstream;
  upstream.set_content(ticket.content());
  upstream.set_open_only(true);
  upstream.set_exclude_ticket_id(ticket.id());
  upstream.set_page_size(5);
  tv1::FindSimilarTicketsResponse reply;
  Reply(response, ticket_->FindSimilarTickets(ContextFor(token).get(), upstream, &reply), reply);
}

void Gateway::TicketSuggestions(const httplib::Request& request, httplib::Response& response) {
  tv1::SuggestDepartmentsRequest upstream;
  upstream.set_ticket_id(request.matches[1]);
  upstream.set_category_path(request.get_param_value("category_path"));
  tv1::SuggestDepartmentsResponse reply;
  Reply(response, ticket_->SuggestDepartments(ContextFor(TokenOf(request)).get(), upstream, &reply),
        reply);
}

template <typename Request>
void Gateway::TicketAction(const httplib::Request& request, httplib::Response& response,
                           grpc::Status (tv1::TicketService::Stub::*rpc)(grpc::ClientContext*,
                                                                         const Request&,
                                                                         tv1::Ticket*)) {
  Request upstream;
  if (!BodyAsProto(request, response, &upstream)) return;
  const std::string id = request.matches[1];
  if (!upstream.ticket_id().empty() && upstream.ticket_id() != id) {
    return InvalidField(response, "ticket_id", "与地址中的工单号不一致");
  }
  upstream.set_ticket_id(id);
  tv1::Ticket reply;
  Reply(response, (ticket_.get()->*rpc)(ContextFor(TokenOf(request)).get(), upstream, &reply),
        reply);
}

}  // namespace hotline::gateway
