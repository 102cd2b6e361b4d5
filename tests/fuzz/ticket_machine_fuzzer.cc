// The ticket state machine (services/ticket/ticket_machine.h) driven by the fuzzer's bytes: a
// sequence of transitions on two tickets (so that merging has a target), each with parameters
// chosen from the bytes, while the clock moves on by chosen steps. Requests get what the service
// does before it calls the machine (CheckWellFormed, a ticket loaded from its own history). After
// each step:
//   - a refusal is INVALID_ARGUMENT, FAILED_PRECONDITION or NOT_FOUND with a message;
//   - an accepted change starts from the stored ticket, bumps the version by one, continues the
//     ticket's event sequence without a gap and stamps every event with the new version, state
//     and cycle; ticket and events stay well formed (what the service could store and print);
//   - replaying the ticket's accumulated events (replay.h) gives the stored ticket's state,
//     version, cycle and work orders, as the crash checker demands.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/proto_checks.h"
#include "common/proto_time.h"
#include "services/ticket/replay.h"
#include "services/ticket/ticket_machine.h"
#include "services/ticket/ticket_service.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

namespace ticket = hotline::ticket;
namespace v1 = hotline::ticket::v1;
using hotline::fuzz::ByteReader;

struct Environment {
  std::shared_ptr<const ticket::WorkingCalendar> calendar;
  ticket::config::TicketConfig config;
  std::vector<std::string> departments;
};

const Environment& SharedEnvironment() {
  static const Environment* const env = [] {
    auto* e = new Environment();
    auto calendar =
        ticket::WorkingCalendar::LoadDirectory(hotline::fuzz::SharedDataPath("holiday-cn"));
    if (!calendar.ok()) hotline::fuzz::SetupFailed(calendar.status().ToString());
    e->calendar = *calendar;
    auto config =
        ticket::LoadTicketConfig(hotline::fuzz::SourcePath("deploy/config/ticket.textproto"));
    if (!config.ok()) hotline::fuzz::SetupFailed(config.status().ToString());
    e->config = *config;
    for (const auto& d : e->config.departments()) e->departments.push_back(d.id());
    return e;
  }();
  return *env;
}

// One ticket as the store would hold it, with every event it ever got.
struct Slot {
  std::optional<ticket::StoredTicket> stored;
  std::vector<v1::TicketEvent> history;
};

class Scenario {
 public:
  explicit Scenario(ByteReader* in)
      : in_(*in),
        env_(SharedEnvironment()),
        now_(absl::FromCivil(absl::CivilHour(2024, 9, 26, 10), ticket::ShanghaiTimeZone())) {}

  void Run() {
    for (int step = 0; step < 48 && !in_.empty(); ++step) Step();
  }

 private:
  // ---- Parameters from the bytes ----------------------------------------------------------

  void AdvanceClock() {
    static const absl::Duration kSteps[] = {
        absl::ZeroDuration(), absl::Minutes(1),    absl::Hours(1),      absl::Hours(5),
        absl::Hours(20),      absl::Hours(24 * 3), absl::Hours(24 * 9), absl::Hours(24 * 40)};
    now_ += kSteps[in_.Byte() % 8];
  }

  std::string Text() {
    static const std::vector<std::string> kTexts = {"",
                                                    "   ",
                                                    "不属于本单位职责",
                                                    "已派员到现场处理",
                                                    "市民来电反映小区停水三天",
                                                    "需协调施工单位",
                                                    std::string(1001, 'x'),
                                                    "请加快办理"};
    const uint8_t choice = in_.Byte();
    if (choice >= 0xF0) return hotline::fuzz::ValidUtf8Only(in_.Chunk(40));
    return kTexts[choice % kTexts.size()];
  }

  std::string Department() {
    const uint8_t choice = in_.Byte();
    if (choice == 0xFF) return "";
    if (choice == 0xFE) return "no-such-department";
    return env_.departments[choice % env_.departments.size()];
  }

  v1::TimeLimit Limit() {
    v1::TimeLimit limit;
    const uint8_t choice = in_.Byte();
    static const int kDays[] = {-1, 0, 1, 3, 15, 60, 61, 2};
    static const int kHours[] = {0, 1, 2, 24, 72, 720, 721, -5};
    static const absl::Duration kAhead[] = {
        -absl::Hours(1),       absl::ZeroDuration(), absl::Hours(1),   absl::Hours(24 * 30),
        absl::Hours(24 * 400), absl::Hours(30),      absl::Minutes(5), absl::Hours(24 * 365)};
    switch (choice % 4) {
      case 0:
        break;  // Not set: the configured default.
      case 1:
        limit.set_working_days(kDays[(choice >> 2) % 8]);
        break;
      case 2:
        limit.set_hours(kHours[(choice >> 2) % 8]);
        break;
      case 3:
        *limit.mutable_deadline() = hotline::ToProtoTime(now_ + kAhead[(choice >> 2) % 8]);
        break;
    }
    return limit;
  }

  v1::DepartmentAssignment Assignment() {
    v1::DepartmentAssignment a;
    a.set_department_id(Department());
    *a.mutable_time_limit() = Limit();
    if (a.time_limit().limit_case() == v1::TimeLimit::LIMIT_NOT_SET) a.clear_time_limit();
    return a;
  }

  // A work order of the ticket, or an id it does not have.
  std::string WorkOrder(const Slot& s) {
    const uint8_t choice = in_.Byte();
    const int count = s.stored ? s.stored->ticket.work_orders_size() : 0;
    if (choice >= 0xF8 || count == 0) return choice & 1 ? "" : "T-unknown-W9";
    return s.stored->ticket.work_orders((count - 1 - choice % count)).id();
  }

  template <typename Enum>
  Enum EnumValue(int count) {
    return static_cast<Enum>(in_.Byte() % count);
  }

  v1::Actor ActorFor(v1::Role role, const std::string& department = "") {
    v1::Actor actor;
    actor.set_role(role);
    actor.set_principal(absl::StrCat(v1::Role_Name(role), "-fuzz"));
    actor.set_department_id(department);
    return actor;
  }

  ticket::TicketMachine Machine(v1::Role role, const std::string& department = "") {
    const bool with_id = in_.Bit();
    return ticket::TicketMachine(ticket::MachineEnv{now_, env_.calendar, &env_.config},
                                 ActorFor(role, department),
                                 with_id ? absl::StrCat("req-", ++requests_) : std::string());
  }

  // ---- Checks -----------------------------------------------------------------------------

  static void CheckRefusal(const absl::Status& status, const char* rpc) {
    FUZZ_CHECK(absl::IsInvalidArgument(status) || absl::IsFailedPrecondition(status) ||
               absl::IsNotFound(status))
        << rpc << " refused with " << status;
    FUZZ_CHECK(!status.message().empty()) << rpc << " refused without a message";
  }

  void Accept(Slot& slot, const ticket::TicketChange& change, const char* rpc) {
    const v1::Ticket& after = change.after;
    if (slot.stored) {
      FUZZ_CHECK(change.before.SerializeAsString() == slot.stored->ticket.SerializeAsString())
          << rpc << ": the change does not start from the stored ticket";
    }
    if (change.events.empty()) {
      FUZZ_CHECK(after.SerializeAsString() == change.before.SerializeAsString())
          << rpc << ": the ticket changed without an event";
      return;
    }
    const int64_t last = slot.stored ? slot.stored->last_sequence : 0;
    const int64_t version = slot.stored ? slot.stored->ticket.version() : 0;
    FUZZ_CHECK(after.version() == version + 1)
        << rpc << ": version " << version << " became " << after.version();
    for (size_t i = 0; i < change.events.size(); ++i) {
      const v1::TicketEvent& e = change.events[i];
      FUZZ_CHECK(e.sequence() == last + 1 + static_cast<int64_t>(i))
          << rpc << ": event " << i << " has sequence " << e.sequence() << " after " << last;
      FUZZ_CHECK(e.ticket_id() == after.id() && e.ticket_version() == after.version() &&
                 e.ticket_state() == after.state() && e.cycle() == after.cycle())
          << rpc << ": event " << v1::EventType_Name(e.type()) << " is stamped " << e.ticket_id()
          << " v" << e.ticket_version() << " " << v1::TicketState_Name(e.ticket_state())
          << " cycle " << e.cycle();
      if (absl::Status s = hotline::CheckWellFormed(e); !s.ok()) {
        FUZZ_CHECK(false) << rpc << ": event " << v1::EventType_Name(e.type())
                          << " is malformed: " << s;
      }
    }
    if (absl::Status s = hotline::CheckWellFormed(after); !s.ok()) {
      FUZZ_CHECK(false) << rpc << ": ticket is malformed: " << s;
    }
    std::map<std::string, int> ids;
    for (const v1::WorkOrder& w : after.work_orders()) {
      FUZZ_CHECK(++ids[w.id()] == 1) << rpc << ": work order id " << w.id() << " repeated";
    }
    slot.stored = ticket::StoredTicket{after, change.events.back().sequence()};
    slot.history.insert(slot.history.end(), change.events.begin(), change.events.end());
    CheckReplay(slot, rpc);
  }

  static void CheckReplay(const Slot& slot, const char* rpc) {
    const v1::Ticket& t = slot.stored->ticket;
    absl::StatusOr<ticket::ReplayedTicket> replayed = ticket::Replay(slot.history);
    FUZZ_CHECK(replayed.ok()) << "after " << rpc << ": replay failed: " << replayed.status();
    std::map<std::string, v1::WorkOrderState> stored;
    for (const v1::WorkOrder& w : t.work_orders()) stored[w.id()] = w.state();
    auto describe = [](const std::map<std::string, v1::WorkOrderState>& m) {
      std::string out;
      for (const auto& [id, state] : m)
        absl::StrAppend(&out, " ", id, "=", v1::WorkOrderState_Name(state));
      return out;
    };
    FUZZ_CHECK(replayed->state == t.state() && replayed->version == t.version() &&
               replayed->cycle == t.cycle() && replayed->work_orders == stored)
        << "after " << rpc << ": stored " << v1::TicketState_Name(t.state()) << " v" << t.version()
        << " cycle " << t.cycle() << describe(stored) << ", replayed "
        << v1::TicketState_Name(replayed->state) << " v" << replayed->version << " cycle "
        << replayed->cycle << describe(replayed->work_orders);
  }

  // Runs a transition of one ticket whose request passes the service's first checks.
  template <typename Request, typename Call>
  void Update(Slot& slot, const Request& request, const char* rpc, Call call) {
    if (!slot.stored) return;
    if (!hotline::CheckWellFormed(request).ok()) return;  // The service refuses it first.
    absl::StatusOr<ticket::TicketChange> change = call(*slot.stored, request);
    if (!change.ok()) return CheckRefusal(change.status(), rpc);
    Accept(slot, *change, rpc);
  }

  // ---- One step ---------------------------------------------------------------------------

  void Step() {
    const uint8_t op = in_.Byte();
    Slot& slot = slots_[(op >> 7) & 1];
    Slot& other = slots_[((op >> 7) & 1) ^ 1];
    AdvanceClock();
    const std::string lead_department = [&] {
      if (!slot.stored) return std::string();
      for (const v1::WorkOrder& w : slot.stored->ticket.work_orders()) {
        if (w.role() == v1::WORK_ORDER_ROLE_LEAD) return w.department_id();
      }
      return std::string();
    }();
    switch (op % 19) {
      case 0:
      case 18: {
        v1::CreateTicketRequest r;
        r.set_request_id(absl::StrCat("create-", ++requests_));
        v1::Ticket* t = r.mutable_ticket();
        t->set_kind(EnumValue<v1::TicketKind>(7));
        t->set_channel(EnumValue<v1::Channel>(5));
        t->set_urgency(EnumValue<v1::Urgency>(4));
        t->set_content(Text());
        static const char* const kCategories[] = {"", "城乡建设/供水", "社会保障//医保",
                                                  "交通出行"};
        t->set_category_path(kCategories[in_.Byte() % 4]);
        if (in_.Bit()) t->set_caller_phone("13812345678");
        if (in_.Byte() % 4 == 0) {
          r.mutable_direct_answer()->set_answer_text(Text());
        }
        if (!hotline::CheckWellFormed(r).ok()) return;
        absl::StatusOr<ticket::TicketChange> change =
            Machine(v1::ROLE_AGENT).Create(r, absl::StrCat("T20240926-", 100000 + ++created_));
        if (!change.ok()) return CheckRefusal(change.status(), "CreateTicket");
        FUZZ_CHECK(change->after.version() == 1 && !change->events.empty() &&
                   change->events.front().type() == v1::EVENT_TYPE_TICKET_CREATED)
            << "a creation that does not start the history";
        slot = Slot();
        Accept(slot, *change, "CreateTicket");
        return;
      }
      case 1: {
        v1::ConfirmTicketRequest r;
        r.set_kind(EnumValue<v1::TicketKind>(8));
        r.set_urgency(EnumValue<v1::Urgency>(5));
        if (in_.Bit()) r.set_category_path("城乡建设/供水");
        return Update(slot, r, "ConfirmTicket", [&](const auto& s, const auto& q) {
          return Machine(v1::ROLE_REVIEWER).Confirm(s, q);
        });
      }
      case 2: {
        v1::RejectTicketRequest r;
        r.set_reason(Text());
        return Update(slot, r, "RejectTicket", [&](const auto& s, const auto& q) {
          return Machine(v1::ROLE_REVIEWER).Reject(s, q);
        });
      }
      case 3: {
        if (!slot.stored || !other.stored) return;
        v1::MergeTicketRequest r;
        r.set_target_ticket_id(other.stored->ticket.id());
        r.set_reason(Text());
        if (!hotline::CheckWellFormed(r).ok()) return;
        absl::StatusOr<std::vector<ticket::TicketChange>> changes =
            Machine(v1::ROLE_REVIEWER).Merge(*slot.stored, *other.stored, r);
        if (!changes.ok()) return CheckRefusal(changes.status(), "MergeTicket");
        FUZZ_CHECK(changes->size() == 2) << changes->size() << " changes from a merge";
        Accept(slot, (*changes)[0], "MergeTicket (duplicate)");
        Accept(other, (*changes)[1], "MergeTicket (target)");
        return;
      }
      case 4: {
        v1::DispatchTicketRequest r;
        if (in_.Byte() % 8 != 0) *r.mutable_lead() = Assignment();
        for (int n = in_.Byte() % 4; n > 1; --n) *r.add_assists() = Assignment();
        r.set_instructions(Text());
        return Update(slot, r, "DispatchTicket", [&](const auto& s, const auto& q) {
          return Machine(v1::ROLE_REVIEWER).Dispatch(s, q);
        });
      }
      case 5: {
        v1::RedispatchWorkOrderRequest r;
        r.set_work_order_id(WorkOrder(slot));
        switch (in_.Byte() % 4) {
          case 0:
            break;  // Neither.
          case 1:
            r.set_withdraw(true);
            break;
          case 2:
            r.set_withdraw(false);
            break;
          default:
            *r.mutable_assignment() = Assignment();
            break;
        }
        r.set_instructions(Text());
        return Update(slot, r, "RedispatchWorkOrder", [&](const auto& s, const auto& q) {
          return Machine(v1::ROLE_REVIEWER).Redispatch(s, q);
        });
      }
      case 6: {
        v1::RefuseReturnRequest r;
        r.set_work_order_id(WorkOrder(slot));
        r.set_reason(Text());
        return Update(slot, r, "RefuseReturn", [&](const auto& s, const auto& q) {
          return Machine(v1::ROLE_REVIEWER).RefuseReturn(s, q);
        });
      }
      case 7: {
        v1::SignWorkOrderRequest r;
        r.set_work_order_id(WorkOrder(slot));
        return Update(slot, r, "SignWorkOrder", [&](const auto& s, const auto& q) {
          return Machine(v1::ROLE_DEPARTMENT, lead_department).Sign(s, q);
        });
      }
      case 8: {
        v1::ReturnWorkOrderRequest r;
        r.set_work_order_id(WorkOrder(slot));
        r.set_reason(Text());
        return Update(slot, r, "ReturnWorkOrder", [&](const auto& s, const auto& q) {
          return Machine(v1::ROLE_DEPARTMENT, lead_department).Return(s, q);
        });
      }
      case 9: {
        v1::AddProgressNoteRequest r;
        r.set_work_order_id(WorkOrder(slot));
        r.set_text(Text());
        return Update(slot, r, "AddProgressNote", [&](const auto& s, const auto& q) {
          return Machine(v1::ROLE_DEPARTMENT, lead_department).AddNote(s, q);
        });
      }
      case 10: {
        v1::RequestExtensionRequest r;
        r.set_work_order_id(WorkOrder(slot));
        r.set_reason(Text());
        if (in_.Byte() % 8 != 0) *r.mutable_extension() = Limit();
        return Update(slot, r, "RequestExtension", [&](const auto& s, const auto& q) {
          return Machine(v1::ROLE_DEPARTMENT, lead_department).RequestExtension(s, q);
        });
      }
      case 11: {
        v1::DecideExtensionRequest r;
        r.set_work_order_id(WorkOrder(slot));
        r.set_decision(EnumValue<v1::ExtensionDecision>(3));
        if (in_.Bit()) *r.mutable_granted() = Limit();
        r.set_reason(Text());
        return Update(slot, r, "DecideExtension", [&](const auto& s, const auto& q) {
          return Machine(v1::ROLE_SUPERVISOR).DecideExtension(s, q);
        });
      }
      case 12: {
        v1::UrgeTicketRequest r;
        for (int n = in_.Byte() % 4; n > 1; --n) r.add_work_order_ids(WorkOrder(slot));
        r.set_message(Text());
        return Update(slot, r, "UrgeTicket", [&](const auto& s, const auto& q) {
          return Machine(v1::ROLE_SUPERVISOR).Urge(s, q);
        });
      }
      case 13: {
        v1::ReplyWorkOrderRequest r;
        r.set_work_order_id(WorkOrder(slot));
        r.set_reply_text(Text());
        return Update(slot, r, "ReplyWorkOrder", [&](const auto& s, const auto& q) {
          return Machine(v1::ROLE_DEPARTMENT, lead_department).Reply(s, q);
        });
      }
      case 14: {
        v1::RecordCallbackRequest r;
        r.set_result(EnumValue<v1::CallbackResult>(6));
        r.set_comment(Text());
        return Update(slot, r, "RecordCallback", [&](const auto& s, const auto& q) {
          return Machine(v1::ROLE_CALLBACK).RecordCallback(s, q);
        });
      }
      case 15: {
        v1::CloseTicketRequest r;
        r.set_reason(Text());
        return Update(slot, r, "CloseTicket", [&](const auto& s, const auto& q) {
          return Machine(v1::ROLE_SUPERVISOR).Close(s, q);
        });
      }
      case 16: {
        v1::ReopenTicketRequest r;
        r.set_reason(Text());
        const uint8_t shape = in_.Byte();
        if (shape & 1) *r.mutable_lead() = Assignment();
        for (int n = (shape >> 1) % 3; n > 0; --n) *r.add_assists() = Assignment();
        return Update(slot, r, "ReopenTicket", [&](const auto& s, const auto& q) {
          return Machine(v1::ROLE_SUPERVISOR).Reopen(s, q);
        });
      }
      case 17: {
        if (!slot.stored) return;
        ticket::TicketMachine system(ticket::MachineEnv{now_, env_.calendar, &env_.config},
                                     ActorFor(v1::ROLE_SYSTEM), "");
        for (const v1::WorkOrder& w : slot.stored->ticket.work_orders()) {
          const absl::Time due = system.NextWarningTime(w);
          FUZZ_CHECK(due == absl::InfiniteFuture() || ticket::IsOpen(w))
              << "a warning pending on work order " << w.id() << " in "
              << v1::WorkOrderState_Name(w.state());
        }
        Accept(slot, system.RaiseDueWarnings(*slot.stored), "RaiseDueWarnings");
        return;
      }
    }
  }

  ByteReader& in_;
  const Environment& env_;
  absl::Time now_;
  Slot slots_[2];
  int requests_ = 0;
  int created_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  SharedEnvironment();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteReader in(data, size);
  Scenario(&in).Run();
  return 0;
}
