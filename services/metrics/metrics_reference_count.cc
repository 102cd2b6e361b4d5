// The reference count: every counter straight from the tickets (their work orders, callbacks
// and events), by the definitions in metrics.proto and without the metrics service's code,
// then composed into figures by the declared rates (figures.h).
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/metrics/metrics_test_world.h"

namespace hotline::metrics::testing {
namespace {

absl::Time T(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

}  // namespace

// ---- Direct count -------------------------------------------------------------------------------

namespace {

// The reference's own count of each counter (figures.h), by the definitions in
// metrics.proto; the figures are then composed from them by the declared rates.
struct Tally {
  Counters c{};
  int64_t& operator[](Field f) { return c[f]; }
  bool Any() const {
    return std::any_of(c.begin(), c.end(), [](int64_t v) { return v != 0; });
  }
  void Add(const Tally& o) {
    for (int f = 0; f < kFieldCount; ++f) c[f] += o.c[f];
  }
};

mv1::Figures ToFigures(const Tally& t, absl::Time as_of) { return FiguresFromCounters(t.c, as_of); }

bool IsOpen(tv1::WorkOrderState s) {
  return s == tv1::WORK_ORDER_STATE_PENDING_SIGN || s == tv1::WORK_ORDER_STATE_SIGNED ||
         s == tv1::WORK_ORDER_STATE_RETURNED;
}

// metrics.v1.WorkOrderState of a work order, 0 when not in the backlog.
int BacklogState(tv1::WorkOrderState s, bool extension_requested, bool awaiting_callback) {
  switch (s) {
    case tv1::WORK_ORDER_STATE_PENDING_SIGN:
      return 1;
    case tv1::WORK_ORDER_STATE_SIGNED:
      return extension_requested ? 3 : 2;
    case tv1::WORK_ORDER_STATE_RETURNED:
      return 4;
    case tv1::WORK_ORDER_STATE_REPLIED:
      return awaiting_callback ? 5 : 0;
    default:
      return 0;
  }
}

}  // namespace

DirectResult DirectCount(const std::vector<tv1::Ticket>& tickets,
                         const ticket::WorkingCalendar& calendar, const DirectQuery& q) {
  const bool ended = q.end <= q.now;
  const absl::Time as_of = ended ? q.end : q.now;
  auto in_window = [&](absl::Time t) { return t >= q.start && t < q.end; };
  auto matches = [&](const std::string& department, const std::string& category, int channel) {
    if (!q.departments.empty() &&
        std::find(q.departments.begin(), q.departments.end(), department) == q.departments.end()) {
      return false;
    }
    if (!q.channels.empty() &&
        std::find(q.channels.begin(), q.channels.end(), channel) == q.channels.end()) {
      return false;
    }
    return q.category_prefix.empty() || category == q.category_prefix ||
           absl::StartsWith(category, q.category_prefix + "/");
  };
  auto key_of = [&](const std::string& department, const std::string& category, int channel) {
    switch (q.group_by) {
      case mv1::DIMENSION_DEPARTMENT:
        return department;
      case mv1::DIMENSION_CATEGORY: {
        std::vector<std::string> segments = absl::StrSplit(category, '/');
        if (category.empty() || static_cast<int>(segments.size()) <= q.category_depth)
          return category;
        segments.resize(q.category_depth);
        return absl::StrJoin(segments, "/");
      }
      case mv1::DIMENSION_CHANNEL:
        return absl::StrCat(channel);
      default:
        return std::string();
    }
  };

  std::map<std::string, Tally> rows;
  for (const tv1::Ticket& t : tickets) {
    const std::string& category = t.category_path();
    const int channel = t.channel();
    // Intake and answers on the spot count for the hotline itself (no department).
    if (matches("", category, channel) && in_window(T(t.create_time()))) {
      Tally& r = rows[key_of("", category, channel)];
      ++r[kIntake];
      if (t.has_direct_answer()) ++r[kAnsweredDirectly];
    }
    for (const tv1::WorkOrder& w : t.work_orders()) {
      if (!matches(w.department_id(), category, channel)) continue;
      Tally& r = rows[key_of(w.department_id(), category, channel)];
      // How a cancelled work order ended: a closure cancels in the same change as
      // TICKET_CLOSED; otherwise the dispatcher withdrew it (an accepted return).
      const tv1::TicketEvent* cancel = nullptr;
      for (const tv1::TicketEvent& e : t.events()) {
        if (e.work_order_id() == w.id() && e.type() == tv1::EVENT_TYPE_WORK_ORDER_CANCELLED)
          cancel = &e;
      }
      bool closure = false;
      if (cancel != nullptr) {
        for (const tv1::TicketEvent& e : t.events()) {
          closure |= e.type() == tv1::EVENT_TYPE_TICKET_CLOSED &&
                     e.ticket_version() == cancel->ticket_version();
        }
      }
      const bool cancelled = w.state() == tv1::WORK_ORDER_STATE_CANCELLED;
      const bool return_accepted =
          w.state() == tv1::WORK_ORDER_STATE_REDISPATCHED || (cancelled && !closure);
      const absl::Time deadline = T(w.deadline());
      const absl::Time sign_deadline = T(w.sign_deadline());

      // On-time completion and completion.
      if (w.state() == tv1::WORK_ORDER_STATE_REPLIED) {
        if (in_window(deadline)) ++r[w.on_time() ? kOnTime : kLate];
      } else if (IsOpen(w.state())) {
        if (in_window(deadline) && deadline < q.now) ++r[kOpenByDeadline];
      } else if (cancelled && closure && T(cancel->event_time()) > deadline &&
                 in_window(deadline)) {
        ++r[kLapsed];
      }
      // Timely signing.
      if (w.has_sign_time()) {
        if (in_window(sign_deadline)) {
          ++r[T(w.sign_time()) <= sign_deadline ? kSignTimely : kSignLate];
        }
      } else if (w.state() == tv1::WORK_ORDER_STATE_PENDING_SIGN) {
        if (in_window(sign_deadline) && sign_deadline < q.now) ++r[kSignOpen];
      } else if (cancelled && closure && !(w.has_return_time() && !w.return_refused()) &&
                 T(cancel->event_time()) > sign_deadline && in_window(sign_deadline)) {
        ++r[kSignLapsed];
      }
      // Signing time.
      if (w.has_sign_time() && in_window(T(w.sign_time()))) {
        ++r[kSigned];
        r[kSigningMicros] += absl::ToInt64Microseconds(T(w.sign_time()) - T(w.dispatch_time()));
      }
      // Returns.
      if (in_window(T(w.dispatch_time()))) {
        ++r[kDispatched];
        if (return_accepted) ++r[kReturned];
      }
      // Replies: reopen and handling time.
      if (w.state() == tv1::WORK_ORDER_STATE_REPLIED && in_window(T(w.reply_time()))) {
        ++r[kReplied];
        if (w.cycle() < t.cycle()) ++r[kReopened];
        r[kHandlingMicros] += std::llround(
            calendar.WorkingHoursBetween(T(w.dispatch_time()), T(w.reply_time())) * 3.6e9);
      }
      // Backlog at as_of: from the ticket as it is, or, for an ended window, from its history.
      int state = 0;
      tv1::WarningLevel level = tv1::WARNING_LEVEL_NONE;
      if (!ended) {
        bool awaiting = w.cycle() == t.cycle() && t.state() != tv1::TICKET_STATE_CLOSED;
        state = BacklogState(w.state(), w.extension().state() == tv1::EXTENSION_STATE_REQUESTED,
                             awaiting);
        level = w.warning_level();
      } else {
        tv1::WorkOrderState s = tv1::WORK_ORDER_STATE_UNSPECIFIED;
        bool extension = false;
        bool over = false;
        for (const tv1::TicketEvent& e : t.events()) {
          if (T(e.event_time()) >= as_of) break;
          if (e.work_order_id() == w.id()) {
            s = e.work_order_state();
            level = e.warning_level();
            if (e.type() == tv1::EVENT_TYPE_EXTENSION_REQUESTED) extension = true;
            if (e.type() == tv1::EVENT_TYPE_EXTENSION_APPROVED ||
                e.type() == tv1::EVENT_TYPE_EXTENSION_REFUSED ||
                e.type() == tv1::EVENT_TYPE_EXTENSION_WITHDRAWN) {
              extension = false;
            }
          }
          if (s == tv1::WORK_ORDER_STATE_REPLIED &&
              ((e.type() == tv1::EVENT_TYPE_TICKET_CLOSED && e.cycle() == w.cycle()) ||
               (e.type() == tv1::EVENT_TYPE_TICKET_REOPENED &&
                e.reopened().previous_cycle() == w.cycle()))) {
            over = true;
          }
        }
        state = BacklogState(s, extension, !over);
      }
      if (state != 0) ++r[BacklogField(state)];
      if (state >= 1 && state <= 4) {
        if (level == tv1::WARNING_LEVEL_YELLOW) ++r[kBacklogYellow];
        if (level == tv1::WARNING_LEVEL_RED) ++r[kBacklogRed];
      }
    }
    // Callbacks count for the lead department of the cycle they follow up.
    for (const tv1::CallbackRecord& c : t.callbacks()) {
      if (!in_window(T(c.record_time()))) continue;
      std::string lead;
      for (const tv1::WorkOrder& w : t.work_orders()) {
        if (w.cycle() == c.cycle() && w.role() == tv1::WORK_ORDER_ROLE_LEAD &&
            w.state() == tv1::WORK_ORDER_STATE_REPLIED) {
          lead = w.department_id();
        }
      }
      if (!matches(lead, category, channel)) continue;
      Tally& r = rows[key_of(lead, category, channel)];
      switch (c.result()) {
        case tv1::CALLBACK_RESULT_SATISFIED:
        case tv1::CALLBACK_RESULT_BASICALLY_SATISFIED:
          ++r[kCallbackGood];
          ++r[kCallbackRated];
          break;
        case tv1::CALLBACK_RESULT_DISSATISFIED:
          ++r[kCallbackRated];
          break;
        default:
          ++r[kCallbackUnreachable];
          break;
      }
    }
  }
  DirectResult out;
  Tally totals;
  for (const auto& [key, tally] : rows) {
    totals.Add(tally);
    if (q.group_by != mv1::DIMENSION_UNSPECIFIED && tally.Any()) {
      out.rows[key] = ToFigures(tally, as_of);
    }
  }
  out.totals = ToFigures(totals, as_of);
  return out;
}

std::string RowKeyText(const mv1::GroupKey& key) {
  switch (key.key_case()) {
    case mv1::GroupKey::kDepartmentId:
      return key.department_id();
    case mv1::GroupKey::kCategory:
      return key.category();
    case mv1::GroupKey::kChannel:
      return absl::StrCat(static_cast<int>(key.channel()));
    default:
      return "";
  }
}

std::string FiguresDiff(const mv1::Figures& e, const mv1::Figures& a) {
  // Every field, so a figure added to metrics.proto is compared without a change here; hours
  // are sums of microseconds, compared to 1e-6.
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_float_comparison(google::protobuf::util::DefaultFieldComparator::APPROXIMATE);
  comparator.SetDefaultFractionAndMargin(0, 1e-6);
  std::string out;
  bool same;
  {  // The report is complete once the differencer is gone.
    google::protobuf::util::MessageDifferencer differencer;
    differencer.set_field_comparator(&comparator);
    differencer.ReportDifferencesToString(&out);
    same = differencer.Compare(e, a);
  }
  if (!same && out.empty()) out = "the figures differ";
  return out;
}

}  // namespace hotline::metrics::testing
