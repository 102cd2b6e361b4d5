// The JSON API of the department portal (承办单位工作台) and the callback console (回访台).
// A department user's calls go upstream with their own credential, so the ticket service
// keeps them to their own department's work orders; the gateway adds only what a page needs
// in one answer (which urges are still unanswered).
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "services/gateway/api_errors.h"
#include "services/gateway/api_helpers.h"
#include "services/gateway/gateway.h"

namespace hotline::gateway {
namespace {

namespace tv1 = ::hotline::ticket::v1;

// Work orders a department has in hand at most; the page says when there are more.
constexpr int kOrdersPageSize = 200;
constexpr int kCallbackPageSize = 100;

bool IsOpen(const tv1::WorkOrder& w) {
  return w.state() == tv1::WORK_ORDER_STATE_PENDING_SIGN ||
         w.state() == tv1::WORK_ORDER_STATE_SIGNED || w.state() == tv1::WORK_ORDER_STATE_RETURNED;
}

}  // namespace

void Gateway::RegisterPortalApi(httplib::Server* server) {
  server->Get("/api/department/orders",
              [this](const httplib::Request& request, httplib::Response& response) {
                DepartmentOrders(request, response);
              });
  server->Get("/api/callback/queue",
              [this](const httplib::Request& request, httplib::Response& response) {
                CallbackQueue(request, response);
              });
}

// The department's tickets in hand, soonest deadline first, each with the urges its work
// order has not yet answered. An urge (督办/催办) counts as answered once the department adds
// a progress note after it: the answer is part of the ticket's history, seen by the supervisor.
void Gateway::DepartmentOrders(const httplib::Request& request, httplib::Response& response) {
  const std::string token = TokenOf(request);
  tv1::ListTicketsRequest upstream;
  upstream.add_states(tv1::TICKET_STATE_IN_PROGRESS);
  upstream.add_states(tv1::TICKET_STATE_PENDING_REDISPATCH);
  upstream.set_department_id(request.get_param_value("department_id"));
  upstream.set_order_by("deadline");
  upstream.set_page_size(kOrdersPageSize);
  tv1::ListTicketsResponse reply;
  if (Failed(response, ticket_->ListTickets(ContextFor(token).get(), upstream, &reply))) return;

  nlohmann::json orders = nlohmann::json::array();
  for (tv1::Ticket& t : *reply.mutable_tickets()) {
    MaskCallerPhone(&t);
    nlohmann::json value;
    if (!JsonValue(t, response, &value)) return;
    // Urges of this cycle's open work orders not followed by a note of the department.
    nlohmann::json urges = nlohmann::json::array();
    bool urged = false;
    for (const tv1::WorkOrder& w : t.work_orders()) {
      urged |= w.cycle() == t.cycle() && IsOpen(w) && w.urge_count() > 0;
    }
    if (urged) {
      tv1::ListEventsRequest events_request;
      events_request.set_ticket_id(t.id());
      events_request.set_page_size(1000);
      tv1::ListEventsResponse events;
      if (Failed(response, ticket_->ListEvents(ContextFor(token).get(), events_request, &events))) {
        return;
      }
      std::map<std::string, std::vector<const tv1::TicketEvent*>> pending;  // By work order.
      for (const tv1::TicketEvent& e : events.events()) {
        if (e.type() == tv1::EVENT_TYPE_URGED && !e.work_order_id().empty()) {
          pending[e.work_order_id()].push_back(&e);
        } else if (e.type() == tv1::EVENT_TYPE_PROGRESS_NOTE_ADDED) {
          pending.erase(e.work_order_id());
        }
      }
      for (const auto& [work_order, list] : pending) {
        for (const tv1::TicketEvent* e : list) {
          urges.push_back(
              {{"work_order_id", work_order},
               {"message", e->reason()},
               {"by", e->actor().principal()},
               {"time", absl::FormatTime(absl::RFC3339_sec, FromProtoTime(e->event_time()),
                                         absl::UTCTimeZone())}});
        }
      }
    }
    // Working hours left before each open work order's deadline (negative: overdue by), on
    // the official calendar: what a department plans by.
    nlohmann::json left = nlohmann::json::object();
    if (options_.calendar) {
      const absl::Time now = absl::Now();
      for (const tv1::WorkOrder& w : t.work_orders()) {
        if (w.cycle() != t.cycle() || !IsOpen(w) || !w.has_deadline()) continue;
        absl::Time deadline = FromProtoTime(w.deadline());
        left[w.id()] = deadline >= now ? options_.calendar->WorkingHoursBetween(now, deadline)
                                       : -options_.calendar->WorkingHoursBetween(deadline, now);
      }
    }
    orders.push_back({{"ticket", std::move(value)},
                      {"unanswered_urges", std::move(urges)},
                      {"working_hours_left", std::move(left)}});
  }
  SendJson(response, 200,
           nlohmann::json{{"orders", orders}, {"more", !reply.next_page_token().empty()}});
}

// Tickets waiting for a callback, the longest-waiting first, with what the department
// replied; the caller's number comes with the ticket's details (whose view is recorded).
void Gateway::CallbackQueue(const httplib::Request& request, httplib::Response& response) {
  tv1::ListTicketsRequest upstream;
  upstream.add_states(tv1::TICKET_STATE_PENDING_CALLBACK);
  upstream.set_order_by("update_time");
  upstream.set_page_size(kCallbackPageSize);
  tv1::ListTicketsResponse reply;
  if (Failed(response,
             ticket_->ListTickets(ContextFor(TokenOf(request)).get(), upstream, &reply))) {
    return;
  }
  nlohmann::json tickets = nlohmann::json::array();
  for (tv1::Ticket& t : *reply.mutable_tickets()) {
    MaskCallerPhone(&t);
    nlohmann::json value;
    if (!JsonValue(t, response, &value)) return;
    tickets.push_back(std::move(value));
  }
  SendJson(response, 200,
           nlohmann::json{{"tickets", tickets}, {"more", !reply.next_page_token().empty()}});
}

}  // namespace hotline::gateway
