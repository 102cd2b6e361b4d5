// The machine's rules for supervision, callbacks and closure: urging, callbacks, closing by
// decision, reopening for a new cycle, and the deadline warnings the service raises itself.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "services/ticket/internal/machine_parts.h"
#include "services/ticket/ticket_machine.h"

namespace hotline::ticket {

using machine_internal::DerivedState;
using machine_internal::FormatShanghai;
using machine_internal::IsActiveIn;
using machine_internal::LimitText;
using machine_internal::StateName;
using machine_internal::TicketStateAllows;
using machine_internal::WithdrawExtension;
using machine_internal::WorkOrderStateAllows;
using machine_internal::WrongWorkOrderState;

// ---- Supervision, callback and closure -----------------------------------------------------

absl::StatusOr<TicketChange> TicketMachine::Urge(const StoredTicket& s,
                                                 const v1::UrgeTicketRequest& r) const {
  RETURN_IF_ERROR(RequireText(r.message(), "message", 1000));
  RETURN_IF_ERROR(TicketStateAllows("UrgeTicket", s.ticket));
  Transition tx(*this, s);
  v1::Ticket& t = tx.ticket();
  bool has_work_orders =
      t.state() == v1::TICKET_STATE_IN_PROGRESS || t.state() == v1::TICKET_STATE_PENDING_REDISPATCH;
  if (!has_work_orders) {
    if (r.work_order_ids_size() > 0) {
      return absl::InvalidArgumentError(
          "work_order_ids: only allowed while the ticket has open work orders");
    }
    tx.Add(v1::EVENT_TYPE_URGED, nullptr, /*addressed=*/false).set_reason(r.message());
    return tx.Finish();
  }
  std::vector<std::string> targets(r.work_order_ids().begin(), r.work_order_ids().end());
  if (targets.empty()) {
    for (const v1::WorkOrder& w : t.work_orders()) {
      if (w.cycle() == t.cycle() && IsOpen(w)) targets.push_back(w.id());
    }
  }
  for (const std::string& id : targets) {
    ASSIGN_OR_RETURN(v1::WorkOrder * w, tx.WorkOrder(id));
    if (!IsOpen(*w) || w->cycle() != t.cycle()) {
      return WrongWorkOrderState(*w, "UrgeTicket", "an open work order of the current cycle");
    }
    w->set_urge_count(w->urge_count() + 1);
    *w->mutable_last_urge_time() = ToProtoTime(env_.now);
    tx.Add(v1::EVENT_TYPE_URGED, w).set_reason(r.message());
  }
  return tx.Finish();
}

absl::Status TicketMachine::StartNewCycle(Transition& tx, bool automatic,
                                          const v1::ReopenTicketRequest* request) const {
  v1::Ticket& t = tx.ticket();
  int previous_cycle = t.cycle();
  // The previous cycle's work orders to follow up: replied, or cancelled by a closure.
  std::vector<v1::WorkOrder> previous;
  for (const v1::WorkOrder& w : t.work_orders()) {
    if (w.cycle() == previous_cycle && (w.state() == v1::WORK_ORDER_STATE_REPLIED ||
                                        (w.state() == v1::WORK_ORDER_STATE_CANCELLED &&
                                         w.redispatched_to_work_order_id().empty()))) {
      previous.push_back(w);
    }
  }
  std::stable_sort(previous.begin(), previous.end(), [](const auto& a, const auto& b) {
    return a.role() == v1::WORK_ORDER_ROLE_LEAD && b.role() != v1::WORK_ORDER_ROLE_LEAD;
  });
  t.set_cycle(previous_cycle + 1);
  t.set_state(v1::TICKET_STATE_IN_PROGRESS);
  t.clear_close_time();
  v1::TicketEvent& e = tx.Add(v1::EVENT_TYPE_TICKET_REOPENED);
  if (request != nullptr) e.set_reason(request->reason());
  v1::TicketReopenedDetails* d = e.mutable_reopened();
  d->set_previous_cycle(previous_cycle);
  d->set_new_cycle(previous_cycle + 1);
  d->set_automatic(automatic);
  for (const v1::WorkOrder& w : previous) d->add_previous_work_order_ids(w.id());

  // Departments of the new cycle, with their limits: as given, or as before.
  std::vector<std::pair<v1::DepartmentAssignment, v1::WorkOrderRole>> assignments;
  if (request != nullptr && request->has_lead()) {
    assignments.emplace_back(request->lead(), v1::WORK_ORDER_ROLE_LEAD);
    for (const auto& a : request->assists())
      assignments.emplace_back(a, v1::WORK_ORDER_ROLE_ASSIST);
  } else {
    bool has_default = DefaultLimit(t, "lead").ok();
    for (const v1::WorkOrder& w : previous) {
      v1::DepartmentAssignment a;
      a.set_department_id(w.department_id());
      if (!has_default) *a.mutable_time_limit() = w.time_limit();
      assignments.emplace_back(a, w.role());
    }
  }
  if (assignments.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("ticket ", t.id(), " has no work order of cycle ", previous_cycle,
                     " to follow up; name the lead department"));
  }
  for (size_t i = 0; i < assignments.size(); ++i) {
    std::string field = i == 0 ? "lead" : absl::StrCat("assists[", i - 1, "]");
    RETURN_IF_ERROR(AddWorkOrder(tx, assignments[i].first, assignments[i].second, "", "", field));
  }
  return absl::OkStatus();
}

absl::StatusOr<TicketChange> TicketMachine::RecordCallback(
    const StoredTicket& s, const v1::RecordCallbackRequest& r) const {
  if (r.result() == v1::CALLBACK_RESULT_UNSPECIFIED || !v1::CallbackResult_IsValid(r.result())) {
    return absl::InvalidArgumentError("result: must be set");
  }
  RETURN_IF_ERROR(LimitText(r.comment(), "comment", 2000));
  RETURN_IF_ERROR(TicketStateAllows("RecordCallback", s.ticket));
  Transition tx(*this, s);
  v1::Ticket& t = tx.ticket();
  int attempt = 1;
  for (const v1::CallbackRecord& c : t.callbacks()) attempt += c.cycle() == t.cycle();
  std::string lead;
  for (const v1::WorkOrder& w : t.work_orders()) {
    if (IsActiveIn(t, w) && w.role() == v1::WORK_ORDER_ROLE_LEAD) lead = w.department_id();
  }
  v1::CallbackRecord* record = t.add_callbacks();
  record->set_cycle(t.cycle());
  record->set_result(r.result());
  record->set_comment(r.comment());
  *record->mutable_actor() = actor_;
  *record->mutable_record_time() = ToProtoTime(env_.now);
  v1::CallbackDetails* d = tx.Add(v1::EVENT_TYPE_CALLBACK_RECORDED).mutable_callback();
  d->set_result(r.result());
  d->set_comment(r.comment());
  d->set_cycle(t.cycle());
  d->set_lead_department_id(lead);
  d->set_attempt(attempt);
  switch (r.result()) {
    case v1::CALLBACK_RESULT_SATISFIED:
    case v1::CALLBACK_RESULT_BASICALLY_SATISFIED:
      t.set_state(v1::TICKET_STATE_CLOSED);
      *t.mutable_close_time() = ToProtoTime(env_.now);
      t.set_state_reason("");
      tx.Add(v1::EVENT_TYPE_TICKET_CLOSED).mutable_closed()->set_callback_result(r.result());
      break;
    case v1::CALLBACK_RESULT_DISSATISFIED:
      RETURN_IF_ERROR(StartNewCycle(tx, /*automatic=*/true, nullptr));
      break;
    default:
      break;  // Unreachable or declined: wait for another attempt.
  }
  return tx.Finish();
}

absl::StatusOr<TicketChange> TicketMachine::Close(const StoredTicket& s,
                                                  const v1::CloseTicketRequest& r) const {
  RETURN_IF_ERROR(RequireText(r.reason(), "reason", 1000));
  RETURN_IF_ERROR(TicketStateAllows("CloseTicket", s.ticket));
  Transition tx(*this, s);
  v1::Ticket& t = tx.ticket();
  std::vector<std::string> cancelled;
  for (v1::WorkOrder& w : *t.mutable_work_orders()) {
    if (!IsOpen(w)) continue;
    WithdrawExtension(tx, &w);
    w.set_state(v1::WORK_ORDER_STATE_CANCELLED);
    w.set_warning_level(v1::WARNING_LEVEL_NONE);
    tx.Add(v1::EVENT_TYPE_WORK_ORDER_CANCELLED, &w).set_reason(r.reason());
    cancelled.push_back(w.id());
  }
  t.set_state(v1::TICKET_STATE_CLOSED);
  *t.mutable_close_time() = ToProtoTime(env_.now);
  t.set_state_reason(r.reason());
  v1::TicketEvent& e = tx.Add(v1::EVENT_TYPE_TICKET_CLOSED);
  e.set_reason(r.reason());
  for (const std::string& id : cancelled) e.mutable_closed()->add_cancelled_work_order_ids(id);
  e.mutable_closed()->set_callback_result(v1::CALLBACK_RESULT_UNSPECIFIED);
  return tx.Finish();
}

absl::StatusOr<TicketChange> TicketMachine::Reopen(const StoredTicket& s,
                                                   const v1::ReopenTicketRequest& r) const {
  RETURN_IF_ERROR(RequireText(r.reason(), "reason", 1000));
  if (!r.has_lead() && r.assists_size() > 0) {
    return absl::InvalidArgumentError("assists: requires lead to be set");
  }
  const v1::Ticket& t = s.ticket;
  RETURN_IF_ERROR(TicketStateAllows("ReopenTicket", t));
  int period = env_.config->reopen_period_days();
  if (t.state() == v1::TICKET_STATE_CLOSED && period > 0 &&
      env_.now > FromProtoTime(t.close_time()) + absl::Hours(24 * period)) {
    return absl::FailedPreconditionError(
        absl::StrCat("ticket ", t.id(), " was closed more than ", period, " days ago"));
  }
  Transition tx(*this, s);
  RETURN_IF_ERROR(StartNewCycle(tx, /*automatic=*/false, &r));
  tx.ticket().set_state_reason(r.reason());
  return tx.Finish();
}

TicketChange TicketMachine::RaiseDueWarnings(const StoredTicket& s) const {
  Transition tx(*this, s);
  for (v1::WorkOrder& w : *tx.ticket().mutable_work_orders()) {
    if (!IsOpen(w)) continue;
    absl::Time deadline = FromProtoTime(w.deadline());
    v1::WarningLevel due = v1::WARNING_LEVEL_NONE;
    if (env_.now > deadline) {
      due = v1::WARNING_LEVEL_RED;
    } else if (env_.now >= NextWarningTime(w) && w.warning_level() == v1::WARNING_LEVEL_NONE) {
      due = v1::WARNING_LEVEL_YELLOW;
    }
    if (due <= w.warning_level()) continue;
    w.set_warning_level(due);
    v1::TicketEvent& e = tx.Add(
        due == v1::WARNING_LEVEL_RED ? v1::EVENT_TYPE_RED_WARNING : v1::EVENT_TYPE_YELLOW_WARNING,
        &w);
    e.mutable_warning()->set_level(due);
    *e.mutable_warning()->mutable_deadline() = w.deadline();
  }
  return tx.Finish();
}

}  // namespace hotline::ticket
