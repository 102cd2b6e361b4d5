// From ticket events to per-ticket facts, and from facts to the items the figures count.
//
// Both steps are pure functions, so the live consumer, the rebuild and the tests share them and
// a ticket's contribution to every figure is always a function of its facts alone: applying
// an event means "contributions(after) - contributions(before)", which keeps every aggregate
// exact when a later event moves an item to another period (an extended deadline, a reopen
// that marks an old reply as reopened).
#ifndef HOTLINE_SERVICES_METRICS_TICKET_FACTS_H_
#define HOTLINE_SERVICES_METRICS_TICKET_FACTS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "hotline/ticket/v1/ticket.pb.h"
#include "metrics_facts.pb.h"
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

// The counters kept per (Shanghai day, department, category, channel). Each is attributed to
// the day of the instant named in its comment, so a period's figure is the sum over its days.
enum Field : int {
  // On-time completion, by the cycle's deadline as extended.
  kOnTime,          // replied on or before the deadline
  kLate,            // replied after it
  kLapsed,          // ended without a reply after the deadline had passed (closure)
  kOpenByDeadline,  // still open: counts once the deadline has passed (time-dependent)
  // Timely signing, by the signing deadline.
  kSignTimely,
  kSignLate,
  kSignLapsed,  // cancelled unsigned after the signing deadline had passed
  kSignOpen,    // still awaiting signature: counts once the deadline has passed
  // Return rate, by dispatch time.
  kDispatched,
  kReturned,  // the return was accepted (re-routed or withdrawn)
  // By reply time.
  kReplied,
  kReopened,
  kHandlingMicros,  // working microseconds from the start of the cycle to the reply
  // By callback time.
  kCallbackGood,         // satisfied or basically satisfied
  kCallbackRated,        // satisfied, basically satisfied or dissatisfied
  kCallbackUnreachable,  // unreachable or declined
  // Backlog changes (+1 entering, -1 leaving), by the time of the change. The backlog at an
  // instant is the sum of the changes before it.
  kBacklogAwaitingSign,
  kBacklogInProgress,
  kBacklogExtensionRequested,
  kBacklogReturnRequested,
  kBacklogAwaitingCallback,
  kBacklogYellow,
  kBacklogRed,
  // First-contact resolution (直接办结率), by creation time, counted for no department (the
  // hotline itself answers; department "" in the stored rows).
  kIntake,            // tickets created (受理)
  kAnsweredDirectly,  // of them, answered on the spot at creation
  // New counters go here, at the end: rows are stored by position (older rows read the
  // fields they lack as zero), and the backlog fields are a fixed range, not "the rest".
  kFieldCount
};
constexpr int kFirstBacklogField = kBacklogAwaitingSign;
constexpr int kLastBacklogField = kBacklogRed;
constexpr int kBacklogFieldCount = kLastBacklogField - kFirstBacklogField + 1;
using Counters = std::array<int64_t, kFieldCount>;
inline bool IsBacklogField(int field) {
  return field >= kFirstBacklogField && field <= kLastBacklogField;
}
// Counts that depend on "now": an open item counts once its deadline has passed.
inline bool IsOpenField(int field) { return field == kOpenByDeadline || field == kSignOpen; }
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
