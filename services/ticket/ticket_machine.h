// The closed loop as a pure state machine: given a ticket as stored, a request, who asks and
// when, it returns the ticket after the transition and the events that record it, or the
// canonical error. No I/O here, so every rule is tested directly and the service only has
// to load, lock, commit.
#ifndef HOTLINE_SERVICES_TICKET_TICKET_MACHINE_H_
#define HOTLINE_SERVICES_TICKET_TICKET_MACHINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/proto_time.h"
#include "hotline/ticket/v1/ticket.pb.h"
#include "services/ticket/transitions.h"
#include "services/ticket/working_calendar.h"
#include "ticket_config.pb.h"

namespace hotline::ticket {

// What a transition may depend on besides the ticket and the request.
struct MachineEnv {
  absl::Time now;
  std::shared_ptr<const WorkingCalendar> calendar;
  const config::TicketConfig* config = nullptr;
};

// The result of a transition on one ticket. `events` have their per-ticket `sequence` set;
// the store assigns `global_sequence` when it commits them.
struct TicketChange {
  v1::Ticket before;  // Empty (no id) for a creation.
  v1::Ticket after;
  std::vector<v1::TicketEvent> events;
};

// The last per-ticket event sequence is not part of the Ticket message; the store keeps it.
struct StoredTicket {
  v1::Ticket ticket;
  int64_t last_sequence = 0;
};

// A request_id: 1 to 64 letters, digits, '-' or '_' (a UUID fits).
bool IsValidRequestId(absl::string_view id);

// Field checks that need no stored state. They run before any lookup, as the contract's error
// order requires, and name the field.
absl::Status ValidateCreate(const v1::CreateTicketRequest& request,
                            const config::TicketConfig& config);

// The kinds an agent may answer on the spot (CreateTicket.direct_answer): questions and
// requests for help the knowledge base can settle. Complaints, reports, suggestions and
// unresolved matters need a department.
bool MayBeAnsweredDirectly(v1::TicketKind kind);

class TicketMachine {
 public:
  TicketMachine(MachineEnv env, v1::Actor actor, std::string request_id);

  absl::StatusOr<TicketChange> Create(const v1::CreateTicketRequest& request,
                                      std::string ticket_id) const;
  // Changes two tickets: the duplicate (first) and the target (second).
  absl::StatusOr<std::vector<TicketChange>> Merge(const StoredTicket& duplicate,
                                                  const StoredTicket& target,
                                                  const v1::MergeTicketRequest& r) const;
  // One member per update transition of transitions.h, e.g.
  //   absl::StatusOr<TicketChange> Confirm(const StoredTicket&, const v1::ConfirmTicketRequest&);
#define HOTLINE_DECLARE_TRANSITION(Rpc, Method, Target) \
  absl::StatusOr<TicketChange> Method(const StoredTicket& t, const v1::Rpc##Request& r) const;
  HOTLINE_TICKET_UPDATES(HOTLINE_DECLARE_TRANSITION)
#undef HOTLINE_DECLARE_TRANSITION

  // The service's own action: raises the yellow or red warnings that are due at env.now.
  // Returns a change with no events when nothing is due.
  TicketChange RaiseDueWarnings(const StoredTicket& t) const;

  // The instant at which the next warning of an open work order falls due; InfiniteFuture
  // when none is pending (not open, or already red).
  absl::Time NextWarningTime(const v1::WorkOrder& work_order) const;

 private:
  class Transition;

  absl::StatusOr<absl::Time> DeadlineFor(absl::Time start, const v1::TimeLimit& limit,
                                         absl::string_view field) const;
  absl::StatusOr<v1::TimeLimit> DefaultLimit(const v1::Ticket& ticket,
                                             absl::string_view field) const;
  absl::Status AddWorkOrder(Transition& tx, const v1::DepartmentAssignment& assignment,
                            v1::WorkOrderRole role, const std::string& instructions,
                            const std::string& redispatched_from, absl::string_view field) const;
  absl::Status StartNewCycle(Transition& tx, bool automatic,
                             const v1::ReopenTicketRequest* request) const;

  MachineEnv env_;
  v1::Actor actor_;
  std::string request_id_;
};

// Helpers shared with the store and the service.
// CLOSED, REJECTED or MERGED.
bool IsFinal(v1::TicketState state);
// OK, or INVALID_ARGUMENT "field: must not be empty" / "field: longer than N characters"
// (counted in code points).
absl::Status RequireText(absl::string_view value, absl::string_view field, size_t max);
bool IsOpen(const v1::WorkOrder& work_order);
bool IsActive(
    const v1::WorkOrder& work_order);  // Current-cycle work orders not re-routed/cancelled.
// Departments holding an active work order of the ticket's current cycle.
std::vector<std::string> CurrentDepartments(const v1::Ticket& ticket);

}  // namespace hotline::ticket

#endif  // HOTLINE_SERVICES_TICKET_TICKET_MACHINE_H_
