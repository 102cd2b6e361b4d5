// Every ticket update command, from the service's transition table (transitions.h): the
// ticket id operand, the expected version (read first unless --version is given), the request
// id (a fresh UUID unless --request_id is given), --work_order and --reason as the row says,
// the row's text flags, and for the requests that need more their own fill.
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
#include "services/hotlinectl/ticket_command_parts.h"
#include "services/hotlinectl/ticket_names.h"
#include "services/hotlinectl/ticket_text.h"
#include "services/ticket/transitions.h"

namespace hotline::cli::ticket_parts {

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

}  // namespace hotline::cli::ticket_parts
