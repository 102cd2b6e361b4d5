#include "services/ticket/replay.h"

#include "absl/strings/str_cat.h"
#include "services/ticket/transitions.h"

namespace hotline::ticket {
namespace {

// The ticket state that follows from its work orders once dispatched (see ticket.proto).
v1::TicketState FromWorkOrders(const ReplayedTicket& t,
                               const std::map<std::string, int32_t>& cycle_of) {
  bool any_open = false;
  for (const auto& [id, state] : t.work_orders) {
    if (cycle_of.at(id) != t.cycle) continue;
    if (state == v1::WORK_ORDER_STATE_RETURNED) return v1::TICKET_STATE_PENDING_REDISPATCH;
    any_open = any_open || state == v1::WORK_ORDER_STATE_PENDING_SIGN ||
               state == v1::WORK_ORDER_STATE_SIGNED;
  }
  return any_open ? v1::TICKET_STATE_IN_PROGRESS : v1::TICKET_STATE_PENDING_CALLBACK;
}

}  // namespace

absl::StatusOr<ReplayedTicket> Replay(const std::vector<v1::TicketEvent>& events) {
  ReplayedTicket t;
  std::map<std::string, int32_t> cycle_of;
  int64_t expected = 1;
  for (const v1::TicketEvent& e : events) {
    if (e.sequence() != expected++) {
      return absl::DataLossError(absl::StrCat("ticket ", e.ticket_id(), ": event ", e.sequence(),
                                              " where ", expected - 1, " was expected"));
    }
    if (e.sequence() == 1 && e.type() != v1::EVENT_TYPE_TICKET_CREATED) {
      return absl::DataLossError(
          absl::StrCat("ticket ", e.ticket_id(), " starts without creation"));
    }
    t.version = e.ticket_version();
    bool derive = false;
    const std::string& w = e.work_order_id();
    // Creation, dispatch, a refused return and reopening depend on their details; every
    // other type's effect is the table's (transitions.h).
    switch (e.type()) {
      case v1::EVENT_TYPE_TICKET_CREATED:
        t.state = v1::TICKET_STATE_PENDING_REVIEW;
        t.cycle = 1;
        break;
      case v1::EVENT_TYPE_TICKET_REOPENED:
        t.cycle = e.reopened().new_cycle();
        t.state = v1::TICKET_STATE_IN_PROGRESS;
        break;
      case v1::EVENT_TYPE_WORK_ORDER_DISPATCHED:
        t.work_orders[w] = v1::WORK_ORDER_STATE_PENDING_SIGN;
        cycle_of[w] = t.cycle;
        derive = true;
        break;
      case v1::EVENT_TYPE_RETURN_REFUSED:
        t.work_orders[w] = e.return_refused().restored_state();
        derive = true;
        break;
      default:
        if (const EventSpec* spec = EventFor(e.type()); spec != nullptr) {
          if (spec->sets_ticket_state != v1::TICKET_STATE_UNSPECIFIED) {
            t.state = spec->sets_ticket_state;
          }
          if (spec->sets_work_order_state != v1::WORK_ORDER_STATE_UNSPECIFIED) {
            t.work_orders[w] = spec->sets_work_order_state;
            derive = true;
          }
        }
        break;
    }
    // Work-order events move the ticket only while it is being handled.
    if (derive &&
        (t.state == v1::TICKET_STATE_PENDING_DISPATCH || t.state == v1::TICKET_STATE_IN_PROGRESS ||
         t.state == v1::TICKET_STATE_PENDING_REDISPATCH ||
         t.state == v1::TICKET_STATE_PENDING_CALLBACK)) {
      t.state = FromWorkOrders(t, cycle_of);
    }
  }
  if (events.empty()) return absl::DataLossError("no events");
  return t;
}

}  // namespace hotline::ticket
