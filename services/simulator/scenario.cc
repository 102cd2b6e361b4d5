#include "services/simulator/scenario.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/proto_time.h"

namespace hotline::simulator {

namespace v1 = ticket::v1;

uint64_t Rng::Next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double Rng::Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

int Rng::Below(int n) { return static_cast<int>(Next() % static_cast<uint64_t>(n)); }

Pace HistoryPace() { return {absl::Hours(1), absl::Hours(72), absl::Hours(30)}; }

Pace LivePace() { return {absl::Seconds(40), absl::Minutes(6), absl::Minutes(8)}; }

namespace {

bool HasAll(const std::set<std::string>& departments, std::initializer_list<const char*> ids) {
  for (const char* id : ids) {
    if (id != nullptr && departments.count(id) == 0) return false;
  }
  return true;
}

// Limits short enough (2-7 working days, or hours) for deadlines to pass within the history.
bool ShortLimit(const Matter& m) {
  return m.kind == v1::TICKET_KIND_CONSULTATION || m.kind == v1::TICKET_KIND_UNRESOLVED_MATTER ||
         m.urgency != v1::URGENCY_NORMAL;
}

struct Showcase {
  Handling handling;
  std::vector<v1::CallbackResult> callbacks;
  bool misrouted = false;
  bool with_assist = false;
  bool reopen_after_close = false;
  Fate fate = Fate::kConfirm;
};

const std::vector<Showcase>& Showcases() {
  using R = std::vector<v1::CallbackResult>;
  static const std::vector<Showcase>* const showcases = new std::vector<Showcase>{
      {Handling::kPrompt, R{v1::CALLBACK_RESULT_SATISFIED}, false, true},
      {Handling::kLate, R{v1::CALLBACK_RESULT_BASICALLY_SATISFIED}},
      {Handling::kVeryLate, R{v1::CALLBACK_RESULT_SATISFIED}},
      {Handling::kPrompt, R{v1::CALLBACK_RESULT_SATISFIED}, true},
      {Handling::kExtended, R{v1::CALLBACK_RESULT_SATISFIED}},
      {Handling::kPrompt, R{v1::CALLBACK_RESULT_DISSATISFIED}},
      {Handling::kPrompt, R{v1::CALLBACK_RESULT_UNREACHABLE, v1::CALLBACK_RESULT_SATISFIED}},
      {Handling::kPrompt, R{v1::CALLBACK_RESULT_SATISFIED}, false, false, true},
      {Handling::kNearDeadline, R{v1::CALLBACK_RESULT_SATISFIED}},
      {Handling::kPrompt, R{}, false, false, false, Fate::kReject},
      {Handling::kExtensionRefused, R{v1::CALLBACK_RESULT_DISSATISFIED}},
      {Handling::kLate, R{v1::CALLBACK_RESULT_SATISFIED}},
      {Handling::kVeryLate, R{v1::CALLBACK_RESULT_BASICALLY_SATISFIED}},
      {Handling::kPrompt, R{v1::CALLBACK_RESULT_BASICALLY_SATISFIED}, true},
  };
  return *showcases;
}

uint64_t CaseSeed(uint64_t seed, int index) {
  Rng mix(seed);
  uint64_t base = mix.Next();
  return base ^ (0x2545f4914f6cdd1dULL * static_cast<uint64_t>(index + 1));
}

// Matter indices usable with these departments, optionally short-limit only.
std::vector<int> UsableMatters(const std::set<std::string>& departments, bool short_only) {
  std::vector<int> usable;
  const std::vector<Matter>& matters = Matters();
  for (int i = 0; i < static_cast<int>(matters.size()); ++i) {
    if (!HasAll(departments, {matters[i].department})) continue;
    if (short_only && !ShortLimit(matters[i])) continue;
    usable.push_back(i);
  }
  return usable;
}

void DrawCaller(Rng& rng, Plan& plan) {
  const double c = rng.Uniform();
  plan.channel = c < 0.70   ? v1::CHANNEL_HOTLINE
                 : c < 0.85 ? v1::CHANNEL_WEB
                 : c < 0.93 ? v1::CHANNEL_MAYOR_MAILBOX
                            : v1::CHANNEL_SERVICE_WINDOW;
  plan.district = rng.Below(static_cast<int>(Districts().size()));
  plan.place = rng.Below(static_cast<int>(Districts()[plan.district].places.size()));
  plan.caller_name = absl::StrCat(Surnames()[rng.Below(static_cast<int>(Surnames().size()))],
                                  rng.Chance(0.5) ? "女士" : "先生");
  static const char* const kPrefixes[] = {"138", "139", "150", "186", "177", "133", "158", "189"};
  plan.caller_phone = kPrefixes[rng.Below(8)];
  for (int i = 0; i < 8; ++i) absl::StrAppend(&plan.caller_phone, rng.Below(10));
  for (double& u : plan.u) u = rng.Uniform();
}

Handling DrawHandling(Rng& rng, const Matter& m) {
  const double h = rng.Uniform();
  if (m.urgency == v1::URGENCY_EMERGENCY) {  // Hour limits: prompt, or late.
    return h < 0.85 ? Handling::kPrompt : Handling::kLate;
  }
  if (ShortLimit(m)) {
    return h < 0.70   ? Handling::kPrompt
           : h < 0.82 ? Handling::kNearDeadline
           : h < 0.89 ? Handling::kLate
           : h < 0.92 ? Handling::kVeryLate
           : h < 0.98 ? Handling::kExtended
                      : Handling::kExtensionRefused;
  }
  return h < 0.80   ? Handling::kPrompt
         : h < 0.85 ? Handling::kNearDeadline
         : h < 0.90 ? Handling::kLate
                    : Handling::kExtended;
}

std::vector<v1::CallbackResult> DrawCallbacks(Rng& rng) {
  const double r = rng.Uniform();
  if (r < 0.68) return {v1::CALLBACK_RESULT_SATISFIED};
  if (r < 0.84) return {v1::CALLBACK_RESULT_BASICALLY_SATISFIED};
  if (r < 0.92) return {v1::CALLBACK_RESULT_DISSATISFIED};
  if (r < 0.97) return {v1::CALLBACK_RESULT_UNREACHABLE, v1::CALLBACK_RESULT_SATISFIED};
  return {v1::CALLBACK_RESULT_UNREACHABLE, v1::CALLBACK_RESULT_BASICALLY_SATISFIED};
}

}  // namespace

int ShowcaseCount() { return static_cast<int>(Showcases().size()); }

Plan DrawPlan(uint64_t seed, int index, const std::set<std::string>& departments) {
  Rng rng(CaseSeed(seed, index));
  Plan plan;
  const std::vector<Matter>& matters = Matters();
  if (index < ShowcaseCount()) {
    const Showcase& s = Showcases()[index];
    plan.fate = s.fate;
    plan.handling = s.handling;
    plan.first_callbacks = s.callbacks;
    plan.reopen_after_close = s.reopen_after_close;
    std::vector<int> usable = UsableMatters(departments, /*short_only=*/true);
    if (usable.empty()) usable = UsableMatters(departments, false);
    // Showcases needing a second department take the first matter that has one; the others
    // walk through the departments in turn, so that several appear from the start.
    auto first_with = [&](auto has) {
      for (int i : usable) {
        if (has(matters[i])) return i;
      }
      return -1;
    };
    int chosen = -1;
    if (s.misrouted) {
      chosen = first_with([&](const Matter& m) {
        return m.misrouted_to != nullptr && HasAll(departments, {m.misrouted_to}) &&
               m.urgency != v1::URGENCY_EMERGENCY;
      });
    } else if (s.with_assist) {
      chosen = first_with([&](const Matter& m) {
        return m.assist != nullptr && HasAll(departments, {m.assist}) &&
               m.urgency != v1::URGENCY_EMERGENCY;
      });
    }
    if (chosen < 0) {
      std::vector<int> calm;  // Showcases are about days, not the hours of emergencies.
      for (int i : usable) {
        if (matters[i].urgency != v1::URGENCY_EMERGENCY) calm.push_back(i);
      }
      if (calm.empty()) calm = usable;
      // Department by department, so that the first tickets already spread over many.
      std::vector<std::vector<int>> by_department;
      for (int i : calm) {
        auto same = std::find_if(by_department.begin(), by_department.end(), [&](const auto& d) {
          return std::string(matters[d.front()].department) == matters[i].department;
        });
        if (same == by_department.end()) {
          by_department.push_back({i});
        } else {
          same->push_back(i);
        }
      }
      const std::vector<int>& department = by_department[index % by_department.size()];
      chosen = department[(index / by_department.size()) % department.size()];
    }
    plan.matter = chosen;
    plan.misrouted = s.misrouted && matters[chosen].misrouted_to != nullptr &&
                     HasAll(departments, {matters[chosen].misrouted_to});
    plan.with_assist = s.with_assist && matters[chosen].assist != nullptr &&
                       HasAll(departments, {matters[chosen].assist});
    plan.out_of_remit = index % static_cast<int>(OutOfRemitMatters().size());
    DrawCaller(rng, plan);
    return plan;
  }

  const double fate = rng.Uniform();
  plan.fate = fate < 0.03 ? Fate::kReject : fate < 0.06 ? Fate::kMerge : Fate::kConfirm;
  plan.out_of_remit = rng.Below(static_cast<int>(OutOfRemitMatters().size()));
  std::vector<int> usable = UsableMatters(departments, false);
  plan.matter = usable[rng.Below(static_cast<int>(usable.size()))];
  const Matter& m = matters[plan.matter];
  plan.misrouted =
      m.misrouted_to != nullptr && HasAll(departments, {m.misrouted_to}) && rng.Chance(0.3);
  plan.with_assist =
      !plan.misrouted && m.assist != nullptr && HasAll(departments, {m.assist}) && rng.Chance(0.5);
  plan.late_sign = rng.Chance(0.06);
  plan.handling = DrawHandling(rng, m);
  plan.first_callbacks = DrawCallbacks(rng);
  plan.reopen_after_close = rng.Chance(0.04);
  DrawCaller(rng, plan);
  return plan;
}

v1::Ticket TicketToCreate(const Plan& plan) {
  v1::Ticket t;
  const District& district = Districts()[plan.district];
  const std::string place = absl::StrCat(district.name, district.places[plan.place]);
  t.set_channel(plan.channel);
  t.set_caller_name(plan.caller_name);
  t.set_caller_phone(plan.caller_phone);
  if (plan.fate == Fate::kReject) {
    t.set_kind(v1::TICKET_KIND_CONSULTATION);
    t.set_content(OutOfRemitMatters()[plan.out_of_remit].content);
    return t;
  }
  const Matter& m = Matters()[plan.matter];
  t.set_kind(m.kind);
  t.set_urgency(m.urgency);
  t.set_category_path(m.category);
  std::string content = absl::StrReplaceAll(m.content, {{"{地点}", place}});
  if (plan.fate == Fate::kMerge) content = absl::StrCat("（另一市民来电反映同一问题）", content);
  t.set_content(content);
  t.set_confidential(m.confidential);
  t.mutable_location()->set_address(place);
  t.mutable_location()->set_district_code(district.code);
  return t;
}

const char* StepName(Step::Kind kind) {
  switch (kind) {
    case Step::Kind::kNone:
      return "none";
    case Step::Kind::kConfirm:
      return "confirm";
    case Step::Kind::kReject:
      return "reject";
    case Step::Kind::kMerge:
      return "merge";
    case Step::Kind::kDispatch:
      return "dispatch";
    case Step::Kind::kSign:
      return "sign";
    case Step::Kind::kReturn:
      return "return";
    case Step::Kind::kRedispatch:
      return "redispatch";
    case Step::Kind::kRequestExtension:
      return "request-extension";
    case Step::Kind::kApproveExtension:
      return "approve-extension";
    case Step::Kind::kRefuseExtension:
      return "refuse-extension";
    case Step::Kind::kReply:
      return "reply";
    case Step::Kind::kUrge:
      return "urge";
    case Step::Kind::kCallback:
      return "callback";
    case Step::Kind::kReopen:
      return "reopen";
  }
  return "?";
}

namespace {

absl::Time T(const google::protobuf::Timestamp& t) { return FromProtoTime(t); }

bool IsOpen(v1::WorkOrderState s) {
  return s == v1::WORK_ORDER_STATE_PENDING_SIGN || s == v1::WORK_ORDER_STATE_SIGNED ||
         s == v1::WORK_ORDER_STATE_RETURNED;
}

Step Make(Step::Kind kind, absl::Time due, const v1::WorkOrder* w = nullptr) {
  Step s;
  s.kind = kind;
  s.due = due;
  if (w != nullptr) {
    s.work_order_id = w->id();
    s.department_id = w->department_id();
  }
  return s;
}

// When a prompt department replies: some working time after signing, never later than half
// way to the deadline.
absl::Time PromptReply(const Case& c, const v1::WorkOrder& w, double u1, double u2) {
  const absl::Time signed_at = T(w.sign_time());
  const absl::Time deadline = T(w.deadline());
  absl::Duration wanted = c.pace.step * (1.5 + 3 * u1) + (c.pace.prompt_reply * u2 * u2);
  wanted = std::min(wanted, c.pace.prompt_reply);
  return signed_at + std::min(wanted, std::max(absl::ZeroDuration(), (deadline - signed_at) / 2));
}

// The lead's next step in the first cycle, following the plan's handling.
void LeadSteps(const Case& c, const v1::WorkOrder& w, std::vector<Step>* steps) {
  const Plan& p = c.plan;
  const absl::Time signed_at = T(w.sign_time());
  const absl::Time deadline = T(w.deadline());
  Handling h = p.handling;
  const bool hour_limit = w.time_limit().limit_case() == v1::TimeLimit::kHours;
  if (hour_limit && h != Handling::kLate) h = Handling::kPrompt;
  const absl::Time prompt = PromptReply(c, w, p.u[5], p.u[6]);
  auto urge_at = [&](absl::Time at) {
    if (w.urge_count() == 0) steps->push_back(Make(Step::Kind::kUrge, at, &w));
  };
  switch (h) {
    case Handling::kPrompt:
      steps->push_back(Make(Step::Kind::kReply, prompt, &w));
      return;
    case Handling::kNearDeadline: {
      // On the last day, after the yellow card of the day before.
      absl::Time at = deadline - absl::Hours(4) - absl::Hours(6) * p.u[5];
      steps->push_back(Make(Step::Kind::kReply, at > signed_at ? at : prompt, &w));
      return;
    }
    case Handling::kLate:
      urge_at(deadline + absl::Hours(2) + absl::Hours(4) * p.u[6]);
      steps->push_back(
          Make(Step::Kind::kReply, deadline + absl::Hours(8) + absl::Hours(30) * p.u[5], &w));
      return;
    case Handling::kVeryLate:
      urge_at(deadline + absl::Hours(3) + absl::Hours(3) * p.u[6]);
      steps->push_back(Make(Step::Kind::kReply, deadline + absl::Hours(24) * (9 + 4 * p.u[5]), &w));
      return;
    case Handling::kExtended:
    case Handling::kExtensionRefused:
      break;
  }
  switch (w.extension().state()) {
    case v1::EXTENSION_STATE_UNSPECIFIED:
    case v1::EXTENSION_STATE_NONE: {
      absl::Time at =
          std::min(signed_at + c.pace.step * (1 + 2 * p.u[6]), deadline - absl::Hours(2));
      if (at <= signed_at) {  // Signed too close to the deadline to ask: just reply.
        steps->push_back(Make(Step::Kind::kReply, prompt, &w));
      } else {
        steps->push_back(Make(Step::Kind::kRequestExtension, at, &w));
      }
      return;
    }
    case v1::EXTENSION_STATE_REQUESTED: {
      const absl::Time requested = T(w.extension().request_time());
      absl::Time at =
          std::max(requested + absl::Minutes(1),
                   std::min(requested + c.pace.step * (0.5 + p.u[7]), deadline - absl::Hours(1)));
      steps->push_back(Make(
          h == Handling::kExtended ? Step::Kind::kApproveExtension : Step::Kind::kRefuseExtension,
          at, &w));
      return;
    }
    case v1::EXTENSION_STATE_APPROVED: {
      // After the original deadline, inside the extension: on time only thanks to it.
      const absl::Time original = T(w.original_deadline());
      steps->push_back(Make(
          Step::Kind::kReply,
          std::min(original + absl::Hours(6) + absl::Hours(20) * p.u[5], deadline - absl::Hours(2)),
          &w));
      return;
    }
    case v1::EXTENSION_STATE_REFUSED:
      urge_at(deadline + absl::Hours(2) + absl::Hours(4) * p.u[6]);
      steps->push_back(
          Make(Step::Kind::kReply, deadline + absl::Hours(10) + absl::Hours(20) * p.u[5], &w));
      return;
    default:
      steps->push_back(Make(Step::Kind::kReply, prompt, &w));
      return;
  }
}

}  // namespace

Step NextStep(const Case& c) {
  const v1::Ticket& t = c.ticket;
  const Plan& p = c.plan;
  const Matter& m = Matters()[p.matter];
  switch (t.state()) {
    case v1::TICKET_STATE_PENDING_REVIEW: {
      const absl::Time at = T(t.create_time()) + c.pace.step * (0.2 + 0.8 * p.u[0]);
      if (p.fate == Fate::kReject) return Make(Step::Kind::kReject, at);
      if (p.fate == Fate::kMerge && !c.merge_target.empty()) return Make(Step::Kind::kMerge, at);
      return Make(Step::Kind::kConfirm, at);
    }
    case v1::TICKET_STATE_PENDING_DISPATCH: {
      Step s = Make(Step::Kind::kDispatch, T(t.update_time()) + c.pace.step * (0.3 + 1.2 * p.u[1]));
      s.department_id = p.misrouted ? m.misrouted_to : m.department;
      return s;
    }
    case v1::TICKET_STATE_IN_PROGRESS:
    case v1::TICKET_STATE_PENDING_REDISPATCH: {
      std::vector<Step> steps;
      for (const v1::WorkOrder& w : t.work_orders()) {
        if (w.cycle() != t.cycle() || !IsOpen(w.state())) continue;
        const bool lead = w.role() == v1::WORK_ORDER_ROLE_LEAD;
        const bool first_cycle = t.cycle() == 1;
        switch (w.state()) {
          case v1::WORK_ORDER_STATE_RETURNED: {
            Step s = Make(Step::Kind::kRedispatch,
                          T(w.return_time()) + c.pace.step * (0.5 + 1.5 * p.u[4]), &w);
            s.department_id = m.department;
            steps.push_back(s);
            break;
          }
          case v1::WORK_ORDER_STATE_PENDING_SIGN: {
            const absl::Time dispatched = T(w.dispatch_time());
            if (p.misrouted && m.misrouted_to != nullptr && w.department_id() == m.misrouted_to &&
                w.return_reason().empty() && !w.return_refused()) {
              steps.push_back(Make(Step::Kind::kReturn,
                                   std::min(dispatched + c.pace.step * (1 + 2 * p.u[3]),
                                            T(w.return_window_end()) - absl::Minutes(1)),
                                   &w));
            } else if (lead && first_cycle && p.late_sign) {
              steps.push_back(Make(Step::Kind::kSign,
                                   T(w.sign_deadline()) + c.pace.step * (2 + 4 * p.u[2]), &w));
            } else {
              steps.push_back(
                  Make(Step::Kind::kSign, dispatched + c.pace.step * (0.5 + 2.5 * p.u[2]), &w));
            }
            break;
          }
          case v1::WORK_ORDER_STATE_SIGNED:
            if (lead && first_cycle) {
              LeadSteps(c, w, &steps);
            } else {
              steps.push_back(Make(Step::Kind::kReply, PromptReply(c, w, p.u[7], p.u[3]), &w));
            }
            break;
          default:
            break;
        }
      }
      if (steps.empty()) return Step{};
      return *std::min_element(steps.begin(), steps.end(),
                               [](const Step& a, const Step& b) { return a.due < b.due; });
    }
    case v1::TICKET_STATE_PENDING_CALLBACK: {
      int attempts = 0;
      absl::Time last = T(t.update_time());
      absl::Time last_reply = absl::InfinitePast();
      for (const v1::WorkOrder& w : t.work_orders()) {
        if (w.cycle() == t.cycle() && w.state() == v1::WORK_ORDER_STATE_REPLIED) {
          last_reply = std::max(last_reply, T(w.reply_time()));
        }
      }
      if (last_reply != absl::InfinitePast()) last = last_reply;
      for (const v1::CallbackRecord& r : t.callbacks()) {
        if (r.cycle() == t.cycle()) {
          ++attempts;
          last = std::max(last, T(r.record_time()));
        }
      }
      const std::vector<v1::CallbackResult> results =
          t.cycle() == 1 ? p.first_callbacks
                         : std::vector<v1::CallbackResult>{v1::CALLBACK_RESULT_SATISFIED};
      Step s = Make(Step::Kind::kCallback,
                    last + c.pace.step * (1 + 4 * p.u[attempts % 8]) * (attempts + 1));
      s.callback = attempts < static_cast<int>(results.size()) ? results[attempts]
                                                               : v1::CALLBACK_RESULT_SATISFIED;
      return s;
    }
    case v1::TICKET_STATE_CLOSED:
      if (p.reopen_after_close && !c.reopened_by_supervisor && t.cycle() == 1) {
        return Make(Step::Kind::kReopen,
                    T(t.close_time()) + c.pace.reopen_after * (0.7 + 0.6 * p.u[7]));
      }
      return Step{};
    default:
      return Step{};
  }
}

}  // namespace hotline::simulator
