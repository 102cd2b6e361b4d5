#include "services/ticket/ticket_machine.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "common/utf8.h"
#include "services/ticket/internal/machine_parts.h"

namespace hotline::ticket {

using machine_internal::DerivedState;
using machine_internal::FormatShanghai;
using machine_internal::FromConfig;
using machine_internal::IsActiveIn;
using machine_internal::LimitText;
using machine_internal::StateName;
using machine_internal::TicketStateAllows;
using machine_internal::WithdrawExtension;
using machine_internal::WorkOrderStateAllows;

absl::Status RequireText(absl::string_view value, absl::string_view field, size_t max) {
  if (absl::StripAsciiWhitespace(value).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must not be empty"));
  }
  if (static_cast<size_t>(CodePointCount(value)) > max) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": longer than ", max, " characters"));
  }
  return absl::OkStatus();
}

bool IsFinal(v1::TicketState s) {
  return s == v1::TICKET_STATE_CLOSED || s == v1::TICKET_STATE_REJECTED ||
         s == v1::TICKET_STATE_MERGED;
}

bool IsOpen(const v1::WorkOrder& w) {
  return w.state() == v1::WORK_ORDER_STATE_PENDING_SIGN ||
         w.state() == v1::WORK_ORDER_STATE_SIGNED || w.state() == v1::WORK_ORDER_STATE_RETURNED;
}

bool IsActive(const v1::WorkOrder& w) {
  return w.state() != v1::WORK_ORDER_STATE_REDISPATCHED &&
         w.state() != v1::WORK_ORDER_STATE_CANCELLED;
}

std::vector<std::string> CurrentDepartments(const v1::Ticket& t) {
  std::vector<std::string> out;
  for (const v1::WorkOrder& w : t.work_orders()) {
    if (IsActiveIn(t, w) && std::find(out.begin(), out.end(), w.department_id()) == out.end()) {
      out.push_back(w.department_id());
    }
  }
  return out;
}

TicketMachine::TicketMachine(MachineEnv env, v1::Actor actor, std::string request_id)
    : env_(env), actor_(std::move(actor)), request_id_(std::move(request_id)) {}

absl::StatusOr<absl::Time> TicketMachine::DeadlineFor(absl::Time start, const v1::TimeLimit& limit,
                                                      absl::string_view field) const {
  switch (limit.limit_case()) {
    case v1::TimeLimit::kWorkingDays:
      if (limit.working_days() < 1 || limit.working_days() > 60) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".working_days: must be between 1 and 60"));
      }
      return env_.calendar->AddWorkingDays(start, limit.working_days());
    case v1::TimeLimit::kHours:
      if (limit.hours() < 1 || limit.hours() > 720) {
        return absl::InvalidArgumentError(absl::StrCat(field, ".hours: must be between 1 and 720"));
      }
      return start + absl::Hours(limit.hours());
    case v1::TimeLimit::kDeadline: {
      absl::Time deadline = FromProtoTime(limit.deadline());
      if (deadline <= start) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".deadline: must be after ", FormatShanghai(start)));
      }
      if (deadline > env_.now + absl::Hours(24 * 366)) {
        return absl::InvalidArgumentError(absl::StrCat(field, ".deadline: at most one year ahead"));
      }
      return deadline;
    }
    case v1::TimeLimit::LIMIT_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat(field, ": must be set"));
}

absl::StatusOr<v1::TimeLimit> TicketMachine::DefaultLimit(const v1::Ticket& t,
                                                          absl::string_view field) const {
  const config::KindLimit* fallback = nullptr;
  for (const config::KindLimit& l : env_.config->limits()) {
    if (l.kind() != t.kind()) continue;
    if (l.urgency() == t.urgency()) return FromConfig(l.limit());
    if (l.urgency() == v1::URGENCY_UNSPECIFIED) fallback = &l;
  }
  if (fallback != nullptr) return FromConfig(fallback->limit());
  return absl::InvalidArgumentError(
      absl::StrCat(field, ".time_limit: required for ", v1::TicketKind_Name(t.kind())));
}

absl::Time TicketMachine::NextWarningTime(const v1::WorkOrder& w) const {
  if (!IsOpen(w) || w.warning_level() == v1::WARNING_LEVEL_RED) return absl::InfiniteFuture();
  absl::Time deadline = FromProtoTime(w.deadline());
  if (w.warning_level() == v1::WARNING_LEVEL_YELLOW) return deadline + absl::Microseconds(1);
  if (w.time_limit().limit_case() == v1::TimeLimit::kHours) {
    return deadline - absl::Hours(std::max(1, env_.config->yellow_hours()));
  }
  return env_.calendar->SubtractWorkingDays(deadline,
                                            std::max(1, env_.config->yellow_working_days()));
}

absl::Status TicketMachine::AddWorkOrder(Transition& tx, const v1::DepartmentAssignment& a,
                                         v1::WorkOrderRole role, const std::string& instructions,
                                         const std::string& redispatched_from,
                                         absl::string_view field) const {
  v1::Ticket& t = tx.ticket();
  if (a.department_id().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".department_id: must be set"));
  }
  bool known = false;
  for (const config::Department& d : env_.config->departments())
    known |= d.id() == a.department_id();
  if (!known) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".department_id: unknown department '", a.department_id(), "'"));
  }
  for (const v1::WorkOrder& w : t.work_orders()) {
    if (IsActiveIn(t, w) && w.department_id() == a.department_id()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".department_id: already holds an active work order in this cycle"));
    }
  }
  v1::TimeLimit limit = a.time_limit();
  if (limit.limit_case() == v1::TimeLimit::LIMIT_NOT_SET) {
    ASSIGN_OR_RETURN(limit, DefaultLimit(t, field));
  }
  ASSIGN_OR_RETURN(absl::Time deadline,
                   DeadlineFor(env_.now, limit, absl::StrCat(field, ".time_limit")));
  bool emergency = t.urgency() == v1::URGENCY_EMERGENCY;
  const config::Limit& sign = emergency && env_.config->has_emergency_sign_window()
                                  ? env_.config->emergency_sign_window()
                                  : env_.config->sign_window();
  ASSIGN_OR_RETURN(absl::Time sign_deadline,
                   DeadlineFor(env_.now, FromConfig(sign), "config.sign_window"));
  ASSIGN_OR_RETURN(
      absl::Time return_end,
      DeadlineFor(env_.now, FromConfig(env_.config->return_window()), "config.return_window"));

  v1::WorkOrder& w = *t.add_work_orders();
  w.set_id(absl::StrCat(t.id(), "-W", t.work_orders_size()));
  w.set_ticket_id(t.id());
  w.set_department_id(a.department_id());
  w.set_role(role);
  w.set_state(v1::WORK_ORDER_STATE_PENDING_SIGN);
  w.set_cycle(t.cycle());
  w.set_instructions(instructions);
  *w.mutable_dispatch_time() = ToProtoTime(env_.now);
  *w.mutable_time_limit() = limit;
  *w.mutable_deadline() = ToProtoTime(deadline);
  *w.mutable_original_deadline() = ToProtoTime(deadline);
  w.set_calendar_version(env_.calendar->version());
  w.mutable_extension()->set_state(v1::EXTENSION_STATE_NONE);
  *w.mutable_sign_deadline() = ToProtoTime(std::min(sign_deadline, deadline));
  *w.mutable_return_window_end() = ToProtoTime(std::min(return_end, deadline));
  w.set_redispatched_from_work_order_id(redispatched_from);
  w.set_warning_level(v1::WARNING_LEVEL_NONE);

  v1::TicketEvent& e = tx.Add(v1::EVENT_TYPE_WORK_ORDER_DISPATCHED, &w);
  v1::WorkOrderDispatchedDetails* d = e.mutable_dispatched();
  d->set_department_id(w.department_id());
  d->set_role(role);
  *d->mutable_deadline() = w.deadline();
  *d->mutable_sign_deadline() = w.sign_deadline();
  *d->mutable_return_window_end() = w.return_window_end();
  *d->mutable_time_limit() = limit;
  d->set_redispatched_from_work_order_id(redispatched_from);
  d->set_instructions(instructions);
  return absl::OkStatus();
}

bool IsValidRequestId(absl::string_view id) {
  return !id.empty() && id.size() <= 64 &&
         id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") ==
             absl::string_view::npos;
}

// ---- Intake and review -------------------------------------------------------------------

bool MayBeAnsweredDirectly(v1::TicketKind kind) {
  return kind == v1::TICKET_KIND_CONSULTATION || kind == v1::TICKET_KIND_HELP_REQUEST;
}

namespace {

absl::Status ValidateDirectAnswer(const v1::DirectAnswer& a, v1::TicketKind kind) {
  if (!MayBeAnsweredDirectly(kind)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "direct_answer: a ", v1::TicketKind_Name(kind),
        " must be dispatched to a department; only consultations and help requests can be "
        "answered directly"));
  }
  RETURN_IF_ERROR(RequireText(a.answer_text(), "direct_answer.answer_text", 4000));
  if (a.citations_size() > 5) {
    return absl::InvalidArgumentError("direct_answer.citations: at most 5");
  }
  for (int i = 0; i < a.citations_size(); ++i) {
    const v1::KnowledgeCitation& c = a.citations(i);
    const std::string field = absl::StrCat("direct_answer.citations[", i, "]");
    RETURN_IF_ERROR(RequireText(c.entry_id(), field + ".entry_id", 128));
    if (c.entry_version() < 0 || c.passage_ordinal() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": entry_version and passage_ordinal must not be negative"));
    }
    RETURN_IF_ERROR(LimitText(c.passage_label(), field + ".passage_label", 100));
    RETURN_IF_ERROR(LimitText(c.title(), field + ".title", 500));
    RETURN_IF_ERROR(LimitText(c.doc_number(), field + ".doc_number", 200));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateCreate(const v1::CreateTicketRequest& r, const config::TicketConfig& config) {
  if (!IsValidRequestId(r.request_id())) {
    return absl::InvalidArgumentError(
        "request_id: must be set: 1 to 64 letters, digits, '-' or '_'");
  }
  const v1::Ticket& t = r.ticket();
  if (t.kind() == v1::TICKET_KIND_UNSPECIFIED || !v1::TicketKind_IsValid(t.kind())) {
    return absl::InvalidArgumentError("ticket.kind: must be set");
  }
  if (t.channel() == v1::CHANNEL_UNSPECIFIED || !v1::Channel_IsValid(t.channel())) {
    return absl::InvalidArgumentError("ticket.channel: must be set");
  }
  if (!v1::Urgency_IsValid(t.urgency())) {
    return absl::InvalidArgumentError("ticket.urgency: unknown value");
  }
  RETURN_IF_ERROR(RequireText(t.content(), "ticket.content", 10000));
  RETURN_IF_ERROR(LimitText(t.caller_name(), "ticket.caller_name", 64));
  if (!t.caller_phone().empty()) {
    absl::string_view digits = t.caller_phone();
    if (digits[0] == '+') digits.remove_prefix(1);
    if (digits.size() < 3 || digits.size() > 20 ||
        digits.find_first_not_of("0123456789") != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          "ticket.caller_phone: must be 3 to 20 digits, optionally starting with '+'");
    }
  }
  if (!t.category_path().empty()) {
    for (absl::string_view segment : absl::StrSplit(t.category_path(), '/')) {
      if (absl::StripAsciiWhitespace(segment).empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("ticket.category_path: empty segment in '", t.category_path(), "'"));
      }
    }
  }
  RETURN_IF_ERROR(LimitText(t.location().address(), "ticket.location.address", 500));
  if (!t.location().district_code().empty()) {
    const std::string& code = t.location().district_code();
    bool known = config.districts_size() == 0;  // Without a list, any 6-digit code.
    for (const v1::District& d : config.districts()) known = known || d.code() == code;
    if (code.size() != 6 || code.find_first_not_of("0123456789") != std::string::npos || !known) {
      return absl::InvalidArgumentError(
          absl::StrCat("ticket.location.district_code: '", code, "' is not a configured district"));
    }
  }
  if (!t.suspected_duplicate_of().empty()) {
    if (t.suspected_duplicate_of().size() > 64) {
      return absl::InvalidArgumentError("ticket.suspected_duplicate_of: not a ticket id");
    }
    if (r.has_direct_answer()) {
      return absl::InvalidArgumentError(
          "ticket.suspected_duplicate_of: a ticket answered on the spot is not a duplicate to "
          "merge; leave it empty or do not answer directly");
    }
  }
  if (r.has_direct_answer()) RETURN_IF_ERROR(ValidateDirectAnswer(r.direct_answer(), t.kind()));
  if (t.location().has_point()) {
    const v1::GeoPoint& p = t.location().point();
    if (!(p.latitude() >= -90 && p.latitude() <= 90)) {
      return absl::InvalidArgumentError("ticket.location.point.latitude: must be within [-90, 90]");
    }
    if (!(p.longitude() >= -180 && p.longitude() <= 180)) {
      return absl::InvalidArgumentError(
          "ticket.location.point.longitude: must be within [-180, 180]");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<TicketChange> TicketMachine::Create(const v1::CreateTicketRequest& r,
                                                   std::string ticket_id) const {
  RETURN_IF_ERROR(ValidateCreate(r, *env_.config));
  StoredTicket fresh;
  Transition tx(*this, fresh);
  v1::Ticket& t = tx.ticket();
  t.set_kind(r.ticket().kind());
  t.set_channel(r.ticket().channel());
  t.set_urgency(r.ticket().urgency() == v1::URGENCY_UNSPECIFIED ? v1::URGENCY_NORMAL
                                                                : r.ticket().urgency());
  t.set_caller_name(r.ticket().caller_name());
  t.set_caller_phone(r.ticket().caller_phone());
  t.set_confidential(r.ticket().confidential());
  t.set_content(r.ticket().content());
  t.set_category_path(r.ticket().category_path());
  *t.mutable_location() = r.ticket().location();
  t.set_id(std::move(ticket_id));
  t.set_request_id(r.request_id());
  t.set_state(v1::TICKET_STATE_PENDING_REVIEW);
  *t.mutable_creator() = actor_;
  *t.mutable_create_time() = ToProtoTime(env_.now);
  t.set_cycle(1);
  v1::TicketCreatedDetails* d = tx.Add(v1::EVENT_TYPE_TICKET_CREATED).mutable_created();
  d->set_kind(t.kind());
  d->set_channel(t.channel());
  d->set_urgency(t.urgency());
  d->set_category_path(t.category_path());
  d->set_district_code(t.location().district_code());
  t.set_suspected_duplicate_of(r.ticket().suspected_duplicate_of());
  if (r.has_direct_answer()) {
    // Answered on the spot: closed in the same commit, so no reviewer ever sees it pending.
    v1::DirectAnswer* answer = t.mutable_direct_answer();
    *answer = r.direct_answer();
    *answer->mutable_answer_time() = ToProtoTime(env_.now);
    *answer->mutable_answered_by() = actor_;
    t.set_state(v1::TICKET_STATE_CLOSED);
    *t.mutable_close_time() = ToProtoTime(env_.now);
    *tx.Add(v1::EVENT_TYPE_TICKET_ANSWERED_DIRECTLY).mutable_answered_directly() = *answer;
  }
  return tx.Finish();
}

absl::StatusOr<TicketChange> TicketMachine::Confirm(const StoredTicket& s,
                                                    const v1::ConfirmTicketRequest& r) const {
  if (!v1::TicketKind_IsValid(r.kind()) || !v1::Urgency_IsValid(r.urgency())) {
    return absl::InvalidArgumentError("kind/urgency: unknown value");
  }
  RETURN_IF_ERROR(TicketStateAllows("ConfirmTicket", s.ticket));
  Transition tx(*this, s);
  v1::Ticket& t = tx.ticket();
  if (r.kind() != v1::TICKET_KIND_UNSPECIFIED) t.set_kind(r.kind());
  if (r.urgency() != v1::URGENCY_UNSPECIFIED) t.set_urgency(r.urgency());
  if (!r.category_path().empty()) t.set_category_path(r.category_path());
  t.set_state(v1::TICKET_STATE_PENDING_DISPATCH);
  v1::TicketConfirmedDetails* d = tx.Add(v1::EVENT_TYPE_TICKET_CONFIRMED).mutable_confirmed();
  d->set_kind(t.kind());
  d->set_urgency(t.urgency());
  d->set_category_path(t.category_path());
  return tx.Finish();
}

absl::StatusOr<TicketChange> TicketMachine::Reject(const StoredTicket& s,
                                                   const v1::RejectTicketRequest& r) const {
  RETURN_IF_ERROR(RequireText(r.reason(), "reason", 1000));
  RETURN_IF_ERROR(TicketStateAllows("RejectTicket", s.ticket));
  Transition tx(*this, s);
  v1::Ticket& t = tx.ticket();
  t.set_state(v1::TICKET_STATE_REJECTED);
  *t.mutable_close_time() = ToProtoTime(env_.now);
  t.set_state_reason(r.reason());
  tx.Add(v1::EVENT_TYPE_TICKET_REJECTED).set_reason(r.reason());
  return tx.Finish();
}

absl::StatusOr<std::vector<TicketChange>> TicketMachine::Merge(
    const StoredTicket& duplicate, const StoredTicket& target,
    const v1::MergeTicketRequest& r) const {
  RETURN_IF_ERROR(LimitText(r.reason(), "reason", 1000));
  RETURN_IF_ERROR(TicketStateAllows("MergeTicket", duplicate.ticket));
  if (target.ticket.state() == v1::TICKET_STATE_REJECTED ||
      target.ticket.state() == v1::TICKET_STATE_MERGED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "target ticket ", target.ticket.id(), " is in state ", StateName(target.ticket.state()),
        target.ticket.merged_into_ticket_id().empty()
            ? ""
            : absl::StrCat("; merge into ", target.ticket.merged_into_ticket_id(), " instead")));
  }
  Transition dup(*this, duplicate);
  dup.ticket().set_state(v1::TICKET_STATE_MERGED);
  dup.ticket().set_merged_into_ticket_id(target.ticket.id());
  *dup.ticket().mutable_close_time() = ToProtoTime(env_.now);
  dup.ticket().set_state_reason(r.reason());
  v1::TicketEvent& merged = dup.Add(v1::EVENT_TYPE_TICKET_MERGED);
  merged.set_reason(r.reason());
  merged.mutable_merged()->set_target_ticket_id(target.ticket.id());

  Transition tgt(*this, target);
  tgt.ticket().add_merged_ticket_ids(duplicate.ticket.id());
  tgt.Add(v1::EVENT_TYPE_DUPLICATE_ATTACHED)
      .mutable_duplicate_attached()
      ->set_duplicate_ticket_id(duplicate.ticket.id());
  std::vector<TicketChange> out;
  out.push_back(dup.Finish());
  out.push_back(tgt.Finish());
  return out;
}

// ---- Dispatch and re-routing ---------------------------------------------------------------

absl::StatusOr<TicketChange> TicketMachine::Dispatch(const StoredTicket& s,
                                                     const v1::DispatchTicketRequest& r) const {
  if (!r.has_lead()) return absl::InvalidArgumentError("lead: must be set");
  if (r.assists_size() > 20) return absl::InvalidArgumentError("assists: at most 20");
  RETURN_IF_ERROR(LimitText(r.instructions(), "instructions", 2000));
  std::set<std::string> seen = {r.lead().department_id()};
  for (int i = 0; i < r.assists_size(); ++i) {
    if (!seen.insert(r.assists(i).department_id()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "assists[", i, "].department_id: duplicates another department of this dispatch"));
    }
  }
  RETURN_IF_ERROR(TicketStateAllows("DispatchTicket", s.ticket));
  Transition tx(*this, s);
  RETURN_IF_ERROR(
      AddWorkOrder(tx, r.lead(), v1::WORK_ORDER_ROLE_LEAD, r.instructions(), "", "lead"));
  for (int i = 0; i < r.assists_size(); ++i) {
    RETURN_IF_ERROR(AddWorkOrder(tx, r.assists(i), v1::WORK_ORDER_ROLE_ASSIST, r.instructions(), "",
                                 absl::StrCat("assists[", i, "]")));
  }
  tx.ticket().set_state(v1::TICKET_STATE_IN_PROGRESS);
  return tx.Finish();
}

absl::StatusOr<TicketChange> TicketMachine::AddSupplement(const StoredTicket& s,
                                                          const v1::AddSupplementRequest& r) const {
  RETURN_IF_ERROR(RequireText(r.text(), "text", 2000));
  RETURN_IF_ERROR(TicketStateAllows("AddSupplement", s.ticket));
  Transition tx(*this, s);
  v1::Supplement* kept = tx.ticket().add_supplements();
  kept->set_text(r.text());
  *kept->mutable_add_time() = ToProtoTime(env_.now);
  kept->set_principal(actor_.principal());
  // Ticket-level and addressed: every department of the current cycle receives it.
  tx.Add(v1::EVENT_TYPE_SUPPLEMENT_ADDED).mutable_supplement()->set_text(r.text());
  return tx.Finish();
}

absl::StatusOr<TicketChange> TicketMachine::Redispatch(
    const StoredTicket& s, const v1::RedispatchWorkOrderRequest& r) const {
  if (r.target_case() == v1::RedispatchWorkOrderRequest::TARGET_NOT_SET ||
      (r.target_case() == v1::RedispatchWorkOrderRequest::kWithdraw && !r.withdraw())) {
    return absl::InvalidArgumentError("target: set exactly one of assignment or withdraw");
  }
  RETURN_IF_ERROR(LimitText(r.instructions(), "instructions", 2000));
  Transition tx(*this, s);
  ASSIGN_OR_RETURN(v1::WorkOrder * w, tx.WorkOrder(r.work_order_id()));
  RETURN_IF_ERROR(WorkOrderStateAllows("RedispatchWorkOrder", *w));
  if (r.target_case() == v1::RedispatchWorkOrderRequest::kWithdraw) {
    if (w->role() == v1::WORK_ORDER_ROLE_LEAD) {
      return absl::FailedPreconditionError(absl::StrCat(
          "work order ", w->id(), " is the lead; only assisting work orders can be withdrawn"));
    }
    WithdrawExtension(tx, w);
    w->set_state(v1::WORK_ORDER_STATE_CANCELLED);
    w->set_warning_level(v1::WARNING_LEVEL_NONE);
    tx.Add(v1::EVENT_TYPE_WORK_ORDER_CANCELLED, w).set_reason("withdrawn by the dispatcher");
  } else {
    v1::DepartmentAssignment assignment = r.assignment();
    // Unresolved matters have no default limit: keep the returned work order's.
    if (assignment.time_limit().limit_case() == v1::TimeLimit::LIMIT_NOT_SET &&
        !DefaultLimit(tx.ticket(), "assignment").ok()) {
      *assignment.mutable_time_limit() = w->time_limit();
    }
    std::string old_id = w->id();
    v1::WorkOrderRole role = w->role();
    WithdrawExtension(tx, w);
    w->set_state(v1::WORK_ORDER_STATE_REDISPATCHED);
    w->set_warning_level(v1::WARNING_LEVEL_NONE);
    RETURN_IF_ERROR(AddWorkOrder(tx, assignment, role, r.instructions(), old_id, "assignment"));
    // AddWorkOrder may have reallocated the repeated field: find both again.
    const v1::WorkOrder& added = tx.ticket().work_orders(tx.ticket().work_orders_size() - 1);
    std::string new_id = added.id();
    std::string new_department = added.department_id();
    v1::WorkOrder* old = tx.FindWorkOrder(old_id);
    old->set_redispatched_to_work_order_id(new_id);
    v1::TicketEvent& e = tx.Add(v1::EVENT_TYPE_WORK_ORDER_REDISPATCHED, old);
    e.mutable_redispatched()->set_new_work_order_id(new_id);
    e.mutable_redispatched()->set_new_department_id(new_department);
  }
  tx.ticket().set_state(DerivedState(tx.ticket()));
  return tx.Finish();
}

absl::StatusOr<TicketChange> TicketMachine::RefuseReturn(const StoredTicket& s,
                                                         const v1::RefuseReturnRequest& r) const {
  RETURN_IF_ERROR(RequireText(r.reason(), "reason", 1000));
  Transition tx(*this, s);
  ASSIGN_OR_RETURN(v1::WorkOrder * w, tx.WorkOrder(r.work_order_id()));
  RETURN_IF_ERROR(WorkOrderStateAllows("RefuseReturn", *w));
  w->set_state(w->has_sign_time() ? v1::WORK_ORDER_STATE_SIGNED
                                  : v1::WORK_ORDER_STATE_PENDING_SIGN);
  w->set_return_refused(true);
  v1::TicketEvent& e = tx.Add(v1::EVENT_TYPE_RETURN_REFUSED, w);
  e.set_reason(r.reason());
  e.mutable_return_refused()->set_restored_state(w->state());
  tx.ticket().set_state(DerivedState(tx.ticket()));
  return tx.Finish();
}

}  // namespace hotline::ticket
