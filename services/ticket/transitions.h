// Every update transition of a ticket and every event type, each described once: the rpc and
// the TicketMachine member that applies it, who may call it, the states it starts from, how
// people invoke it (hotlinectl's command and flags, the consoles' route), and each event's
// name and label. From here come the service's handlers (ticket_service.h), the machine's
// declarations and state checks (ticket_machine.h), hotlinectl's ticket commands, the
// gateway's action routes, replay's folding of events and the labels of the CLI and the web
// (served as /ticket_vocabulary.js). transitions_test.cc checks the table against the proto.
//
// Adding a transition touches four files: its rpc and messages in ticket.proto, its rule in
// the machine's file of its stage (ticket_machine.cc for intake, review and dispatch,
// ticket_machine_handling.cc for the departments, ticket_machine_closure.cc for supervision,
// callbacks and closure), its test in ticket_machine_test.cc, and its lines here (one in
// HOTLINE_TICKET_UPDATES, one in Transitions(), one in Events() per new event type).
#ifndef HOTLINE_SERVICES_TICKET_TRANSITIONS_H_
#define HOTLINE_SERVICES_TICKET_TRANSITIONS_H_

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "common/auth.h"
#include "hotline/ticket/v1/ticket.pb.h"

// X(Rpc, Method, TARGET) for every update rpc that changes one ticket. Rpc takes
// v1::Rpc##Request and returns the Ticket; TicketMachine::Method(const StoredTicket&,
// const v1::Rpc##Request&) applies it; TARGET is TICKET, or WORK_ORDER when the request names
// one of the ticket's work orders in `work_order_id` (departments may act only on their own).
// MergeTicket, which changes two tickets, has a handler of its own and is only in
// Transitions().
#define HOTLINE_TICKET_UPDATES(X)                   \
  X(ConfirmTicket, Confirm, TICKET)                 \
  X(RejectTicket, Reject, TICKET)                   \
  X(DispatchTicket, Dispatch, TICKET)               \
  X(AddSupplement, AddSupplement, TICKET)           \
  X(RedispatchWorkOrder, Redispatch, WORK_ORDER)    \
  X(RefuseReturn, RefuseReturn, WORK_ORDER)         \
  X(SignWorkOrder, Sign, WORK_ORDER)                \
  X(ReturnWorkOrder, Return, WORK_ORDER)            \
  X(AddProgressNote, AddNote, WORK_ORDER)           \
  X(RequestExtension, RequestExtension, WORK_ORDER) \
  X(ReplyWorkOrder, Reply, WORK_ORDER)              \
  X(DecideExtension, DecideExtension, WORK_ORDER)   \
  X(UrgeTicket, Urge, TICKET)                       \
  X(RecordCallback, RecordCallback, TICKET)         \
  X(CloseTicket, Close, TICKET)                     \
  X(ReopenTicket, Reopen, TICKET)

namespace hotline::ticket {

// Where `hotlinectl ticket help` lists a command.
enum class CliSection { kIntake, kDispatch, kHandling, kSupervision, kClosure };
// How the request's `reason` is given (--reason).
enum class ReasonUse { kNone, kOptional, kRequired };

// A hotlinectl flag whose text goes as typed into a string field of the request.
struct TextFlag {
  const char* flag;
  const char* field;
  bool required;
};

struct TransitionSpec {
  const char* rpc = nullptr;
  // Who may call it; admin always may.
  std::vector<Role> roles;
  // The ticket states it starts from; empty when only the work order's state matters.
  std::vector<v1::TicketState> ticket_states;
  // For a request naming a work order: the states that work order may be in; empty when the
  // machine decides (e.g. by the extension's state).
  std::vector<v1::WorkOrderState> work_order_states;
  bool names_work_order = false;
  ReasonUse reason = ReasonUse::kNone;
  // How hotline staff call it: the CLI's help, the consoles' audit trail.
  const char* label = nullptr;
  // hotlinectl: `hotlinectl ticket COMMAND SYNOPSIS`, listed under `section`.
  const char* command = nullptr;
  const char* synopsis = "ID";
  const char* summary = "";
  CliSection section = CliSection::kIntake;
  // Flags it reads besides --work_order, --reason, --version and --request_id; those of
  // `text_flags` are filled generically, the others by the command's own code in hotlinectl.
  std::vector<std::string> flags;
  std::vector<TextFlag> text_flags;
  // The consoles' POST /api/tickets/ID/ROUTE taking the request as proto JSON; nullptr when
  // the gateway has a handler of its own or the consoles do not offer it.
  const char* console_route = nullptr;
};

// Builds a row of Transitions() with the fields named.
class TransitionRow {
 public:
  TransitionRow(const char* rpc, const char* label) {
    spec_.rpc = rpc;
    spec_.label = label;
  }
  TransitionRow& Roles(std::vector<Role> roles) {
    spec_.roles = std::move(roles);
    return *this;
  }
  TransitionRow& FromTicket(std::vector<v1::TicketState> states) {
    spec_.ticket_states = std::move(states);
    return *this;
  }
  // The request names a work order; `states` are those it may be in (empty: the machine
  // decides).
  TransitionRow& OnWorkOrder(std::vector<v1::WorkOrderState> states = {}) {
    spec_.names_work_order = true;
    spec_.work_order_states = std::move(states);
    return *this;
  }
  TransitionRow& Reason(ReasonUse use) {
    spec_.reason = use;
    return *this;
  }
  TransitionRow& Command(const char* command, CliSection section, const char* synopsis,
                         const char* summary) {
    spec_.command = command;
    spec_.section = section;
    spec_.synopsis = synopsis;
    spec_.summary = summary;
    return *this;
  }
  TransitionRow& Flags(std::vector<std::string> flags) {
    spec_.flags = std::move(flags);
    return *this;
  }
  // --flag's text goes into `field`; `required`: the command refuses to run without it.
  TransitionRow& Text(const char* flag, const char* field, bool required = true) {
    spec_.text_flags.push_back({flag, field, required});
    if (std::find(spec_.flags.begin(), spec_.flags.end(), flag) == spec_.flags.end()) {
      spec_.flags.push_back(flag);
    }
    return *this;
  }
  TransitionRow& Route(const char* route) {
    spec_.console_route = route;
    return *this;
  }
  operator TransitionSpec() const { return spec_; }

 private:
  TransitionSpec spec_;
};

inline const std::vector<TransitionSpec>& Transitions() {
  using R = Role;
  namespace s = v1;
  using Row = TransitionRow;
  static const auto* const kTable = new std::vector<TransitionSpec>{
      // ---- Intake and review
      Row("ConfirmTicket", "审核确认")
          .Roles({R::kReviewer})
          .FromTicket({s::TICKET_STATE_PENDING_REVIEW})
          .Command("confirm", CliSection::kIntake, "ID [--kind=K] [--urgency=U] [--category=A/B]",
                   "confirm after review (审核确认), correcting kind, urgency or category")
          .Flags({"kind", "urgency", "category"})
          .Route("confirm"),
      Row("RejectTicket", "不予受理")
          .Roles({R::kReviewer})
          .FromTicket({s::TICKET_STATE_PENDING_REVIEW})
          .Reason(ReasonUse::kRequired)
          .Command("reject", CliSection::kIntake, "ID --reason=TEXT", "reject at review (不予受理)")
          .Route("reject"),
      Row("MergeTicket", "并单")
          .Roles({R::kReviewer})
          .FromTicket({s::TICKET_STATE_PENDING_REVIEW})
          .Reason(ReasonUse::kOptional)
          .Command("merge", CliSection::kIntake, "ID --into=TICKET [--reason=TEXT]",
                   "merge duplicate ID into the ticket of the same matter (并单)")
          .Text("into", "target_ticket_id")
          .Route("merge"),
      // ---- Dispatch and re-routing
      Row("DispatchTicket", "派单")
          .Roles({R::kReviewer})
          .FromTicket({s::TICKET_STATE_PENDING_DISPATCH})
          .Command("dispatch", CliSection::kDispatch,
                   "ID --lead=DEPT [--lead_days=N | --lead_hours=N | --lead_deadline=TIME] "
                   "[--assist=DEPT[:LIMIT]]... [--instructions=TEXT]",
                   "dispatch to a lead and assisting departments (派单)")
          .Flags({"lead", "lead_days", "lead_hours", "lead_deadline", "assist"})
          .Text("instructions", "instructions", /*required=*/false)
          .Route("dispatch"),
      Row("AddSupplement", "补充说明")
          .Roles({R::kReviewer})
          .FromTicket({s::TICKET_STATE_IN_PROGRESS, s::TICKET_STATE_PENDING_REDISPATCH})
          .Command("supplement", CliSection::kDispatch, "ID --text=TEXT",
                   "add a supplementary note for the departments handling it (补充说明)")
          .Text("text", "text")
          .Route("supplement"),
      Row("RedispatchWorkOrder", "改派")
          .Roles({R::kReviewer})
          .OnWorkOrder({s::WORK_ORDER_STATE_RETURNED})
          .Command("redispatch", CliSection::kDispatch,
                   "ID --work_order=W (--to=DEPT [--days=N | --hours=N | --deadline=TIME] | "
                   "--withdraw) [--instructions=TEXT]",
                   "re-route a returned work order, or withdraw an assisting one (改派)")
          .Flags({"to", "days", "hours", "deadline", "withdraw"})
          .Text("instructions", "instructions", /*required=*/false)
          .Route("redispatch"),
      Row("RefuseReturn", "不同意退单")
          .Roles({R::kReviewer})
          .OnWorkOrder({s::WORK_ORDER_STATE_RETURNED})
          .Reason(ReasonUse::kRequired)
          .Command("refuse-return", CliSection::kDispatch, "ID --work_order=W --reason=TEXT",
                   "refuse a return: the work order was routed correctly (退单不予认可)")
          .Route("refuse-return"),
      // ---- Handling (departments)
      Row("SignWorkOrder", "签收")
          .Roles({R::kDepartment})
          .OnWorkOrder({s::WORK_ORDER_STATE_PENDING_SIGN})
          .Command("sign", CliSection::kHandling, "ID --work_order=W",
                   "sign for a work order (签收)")
          .Route("sign"),
      Row("ReturnWorkOrder", "退单")
          .Roles({R::kDepartment})
          .OnWorkOrder({s::WORK_ORDER_STATE_PENDING_SIGN, s::WORK_ORDER_STATE_SIGNED})
          .Reason(ReasonUse::kRequired)
          .Command("return", CliSection::kHandling, "ID --work_order=W --reason=TEXT",
                   "return a misrouted work order within the return window (退单)")
          .Route("return"),
      Row("AddProgressNote", "办理进展")
          .Roles({R::kDepartment})
          .OnWorkOrder({s::WORK_ORDER_STATE_SIGNED})
          .Command("note", CliSection::kHandling, "ID --work_order=W --text=TEXT",
                   "add a progress note (办理进展)")
          .Text("text", "text")
          .Route("note"),
      Row("RequestExtension", "申请延期")
          .Roles({R::kDepartment})
          .OnWorkOrder({s::WORK_ORDER_STATE_SIGNED})
          .Reason(ReasonUse::kRequired)
          .Command("extend", CliSection::kHandling,
                   "ID --work_order=W (--days=N | --hours=N | --deadline=TIME) --reason=TEXT",
                   "request the work order's one extension (延期申请)")
          .Flags({"days", "hours", "deadline"})
          .Route("extension"),
      Row("ReplyWorkOrder", "答复")
          .Roles({R::kDepartment})
          .OnWorkOrder({s::WORK_ORDER_STATE_SIGNED})
          .Command("reply", CliSection::kHandling, "ID --work_order=W --text=TEXT",
                   "reply with the handling result, completing the work order (答复/办结)")
          .Text("text", "reply_text")
          .Route("reply"),
      // ---- Supervision (the gateway's own handlers take the consoles' simpler bodies)
      Row("DecideExtension", "延期审批")
          .Roles({R::kSupervisor})
          .OnWorkOrder()  // By the extension's state, REQUESTED.
          .Reason(ReasonUse::kOptional)
          .Command("decide-extension", CliSection::kSupervision,
                   "ID --work_order=W (--approve [--days=N | --hours=N | --deadline=TIME] | "
                   "--refuse) [--reason=TEXT]",
                   "approve or refuse a requested extension (延期审批)")
          .Flags({"approve", "refuse", "days", "hours", "deadline"}),
      Row("UrgeTicket", "督办")
          .Roles({R::kSupervisor})
          .FromTicket({s::TICKET_STATE_PENDING_REVIEW, s::TICKET_STATE_PENDING_DISPATCH,
                       s::TICKET_STATE_IN_PROGRESS, s::TICKET_STATE_PENDING_REDISPATCH,
                       s::TICKET_STATE_PENDING_CALLBACK})
          .Command("urge", CliSection::kSupervision, "ID --message=TEXT [--work_order=W]...",
                   "issue an urging notice (督办/催办), by default to every open work order")
          .Flags({"work_order"})
          .Text("message", "message"),
      // ---- Callback and closure
      Row("RecordCallback", "回访")
          .Roles({R::kAgent, R::kCallback, R::kSupervisor})
          .FromTicket({s::TICKET_STATE_PENDING_CALLBACK})
          .Command("callback", CliSection::kClosure, "ID --result=R [--comment=TEXT]",
                   "record a callback (回访): satisfied closes, dissatisfied reopens")
          .Flags({"result"})
          .Text("comment", "comment", /*required=*/false)
          .Route("callback"),
      Row("CloseTicket", "办结")
          .Roles({R::kSupervisor})
          .FromTicket({s::TICKET_STATE_PENDING_DISPATCH, s::TICKET_STATE_IN_PROGRESS,
                       s::TICKET_STATE_PENDING_REDISPATCH, s::TICKET_STATE_PENDING_CALLBACK})
          .Reason(ReasonUse::kRequired)
          .Command("close", CliSection::kClosure, "ID --reason=TEXT",
                   "close by decision, cancelling open work orders"),
      Row("ReopenTicket", "重办")
          .Roles({R::kSupervisor})
          .FromTicket({s::TICKET_STATE_PENDING_CALLBACK, s::TICKET_STATE_CLOSED})
          .Reason(ReasonUse::kRequired)
          .Command("reopen", CliSection::kClosure,
                   "ID --reason=TEXT [--lead=DEPT [--lead_days=N | --lead_hours=N | "
                   "--lead_deadline=TIME] [--assist=DEPT[:LIMIT]]...]",
                   "reopen for a new cycle (重办), by default with the same departments")
          .Flags({"lead", "lead_days", "lead_hours", "lead_deadline", "assist"}),
  };
  return *kTable;
}

// What replay (replay.h) makes of an event of this type by its type alone. Events whose
// effect depends on their details (creation, dispatch, a refused return, reopening) are
// folded by replay itself.
struct EventSpec {
  v1::EventType type;
  const char* name;   // hotlinectl's column and --json name: "note".
  const char* label;  // How hotline staff call it, in the CLI's text and the consoles.
  v1::TicketState sets_ticket_state;         // UNSPECIFIED: leaves it.
  v1::WorkOrderState sets_work_order_state;  // UNSPECIFIED: leaves it.
};

inline const std::vector<EventSpec>& Events() {
  namespace s = v1;
  constexpr s::TicketState kKeep = s::TICKET_STATE_UNSPECIFIED;
  constexpr s::WorkOrderState kSame = s::WORK_ORDER_STATE_UNSPECIFIED;
  static const auto* const kTable = new std::vector<EventSpec>{
      {s::EVENT_TYPE_TICKET_CREATED, "created", "受理登记", kKeep, kSame},
      {s::EVENT_TYPE_TICKET_CONFIRMED, "confirmed", "审核确认", s::TICKET_STATE_PENDING_DISPATCH,
       kSame},
      {s::EVENT_TYPE_TICKET_REJECTED, "rejected", "不予受理", s::TICKET_STATE_REJECTED, kSame},
      {s::EVENT_TYPE_TICKET_MERGED, "merged", "并入其他工单", s::TICKET_STATE_MERGED, kSame},
      {s::EVENT_TYPE_DUPLICATE_ATTACHED, "duplicate-attached", "合并重复诉求", kKeep, kSame},
      {s::EVENT_TYPE_WORK_ORDER_DISPATCHED, "dispatched", "派单", kKeep, kSame},
      {s::EVENT_TYPE_SUPPLEMENT_ADDED, "supplement", "补充说明", kKeep, kSame},
      {s::EVENT_TYPE_WORK_ORDER_SIGNED, "signed", "签收", kKeep, s::WORK_ORDER_STATE_SIGNED},
      {s::EVENT_TYPE_WORK_ORDER_RETURNED, "returned", "申请退单", kKeep,
       s::WORK_ORDER_STATE_RETURNED},
      {s::EVENT_TYPE_WORK_ORDER_REDISPATCHED, "redispatched", "改派", kKeep,
       s::WORK_ORDER_STATE_REDISPATCHED},
      {s::EVENT_TYPE_RETURN_REFUSED, "return-refused", "退单不予认可", kKeep, kSame},
      {s::EVENT_TYPE_WORK_ORDER_CANCELLED, "cancelled", "工作单取消", kKeep,
       s::WORK_ORDER_STATE_CANCELLED},
      {s::EVENT_TYPE_PROGRESS_NOTE_ADDED, "note", "办理进展", kKeep, kSame},
      {s::EVENT_TYPE_EXTENSION_REQUESTED, "extension-requested", "申请延期", kKeep, kSame},
      {s::EVENT_TYPE_EXTENSION_APPROVED, "extension-approved", "同意延期", kKeep, kSame},
      {s::EVENT_TYPE_EXTENSION_REFUSED, "extension-refused", "不同意延期", kKeep, kSame},
      {s::EVENT_TYPE_EXTENSION_WITHDRAWN, "extension-withdrawn", "撤回延期申请", kKeep, kSame},
      {s::EVENT_TYPE_URGED, "urged", "督办", kKeep, kSame},
      {s::EVENT_TYPE_YELLOW_WARNING, "yellow-warning", "黄牌预警", kKeep, kSame},
      {s::EVENT_TYPE_RED_WARNING, "red-warning", "红牌超期", kKeep, kSame},
      {s::EVENT_TYPE_WORK_ORDER_REPLIED, "replied", "答复", kKeep, s::WORK_ORDER_STATE_REPLIED},
      {s::EVENT_TYPE_CALLBACK_RECORDED, "callback", "回访", kKeep, kSame},
      {s::EVENT_TYPE_TICKET_CLOSED, "closed", "办结归档", s::TICKET_STATE_CLOSED, kSame},
      {s::EVENT_TYPE_TICKET_REOPENED, "reopened", "重办", kKeep, kSame},
      {s::EVENT_TYPE_TICKET_ANSWERED_DIRECTLY, "answered-directly", "当场答复",
       s::TICKET_STATE_CLOSED, kSame},
  };
  return *kTable;
}

// The transition of an rpc or a hotlinectl command; nullptr when there is none.
const TransitionSpec* TransitionForRpc(absl::string_view rpc);
const TransitionSpec* TransitionForCommand(absl::string_view command);
// The event type's description; nullptr for UNSPECIFIED or a type newer than this build.
const EventSpec* EventFor(v1::EventType type);

// FAILED_PRECONDITION unless the transition may start from the ticket's state, or from the
// named work order's state: "ticket T-1 is in state TICKET_STATE_CLOSED; ConfirmTicket
// requires TICKET_STATE_PENDING_REVIEW".
absl::Status CheckTicketState(const TransitionSpec& spec, const v1::Ticket& ticket);
absl::Status CheckWorkOrderState(const TransitionSpec& spec, const v1::WorkOrder& work_order);

// "reviewer", "department (its own work orders)", "agent, callback, supervisor".
std::string RolesText(const TransitionSpec& spec);

// The labels the consoles show, as a script defining HOTLINE_TICKET_VOCABULARY: event
// labels by proto name, and each console route's label by route.
std::string VocabularyScript();

}  // namespace hotline::ticket

#endif  // HOTLINE_SERVICES_TICKET_TRANSITIONS_H_
