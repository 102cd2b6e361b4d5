// The ticket commands. The updates (every rpc that takes an expected_version) are rows of one
// table: they share the ticket id operand, the expected version (read from the ticket when
// --version is not given), the request id (a fresh UUID unless --request_id is given) and,
// depending on the rpc, --work_order and --reason; a row adds only what is particular to its
// request. Help, the check that a command was given only its own flags, and the program's
// usage message are generated from the same table. Enum names are in ticket_names, the text
// output in ticket_text.
#include "services/hotlinectl/ticket_commands.h"

#include <glog/logging.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/types/span.h"
#include "common/program.h"
#include "common/status_macros.h"
#include "hotline/ticket/v1/ticket.grpc.pb.h"
#include "services/hotlinectl/client_util.h"
#include "services/hotlinectl/stream_follower.h"
#include "services/hotlinectl/ticket_names.h"
#include "services/hotlinectl/ticket_text.h"
#include "services/ticket/transitions.h"

// Common to the updates.
ABSL_FLAG(int64_t, expected_version, 0,
          "updates: the ticket version last read (also --version=N); without it the ticket's "
          "current version is read first. Command line only, never from the environment");
ABSL_FLAG(std::string, request_id, "",
          "create, updates: idempotency key (1-64 of A-Z a-z 0-9 - _); default: a new random "
          "UUID. Repeat a call whose outcome is unknown with the same key. Command line only");
ABSL_FLAG(std::string, work_order, "",
          "the work order (工作单) acted on; urge, events: the work orders concerned "
          "(urge: repeatable or comma-separated)");
ABSL_FLAG(std::string, reason, "",
          "why: required by reject, refuse-return, return, extend, close, reopen and "
          "decide-extension --refuse; optional for merge and decide-extension --approve");

// The ticket's fields (create, confirm) and list filters; --kind and --category are defined in
// client_util.cc, since the knowledge-base commands read them too (as --page_size, --comment).
ABSL_FLAG(std::string, channel, "", "intake channel (受理渠道); list: repeatable");
ABSL_FLAG(std::string, urgency, "", "urgency; create default: normal; list: repeatable");
ABSL_FLAG(std::string, content, "", "create: the matter in the caller's words");
ABSL_FLAG(std::string, caller_name, "", "create: the caller's name; empty: anonymous");
ABSL_FLAG(std::string, caller_phone, "",
          "create: the caller's phone for the callback; list: only this caller's tickets");
ABSL_FLAG(bool, confidential, false,
          "create: keep the caller's identity from the departments (保密)");
ABSL_FLAG(std::string, address, "", "create: where the matter is, as the caller said it");
ABSL_FLAG(std::string, district, "", "create: 6-digit district code (行政区划代码)");
ABSL_FLAG(std::string, point, "", "create: map position LAT,LNG (WGS-84)");
ABSL_FLAG(std::string, answer, "", "answer: what the agent told the caller");
ABSL_FLAG(std::vector<std::string>, cite, {},
          "answer: knowledge-base passages the answer came from, comma-separated, each "
          "ENTRY, ENTRY#ORDINAL or ENTRY@VERSION#ORDINAL (as kb search --json shows them)");

// Dispatch and re-routing.
ABSL_FLAG(std::string, into, "", "merge: the ticket of the same matter, which remains");
ABSL_FLAG(std::string, lead, "", "dispatch, reopen: the lead department (主办)");
ABSL_FLAG(int32_t, lead_days, 0, "dispatch, reopen: the lead's limit in working days");
ABSL_FLAG(int32_t, lead_hours, 0, "dispatch, reopen: the lead's limit in hours (emergencies)");
ABSL_FLAG(std::string, lead_deadline, "", "dispatch, reopen: the lead's deadline");
ABSL_FLAG(std::string, assist, "",
          "dispatch, reopen: an assisting department (协办) as DEPT or DEPT:LIMIT; repeatable");
ABSL_FLAG(std::string, instructions, "",
          "dispatch, redispatch: instructions to the departments (派单意见)");
ABSL_FLAG(std::string, to, "", "redispatch: the department to re-route the work order to");
ABSL_FLAG(bool, withdraw, false,
          "redispatch: withdraw the assisting work order without a replacement");
ABSL_FLAG(int32_t, days, 0,
          "working days: redispatch --to's limit, extend's extra time, decide-extension's grant");
ABSL_FLAG(int32_t, hours, 0, "hours, like --days (emergencies)");
ABSL_FLAG(std::string, deadline, "", "an explicit deadline, instead of --days or --hours");

// Handling, supervision, callback.
ABSL_FLAG(std::string, text, "", "the text the command records (see its summary)");
ABSL_FLAG(bool, approve, false, "decide-extension: approve (同意延期)");
ABSL_FLAG(bool, refuse, false, "decide-extension: refuse (不同意延期); needs --reason");
ABSL_FLAG(std::string, message, "", "urge: the urging notice (督办意见)");
ABSL_FLAG(std::string, result, "", "callback: the outcome of the call (回访结果)");

// Reads.
ABSL_FLAG(bool, events, false, "get: also print the ticket's history");
ABSL_FLAG(std::string, state, "", "list: ticket states; repeatable or comma-separated");
ABSL_FLAG(std::string, work_order_state, "",
          "list: tickets with a current work order in one of these states; repeatable");
ABSL_FLAG(std::string, warning, "", "list: ticket warning levels; repeatable");
ABSL_FLAG(std::string, department, "",
          "list: tickets on which this department holds a current work order; watch: the "
          "department to follow (departments: empty means their own)");
ABSL_FLAG(bool, overdue, false, "list: only tickets with an open work order past its deadline");
ABSL_FLAG(std::string, deadline_after, "", "list: deadline at or after this time");
ABSL_FLAG(std::string, deadline_before, "", "list: deadline before this time");
ABSL_FLAG(std::string, created_after, "", "list: created at or after this time");
ABSL_FLAG(std::string, created_before, "", "list: created before this time");
ABSL_FLAG(std::string, page_token, "", "list, events: the page after this token");
ABSL_FLAG(std::string, order_by, "",
          "list: create_time, update_time or deadline, each optionally followed by ' desc' "
          "(default: 'create_time desc')");
ABSL_FLAG(std::string, cursor, "", "watch: resume just after this cursor");
ABSL_FLAG(bool, from_now, false, "watch: without --cursor, skip the history");

namespace hotline::cli {
namespace {

namespace api = ::hotline::ticket::v1;
using Stub = api::TicketService::StubInterface;
using google::protobuf::Message;
using ticket_names::AddEnums;
using ticket_names::EnumFlag;
using ticket_names::EnumName;
using ticket_names::kCallbackResults;
using ticket_names::kChannels;
using ticket_names::kKinds;
using ticket_names::kTicketStates;
using ticket_names::kUrgencies;
using ticket_names::kWarnings;
using ticket_names::kWorkOrderStates;
using ticket_names::ParseEnumFlag;
using ticket_names::ValueNames;
using ticket_text::EventLine;
using ticket_text::PrintTicket;
using ticket_text::PrintTicketList;

constexpr char kHelp[] = "ticket help";

// ---------------------------------------------------------------------------
// Reading the other flag values.

absl::Status Required(absl::string_view flag, const std::string& value) {
  if (!value.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("--", flag, " is required"));
}

absl::StatusOr<google::protobuf::Timestamp> TimeFlag(absl::string_view flag,
                                                     const std::string& value,
                                                     DateMeans date_means) {
  absl::StatusOr<absl::Time> time = ParseTime(value, date_means);
  if (!time.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", time.status().message()));
  }
  return ToProtoTime(*time);
}

// A limit written as "10" or "10d" (working days), "48h" (hours) or a deadline.
absl::StatusOr<api::TimeLimit> ParseLimit(absl::string_view flag, absl::string_view text) {
  api::TimeLimit limit;
  int32_t n = 0;
  absl::string_view number = text;
  if (absl::ConsumeSuffix(&number, "h") && absl::SimpleAtoi(number, &n)) {
    limit.set_hours(n);
    return limit;
  }
  number = text;
  absl::ConsumeSuffix(&number, "d");
  if (absl::SimpleAtoi(number, &n)) {
    limit.set_working_days(n);
    return limit;
  }
  ASSIGN_OR_RETURN(*limit.mutable_deadline(),
                   TimeFlag(flag, std::string(text), DateMeans::kEndOfDay));
  return limit;
}

// The limit given by --days/--hours/--deadline (or --lead_days/...); nullopt when none is.
absl::StatusOr<std::optional<api::TimeLimit>> LimitFromFlags(bool lead) {
  const std::string prefix = lead ? "lead_" : "";
  int32_t days = absl::GetFlag(lead ? FLAGS_lead_days : FLAGS_days);
  int32_t hours = absl::GetFlag(lead ? FLAGS_lead_hours : FLAGS_hours);
  std::string deadline = absl::GetFlag(lead ? FLAGS_lead_deadline : FLAGS_deadline);
  // A 0 from the command line is passed on, for the server to name the field at fault.
  bool has_days = days != 0 || FlagOnCommandLine(prefix + "days");
  bool has_hours = hours != 0 || FlagOnCommandLine(prefix + "hours");
  bool has_deadline = !deadline.empty();
  if (has_days + has_hours + has_deadline > 1) {
    return absl::InvalidArgumentError(absl::StrCat("give only one of --", prefix, "days, --",
                                                   prefix, "hours and --", prefix, "deadline"));
  }
  api::TimeLimit limit;
  if (has_days) {
    limit.set_working_days(days);
  } else if (has_hours) {
    limit.set_hours(hours);
  } else if (has_deadline) {
    ASSIGN_OR_RETURN(*limit.mutable_deadline(),
                     TimeFlag(prefix + "deadline", deadline, DateMeans::kEndOfDay));
  } else {
    return std::nullopt;
  }
  return limit;
}

// --lead with its limit, and the --assist departments, into a dispatch or reopen request. Without
// --lead the request's lead stays unset.
template <typename Request>
absl::Status FillDepartments(bool lead_required, Request* request) {
  std::string lead_id = absl::GetFlag(FLAGS_lead);
  ASSIGN_OR_RETURN(std::optional<api::TimeLimit> lead_limit, LimitFromFlags(/*lead=*/true));
  std::vector<std::string> assists = SplitList(absl::GetFlag(FLAGS_assist));
  if (lead_id.empty()) {
    if (lead_required) return Required("lead", lead_id);
    if (lead_limit.has_value() || !assists.empty()) {
      return absl::InvalidArgumentError(
          "--lead_days, --lead_hours, --lead_deadline and --assist need --lead");
    }
    return absl::OkStatus();
  }
  request->mutable_lead()->set_department_id(lead_id);
  if (lead_limit.has_value()) *request->mutable_lead()->mutable_time_limit() = *lead_limit;
  for (const std::string& spec : assists) {
    api::DepartmentAssignment* assist = request->add_assists();
    // Department ids have no ':', deadlines do: split at the first one.
    std::vector<std::string> parts = absl::StrSplit(spec, absl::MaxSplits(':', 1));
    assist->set_department_id(parts[0]);
    if (parts.size() == 2) {
      ASSIGN_OR_RETURN(*assist->mutable_time_limit(), ParseLimit("assist", parts[1]));
    }
  }
  return absl::OkStatus();
}

void PrintResult(const api::Ticket& ticket, bool with_events) {
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(ticket) << "\n";
  } else {
    PrintTicket(std::cout, ticket, with_events);
  }
}

// ---------------------------------------------------------------------------
// Calls.

absl::StatusOr<std::unique_ptr<Stub>> NewStub() {
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, Connect(absl::GetFlag(FLAGS_ticket)));
  return std::unique_ptr<Stub>(api::TicketService::NewStub(channel));
}

// The request id to send: --request_id from the command line, or a fresh UUID.
struct RequestId {
  std::string value;
  bool generated = false;
};

absl::StatusOr<RequestId> TakeRequestId() {
  if (FlagOnCommandLine("request_id")) return RequestId{absl::GetFlag(FLAGS_request_id), false};
  ASSIGN_OR_RETURN(std::string id, NewRequestId());
  return RequestId{std::move(id), true};
}

// Reports a failed create or update, with what to do next when the contract says so.
int ReportWriteError(const grpc::Status& status, const RequestId& request_id,
                     const std::string& ticket_id) {
  ReportError(status);
  switch (status.error_code()) {
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
      if (request_id.generated) {
        std::cerr << "hotlinectl: the change may or may not have been made; to retry safely, "
                     "repeat the command with --request_id="
                  << request_id.value << "\n";
      }
      break;
    case grpc::StatusCode::ABORTED:
      if (ticket_id.empty()) break;
      std::cerr << "hotlinectl: the ticket changed meanwhile; look at it again (hotlinectl "
                   "ticket get "
                << ticket_id << ") before repeating the command\n";
      break;
    default:
      break;
  }
  return kExitFailed;
}

// ---------------------------------------------------------------------------
// The command table.

enum class Section { kIntake, kDispatch, kHandling, kSupervision, kClosure, kReads };

constexpr std::pair<Section, const char*> kSectionTitles[] = {
    {Section::kIntake, "Intake and review"},        {Section::kDispatch, "Dispatch and re-routing"},
    {Section::kHandling, "Handling (departments)"}, {Section::kSupervision, "Supervision"},
    {Section::kClosure, "Callback and closure"},    {Section::kReads, "Reads"},
};

struct CommandSpec {
  const char* name;
  std::string synopsis;  // Arguments after the name, ticket id included.
  const char* summary;
  std::string roles;  // Who may call the rpc (admin always may).
  Section section;
  bool takes_ticket_id;
  std::vector<std::string> flags;  // The flags it reads, beyond the global ones.
};

struct Command {
  CommandSpec spec;
  std::function<int(const std::string& ticket_id)> run;
};

// An update rpc with its request type erased, so that every update runs through RunUpdate().
// What it is (command, flags, roles) is its row of the service's table (transitions.h).
struct Update {
  const ticket::TransitionSpec* spec;
  std::function<std::unique_ptr<Message>()> new_request;
  // The request's own fields beyond the table's text flags; errors are usage errors.
  std::function<absl::Status(Message*)> fill;
  std::function<grpc::Status(Stub*, grpc::ClientContext*, const Message&, api::Ticket*)> send;
};

Section SectionOf(ticket::CliSection section) {
  switch (section) {
    case ticket::CliSection::kIntake:
      return Section::kIntake;
    case ticket::CliSection::kDispatch:
      return Section::kDispatch;
    case ticket::CliSection::kHandling:
      return Section::kHandling;
    case ticket::CliSection::kSupervision:
      return Section::kSupervision;
    case ticket::CliSection::kClosure:
      return Section::kClosure;
  }
  return Section::kReads;
}

// The fields every update request shares are set by name, so the table stays one row per rpc.
void SetField(Message* message, const char* name, const std::string& value) {
  const google::protobuf::FieldDescriptor* field = message->GetDescriptor()->FindFieldByName(name);
  CHECK(field != nullptr) << message->GetTypeName() << " has no field " << name;
  message->GetReflection()->SetString(message, field, value);
}

void SetField(Message* message, const char* name, int64_t value) {
  const google::protobuf::FieldDescriptor* field = message->GetDescriptor()->FindFieldByName(name);
  CHECK(field != nullptr) << message->GetTypeName() << " has no field " << name;
  message->GetReflection()->SetInt64(message, field, value);
}

int RunUpdate(const Update& update, const std::string& ticket_id) {
  const ticket::TransitionSpec& spec = *update.spec;
  const std::string help = absl::StrCat(kHelp, " ", spec.command);
  auto usage = [&](absl::string_view message) {
    return ReportUsageError(absl::StrCat("ticket ", spec.command, ": ", message), help);
  };
  std::unique_ptr<Message> request = update.new_request();
  SetField(request.get(), "ticket_id", ticket_id);
  if (spec.names_work_order) {
    std::string work_order = absl::GetFlag(FLAGS_work_order);
    if (work_order.empty()) return usage("--work_order is required");
    if (absl::StrContains(work_order, ',')) return usage("--work_order: give one work order");
    SetField(request.get(), "work_order_id", work_order);
  }
  if (spec.reason != ticket::ReasonUse::kNone) {
    std::string reason = absl::GetFlag(FLAGS_reason);
    if (spec.reason == ticket::ReasonUse::kRequired && reason.empty()) {
      return usage("--reason is required");
    }
    if (!reason.empty()) SetField(request.get(), "reason", reason);
  }
  for (const ticket::TextFlag& text : spec.text_flags) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(text.flag);
    CHECK(flag != nullptr) << "ticket " << spec.command << ": --" << text.flag << " is not defined";
    const std::string value = flag->CurrentValue();
    if (text.required && value.empty()) return usage(absl::StrCat("--", text.flag, " is required"));
    if (!value.empty()) SetField(request.get(), text.field, value);
  }
  if (update.fill) {
    if (absl::Status status = update.fill(request.get()); !status.ok()) {
      return usage(status.message());
    }
  }
  // Both identify one operation, so neither is taken from the environment.
  int64_t version =
      FlagOnCommandLine("expected_version") ? absl::GetFlag(FLAGS_expected_version) : 0;
  if (FlagOnCommandLine("expected_version") && version <= 0) {
    return usage("--version must be positive");
  }
  absl::StatusOr<RequestId> request_id = TakeRequestId();
  if (!request_id.ok()) return ReportError(request_id.status());
  SetField(request.get(), "request_id", request_id->value);

  absl::StatusOr<std::unique_ptr<Stub>> stub = NewStub();
  if (!stub.ok()) return ReportError(stub.status());
  if (version == 0) {
    api::GetTicketRequest get;
    get.set_ticket_id(ticket_id);
    get.set_view(api::TICKET_VIEW_BASIC);
    api::Ticket current;
    grpc::ClientContext context;
    PrepareContext(&context);
    if (grpc::Status status = (*stub)->GetTicket(&context, get, &current); !status.ok()) {
      return ReportError(status);
    }
    version = current.version();
  }
  SetField(request.get(), "expected_version", version);

  api::Ticket ticket;
  grpc::ClientContext context;
  PrepareContext(&context);
  if (grpc::Status status = update.send(stub->get(), &context, *request, &ticket); !status.ok()) {
    return ReportWriteError(status, *request_id, ticket_id);
  }
  PrintResult(ticket, /*with_events=*/false);
  return kExitOk;
}

// ---- The updates' own fields.

absl::Status FillConfirm(api::ConfirmTicketRequest* r) {
  ASSIGN_OR_RETURN(int kind, ParseEnumFlag(kKinds, "kind", absl::GetFlag(FLAGS_kind)));
  ASSIGN_OR_RETURN(int urgency, ParseEnumFlag(kUrgencies, "urgency", absl::GetFlag(FLAGS_urgency)));
  r->set_kind(static_cast<api::TicketKind>(kind));
  r->set_urgency(static_cast<api::Urgency>(urgency));
  r->set_category_path(absl::GetFlag(FLAGS_category));
  return absl::OkStatus();
}

absl::Status FillDispatch(api::DispatchTicketRequest* r) {
  return FillDepartments(/*lead_required=*/true, r);
}

absl::Status FillRedispatch(api::RedispatchWorkOrderRequest* r) {
  std::string to = absl::GetFlag(FLAGS_to);
  bool withdraw = absl::GetFlag(FLAGS_withdraw);
  if (to.empty() == !withdraw) {
    return absl::InvalidArgumentError("give either --to=DEPT or --withdraw");
  }
  ASSIGN_OR_RETURN(std::optional<api::TimeLimit> limit, LimitFromFlags(/*lead=*/false));
  if (withdraw) {
    if (limit.has_value()) {
      return absl::InvalidArgumentError("--days, --hours and --deadline go with --to");
    }
    r->set_withdraw(true);
  } else {
    r->mutable_assignment()->set_department_id(to);
    if (limit.has_value()) *r->mutable_assignment()->mutable_time_limit() = *limit;
  }
  return absl::OkStatus();
}

absl::Status FillExtend(api::RequestExtensionRequest* r) {
  ASSIGN_OR_RETURN(std::optional<api::TimeLimit> limit, LimitFromFlags(/*lead=*/false));
  if (!limit.has_value()) {
    return absl::InvalidArgumentError("give the extra time: --days, --hours or --deadline");
  }
  *r->mutable_extension() = *limit;
  return absl::OkStatus();
}

absl::Status FillDecideExtension(api::DecideExtensionRequest* r) {
  bool approve = absl::GetFlag(FLAGS_approve);
  bool refuse = absl::GetFlag(FLAGS_refuse);
  if (approve == refuse) return absl::InvalidArgumentError("give either --approve or --refuse");
  ASSIGN_OR_RETURN(std::optional<api::TimeLimit> granted, LimitFromFlags(/*lead=*/false));
  if (refuse) {
    if (absl::GetFlag(FLAGS_reason).empty()) {
      return absl::InvalidArgumentError("--refuse needs --reason");
    }
    if (granted.has_value()) {
      return absl::InvalidArgumentError("--days, --hours and --deadline go with --approve");
    }
  }
  r->set_decision(approve ? api::EXTENSION_DECISION_APPROVE : api::EXTENSION_DECISION_REFUSE);
  if (granted.has_value()) *r->mutable_granted() = *granted;
  return absl::OkStatus();
}

absl::Status FillUrge(api::UrgeTicketRequest* r) {
  for (const std::string& id : SplitList(absl::GetFlag(FLAGS_work_order))) {
    r->add_work_order_ids(id);
  }
  return absl::OkStatus();
}

absl::Status FillCallback(api::RecordCallbackRequest* r) {
  std::string result = absl::GetFlag(FLAGS_result);
  if (result.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--result is required; valid: ", ValueNames(kCallbackResults)));
  }
  ASSIGN_OR_RETURN(int parsed, ParseEnumFlag(kCallbackResults, "result", result));
  r->set_result(static_cast<api::CallbackResult>(parsed));
  return absl::OkStatus();
}

absl::Status FillReopen(api::ReopenTicketRequest* r) {
  return FillDepartments(/*lead_required=*/false, r);  // No lead: the previous departments.
}

template <typename... Names>
std::vector<std::string> Flags(Names... names) {
  return {names...};
}

template <typename Request>
using Fill = absl::Status (*)(Request*);

// `fill`: the request's own fields beyond the table's text flags, or nullptr.
template <typename Request>
Update MakeUpdate(const char* rpc_name,
                  grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, api::Ticket*),
                  Fill<Request> fill) {
  const ticket::TransitionSpec* spec = ticket::TransitionForRpc(rpc_name);
  CHECK(spec != nullptr) << rpc_name << " is not in the transition table";
  Update update{spec, [] { return std::make_unique<Request>(); }, nullptr,
                [rpc](Stub* stub, grpc::ClientContext* context, const Message& request,
                      api::Ticket* response) {
                  return (stub->*rpc)(context, static_cast<const Request&>(request), response);
                }};
  if (fill != nullptr) {
    update.fill = [fill](Message* request) { return fill(static_cast<Request*>(request)); };
  }
  return update;
}

// The fill of an rpc whose request needs more than its text flags; nullptr otherwise.
template <typename Request>
Fill<Request> OwnFill() {
  return nullptr;
}
template <>
Fill<api::ConfirmTicketRequest> OwnFill() {
  return FillConfirm;
}
template <>
Fill<api::DispatchTicketRequest> OwnFill() {
  return FillDispatch;
}
template <>
Fill<api::RedispatchWorkOrderRequest> OwnFill() {
  return FillRedispatch;
}
template <>
Fill<api::RequestExtensionRequest> OwnFill() {
  return FillExtend;
}
template <>
Fill<api::DecideExtensionRequest> OwnFill() {
  return FillDecideExtension;
}
template <>
Fill<api::UrgeTicketRequest> OwnFill() {
  return FillUrge;
}
template <>
Fill<api::RecordCallbackRequest> OwnFill() {
  return FillCallback;
}
template <>
Fill<api::ReopenTicketRequest> OwnFill() {
  return FillReopen;
}

// Every transition of the table, in its order.
std::vector<Update> Updates() {
  std::vector<Update> updates;
  updates.push_back(MakeUpdate<api::MergeTicketRequest>("MergeTicket", &Stub::MergeTicket,
                                                        OwnFill<api::MergeTicketRequest>()));
#define HOTLINE_CLI_UPDATE(Rpc, Method, Target) \
  updates.push_back(MakeUpdate<api::Rpc##Request>(#Rpc, &Stub::Rpc, OwnFill<api::Rpc##Request>()));
  HOTLINE_TICKET_UPDATES(HOTLINE_CLI_UPDATE)
#undef HOTLINE_CLI_UPDATE
  const auto& table = ticket::Transitions();
  auto position = [&](const Update& u) { return u.spec - table.data(); };
  std::sort(updates.begin(), updates.end(),
            [&](const Update& a, const Update& b) { return position(a) < position(b); });
  return updates;
}

// ---- The commands that are not updates.

// "ENTRY", "ENTRY#ORDINAL" or "ENTRY@VERSION#ORDINAL", as `kb search --json` shows a hit.
absl::StatusOr<api::KnowledgeCitation> ParseCitation(absl::string_view text) {
  api::KnowledgeCitation c;
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("--cite: '", text, "' is not ENTRY, ENTRY#ORDINAL or ENTRY@VERSION#ORDINAL"));
  };
  absl::string_view rest = text;
  if (size_t hash = rest.find('#'); hash != absl::string_view::npos) {
    int ordinal = 0;
    if (!absl::SimpleAtoi(rest.substr(hash + 1), &ordinal) || ordinal < 0) return bad();
    c.set_passage_ordinal(ordinal);
    rest = rest.substr(0, hash);
  }
  if (size_t at = rest.find('@'); at != absl::string_view::npos) {
    int64_t version = 0;
    if (!absl::SimpleAtoi(rest.substr(at + 1), &version) || version < 0) return bad();
    c.set_entry_version(version);
    rest = rest.substr(0, at);
  }
  if (rest.empty()) return bad();
  c.set_entry_id(std::string(rest));
  return c;
}

// `create`, and `answer` (created and closed at once: answered on the spot).
int RunCreateOrAnswer(bool answered) {
  const char* command = answered ? "answer" : "create";
  auto usage = [command](absl::string_view message) {
    return ReportUsageError(absl::StrCat("ticket ", command, ": ", message),
                            absl::StrCat("ticket help ", command));
  };
  api::CreateTicketRequest request;
  api::Ticket* t = request.mutable_ticket();
  absl::Status built = [&]() -> absl::Status {
    if (answered) {
      RETURN_IF_ERROR(Required("answer", absl::GetFlag(FLAGS_answer)));
      api::DirectAnswer* a = request.mutable_direct_answer();
      a->set_answer_text(absl::GetFlag(FLAGS_answer));
      for (const std::string& cite : absl::GetFlag(FLAGS_cite)) {
        ASSIGN_OR_RETURN(*a->add_citations(), ParseCitation(cite));
      }
    }
    RETURN_IF_ERROR(Required("kind", absl::GetFlag(FLAGS_kind)));
    RETURN_IF_ERROR(Required("channel", absl::GetFlag(FLAGS_channel)));
    RETURN_IF_ERROR(Required("content", absl::GetFlag(FLAGS_content)));
    ASSIGN_OR_RETURN(int kind, ParseEnumFlag(kKinds, "kind", absl::GetFlag(FLAGS_kind)));
    ASSIGN_OR_RETURN(int channel,
                     ParseEnumFlag(kChannels, "channel", absl::GetFlag(FLAGS_channel)));
    ASSIGN_OR_RETURN(int urgency,
                     ParseEnumFlag(kUrgencies, "urgency", absl::GetFlag(FLAGS_urgency)));
    t->set_kind(static_cast<api::TicketKind>(kind));
    t->set_channel(static_cast<api::Channel>(channel));
    t->set_urgency(static_cast<api::Urgency>(urgency));
    t->set_content(absl::GetFlag(FLAGS_content));
    t->set_caller_name(absl::GetFlag(FLAGS_caller_name));
    t->set_caller_phone(absl::GetFlag(FLAGS_caller_phone));
    t->set_confidential(absl::GetFlag(FLAGS_confidential));
    t->set_category_path(absl::GetFlag(FLAGS_category));
    std::string address = absl::GetFlag(FLAGS_address);
    std::string district = absl::GetFlag(FLAGS_district);
    std::string point = absl::GetFlag(FLAGS_point);
    if (address.empty() && district.empty() && point.empty()) return absl::OkStatus();
    api::Location* location = t->mutable_location();
    location->set_address(address);
    location->set_district_code(district);
    if (!point.empty()) {
      std::vector<absl::string_view> parts = absl::StrSplit(point, ',');
      double latitude = 0, longitude = 0;
      if (parts.size() != 2 || !absl::SimpleAtod(absl::StripAsciiWhitespace(parts[0]), &latitude) ||
          !absl::SimpleAtod(absl::StripAsciiWhitespace(parts[1]), &longitude)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--point: '", point, "' is not LAT,LNG such as 28.19,112.97"));
      }
      location->mutable_point()->set_latitude(latitude);
      location->mutable_point()->set_longitude(longitude);
    }
    return absl::OkStatus();
  }();
  if (!built.ok()) return usage(built.message());

  absl::StatusOr<RequestId> request_id = TakeRequestId();
  if (!request_id.ok()) return ReportError(request_id.status());
  request.set_request_id(request_id->value);
  absl::StatusOr<std::unique_ptr<Stub>> stub = NewStub();
  if (!stub.ok()) return ReportError(stub.status());
  api::Ticket ticket;
  grpc::ClientContext context;
  PrepareContext(&context);
  if (grpc::Status status = (*stub)->CreateTicket(&context, request, &ticket); !status.ok()) {
    return ReportWriteError(status, *request_id, /*ticket_id=*/"");
  }
  PrintResult(ticket, /*with_events=*/false);
  return kExitOk;
}

int RunCreate(const std::string&) { return RunCreateOrAnswer(false); }
int RunAnswer(const std::string&) { return RunCreateOrAnswer(true); }

int RunGet(const std::string& ticket_id) {
  bool with_events = absl::GetFlag(FLAGS_events);
  api::GetTicketRequest request;
  request.set_ticket_id(ticket_id);
  request.set_view(with_events ? api::TICKET_VIEW_FULL : api::TICKET_VIEW_BASIC);
  absl::StatusOr<std::unique_ptr<Stub>> stub = NewStub();
  if (!stub.ok()) return ReportError(stub.status());
  api::Ticket ticket;
  grpc::ClientContext context;
  PrepareContext(&context);
  if (grpc::Status status = (*stub)->GetTicket(&context, request, &ticket); !status.ok()) {
    return ReportError(status);
  }
  PrintResult(ticket, with_events);
  return kExitOk;
}

int RunList(const std::string&) {
  api::ListTicketsRequest request;
  absl::Status built = [&]() -> absl::Status {
    request.set_page_size(absl::GetFlag(FLAGS_page_size));
    request.set_page_token(absl::GetFlag(FLAGS_page_token));
    request.set_order_by(absl::GetFlag(FLAGS_order_by));
    RETURN_IF_ERROR(
        AddEnums(kTicketStates, "state", absl::GetFlag(FLAGS_state), request.mutable_states()));
    request.set_department_id(absl::GetFlag(FLAGS_department));
    RETURN_IF_ERROR(AddEnums(kWorkOrderStates, "work_order_state",
                             absl::GetFlag(FLAGS_work_order_state),
                             request.mutable_work_order_states()));
    request.set_category_prefix(absl::GetFlag(FLAGS_category));
    RETURN_IF_ERROR(AddEnums(kKinds, "kind", absl::GetFlag(FLAGS_kind), request.mutable_kinds()));
    RETURN_IF_ERROR(
        AddEnums(kChannels, "channel", absl::GetFlag(FLAGS_channel), request.mutable_channels()));
    RETURN_IF_ERROR(
        AddEnums(kUrgencies, "urgency", absl::GetFlag(FLAGS_urgency), request.mutable_urgencies()));
    RETURN_IF_ERROR(AddEnums(kWarnings, "warning", absl::GetFlag(FLAGS_warning),
                             request.mutable_warning_levels()));
    request.set_overdue_only(absl::GetFlag(FLAGS_overdue));
    request.set_caller_phone(absl::GetFlag(FLAGS_caller_phone));
    struct TimeFilter {
      const char* flag;
      const absl::Flag<std::string>* value;
      google::protobuf::Timestamp* (api::ListTicketsRequest::*field)();
    };
    const TimeFilter filters[] = {
        {"deadline_after", &FLAGS_deadline_after, &api::ListTicketsRequest::mutable_deadline_after},
        {"deadline_before", &FLAGS_deadline_before,
         &api::ListTicketsRequest::mutable_deadline_before},
        {"created_after", &FLAGS_created_after,
         &api::ListTicketsRequest::mutable_create_time_after},
        {"created_before", &FLAGS_created_before,
         &api::ListTicketsRequest::mutable_create_time_before},
    };
    for (const TimeFilter& filter : filters) {
      std::string value = absl::GetFlag(*filter.value);
      if (value.empty()) continue;
      ASSIGN_OR_RETURN(*(request.*filter.field)(),
                       TimeFlag(filter.flag, value, DateMeans::kStartOfDay));
    }
    return absl::OkStatus();
  }();
  if (!built.ok()) {
    return ReportUsageError(absl::StrCat("ticket list: ", built.message()), "ticket help list");
  }
  absl::StatusOr<std::unique_ptr<Stub>> stub = NewStub();
  if (!stub.ok()) return ReportError(stub.status());
  api::ListTicketsResponse response;
  grpc::ClientContext context;
  PrepareContext(&context);
  if (grpc::Status status = (*stub)->ListTickets(&context, request, &response); !status.ok()) {
    return ReportError(status);
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(response) << "\n";
  } else {
    PrintTicketList(std::cout, response);
  }
  return kExitOk;
}

// The whole history, page after page, unless a page was asked for.
int RunEvents(const std::string& ticket_id) {
  api::ListEventsRequest request;
  request.set_ticket_id(ticket_id);
  request.set_work_order_id(absl::GetFlag(FLAGS_work_order));
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  if (absl::StrContains(request.work_order_id(), ',')) {
    return ReportUsageError("ticket events: --work_order: give one work order",
                            "ticket help events");
  }
  bool one_page = request.page_size() != 0 || !request.page_token().empty();
  absl::StatusOr<std::unique_ptr<Stub>> stub = NewStub();
  if (!stub.ok()) return ReportError(stub.status());
  api::ListEventsResponse all;
  while (true) {
    api::ListEventsResponse page;
    grpc::ClientContext context;
    PrepareContext(&context);
    if (grpc::Status status = (*stub)->ListEvents(&context, request, &page); !status.ok()) {
      return ReportError(status);
    }
    all.mutable_events()->MergeFrom(page.events());
    all.set_next_page_token(page.next_page_token());
    if (one_page || page.next_page_token().empty() ||
        page.next_page_token() == request.page_token()) {
      break;
    }
    request.set_page_token(page.next_page_token());
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(all) << "\n";
    return kExitOk;
  }
  for (const api::TicketEvent& e : all.events()) std::cout << EventLine(e, false) << "\n";
  if (one_page && !all.next_page_token().empty()) {
    std::cout << "next page: --page_token=" << all.next_page_token() << "\n";
  }
  return kExitOk;
}

// Ctrl-C while watching: cancels the stream in progress and ends the command. Never freed,
// since the signal thread may outlive the command.
int RunWatch(const std::string&) {
  api::WatchWorkOrdersRequest request;
  request.set_department_id(absl::GetFlag(FLAGS_department));
  request.set_cursor(absl::GetFlag(FLAGS_cursor));
  request.set_start_from_now(absl::GetFlag(FLAGS_from_now));
  if (!request.cursor().empty() && request.start_from_now()) {
    return ReportUsageError("ticket watch: --from_now and --cursor exclude each other",
                            "ticket help watch");
  }
  StreamStop stop;  // Before the channel exists (see StreamStop).
  absl::StatusOr<std::unique_ptr<Stub>> stub = NewStub();
  if (!stub.ok()) return ReportError(stub.status());
  const bool json = absl::GetFlag(FLAGS_json);
  return FollowStream<api::WatchWorkOrdersResponse>(
      stop,
      [&](grpc::ClientContext* context) { return (*stub)->WatchWorkOrders(context, request); },
      [&](const api::WatchWorkOrdersResponse& message) {
        if (json) {
          std::cout << ToJson(message) << std::endl;
        } else if (message.has_event()) {
          std::cout << EventLine(message.event(), true) << "  cursor=" << message.cursor()
                    << std::endl;
        } else {
          std::cout << FormatTimestamp(message.send_time())
                    << "  heartbeat  cursor=" << message.cursor() << std::endl;
        }
        // A reconnection resumes just after the last message seen.
        request.set_cursor(message.cursor());
        request.set_start_from_now(false);
      });
}

const std::vector<Command>& Commands() {
  static const auto* commands = [] {
    const char* readers = "anyone but editors; departments: tickets they work on";
    auto* all = new std::vector<Command>;
    all->push_back(
        {{"create",
          "--kind=K --channel=C --content=TEXT [--urgency=U] [--caller_name=NAME] "
          "[--caller_phone=PHONE] [--confidential] [--category=A/B] [--address=TEXT] "
          "[--district=CODE] [--point=LAT,LNG] [--request_id=ID]",
          "create a ticket (受理); prints it with its id", "agent, reviewer, supervisor",
          Section::kIntake, false,
          Flags("kind", "channel", "urgency", "content", "caller_name", "caller_phone",
                "confidential", "category", "address", "district", "point", "request_id")},
         RunCreate});
    all->push_back(
        {{"answer",
          "--kind=K --channel=C --content=TEXT --answer=TEXT [--cite=ENTRY[@V]#N,...] "
          "[--urgency=U] [--caller_name=NAME] [--caller_phone=PHONE] [--category=A/B] "
          "[--address=TEXT] [--district=CODE] [--request_id=ID]",
          "answer the caller on the spot (当场答复/直接办结): the ticket is created closed, "
          "with the answer and the knowledge-base passages cited (kinds: consultation, "
          "help-request)",
          "agent, reviewer, supervisor", Section::kIntake, false,
          Flags("kind", "channel", "urgency", "content", "caller_name", "caller_phone",
                "confidential", "category", "address", "district", "answer", "cite", "request_id")},
         RunAnswer});
    for (Update& update : Updates()) {
      const ticket::TransitionSpec& u = *update.spec;
      CommandSpec spec{u.command, u.synopsis, u.summary, ticket::RolesText(u), SectionOf(u.section),
                       true,      u.flags};
      spec.flags.insert(spec.flags.end(), {"expected_version", "request_id"});
      if (u.names_work_order) spec.flags.push_back("work_order");
      if (u.reason != ticket::ReasonUse::kNone) spec.flags.push_back("reason");
      all->push_back({std::move(spec), [update = std::move(update)](const std::string& id) {
                        return RunUpdate(update, id);
                      }});
    }
    all->push_back({{"get", "ID [--events]",
                     "show a ticket, its work orders and callbacks; --events adds its history",
                     readers, Section::kReads, true, Flags("events")},
                    RunGet});
    all->push_back(
        {{"list",
          "[--state=S]... [--department=DEPT] [--work_order_state=S]... [--overdue] "
          "[--warning=W]... [--kind=K]... [--channel=C]... [--urgency=U]... [--category=PREFIX] "
          "[--deadline_after=TIME] [--deadline_before=TIME] [--created_after=TIME] "
          "[--created_before=TIME] [--caller_phone=PHONE] [--order_by=ORDER] [--page_size=N] "
          "[--page_token=T]",
          "list tickets matching every filter given, one page", readers, Section::kReads, false,
          Flags("state", "department", "work_order_state", "overdue", "warning", "kind", "channel",
                "urgency", "category", "deadline_after", "deadline_before", "created_after",
                "created_before", "caller_phone", "order_by", "page_size", "page_token")},
         RunList});
    all->push_back({{"events", "ID [--work_order=W] [--page_size=N] [--page_token=T]",
                     "print a ticket's history, one event per line", readers, Section::kReads, true,
                     Flags("work_order", "page_size", "page_token")},
                    RunEvents});
    all->push_back({{"watch", "[--department=DEPT] [--cursor=C | --from_now]",
                     "follow a department's events until Ctrl-C, one line each with its cursor",
                     "department, supervisor", Section::kReads, false,
                     Flags("department", "cursor", "from_now")},
                    RunWatch});
    return all;
  }();
  return *commands;
}

const Command* FindCommand(absl::string_view name) {
  for (const Command& command : Commands()) {
    if (name == command.spec.name) return &command;
  }
  return nullptr;
}

// Every flag some ticket command reads, sorted.
std::set<std::string> AllTicketFlags() {
  std::set<std::string> flags;
  for (const Command& command : Commands()) {
    flags.insert(command.spec.flags.begin(), command.spec.flags.end());
  }
  return flags;
}

// ---------------------------------------------------------------------------
// Help.

// Wraps `text` at spaces into lines of at most about `width` terminal columns.
void PrintWrapped(std::ostream& out, absl::string_view text, absl::string_view first_indent,
                  absl::string_view indent, size_t width = 96) {
  // Terminal columns: CJK characters (3-byte UTF-8 from U+3000 on) take two.
  auto chars = [](absl::string_view s) {
    size_t columns = 0;
    for (char c : s) {
      unsigned char byte = static_cast<unsigned char>(c);
      if ((byte & 0xc0) != 0x80) columns += (byte >= 0xe3 && byte <= 0xef) ? 2 : 1;
    }
    return columns;
  };
  std::string line(first_indent);
  size_t line_chars = chars(line);
  bool empty = true;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!empty && line_chars + 1 + chars(word) > width) {
      out << line << "\n";
      line = std::string(indent);
      line_chars = chars(line);
      empty = true;
    }
    if (!empty) {
      line += ' ';
      ++line_chars;
    }
    absl::StrAppend(&line, word);
    line_chars += chars(word);
    empty = false;
  }
  out << line << "\n";
}

void PrintFlagHelp(std::ostream& out, const std::string& name) {
  const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  CHECK(flag != nullptr) << "ticket command flag --" << name << " is not defined";
  std::string shown = name == "expected_version" ? "--version, --expected_version" : "--" + name;
  PrintWrapped(out, absl::StrCat(shown, ": ", flag->Help()), "  ", "      ");
}

void PrintCommandHelp(std::ostream& out, const CommandSpec& spec) {
  PrintWrapped(out, absl::StrCat(spec.name, " ", spec.synopsis), "  ", "      ");
  PrintWrapped(out, absl::StrCat(spec.summary, ". Who: ", spec.roles, "."), "      ", "      ");
}

void PrintHelp(std::ostream& out, const Command* only) {
  if (only != nullptr) {
    const CommandSpec& spec = only->spec;
    PrintWrapped(
        out,
        absl::StrCat("usage: hotlinectl [global flags] ticket ", spec.name, " ", spec.synopsis), "",
        "      ");
    out << "\n";
    PrintWrapped(out, absl::StrCat(spec.summary, ". Who: ", spec.roles, "."), "", "");
    out << "\nFlags:\n";
    for (const std::string& flag : spec.flags) PrintFlagHelp(out, flag);
  } else {
    out << "usage: hotlinectl [global flags] ticket COMMAND [ID] [flags]\n\n";
    PrintWrapped(out,
                 "The client of the ticket service (hotline.ticket.v1.TicketService). ID is a "
                 "ticket id. Every update reads the ticket's current version first unless "
                 "--version=N is given, and sends a new request id unless --request_id is given; "
                 "after a timeout, repeat the command with the request id it printed. Admins may "
                 "run every command.",
                 "", "");
    for (const auto& [section, title] : kSectionTitles) {
      out << "\n" << title << "\n";
      for (const Command& command : Commands()) {
        if (command.spec.section == section) PrintCommandHelp(out, command.spec);
      }
    }
    out << "\nFlags of the ticket commands:\n";
    for (const std::string& flag : AllTicketFlags()) PrintFlagHelp(out, flag);
  }
  bool values_shown = false;
  for (const EnumFlag& flag : ticket_names::EnumFlags()) {
    if (only != nullptr && !absl::c_linear_search(only->spec.flags, flag.flag)) {
      continue;
    }
    if (!values_shown) out << "\nValues (the Chinese terms and proto names are accepted too):\n";
    values_shown = true;
    std::vector<std::string> names;
    for (const EnumName& e : flag.table->names) names.push_back(absl::StrCat(e.name, " ", e.label));
    PrintWrapped(out, absl::StrCat("--", flag.flag, ": ", absl::StrJoin(names, ", ")), "  ",
                 "      ");
  }
  out << "\n";
  PrintWrapped(out,
               "TIME is in Asia/Shanghai: 2024-05-15, '2024-05-15 18:00', or RFC 3339 such as "
               "2024-05-15T18:00:00+08:00; a bare date as a deadline is the end of that day. "
               "LIMIT (--assist=DEPT:LIMIT) is N or Nd working days, Nh hours, or a TIME. "
               "Flags marked repeatable also take comma-separated lists.",
               "", "");
  out << "\n";
  PrintWrapped(out,
               "Global flags: --ticket=HOST:PORT (the service), --token=TOKEN (or HOTLINE_TOKEN), "
               "--timeout=5s, --tls_ca=FILE, --json (print the response messages as JSON, one "
               "line each). Flags also come from HOTLINE_<FLAG> environment variables, except "
               "--version and --request_id.",
               "", "");
}

}  // namespace

std::set<std::string> TicketListFlags() {
  return {"state",   "work_order_state", "warning", "kind",
          "channel", "urgency",          "assist",  "work_order"};
}

std::string TicketCommandSummary() {
  std::string summary;
  for (const Command& command : Commands()) {
    absl::StrAppend(
        &summary, absl::StrFormat("  ticket %-17s %s\n", command.spec.name, command.spec.summary));
  }
  return summary;
}

int RunTicketCommand(const std::vector<std::string>& args) {
  if (args.empty()) return ReportUsageError("ticket: the COMMAND is missing", kHelp);
  if (args[0] == "help") {
    const Command* only = nullptr;
    if (args.size() > 1) {
      only = FindCommand(args[1]);
      if (only == nullptr) {
        return ReportUsageError(absl::StrCat("no ticket command '", args[1], "'"), kHelp);
      }
    }
    PrintHelp(std::cout, only);
    return kExitOk;
  }
  const Command* command = FindCommand(args[0]);
  if (command == nullptr) {
    return ReportUsageError(absl::StrCat("no ticket command '", args[0], "'"), kHelp);
  }
  const CommandSpec& spec = command->spec;
  const std::string help = absl::StrCat(kHelp, " ", spec.name);
  size_t operands = spec.takes_ticket_id ? 1 : 0;
  if (args.size() - 1 < operands) {
    return ReportUsageError(absl::StrCat("ticket ", spec.name, ": the ticket ID is missing"), help);
  }
  if (args.size() - 1 > operands) {
    return ReportUsageError(
        absl::StrCat("ticket ", spec.name, ": unexpected argument '", args[operands + 1], "'"),
        help);
  }
  // A ticket flag this command does not read is a mistake (a typo, or the wrong command),
  // not something to ignore silently.
  for (const std::string& flag : AllTicketFlags()) {
    if (FlagOnCommandLine(flag) && !absl::c_linear_search(spec.flags, flag)) {
      return ReportUsageError(absl::StrCat("ticket ", spec.name, " does not take --",
                                           flag == "expected_version" ? "version" : flag),
                              help);
    }
  }
  return command->run(spec.takes_ticket_id ? args[1] : std::string());
}

}  // namespace hotline::cli
