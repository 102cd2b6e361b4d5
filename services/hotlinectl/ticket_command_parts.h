// What the ticket commands' files share (ticket_commands.cc: the table, create, answer and help;
// ticket_update_commands.cc: every update, from the service's transition table;
// ticket_read_commands.cc: get, list, events, watch; ticket_command_parts.cc: reading flags,
// calls and errors; ticket_flags.cc: the flags). Not part of the commands' interface.
#ifndef HOTLINE_SERVICES_HOTLINECTL_TICKET_COMMAND_PARTS_H_
#define HOTLINE_SERVICES_HOTLINECTL_TICKET_COMMAND_PARTS_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "hotline/ticket/v1/ticket.grpc.pb.h"
#include "services/hotlinectl/client_util.h"
#include "services/hotlinectl/ticket_names.h"
#include "services/ticket/transitions.h"

// The ticket commands' flags (ticket_flags.cc).
ABSL_DECLARE_FLAG(int64_t, expected_version);
ABSL_DECLARE_FLAG(std::string, request_id);
ABSL_DECLARE_FLAG(std::string, work_order);
ABSL_DECLARE_FLAG(std::string, reason);
ABSL_DECLARE_FLAG(std::string, channel);
ABSL_DECLARE_FLAG(std::string, urgency);
ABSL_DECLARE_FLAG(std::string, content);
ABSL_DECLARE_FLAG(std::string, caller_name);
ABSL_DECLARE_FLAG(std::string, caller_phone);
ABSL_DECLARE_FLAG(bool, confidential);
ABSL_DECLARE_FLAG(std::string, address);
ABSL_DECLARE_FLAG(std::string, district);
ABSL_DECLARE_FLAG(std::string, point);
ABSL_DECLARE_FLAG(std::string, answer);
ABSL_DECLARE_FLAG(std::vector<std::string>, cite);
ABSL_DECLARE_FLAG(std::string, into);
ABSL_DECLARE_FLAG(std::string, lead);
ABSL_DECLARE_FLAG(int32_t, lead_days);
ABSL_DECLARE_FLAG(int32_t, lead_hours);
ABSL_DECLARE_FLAG(std::string, lead_deadline);
ABSL_DECLARE_FLAG(std::string, assist);
ABSL_DECLARE_FLAG(std::string, instructions);
ABSL_DECLARE_FLAG(std::string, to);
ABSL_DECLARE_FLAG(bool, withdraw);
ABSL_DECLARE_FLAG(int32_t, days);
ABSL_DECLARE_FLAG(int32_t, hours);
ABSL_DECLARE_FLAG(std::string, deadline);
ABSL_DECLARE_FLAG(std::string, text);
ABSL_DECLARE_FLAG(bool, approve);
ABSL_DECLARE_FLAG(bool, refuse);
ABSL_DECLARE_FLAG(std::string, message);
ABSL_DECLARE_FLAG(std::string, result);
ABSL_DECLARE_FLAG(bool, events);
ABSL_DECLARE_FLAG(std::string, state);
ABSL_DECLARE_FLAG(std::string, work_order_state);
ABSL_DECLARE_FLAG(std::string, warning);
ABSL_DECLARE_FLAG(std::string, department);
ABSL_DECLARE_FLAG(bool, overdue);
ABSL_DECLARE_FLAG(std::string, deadline_after);
ABSL_DECLARE_FLAG(std::string, deadline_before);
ABSL_DECLARE_FLAG(std::string, created_after);
ABSL_DECLARE_FLAG(std::string, created_before);
ABSL_DECLARE_FLAG(std::string, page_token);
ABSL_DECLARE_FLAG(std::string, order_by);
ABSL_DECLARE_FLAG(std::string, cursor);
ABSL_DECLARE_FLAG(bool, from_now);

namespace hotline::cli::ticket_parts {

namespace api = ::hotline::ticket::v1;
using Stub = api::TicketService::StubInterface;
using google::protobuf::Message;

constexpr char kHelp[] = "ticket help";

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

// The request id to send: --request_id from the command line, or a fresh UUID.
struct RequestId {
  std::string value;
  bool generated = false;
};

absl::Status Required(absl::string_view flag, const std::string& value);

absl::StatusOr<google::protobuf::Timestamp> TimeFlag(absl::string_view flag,
                                                     const std::string& value,
                                                     DateMeans date_means);

// A limit written as "10" or "10d" (working days), "48h" (hours) or a deadline.
absl::StatusOr<api::TimeLimit> ParseLimit(absl::string_view flag, absl::string_view text);

// The limit given by --days/--hours/--deadline (or --lead_days/...); nullopt when none is.
absl::StatusOr<std::optional<api::TimeLimit>> LimitFromFlags(bool lead);

void PrintResult(const api::Ticket& ticket, bool with_events);

absl::StatusOr<std::unique_ptr<Stub>> NewStub();

absl::StatusOr<RequestId> TakeRequestId();

// Reports a failed create or update, with what to do next when the contract says so.
int ReportWriteError(const grpc::Status& status, const RequestId& request_id,
                     const std::string& ticket_id);

// --lead (and its limit) and --assist into a dispatch or reopen request.
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

template <typename... Names>
std::vector<std::string> Flags(Names... names) {
  return {names...};
}

// An update rpc with its request type erased, so that every update runs through RunUpdate().
// What it is (command, flags, roles) is its row of the service's table (transitions.h).
struct Update {
  const ticket::TransitionSpec* spec;
  std::function<std::unique_ptr<Message>()> new_request;
  // The request's own fields beyond the table's text flags; errors are usage errors.
  std::function<absl::Status(Message*)> fill;
  std::function<grpc::Status(Stub*, grpc::ClientContext*, const Message&, api::Ticket*)> send;
};

// Every update of the service's transition table, in its order, and running one
// (ticket_update_commands.cc).
std::vector<Update> Updates();
int RunUpdate(const Update& update, const std::string& ticket_id);
Section SectionOf(ticket::CliSection section);

// The read commands (ticket_read_commands.cc).
int RunGet(const std::string& ticket_id);
int RunList(const std::string&);
int RunEvents(const std::string& ticket_id);
int RunWatch(const std::string&);

}  // namespace hotline::cli::ticket_parts

#endif  // HOTLINE_SERVICES_HOTLINECTL_TICKET_COMMAND_PARTS_H_
