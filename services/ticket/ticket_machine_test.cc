// Every transition of the machine in every state a ticket can be in: either the expected event
// follows, or the refusal is FAILED_PRECONDITION naming the state that forbids it (the
// ticket's, or the work order's), or NOT_FOUND for a work order a ticket without any cannot
// have. The table is the contract's (proto/hotline/ticket/v1/ticket.proto), written out; the
// machine is pure, so it runs without store, service or clock.
#include "services/ticket/ticket_machine.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/ticket/ticket_service.h"

namespace hotline::ticket {
namespace {

// The states a ticket (and its work order) can stand in for these rules.
enum class Fixture {
  kPendingReview,
  kPendingDispatch,
  kInProgressUnsigned,
  kInProgressSigned,
  kExtensionRequested,
  kPendingRedispatch,
  kPendingCallback,
  kClosed,
  kRejected,
  kMerged,
};

const char* Name(Fixture f) {
  switch (f) {
    case Fixture::kPendingReview:
      return "pending review";
    case Fixture::kPendingDispatch:
      return "pending dispatch";
    case Fixture::kInProgressUnsigned:
      return "in progress, unsigned";
    case Fixture::kInProgressSigned:
      return "in progress, signed";
    case Fixture::kExtensionRequested:
      return "extension requested";
    case Fixture::kPendingRedispatch:
      return "pending redispatch";
    case Fixture::kPendingCallback:
      return "pending callback";
    case Fixture::kClosed:
      return "closed";
    case Fixture::kRejected:
      return "rejected";
    case Fixture::kMerged:
      return "merged";
  }
  return "?";
}

class TicketMachineTest : public ::testing::Test {
 public:
  // A new ticket, pending review (also a merge target).
  StoredTicket Created() {
    v1::CreateTicketRequest r;
    r.set_request_id(absl::StrCat("create-", ++created_));
    r.mutable_ticket()->set_kind(v1::TICKET_KIND_COMPLAINT);
    r.mutable_ticket()->set_channel(v1::CHANNEL_HOTLINE);
    r.mutable_ticket()->set_content("小区停水三天");
    absl::StatusOr<TicketChange> change =
        Machine().Create(r, absl::StrCat("T20240926-", 100000 + created_));
    EXPECT_TRUE(change.ok()) << change.status();
    return Stored(*change, StoredTicket());
  }

 protected:
  void SetUp() override {
    auto calendar = WorkingCalendar::LoadDirectory("../shared/data/holiday-cn");
    ASSERT_TRUE(calendar.ok()) << calendar.status();
    calendar_ = *calendar;
    auto config = LoadTicketConfig("deploy/config/ticket.textproto");
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *config;
  }

  TicketMachine Machine() const {
    v1::Actor actor;
    actor.set_principal("tester");
    actor.set_role(v1::ROLE_ADMIN);
    return TicketMachine(MachineEnv{now_, calendar_, &config_}, actor, "");
  }

  static StoredTicket Stored(const TicketChange& change, const StoredTicket& before) {
    StoredTicket s;
    s.ticket = change.after;
    s.last_sequence =
        change.events.empty() ? before.last_sequence : change.events.back().sequence();
    return s;
  }

  // Applies a transition that must succeed.
  StoredTicket Must(const absl::StatusOr<TicketChange>& change, const StoredTicket& before) {
    EXPECT_TRUE(change.ok()) << change.status();
    return change.ok() ? Stored(*change, before) : before;
  }

  static std::string Lead(const StoredTicket& s) {
    for (int i = s.ticket.work_orders_size() - 1; i >= 0; --i) {
      if (s.ticket.work_orders(i).role() == v1::WORK_ORDER_ROLE_LEAD) {
        return s.ticket.work_orders(i).id();
      }
    }
    return "W-none";
  }

  StoredTicket Build(Fixture f) {
    const TicketMachine m = Machine();
    StoredTicket s = Created();
    if (f == Fixture::kPendingReview) return s;
    if (f == Fixture::kRejected) {
      v1::RejectTicketRequest r;
      r.set_reason("不属于受理范围");
      return Must(m.Reject(s, r), s);
    }
    if (f == Fixture::kMerged) {
      StoredTicket target = Created();
      v1::MergeTicketRequest r;
      r.set_target_ticket_id(target.ticket.id());
      absl::StatusOr<std::vector<TicketChange>> changes = m.Merge(s, target, r);
      EXPECT_TRUE(changes.ok()) << changes.status();
      return changes.ok() ? Stored(changes->front(), s) : s;
    }
    s = Must(m.Confirm(s, v1::ConfirmTicketRequest()), s);
    if (f == Fixture::kPendingDispatch) return s;
    v1::DispatchTicketRequest dispatch;
    dispatch.mutable_lead()->set_department_id("water");
    s = Must(m.Dispatch(s, dispatch), s);
    if (f == Fixture::kInProgressUnsigned) return s;
    if (f == Fixture::kPendingRedispatch) {
      v1::ReturnWorkOrderRequest r;
      r.set_work_order_id(Lead(s));
      r.set_reason("不属于本单位职责");
      return Must(m.Return(s, r), s);
    }
    v1::SignWorkOrderRequest sign;
    sign.set_work_order_id(Lead(s));
    s = Must(m.Sign(s, sign), s);
    if (f == Fixture::kInProgressSigned) return s;
    if (f == Fixture::kExtensionRequested) {
      v1::RequestExtensionRequest r;
      r.set_work_order_id(Lead(s));
      r.set_reason("需协调施工");
      r.mutable_extension()->set_working_days(3);
      return Must(m.RequestExtension(s, r), s);
    }
    v1::ReplyWorkOrderRequest reply;
    reply.set_work_order_id(Lead(s));
    reply.set_reply_text("已恢复供水");
    s = Must(m.Reply(s, reply), s);
    if (f == Fixture::kPendingCallback) return s;
    v1::RecordCallbackRequest callback;
    callback.set_result(v1::CALLBACK_RESULT_SATISFIED);
    return Must(m.RecordCallback(s, callback), s);  // kClosed
  }

  absl::Time now_ = absl::FromCivil(absl::CivilHour(2024, 9, 26, 10), ShanghaiTimeZone());
  std::shared_ptr<const WorkingCalendar> calendar_;
  config::TicketConfig config_;
  int created_ = 0;
};

struct Transition {
  const char* name;
  // The event that must follow where the transition is allowed.
  v1::EventType event;
  // Where it is allowed.
  std::set<Fixture> allowed;
  std::function<absl::StatusOr<TicketChange>(TicketMachineTest*, const TicketMachine&,
                                             const StoredTicket&, const std::string& lead)>
      apply;
};

TEST_F(TicketMachineTest, EveryTransitionInEveryStateFollowsTheContract) {
  using F = Fixture;
  const std::set<F> open = {F::kPendingReview,    F::kPendingDispatch,    F::kInProgressUnsigned,
                            F::kInProgressSigned, F::kExtensionRequested, F::kPendingRedispatch,
                            F::kPendingCallback};
  std::set<F> closable = open;
  closable.erase(F::kPendingReview);
  const std::vector<Transition> transitions = {
      {"ConfirmTicket",
       v1::EVENT_TYPE_TICKET_CONFIRMED,
       {F::kPendingReview},
       [](auto*, const TicketMachine& m, const StoredTicket& s, const std::string&) {
         return m.Confirm(s, v1::ConfirmTicketRequest());
       }},
      {"RejectTicket",
       v1::EVENT_TYPE_TICKET_REJECTED,
       {F::kPendingReview},
       [](auto*, const TicketMachine& m, const StoredTicket& s, const std::string&) {
         v1::RejectTicketRequest r;
         r.set_reason("不属于受理范围");
         return m.Reject(s, r);
       }},
      {"MergeTicket",
       v1::EVENT_TYPE_TICKET_MERGED,
       {F::kPendingReview},
       [](TicketMachineTest* t, const TicketMachine& m, const StoredTicket& s,
          const std::string&) -> absl::StatusOr<TicketChange> {
         StoredTicket target = t->Created();
         v1::MergeTicketRequest r;
         r.set_target_ticket_id(target.ticket.id());
         absl::StatusOr<std::vector<TicketChange>> changes = m.Merge(s, target, r);
         if (!changes.ok()) return changes.status();
         return changes->front();
       }},
      {"DispatchTicket",
       v1::EVENT_TYPE_WORK_ORDER_DISPATCHED,
       {F::kPendingDispatch},
       [](auto*, const TicketMachine& m, const StoredTicket& s, const std::string&) {
         v1::DispatchTicketRequest r;
         r.mutable_lead()->set_department_id("hrss");
         return m.Dispatch(s, r);
       }},
      {"AddSupplement",
       v1::EVENT_TYPE_SUPPLEMENT_ADDED,
       {F::kInProgressUnsigned, F::kInProgressSigned, F::kExtensionRequested,
        F::kPendingRedispatch},
       [](auto*, const TicketMachine& m, const StoredTicket& s, const std::string&) {
         v1::AddSupplementRequest r;
         r.set_text("市民补充：水表编号 0312");
         return m.AddSupplement(s, r);
       }},
      {"RedispatchWorkOrder",
       v1::EVENT_TYPE_WORK_ORDER_REDISPATCHED,
       {F::kPendingRedispatch},
       [](auto*, const TicketMachine& m, const StoredTicket& s, const std::string& lead) {
         v1::RedispatchWorkOrderRequest r;
         r.set_work_order_id(lead);
         r.mutable_assignment()->set_department_id("hrss");
         return m.Redispatch(s, r);
       }},
      {"RefuseReturn",
       v1::EVENT_TYPE_RETURN_REFUSED,
       {F::kPendingRedispatch},
       [](auto*, const TicketMachine& m, const StoredTicket& s, const std::string& lead) {
         v1::RefuseReturnRequest r;
         r.set_work_order_id(lead);
         r.set_reason("属于本单位职责");
         return m.RefuseReturn(s, r);
       }},
      {"SignWorkOrder",
       v1::EVENT_TYPE_WORK_ORDER_SIGNED,
       {F::kInProgressUnsigned},
       [](auto*, const TicketMachine& m, const StoredTicket& s, const std::string& lead) {
         v1::SignWorkOrderRequest r;
         r.set_work_order_id(lead);
         return m.Sign(s, r);
       }},
      {"ReturnWorkOrder",
       v1::EVENT_TYPE_WORK_ORDER_RETURNED,
       {F::kInProgressUnsigned, F::kInProgressSigned, F::kExtensionRequested},
       [](auto*, const TicketMachine& m, const StoredTicket& s, const std::string& lead) {
         v1::ReturnWorkOrderRequest r;
         r.set_work_order_id(lead);
         r.set_reason("不属于本单位职责");
         return m.Return(s, r);
       }},
      {"AddProgressNote",
       v1::EVENT_TYPE_PROGRESS_NOTE_ADDED,
       {F::kInProgressSigned, F::kExtensionRequested},
       [](auto*, const TicketMachine& m, const StoredTicket& s, const std::string& lead) {
         v1::AddProgressNoteRequest r;
         r.set_work_order_id(lead);
         r.set_text("已派员到现场");
         return m.AddNote(s, r);
       }},
      {"RequestExtension",
       v1::EVENT_TYPE_EXTENSION_REQUESTED,
       {F::kInProgressSigned},
       [](auto*, const TicketMachine& m, const StoredTicket& s, const std::string& lead) {
         v1::RequestExtensionRequest r;
         r.set_work_order_id(lead);
         r.set_reason("需协调施工");
         r.mutable_extension()->set_working_days(3);
         return m.RequestExtension(s, r);
       }},
      {"DecideExtension",
       v1::EVENT_TYPE_EXTENSION_APPROVED,
       {F::kExtensionRequested},
       [](auto*, const TicketMachine& m, const StoredTicket& s, const std::string& lead) {
         v1::DecideExtensionRequest r;
         r.set_work_order_id(lead);
         r.set_decision(v1::EXTENSION_DECISION_APPROVE);
         return m.DecideExtension(s, r);
       }},
      {"UrgeTicket", v1::EVENT_TYPE_URGED, open,
       [](auto*, const TicketMachine& m, const StoredTicket& s, const std::string&) {
         v1::UrgeTicketRequest r;
         r.set_message("请加快办理");
         return m.Urge(s, r);
       }},
      {"ReplyWorkOrder",
       v1::EVENT_TYPE_WORK_ORDER_REPLIED,
       {F::kInProgressSigned, F::kExtensionRequested},
       [](auto*, const TicketMachine& m, const StoredTicket& s, const std::string& lead) {
         v1::ReplyWorkOrderRequest r;
         r.set_work_order_id(lead);
         r.set_reply_text("已处理完毕");
         return m.Reply(s, r);
       }},
      {"RecordCallback",
       v1::EVENT_TYPE_CALLBACK_RECORDED,
       {F::kPendingCallback},
       [](auto*, const TicketMachine& m, const StoredTicket& s, const std::string&) {
         v1::RecordCallbackRequest r;
         r.set_result(v1::CALLBACK_RESULT_SATISFIED);
         return m.RecordCallback(s, r);
       }},
      {"CloseTicket", v1::EVENT_TYPE_TICKET_CLOSED, closable,
       [](auto*, const TicketMachine& m, const StoredTicket& s, const std::string&) {
         v1::CloseTicketRequest r;
         r.set_reason("市民撤回诉求");
         return m.Close(s, r);
       }},
      {"ReopenTicket",
       v1::EVENT_TYPE_TICKET_REOPENED,
       {F::kPendingCallback, F::kClosed},
       [](auto*, const TicketMachine& m, const StoredTicket& s, const std::string&) {
         v1::ReopenTicketRequest r;
         r.set_reason("市民再次来电");
         return m.Reopen(s, r);
       }},
  };
  const std::vector<F> fixtures = {F::kPendingReview,      F::kPendingDispatch,
                                   F::kInProgressUnsigned, F::kInProgressSigned,
                                   F::kExtensionRequested, F::kPendingRedispatch,
                                   F::kPendingCallback,    F::kClosed,
                                   F::kRejected,           F::kMerged};
  int checked = 0;
  for (F f : fixtures) {
    const StoredTicket s = Build(f);
    const std::string lead = Lead(s);
    const bool has_work_order = lead != "W-none";
    for (const Transition& t : transitions) {
      SCOPED_TRACE(absl::StrCat(t.name, " on a ticket ", Name(f), " (",
                                v1::TicketState_Name(s.ticket.state()), ")"));
      ++checked;
      absl::StatusOr<TicketChange> change = t.apply(this, Machine(), s, lead);
      if (t.allowed.count(f) > 0) {
        ASSERT_TRUE(change.ok()) << change.status();
        bool found = false;
        for (const v1::TicketEvent& e : change->events) found |= e.type() == t.event;
        EXPECT_TRUE(found) << "no " << v1::EventType_Name(t.event);
        EXPECT_EQ(change->after.version(), s.ticket.version() + 1);
        // Events continue the ticket's own sequence without a gap.
        EXPECT_EQ(change->events.front().sequence(), s.last_sequence + 1);
        continue;
      }
      ASSERT_FALSE(change.ok()) << "allowed, but the contract forbids it";
      const std::string message(change.status().message());
      if (!has_work_order && change.status().code() == absl::StatusCode::kNotFound) {
        EXPECT_NE(message.find("not found"), std::string::npos) << message;
        continue;
      }
      EXPECT_EQ(change.status().code(), absl::StatusCode::kFailedPrecondition) << message;
      EXPECT_TRUE(absl::StrContains(message, "TICKET_STATE_") ||
                  absl::StrContains(message, "WORK_ORDER_STATE_") ||
                  absl::StrContains(message, "EXTENSION_STATE_") ||
                  absl::StrContains(message, "no work order of cycle"))
          << "does not name the state: " << message;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(fixtures.size() * transitions.size()));
}

TEST_F(TicketMachineTest, ASupplementReachesEveryDepartmentHandlingTheTicketAndChangesNoState) {
  const TicketMachine m = Machine();
  StoredTicket s = Created();
  s = Must(m.Confirm(s, v1::ConfirmTicketRequest()), s);
  v1::DispatchTicketRequest dispatch;
  dispatch.mutable_lead()->set_department_id("water");
  dispatch.add_assists()->set_department_id("housing");
  s = Must(m.Dispatch(s, dispatch), s);

  v1::AddSupplementRequest r;
  r.set_text("市民补充：停水的是 3 号楼，水表编号 0312");
  absl::StatusOr<TicketChange> change = m.AddSupplement(s, r);
  ASSERT_TRUE(change.ok()) << change.status();
  ASSERT_EQ(change->events.size(), 1u);
  const v1::TicketEvent& e = change->events[0];
  EXPECT_EQ(e.type(), v1::EVENT_TYPE_SUPPLEMENT_ADDED);
  EXPECT_EQ(e.supplement().text(), r.text());
  EXPECT_EQ(std::set<std::string>(e.department_ids().begin(), e.department_ids().end()),
            (std::set<std::string>{"water", "housing"}));
  EXPECT_EQ(change->after.state(), s.ticket.state());
  EXPECT_EQ(change->after.version(), s.ticket.version() + 1);
  ASSERT_EQ(change->after.supplements_size(), 1);
  EXPECT_EQ(change->after.supplements(0).text(), r.text());
  EXPECT_EQ(change->after.supplements(0).principal(), "tester");

  r.set_text("  ");
  EXPECT_EQ(m.AddSupplement(s, r).status().message(), "text: must not be empty");
  r.set_text(std::string(2001, 'x'));
  EXPECT_EQ(m.AddSupplement(s, r).status().message(), "text: longer than 2000 characters");
}

}  // namespace
}  // namespace hotline::ticket
