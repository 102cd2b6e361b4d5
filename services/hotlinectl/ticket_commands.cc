// The ticket commands' table: create and answer here, the updates from the service's
// transition table (ticket_update_commands.cc), the reads (ticket_read_commands.cc). Help, the
// check that a command was given only its own flags, and the program's usage message are
// generated from the table. Enum names are in ticket_names, the text output in ticket_text.
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
#include "services/hotlinectl/ticket_command_parts.h"
#include "services/hotlinectl/ticket_names.h"
#include "services/hotlinectl/ticket_text.h"
#include "services/ticket/transitions.h"

namespace hotline::cli {
namespace {

namespace api = ::hotline::ticket::v1;
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
using ticket_parts::Command;
using ticket_parts::CommandSpec;
using ticket_parts::Flags;
using ticket_parts::kHelp;
using ticket_parts::kSectionTitles;
using ticket_parts::NewStub;
using ticket_parts::PrintResult;
using ticket_parts::ReportWriteError;
using ticket_parts::RequestId;
using ticket_parts::Required;
using ticket_parts::RunEvents;
using ticket_parts::RunGet;
using ticket_parts::RunList;
using ticket_parts::RunUpdate;
using ticket_parts::RunWatch;
using ticket_parts::Section;
using ticket_parts::SectionOf;
using ticket_parts::Stub;
using ticket_parts::TakeRequestId;
using ticket_parts::Update;
using ticket_parts::Updates;
using ticket_text::EventLine;
using ticket_text::PrintTicket;
using ticket_text::PrintTicketList;

// ---------------------------------------------------------------------------
// The command table.

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
