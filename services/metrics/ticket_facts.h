// From ticket events to per-ticket facts, and from facts to the items the figures count.
//
// Both steps are pure functions, so the live consumer, the rebuild and the tests share them and
// a ticket's contribution to every figure is always a function of its facts alone: applying
// an event means "contributions(after) - contributions(before)", which keeps every aggregate
// exact when a later event moves an item to another period (an extended deadline, a reopen
// that marks an old reply as reopened).
#ifndef HOTLINE_SERVICES_METRICS_TICKET_FACTS_H_
#define HOTLINE_SERVICES_METRICS_TICKET_FACTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "hotline/ticket/v1/ticket.pb.h"
#include "metrics_facts.pb.h"
#include "services/metrics/figures.h"
#include "services/ticket/working_calendar.h"

namespace hotline::metrics {

namespace tv1 = ::hotline::ticket::v1;

// Folds one event into the facts of its ticket. `fact` is empty (no id) before the ticket's
// TICKET_CREATED. Fails, changing nothing the caller keeps, when the event does not fit the
// facts (an unknown work order, a gap in the ticket's own sequence): such an event must stall
// the consumer rather than be counted wrongly.
absl::Status ApplyEvent(const tv1::TicketEvent& event, const ticket::WorkingCalendar& calendar,
                        internal::TicketFact* fact);

// Where a work order stands for the backlog; the numbers are those of
// hotline.metrics.v1.WorkOrderState.
enum BacklogState : int {
  kNotInBacklog = 0,
  kAwaitingSign = 1,
  kInProgress = 2,
  kExtensionRequested = 3,
  kReturnRequested = 4,
  kAwaitingCallback = 5,
};
inline bool IsOpenBacklogState(int state) {
  return state >= kAwaitingSign && state <= kReturnRequested;
}

// The counters (Field) and their kinds are declared in figures.h.
Field BacklogField(int backlog_state);  // kBacklogAwaitingSign.. for states 1..5

// One counted item of a ticket.
struct Contribution {
  int64_t time_us;
  // The department it counts for: the work order's, or the cycle's lead for a callback.
  // Points into the TicketFact it was computed from.
  const std::string* department;
  Field field;
  int64_t value;
};

// Every item the ticket contributes, in no particular order.
std::vector<Contribution> Contributions(const internal::TicketFact& fact);

// The ticket's work orders that are in the backlog now.
std::vector<internal::LiveWorkOrder> LiveWorkOrders(const internal::TicketFact& fact);

int64_t ToMicros(const google::protobuf::Timestamp& t);
google::protobuf::Timestamp MicrosToProto(int64_t micros);

}  // namespace hotline::metrics

#endif  // HOTLINE_SERVICES_METRICS_TICKET_FACTS_H_
