#include "services/simulator/scenario.h"

#include <gtest/gtest.h>

#include <map>

#include "common/proto_time.h"
#include "services/ticket/ticket_service.h"

namespace hotline::simulator {
namespace {

namespace v1 = ticket::v1;

const absl::Time kMonday =
    absl::FromCivil(absl::CivilSecond(2026, 11, 16, 9, 0, 0), absl::FixedTimeZone(8 * 3600));

std::set<std::string> AllDepartments() {
  std::set<std::string> ids;
  for (const Matter& m : Matters()) {
    ids.insert(m.department);
    if (m.assist != nullptr) ids.insert(m.assist);
    if (m.misrouted_to != nullptr) ids.insert(m.misrouted_to);
  }
  return ids;
}

TEST(CatalogTest, EveryDepartmentIsInTheTicketServiceConfiguration) {
  absl::StatusOr<ticket::config::TicketConfig> config =
      ticket::LoadTicketConfig("deploy/config/ticket.textproto");
  ASSERT_TRUE(config.ok()) << config.status();
  std::set<std::string> configured;
  for (const auto& d : config->departments()) configured.insert(d.id());
  for (const std::string& id : AllDepartments()) EXPECT_EQ(configured.count(id), 1u) << id;
  for (const Matter& m : Matters()) {
    EXPECT_EQ(m.misrouted_to == nullptr, m.return_reason == nullptr) << m.category;
    EXPECT_EQ(m.kind == v1::TICKET_KIND_UNRESOLVED_MATTER, m.unresolved_working_days > 0)
        << m.category;
  }
}

TEST(DrawPlanTest, TheSameSeedGivesTheSamePlansAndAnotherSeedOtherOnes) {
  int differences = 0;
  for (int i = 0; i < 60; ++i) {
    Plan a = DrawPlan(7, i, AllDepartments());
    Plan b = DrawPlan(7, i, AllDepartments());
    Plan c = DrawPlan(8, i, AllDepartments());
    EXPECT_EQ(TicketToCreate(a).SerializeAsString(), TicketToCreate(b).SerializeAsString());
    EXPECT_EQ(a.handling, b.handling);
    EXPECT_EQ(a.u[3], b.u[3]);
    if (TicketToCreate(a).SerializeAsString() != TicketToCreate(c).SerializeAsString()) {
      ++differences;
    }
  }
  EXPECT_GT(differences, 30);
}

TEST(DrawPlanTest, TheShowcaseCoversEveryPromisedOutcomeOnShortLimits) {
  std::map<Handling, int> handlings;
  int misrouted = 0, assisted = 0, reopened = 0, dissatisfied = 0, unreachable = 0, rejected = 0;
  std::set<std::string> leads;
  for (int i = 0; i < ShowcaseCount(); ++i) {
    Plan p = DrawPlan(42, i, AllDepartments());
    const Matter& m = Matters()[p.matter];
    leads.insert(m.department);
    EXPECT_TRUE(m.kind == v1::TICKET_KIND_CONSULTATION ||
                m.kind == v1::TICKET_KIND_UNRESOLVED_MATTER || m.urgency != v1::URGENCY_NORMAL)
        << "showcase " << i << " has a long time limit: " << m.category;
    ++handlings[p.handling];
    misrouted += p.misrouted;
    assisted += p.with_assist;
    reopened += p.reopen_after_close;
    rejected += p.fate == Fate::kReject;
    for (v1::CallbackResult r : p.first_callbacks) {
      dissatisfied += r == v1::CALLBACK_RESULT_DISSATISFIED;
      unreachable += r == v1::CALLBACK_RESULT_UNREACHABLE;
    }
  }
  for (Handling h : {Handling::kPrompt, Handling::kNearDeadline, Handling::kLate,
                     Handling::kVeryLate, Handling::kExtended, Handling::kExtensionRefused}) {
    EXPECT_GT(handlings[h], 0) << static_cast<int>(h);
  }
  EXPECT_GT(misrouted, 0);
  EXPECT_GT(assisted, 0);
  EXPECT_GT(reopened, 0);
  EXPECT_GT(dissatisfied, 0);
  EXPECT_GT(unreachable, 0);
  EXPECT_GT(rejected, 0);
  EXPECT_GE(leads.size(), 5u);
}

TEST(DrawPlanTest, OnlyPlaysTheDepartmentsItHasTokensFor) {
  const std::set<std::string> three = {"water", "hrss", "housing-fund"};
  for (int i = 0; i < 200; ++i) {
    Plan p = DrawPlan(3, i, three);
    const Matter& m = Matters()[p.matter];
    EXPECT_EQ(three.count(m.department), 1u) << i;
    if (p.misrouted) {
      EXPECT_EQ(three.count(m.misrouted_to), 1u) << i;
    }
    if (p.with_assist) {
      EXPECT_EQ(three.count(m.assist), 1u) << i;
    }
  }
}

// A case whose ticket was just dispatched to its lead, as the service would return it.
Case Dispatched(Handling handling, Pace pace, absl::Duration limit) {
  Case c;
  c.plan = DrawPlan(1, 100, AllDepartments());
  c.plan.handling = handling;
  c.plan.misrouted = false;
  c.plan.late_sign = false;
  c.pace = pace;
  v1::Ticket& t = c.ticket;
  t.set_id("T1");
  t.set_version(3);
  t.set_cycle(1);
  t.set_state(v1::TICKET_STATE_IN_PROGRESS);
  v1::WorkOrder* w = t.add_work_orders();
  w->set_id("W1");
  w->set_department_id(Matters()[c.plan.matter].department);
  w->set_role(v1::WORK_ORDER_ROLE_LEAD);
  w->set_cycle(1);
  w->set_state(v1::WORK_ORDER_STATE_PENDING_SIGN);
  w->mutable_time_limit()->set_working_days(3);
  *w->mutable_dispatch_time() = ToProtoTime(kMonday);
  *w->mutable_deadline() = ToProtoTime(kMonday + limit);
  *w->mutable_original_deadline() = w->deadline();
  *w->mutable_sign_deadline() = ToProtoTime(kMonday + absl::Hours(39));
  *w->mutable_return_window_end() = ToProtoTime(kMonday + absl::Hours(63));
  return c;
}

void SignAt(Case& c, absl::Time at) {
  v1::WorkOrder* w = c.ticket.mutable_work_orders(0);
  w->set_state(v1::WORK_ORDER_STATE_SIGNED);
  *w->mutable_sign_time() = ToProtoTime(at);
}

TEST(NextStepTest, RepliesFallOnTheSideOfTheDeadlineThePlanSays) {
  const absl::Duration limit = absl::Hours(72 + 15);  // Thursday 23:59 or so.
  const absl::Time deadline = kMonday + limit;
  for (const Pace& pace : {HistoryPace(), LivePace()}) {
    Case prompt = Dispatched(Handling::kPrompt, pace, limit);
    Step sign = NextStep(prompt);
    ASSERT_EQ(sign.kind, Step::Kind::kSign);
    EXPECT_EQ(sign.work_order_id, "W1");
    EXPECT_GT(sign.due, kMonday);
    EXPECT_LE(sign.due, kMonday + 3 * pace.step);
    SignAt(prompt, sign.due);
    Step reply = NextStep(prompt);
    ASSERT_EQ(reply.kind, Step::Kind::kReply);
    EXPECT_GT(reply.due, sign.due);
    EXPECT_LE(reply.due, sign.due + (deadline - sign.due) / 2);
    EXPECT_LE(reply.due, sign.due + pace.prompt_reply);
  }
  Case near = Dispatched(Handling::kNearDeadline, HistoryPace(), limit);
  SignAt(near, kMonday + absl::Hours(1));
  Step reply = NextStep(near);
  EXPECT_EQ(reply.kind, Step::Kind::kReply);
  EXPECT_LT(reply.due, deadline);
  EXPECT_GT(reply.due, deadline - absl::Hours(11));  // After the yellow card of the eve.

  Case late = Dispatched(Handling::kLate, HistoryPace(), limit);
  SignAt(late, kMonday + absl::Hours(1));
  Step urge = NextStep(late);
  EXPECT_EQ(urge.kind, Step::Kind::kUrge);  // The supervisor urges before the late reply.
  EXPECT_GT(urge.due, deadline);
  late.ticket.mutable_work_orders(0)->set_urge_count(1);
  Step late_reply = NextStep(late);
  EXPECT_EQ(late_reply.kind, Step::Kind::kReply);
  EXPECT_GT(late_reply.due, urge.due);
}

TEST(NextStepTest, AnExtendedCaseRepliesAfterTheOriginalDeadlineButInsideTheExtension) {
  const absl::Duration limit = absl::Hours(87);
  Case c = Dispatched(Handling::kExtended, HistoryPace(), limit);
  SignAt(c, kMonday + absl::Hours(1));
  Step request = NextStep(c);
  ASSERT_EQ(request.kind, Step::Kind::kRequestExtension);
  EXPECT_LT(request.due, kMonday + limit);
  v1::WorkOrder* w = c.ticket.mutable_work_orders(0);
  w->mutable_extension()->set_state(v1::EXTENSION_STATE_REQUESTED);
  *w->mutable_extension()->mutable_request_time() = ToProtoTime(request.due);
  Step approve = NextStep(c);
  ASSERT_EQ(approve.kind, Step::Kind::kApproveExtension);
  EXPECT_GT(approve.due, request.due);
  EXPECT_LT(approve.due, kMonday + limit);
  w->mutable_extension()->set_state(v1::EXTENSION_STATE_APPROVED);
  const absl::Time extended = kMonday + limit + absl::Hours(72);
  *w->mutable_deadline() = ToProtoTime(extended);
  Step reply = NextStep(c);
  ASSERT_EQ(reply.kind, Step::Kind::kReply);
  EXPECT_GT(reply.due, kMonday + limit);
  EXPECT_LT(reply.due, extended);
}

TEST(NextStepTest, AMisroutedCaseIsReturnedInsideTheWindowAndReRoutedToTheRightDepartment) {
  Case c = Dispatched(Handling::kPrompt, HistoryPace(), absl::Hours(87));
  for (int i = 0; i < static_cast<int>(Matters().size()); ++i) {
    if (Matters()[i].misrouted_to != nullptr) c.plan.matter = i;
  }
  const Matter& m = Matters()[c.plan.matter];
  c.plan.misrouted = true;
  c.ticket.set_state(v1::TICKET_STATE_PENDING_DISPATCH);
  *c.ticket.mutable_update_time() = ToProtoTime(kMonday - absl::Hours(1));
  Step dispatch = NextStep(c);
  ASSERT_EQ(dispatch.kind, Step::Kind::kDispatch);
  EXPECT_EQ(dispatch.department_id, m.misrouted_to);

  c.ticket.set_state(v1::TICKET_STATE_IN_PROGRESS);
  v1::WorkOrder* w = c.ticket.mutable_work_orders(0);
  w->set_department_id(m.misrouted_to);
  Step ret = NextStep(c);
  ASSERT_EQ(ret.kind, Step::Kind::kReturn);
  EXPECT_EQ(ret.department_id, m.misrouted_to);
  EXPECT_LT(ret.due, FromProtoTime(w->return_window_end()));

  c.ticket.set_state(v1::TICKET_STATE_PENDING_REDISPATCH);
  w->set_state(v1::WORK_ORDER_STATE_RETURNED);
  w->set_return_reason(m.return_reason);
  *w->mutable_return_time() = ToProtoTime(ret.due);
  Step redispatch = NextStep(c);
  ASSERT_EQ(redispatch.kind, Step::Kind::kRedispatch);
  EXPECT_EQ(redispatch.department_id, m.department);
  EXPECT_EQ(redispatch.work_order_id, "W1");
}

TEST(NextStepTest, CallbacksFollowThePlanAndADissatisfiedCycleEndsSatisfied) {
  Case c = Dispatched(Handling::kPrompt, HistoryPace(), absl::Hours(87));
  c.plan.first_callbacks = {v1::CALLBACK_RESULT_UNREACHABLE, v1::CALLBACK_RESULT_DISSATISFIED};
  v1::Ticket& t = c.ticket;
  t.set_state(v1::TICKET_STATE_PENDING_CALLBACK);
  v1::WorkOrder* w = t.mutable_work_orders(0);
  w->set_state(v1::WORK_ORDER_STATE_REPLIED);
  *w->mutable_reply_time() = ToProtoTime(kMonday + absl::Hours(30));
  Step first = NextStep(c);
  EXPECT_EQ(first.kind, Step::Kind::kCallback);
  EXPECT_EQ(first.callback, v1::CALLBACK_RESULT_UNREACHABLE);
  EXPECT_GT(first.due, kMonday + absl::Hours(30));
  v1::CallbackRecord* r = t.add_callbacks();
  r->set_cycle(1);
  *r->mutable_record_time() = ToProtoTime(first.due);
  Step second = NextStep(c);
  EXPECT_EQ(second.callback, v1::CALLBACK_RESULT_DISSATISFIED);
  EXPECT_GT(second.due, first.due);
  t.set_cycle(2);  // Reopened by the dissatisfied rating; the next cycle is rated satisfied.
  Step third = NextStep(c);
  EXPECT_EQ(third.callback, v1::CALLBACK_RESULT_SATISFIED);
}

TEST(NextStepTest, OnlyAPlannedReopenFollowsTheClosure) {
  Case c = Dispatched(Handling::kPrompt, HistoryPace(), absl::Hours(87));
  c.ticket.set_state(v1::TICKET_STATE_CLOSED);
  *c.ticket.mutable_close_time() = ToProtoTime(kMonday + absl::Hours(40));
  c.plan.reopen_after_close = false;
  EXPECT_EQ(NextStep(c).kind, Step::Kind::kNone);
  c.plan.reopen_after_close = true;
  Step reopen = NextStep(c);
  EXPECT_EQ(reopen.kind, Step::Kind::kReopen);
  EXPECT_GT(reopen.due, kMonday + absl::Hours(40));
  c.reopened_by_supervisor = true;
  EXPECT_EQ(NextStep(c).kind, Step::Kind::kNone);
}

}  // namespace
}  // namespace hotline::simulator
