// The machine's rules for the departments' handling of their work orders: signing, returns,
// progress notes, extensions (requested by the department, decided by a supervisor) and
// replies.
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
using machine_internal::LimitText;
using machine_internal::StateName;
using machine_internal::WithdrawExtension;
using machine_internal::WorkOrderStateAllows;

// ---- Handling ------------------------------------------------------------------------------

absl::StatusOr<TicketChange> TicketMachine::Sign(const StoredTicket& s,
                                                 const v1::SignWorkOrderRequest& r) const {
  Transition tx(*this, s);
  ASSIGN_OR_RETURN(v1::WorkOrder * w, tx.WorkOrder(r.work_order_id()));
  RETURN_IF_ERROR(WorkOrderStateAllows("SignWorkOrder", *w));
  w->set_state(v1::WORK_ORDER_STATE_SIGNED);
  *w->mutable_sign_time() = ToProtoTime(env_.now);
  tx.Add(v1::EVENT_TYPE_WORK_ORDER_SIGNED, w);
  tx.ticket().set_state(DerivedState(tx.ticket()));
  return tx.Finish();
}

absl::StatusOr<TicketChange> TicketMachine::Return(const StoredTicket& s,
                                                   const v1::ReturnWorkOrderRequest& r) const {
  RETURN_IF_ERROR(RequireText(r.reason(), "reason", 1000));
  Transition tx(*this, s);
  ASSIGN_OR_RETURN(v1::WorkOrder * w, tx.WorkOrder(r.work_order_id()));
  RETURN_IF_ERROR(WorkOrderStateAllows("ReturnWorkOrder", *w));
  if (w->return_refused()) {
    return absl::FailedPreconditionError(
        absl::StrCat("work order ", w->id(), " was returned once and the return was refused"));
  }
  if (env_.now > FromProtoTime(w->return_window_end())) {
    return absl::FailedPreconditionError(
        absl::StrCat("work order ", w->id(), " return window ended at ",
                     FormatShanghai(FromProtoTime(w->return_window_end()))));
  }
  w->set_state(v1::WORK_ORDER_STATE_RETURNED);
  w->set_return_reason(r.reason());
  *w->mutable_return_time() = ToProtoTime(env_.now);
  tx.Add(v1::EVENT_TYPE_WORK_ORDER_RETURNED, w).set_reason(r.reason());
  tx.ticket().set_state(DerivedState(tx.ticket()));
  return tx.Finish();
}

absl::StatusOr<TicketChange> TicketMachine::AddNote(const StoredTicket& s,
                                                    const v1::AddProgressNoteRequest& r) const {
  RETURN_IF_ERROR(RequireText(r.text(), "text", 4000));
  Transition tx(*this, s);
  ASSIGN_OR_RETURN(v1::WorkOrder * w, tx.WorkOrder(r.work_order_id()));
  RETURN_IF_ERROR(WorkOrderStateAllows("AddProgressNote", *w));
  tx.Add(v1::EVENT_TYPE_PROGRESS_NOTE_ADDED, w).mutable_progress_note()->set_text(r.text());
  return tx.Finish();
}

absl::StatusOr<TicketChange> TicketMachine::RequestExtension(
    const StoredTicket& s, const v1::RequestExtensionRequest& r) const {
  RETURN_IF_ERROR(RequireText(r.reason(), "reason", 1000));
  if (!r.has_extension()) return absl::InvalidArgumentError("extension: must be set");
  Transition tx(*this, s);
  ASSIGN_OR_RETURN(v1::WorkOrder * w, tx.WorkOrder(r.work_order_id()));
  RETURN_IF_ERROR(WorkOrderStateAllows("RequestExtension", *w));
  absl::Time deadline = FromProtoTime(w->deadline());
  if (env_.now > deadline) {
    return absl::FailedPreconditionError(
        absl::StrCat("work order ", w->id(), " deadline passed at ", FormatShanghai(deadline),
                     "; an extension must be requested before the deadline"));
  }
  if (w->extension().state() != v1::EXTENSION_STATE_NONE) {
    return absl::FailedPreconditionError(
        absl::StrCat("work order ", w->id(), " already had its one extension request (",
                     v1::ExtensionState_Name(w->extension().state()), ")"));
  }
  ASSIGN_OR_RETURN(absl::Time requested, DeadlineFor(deadline, r.extension(), "extension"));
  v1::Extension* x = w->mutable_extension();
  x->set_state(v1::EXTENSION_STATE_REQUESTED);
  *x->mutable_requested() = r.extension();
  *x->mutable_requested_deadline() = ToProtoTime(requested);
  x->set_reason(r.reason());
  *x->mutable_request_time() = ToProtoTime(env_.now);
  v1::TicketEvent& e = tx.Add(v1::EVENT_TYPE_EXTENSION_REQUESTED, w);
  e.set_reason(r.reason());
  *e.mutable_extension_requested()->mutable_requested() = r.extension();
  *e.mutable_extension_requested()->mutable_requested_deadline() = ToProtoTime(requested);
  *e.mutable_extension_requested()->mutable_current_deadline() = w->deadline();
  return tx.Finish();
}

absl::StatusOr<TicketChange> TicketMachine::DecideExtension(
    const StoredTicket& s, const v1::DecideExtensionRequest& r) const {
  if (r.decision() != v1::EXTENSION_DECISION_APPROVE &&
      r.decision() != v1::EXTENSION_DECISION_REFUSE) {
    return absl::InvalidArgumentError("decision: must be set");
  }
  bool approve = r.decision() == v1::EXTENSION_DECISION_APPROVE;
  if (!approve) RETURN_IF_ERROR(RequireText(r.reason(), "reason", 1000));
  RETURN_IF_ERROR(LimitText(r.reason(), "reason", 1000));
  if (!approve && r.has_granted()) {
    return absl::InvalidArgumentError("granted: only allowed when approving");
  }
  Transition tx(*this, s);
  ASSIGN_OR_RETURN(v1::WorkOrder * w, tx.WorkOrder(r.work_order_id()));
  if (w->extension().state() != v1::EXTENSION_STATE_REQUESTED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "work order ", w->id(), " extension is ", v1::ExtensionState_Name(w->extension().state()),
        " (work order ", StateName(w->state()),
        "); DecideExtension requires EXTENSION_STATE_REQUESTED"));
  }
  absl::Time previous = FromProtoTime(w->deadline());
  absl::Time next = previous;
  v1::Extension* x = w->mutable_extension();
  if (approve) {
    if (r.has_granted()) {
      ASSIGN_OR_RETURN(next, DeadlineFor(previous, r.granted(), "granted"));
    } else {
      next = FromProtoTime(x->requested_deadline());
    }
    x->set_state(v1::EXTENSION_STATE_APPROVED);
    *x->mutable_granted_deadline() = ToProtoTime(next);
    *w->mutable_deadline() = ToProtoTime(next);
    // The new deadline re-arms the warnings: the level is recomputed below.
    w->set_warning_level(v1::WARNING_LEVEL_NONE);
  } else {
    x->set_state(v1::EXTENSION_STATE_REFUSED);
  }
  *x->mutable_decided_by() = actor_;
  *x->mutable_decide_time() = ToProtoTime(env_.now);
  x->set_decision_reason(r.reason());
  v1::TicketEvent& e =
      tx.Add(approve ? v1::EVENT_TYPE_EXTENSION_APPROVED : v1::EVENT_TYPE_EXTENSION_REFUSED, w);
  e.set_reason(r.reason());
  *e.mutable_extension_decided()->mutable_previous_deadline() = ToProtoTime(previous);
  *e.mutable_extension_decided()->mutable_new_deadline() = ToProtoTime(next);
  if (approve) {
    // Already inside the new warning window? Then the level is raised at once.
    if (env_.now > next) {
      w->set_warning_level(v1::WARNING_LEVEL_RED);
    } else if (env_.now >= NextWarningTime(*w)) {
      w->set_warning_level(v1::WARNING_LEVEL_YELLOW);
    }
  }
  return tx.Finish();
}

absl::StatusOr<TicketChange> TicketMachine::Reply(const StoredTicket& s,
                                                  const v1::ReplyWorkOrderRequest& r) const {
  RETURN_IF_ERROR(RequireText(r.reply_text(), "reply_text", 10000));
  Transition tx(*this, s);
  ASSIGN_OR_RETURN(v1::WorkOrder * w, tx.WorkOrder(r.work_order_id()));
  RETURN_IF_ERROR(WorkOrderStateAllows("ReplyWorkOrder", *w));
  WithdrawExtension(tx, w);
  bool on_time = env_.now <= FromProtoTime(w->deadline());
  w->set_state(v1::WORK_ORDER_STATE_REPLIED);
  w->set_reply_text(r.reply_text());
  *w->mutable_reply_time() = ToProtoTime(env_.now);
  w->set_on_time(on_time);
  w->set_warning_level(v1::WARNING_LEVEL_NONE);
  v1::WorkOrderRepliedDetails* d = tx.Add(v1::EVENT_TYPE_WORK_ORDER_REPLIED, w).mutable_replied();
  d->set_reply_text(r.reply_text());
  d->set_on_time(on_time);
  *d->mutable_deadline() = w->deadline();
  *d->mutable_dispatch_time() = w->dispatch_time();
  tx.ticket().set_state(DerivedState(tx.ticket()));
  return tx.Finish();
}

}  // namespace hotline::ticket
