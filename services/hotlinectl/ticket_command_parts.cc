// Reading the ticket commands' flag values, their calls to the service, and their errors.
#include "services/hotlinectl/ticket_command_parts.h"

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

}  // namespace hotline::cli::ticket_parts
