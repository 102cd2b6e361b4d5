// The read commands: get (a ticket, its work orders, callbacks and optionally history), list
// (one page of tickets by the API's filters), events (the whole history) and watch (a
// department's stream until Ctrl-C).
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

}  // namespace hotline::cli::ticket_parts
