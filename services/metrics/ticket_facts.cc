#include "services/metrics/ticket_facts.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"

namespace hotline::metrics {
namespace {

internal::WorkOrderFact* FindWorkOrder(internal::TicketFact* fact, const std::string& id) {
  for (internal::WorkOrderFact& w : *fact->mutable_work_orders()) {
    if (w.id() == id) return &w;
  }
  return nullptr;
}

int BacklogStateOf(const internal::WorkOrderFact& w) {
  switch (w.state()) {
    case tv1::WORK_ORDER_STATE_PENDING_SIGN:
      return kAwaitingSign;
    case tv1::WORK_ORDER_STATE_SIGNED:
      return w.extension_pending() ? kExtensionRequested : kInProgress;
    case tv1::WORK_ORDER_STATE_RETURNED:
      return kReturnRequested;
    case tv1::WORK_ORDER_STATE_REPLIED:
      return w.cycle_ended() ? kNotInBacklog : kAwaitingCallback;
    default:
      return kNotInBacklog;
  }
}

// The level that counts for the backlog: only open work orders carry a card.
tv1::WarningLevel EffectiveLevel(int backlog_state, tv1::WarningLevel level) {
  if (!IsOpenBacklogState(backlog_state)) return tv1::WARNING_LEVEL_NONE;
  return level == tv1::WARNING_LEVEL_UNSPECIFIED ? tv1::WARNING_LEVEL_NONE : level;
}

void RecordBacklog(internal::WorkOrderFact* w, int64_t time_us) {
  int state = BacklogStateOf(*w);
  tv1::WarningLevel level = EffectiveLevel(state, w->warning_level());
  int last_state = kNotInBacklog;
  tv1::WarningLevel last_level = tv1::WARNING_LEVEL_NONE;
  if (w->backlog_size() > 0) {
    last_state = w->backlog(w->backlog_size() - 1).state();
    last_level = w->backlog(w->backlog_size() - 1).level();
  }
  if (state == last_state && level == last_level) return;
  internal::BacklogChange* change = w->add_backlog();
  change->set_time_us(time_us);
  change->set_state(state);
  change->set_level(level);
}

absl::Status Mismatch(const tv1::TicketEvent& e, absl::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat("event ", e.global_sequence(), " (",
                                                    tv1::EventType_Name(e.type()), " of ticket ",
                                                    e.ticket_id(), "): ", what));
}

}  // namespace

int64_t ToMicros(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000 + t.nanos() / 1000;
}

google::protobuf::Timestamp MicrosToProto(int64_t micros) {
  return ToProtoTime(absl::FromUnixMicros(micros));
}

Field BacklogField(int backlog_state) {
  return static_cast<Field>(kBacklogAwaitingSign + backlog_state - 1);
}

absl::Status ApplyEvent(const tv1::TicketEvent& e, const ticket::WorkingCalendar& calendar,
                        internal::TicketFact* fact) {
  const int64_t t = ToMicros(e.event_time());
  if (e.type() == tv1::EVENT_TYPE_TICKET_CREATED) {
    if (!fact->id().empty()) return Mismatch(e, "the ticket was already created");
    fact->set_id(e.ticket_id());
    fact->set_channel(e.created().channel());
    fact->set_category(e.created().category_path());
    fact->set_create_us(t);
  } else if (fact->id().empty()) {
    return Mismatch(e, "no TICKET_CREATED before it");
  }
  if (e.sequence() != fact->last_sequence() + 1) {
    return Mismatch(e, absl::StrCat("ticket sequence ", e.sequence(), " does not follow ",
                                    fact->last_sequence()));
  }

  // Work-order events other than the dispatch name an existing work order.
  internal::WorkOrderFact* w = nullptr;
  if (!e.work_order_id().empty()) {
    w = FindWorkOrder(fact, e.work_order_id());
    bool dispatch = e.type() == tv1::EVENT_TYPE_WORK_ORDER_DISPATCHED;
    if (dispatch && w != nullptr) return Mismatch(e, "work order dispatched twice");
    if (!dispatch && w == nullptr) return Mismatch(e, "unknown work order " + e.work_order_id());
  }

  switch (e.type()) {
    case tv1::EVENT_TYPE_TICKET_CONFIRMED:
      fact->set_category(e.confirmed().category_path());
      break;
    case tv1::EVENT_TYPE_TICKET_ANSWERED_DIRECTLY:
      fact->set_answered_directly(true);
      break;
    case tv1::EVENT_TYPE_WORK_ORDER_DISPATCHED: {
      const tv1::WorkOrderDispatchedDetails& d = e.dispatched();
      w = fact->add_work_orders();
      w->set_id(e.work_order_id());
      w->set_department_id(d.department_id());
      w->set_lead(d.role() == tv1::WORK_ORDER_ROLE_LEAD);
      w->set_cycle(e.cycle());
      w->set_dispatch_us(t);
      w->set_deadline_us(ToMicros(d.deadline()));
      w->set_sign_deadline_us(ToMicros(d.sign_deadline()));
      w->set_warning_level(tv1::WARNING_LEVEL_NONE);
      break;
    }
    case tv1::EVENT_TYPE_WORK_ORDER_SIGNED:
      w->set_sign_us(t);
      break;
    case tv1::EVENT_TYPE_WORK_ORDER_REDISPATCHED:
      w->set_return_accepted(true);
      w->set_end_us(t);
      break;
    case tv1::EVENT_TYPE_WORK_ORDER_CANCELLED:
      w->set_end_us(t);
      if (w->state() == tv1::WORK_ORDER_STATE_RETURNED) {
        // A RETURNED work order is cancelled either by the dispatcher withdrawing it (the
        // return is accepted) or by a supervisor closing the ticket. Every event of one
        // transition carries the ticket state after it, and only a closure ends CLOSED.
        if (e.ticket_state() == tv1::TICKET_STATE_CLOSED) {
          w->set_ended_while_returned(true);
        } else {
          w->set_return_accepted(true);
        }
      }
      break;
    case tv1::EVENT_TYPE_EXTENSION_REQUESTED:
      w->set_extension_pending(true);
      break;
    case tv1::EVENT_TYPE_EXTENSION_APPROVED:
      w->set_extension_pending(false);
      w->set_deadline_us(ToMicros(e.extension_decided().new_deadline()));
      w->set_extended(true);
      break;
    case tv1::EVENT_TYPE_EXTENSION_REFUSED:
    case tv1::EVENT_TYPE_EXTENSION_WITHDRAWN:
      w->set_extension_pending(false);
      break;
    case tv1::EVENT_TYPE_URGED:
      if (w != nullptr) w->set_urge_count(w->urge_count() + 1);
      break;
    case tv1::EVENT_TYPE_WORK_ORDER_REPLIED: {
      w->set_reply_us(t);
      w->set_on_time(e.replied().on_time());
      double hours = calendar.WorkingHoursBetween(absl::FromUnixMicros(w->dispatch_us()),
                                                  absl::FromUnixMicros(t));
      // Integer microseconds, so that sums do not depend on the order of addition.
      w->set_handling_us(std::llround(hours * 3.6e9));
      break;
    }
    case tv1::EVENT_TYPE_CALLBACK_RECORDED: {
      internal::CallbackFact* c = fact->add_callbacks();
      c->set_time_us(t);
      c->set_result(e.callback().result());
      c->set_cycle(e.callback().cycle());
      c->set_lead_department_id(e.callback().lead_department_id());
      break;
    }
    case tv1::EVENT_TYPE_TICKET_CLOSED:
      // The cycle is over: its replies no longer await a callback.
      for (internal::WorkOrderFact& o : *fact->mutable_work_orders()) {
        if (o.state() == tv1::WORK_ORDER_STATE_REPLIED && o.cycle() == e.cycle()) {
          o.set_cycle_ended(true);
        }
      }
      break;
    case tv1::EVENT_TYPE_TICKET_REOPENED: {
      const tv1::TicketReopenedDetails& d = e.reopened();
      for (const std::string& id : d.previous_work_order_ids()) {
        internal::WorkOrderFact* o = FindWorkOrder(fact, id);
        if (o == nullptr) return Mismatch(e, "unknown previous work order " + id);
        if (o->state() == tv1::WORK_ORDER_STATE_REPLIED) o->set_reopened(true);
      }
      for (internal::WorkOrderFact& o : *fact->mutable_work_orders()) {
        if (o.state() == tv1::WORK_ORDER_STATE_REPLIED && o.cycle() == d.previous_cycle()) {
          o.set_cycle_ended(true);
        }
      }
      break;
    }
    default:
      break;  // Rejections, merges, notes, returns and refusals change no counted fact here.
  }

  if (w != nullptr) {
    // The event carries the work order's state and warning level after it.
    w->set_state(e.work_order_state());
    tv1::WarningLevel level = e.warning_level();
    if (level == tv1::WARNING_LEVEL_UNSPECIFIED) level = tv1::WARNING_LEVEL_NONE;
    if (level != w->warning_level()) {
      w->set_warning_level(level);
      w->set_warned_us(level == tv1::WARNING_LEVEL_NONE ? 0 : t);
    }
  }
  fact->set_state(e.ticket_state());
  fact->set_cycle(e.cycle());
  fact->set_last_sequence(e.sequence());
  for (internal::WorkOrderFact& o : *fact->mutable_work_orders()) RecordBacklog(&o, t);
  return absl::OkStatus();
}

std::vector<Contribution> Contributions(const internal::TicketFact& fact) {
  static const std::string* const kNoDepartment = new std::string();
  std::vector<Contribution> out;
  if (fact.create_us() > 0) {
    out.push_back(Contribution{fact.create_us(), kNoDepartment, kIntake, 1});
    if (fact.answered_directly()) {
      out.push_back(Contribution{fact.create_us(), kNoDepartment, kAnsweredDirectly, 1});
    }
  }
  for (const internal::WorkOrderFact& w : fact.work_orders()) {
    const std::string* d = &w.department_id();
    auto add = [&](int64_t time, Field field, int64_t value = 1) {
      out.push_back(Contribution{time, d, field, value});
    };
    const bool replied = w.state() == tv1::WORK_ORDER_STATE_REPLIED;
    const bool open = w.state() == tv1::WORK_ORDER_STATE_PENDING_SIGN ||
                      w.state() == tv1::WORK_ORDER_STATE_SIGNED ||
                      w.state() == tv1::WORK_ORDER_STATE_RETURNED;
    const bool cancelled = w.state() == tv1::WORK_ORDER_STATE_CANCELLED;

    // On-time completion. A returned work order counts only in the return rate; a work order
    // cancelled by a closure counts against the department only if its deadline had passed.
    if (replied) {
      add(w.deadline_us(), w.on_time() ? kOnTime : kLate);
    } else if (open) {
      add(w.deadline_us(), kOpenByDeadline);
    } else if (cancelled && !w.return_accepted() && w.end_us() > w.deadline_us()) {
      add(w.deadline_us(), kLapsed);
    }

    // Timely signing. Work orders returned without being signed are excluded.
    if (w.sign_us() > 0) {
      add(w.sign_deadline_us(), w.sign_us() <= w.sign_deadline_us() ? kSignTimely : kSignLate);
    } else if (w.state() == tv1::WORK_ORDER_STATE_PENDING_SIGN) {
      add(w.sign_deadline_us(), kSignOpen);
    } else if (cancelled && !w.return_accepted() && !w.ended_while_returned() &&
               w.end_us() > w.sign_deadline_us()) {
      add(w.sign_deadline_us(), kSignLapsed);
    }

    if (w.sign_us() > 0) {
      add(w.sign_us(), kSigned);
      add(w.sign_us(), kSigningMicros, w.sign_us() - w.dispatch_us());
    }

    add(w.dispatch_us(), kDispatched);
    if (w.return_accepted()) add(w.dispatch_us(), kReturned);

    if (replied) {
      add(w.reply_us(), kReplied);
      add(w.reply_us(), kHandlingMicros, w.handling_us());
      if (w.reopened()) add(w.reply_us(), kReopened);
    }

    // Backlog: each change leaves the previous state (and card) and enters the next.
    int previous_state = kNotInBacklog;
    tv1::WarningLevel previous_level = tv1::WARNING_LEVEL_NONE;
    for (const internal::BacklogChange& c : w.backlog()) {
      if (c.state() != previous_state) {
        if (previous_state != kNotInBacklog) add(c.time_us(), BacklogField(previous_state), -1);
        if (c.state() != kNotInBacklog) add(c.time_us(), BacklogField(c.state()), 1);
      }
      if (c.level() != previous_level) {
        if (previous_level == tv1::WARNING_LEVEL_YELLOW) add(c.time_us(), kBacklogYellow, -1);
        if (previous_level == tv1::WARNING_LEVEL_RED) add(c.time_us(), kBacklogRed, -1);
        if (c.level() == tv1::WARNING_LEVEL_YELLOW) add(c.time_us(), kBacklogYellow, 1);
        if (c.level() == tv1::WARNING_LEVEL_RED) add(c.time_us(), kBacklogRed, 1);
      }
      previous_state = c.state();
      previous_level = c.level();
    }
  }
  for (const internal::CallbackFact& c : fact.callbacks()) {
    const std::string* d = &c.lead_department_id();
    switch (c.result()) {
      case tv1::CALLBACK_RESULT_SATISFIED:
      case tv1::CALLBACK_RESULT_BASICALLY_SATISFIED:
        out.push_back(Contribution{c.time_us(), d, kCallbackGood, 1});
        out.push_back(Contribution{c.time_us(), d, kCallbackRated, 1});
        break;
      case tv1::CALLBACK_RESULT_DISSATISFIED:
        out.push_back(Contribution{c.time_us(), d, kCallbackRated, 1});
        break;
      case tv1::CALLBACK_RESULT_UNREACHABLE:
      case tv1::CALLBACK_RESULT_DECLINED:
        out.push_back(Contribution{c.time_us(), d, kCallbackUnreachable, 1});
        break;
      default:
        break;
    }
  }
  return out;
}

std::vector<internal::LiveWorkOrder> LiveWorkOrders(const internal::TicketFact& fact) {
  std::vector<internal::LiveWorkOrder> out;
  for (const internal::WorkOrderFact& w : fact.work_orders()) {
    int state = BacklogStateOf(w);
    if (state == kNotInBacklog) continue;
    internal::LiveWorkOrder& l = out.emplace_back();
    l.set_ticket_id(fact.id());
    l.set_work_order_id(w.id());
    l.set_department_id(w.department_id());
    l.set_category(fact.category());
    l.set_channel(fact.channel());
    l.set_lead(w.lead());
    l.set_state(state);
    l.set_level(EffectiveLevel(state, w.warning_level()));
    l.set_cycle_started_us(w.dispatch_us());
    l.set_deadline_us(w.deadline_us());
    l.set_extended(w.extended());
    if (state == kAwaitingSign) l.set_sign_deadline_us(w.sign_deadline_us());
    if (l.level() != tv1::WARNING_LEVEL_NONE) l.set_warned_us(w.warned_us());
    l.set_urge_count(w.urge_count());
  }
  return out;
}

}  // namespace hotline::metrics
