// What the machine's files share (ticket_machine.cc, ticket_machine_handling.cc,
// ticket_machine_closure.cc): the Transition that collects one change, and the small rules
// every stage applies. Not part of the machine's interface.
#ifndef HOTLINE_SERVICES_TICKET_INTERNAL_MACHINE_PARTS_H_
#define HOTLINE_SERVICES_TICKET_INTERNAL_MACHINE_PARTS_H_

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/proto_time.h"
#include "common/utf8.h"
#include "services/ticket/ticket_machine.h"
#include "services/ticket/transitions.h"

namespace hotline::ticket {
namespace machine_internal {

using v1::EventType;
using v1::TicketState;
using v1::WorkOrderState;

inline absl::Status LimitText(absl::string_view value, absl::string_view field, size_t max) {
  if (static_cast<size_t>(CodePointCount(value)) > max) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": longer than ", max, " characters"));
  }
  return absl::OkStatus();
}

inline std::string StateName(TicketState s) { return v1::TicketState_Name(s); }
inline std::string StateName(WorkOrderState s) { return v1::WorkOrderState_Name(s); }

// The states each transition starts from are the table's (transitions.h).
inline absl::Status TicketStateAllows(absl::string_view rpc, const v1::Ticket& t) {
  return CheckTicketState(*TransitionForRpc(rpc), t);
}

inline absl::Status WorkOrderStateAllows(absl::string_view rpc, const v1::WorkOrder& w) {
  return CheckWorkOrderState(*TransitionForRpc(rpc), w);
}

inline absl::Status WrongWorkOrderState(const v1::WorkOrder& w, absl::string_view rpc,
                                        absl::string_view required) {
  return absl::FailedPreconditionError(absl::StrCat("work order ", w.id(), " is in state ",
                                                    StateName(w.state()), "; ", rpc, " requires ",
                                                    required));
}

inline v1::TimeLimit FromConfig(const config::Limit& limit) {
  v1::TimeLimit out;
  if (limit.limit_case() == config::Limit::kHours) {
    out.set_hours(limit.hours());
  } else {
    out.set_working_days(limit.working_days());
  }
  return out;
}

inline std::string FormatShanghai(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S+08:00", t, ShanghaiTimeZone());
}

inline bool IsActiveIn(const v1::Ticket& t, const v1::WorkOrder& w) {
  return w.cycle() == t.cycle() && w.state() != v1::WORK_ORDER_STATE_REDISPATCHED &&
         w.state() != v1::WORK_ORDER_STATE_CANCELLED;
}

// After dispatch the ticket state follows its active work orders (see ticket.proto).
inline TicketState DerivedState(const v1::Ticket& t) {
  bool any_open = false;
  for (const v1::WorkOrder& w : t.work_orders()) {
    if (!IsActiveIn(t, w)) continue;
    if (w.state() == v1::WORK_ORDER_STATE_RETURNED) return v1::TICKET_STATE_PENDING_REDISPATCH;
    any_open = any_open || IsOpen(w);
  }
  return any_open ? v1::TICKET_STATE_IN_PROGRESS : v1::TICKET_STATE_PENDING_CALLBACK;
}

// Withdraws a pending extension request when its work order leaves the SIGNED state.
template <typename Tx>
void WithdrawExtension(Tx& tx, v1::WorkOrder* w) {
  if (w->extension().state() != v1::EXTENSION_STATE_REQUESTED) return;
  w->mutable_extension()->set_state(v1::EXTENSION_STATE_WITHDRAWN);
  tx.Add(v1::EVENT_TYPE_EXTENSION_WITHDRAWN, w);
}

}  // namespace machine_internal

// Collects the changes and events of one transition of one ticket, and fills in the
// after-the-fact fields of every event once the transition is complete.
class TicketMachine::Transition {
 public:
  Transition(const TicketMachine& machine, const StoredTicket& stored)
      : machine_(machine), sequence_(stored.last_sequence) {
    change_.before = stored.ticket;
    change_.after = stored.ticket;
  }

  v1::Ticket& ticket() { return change_.after; }

  v1::WorkOrder* FindWorkOrder(const std::string& id) {
    for (v1::WorkOrder& w : *change_.after.mutable_work_orders()) {
      if (w.id() == id) return &w;
    }
    return nullptr;
  }

  absl::StatusOr<v1::WorkOrder*> WorkOrder(const std::string& id) {
    if (id.empty()) return absl::InvalidArgumentError("work_order_id: must be set");
    v1::WorkOrder* w = FindWorkOrder(id);
    if (w == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("work order ", id, " not found in ticket ", change_.after.id()));
    }
    return w;
  }

  // `addressed`: whether a ticket-level event goes to the ticket's current departments
  // (urging notices to the hotline's own staff go to none).
  v1::TicketEvent& Add(v1::EventType type, const v1::WorkOrder* w = nullptr,
                       bool addressed = true) {
    v1::TicketEvent& e = change_.events.emplace_back();
    e.set_ticket_id(change_.after.id());
    e.set_sequence(++sequence_);
    e.set_type(type);
    *e.mutable_actor() = machine_.actor_;
    *e.mutable_event_time() = ToProtoTime(machine_.env_.now);
    e.set_request_id(machine_.request_id_);
    if (w != nullptr) {
      e.set_work_order_id(w->id());
      e.set_department_id(w->department_id());
    }
    addressed_.push_back(addressed);
    return e;
  }

  TicketChange Finish() {
    v1::Ticket& t = change_.after;
    if (change_.events.empty()) return std::move(change_);
    t.set_version(change_.before.id().empty() ? 1 : change_.before.version() + 1);
    *t.mutable_update_time() = ToProtoTime(machine_.env_.now);
    // Ticket-wide derived fields: the lead's deadline and the highest open warning.
    t.clear_deadline();
    v1::WarningLevel level = v1::WARNING_LEVEL_NONE;
    for (const v1::WorkOrder& w : t.work_orders()) {
      if (!machine_internal::IsActiveIn(t, w)) continue;
      if (w.role() == v1::WORK_ORDER_ROLE_LEAD) *t.mutable_deadline() = w.deadline();
      if (IsOpen(w)) level = std::max(level, w.warning_level());
    }
    t.set_warning_level(level);
    std::vector<std::string> departments = CurrentDepartments(t);
    for (size_t i = 0; i < change_.events.size(); ++i) {
      v1::TicketEvent& e = change_.events[i];
      e.set_ticket_version(t.version());
      e.set_ticket_state(t.state());
      e.set_cycle(t.cycle());
      if (!e.work_order_id().empty()) {
        const v1::WorkOrder* w = FindWorkOrder(e.work_order_id());
        e.set_work_order_state(w->state());
        e.set_warning_level(w->warning_level());
        e.add_department_ids(w->department_id());
      } else {
        e.set_warning_level(t.warning_level());
        if (addressed_[i]) {
          for (const std::string& d : departments) e.add_department_ids(d);
        }
      }
    }
    return std::move(change_);
  }

 private:
  const TicketMachine& machine_;
  TicketChange change_;
  std::vector<bool> addressed_;
  int64_t sequence_;
};

}  // namespace hotline::ticket

#endif  // HOTLINE_SERVICES_TICKET_INTERNAL_MACHINE_PARTS_H_
