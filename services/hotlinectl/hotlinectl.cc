// hotlinectl: the command-line client of the 12345 hotline services.
//
//   hotlinectl [flags] health [--wait=30s]     health of every service
//   hotlinectl [flags] ticket COMMAND ...      the ticket service (hotlinectl ticket help)
//   hotlinectl [flags] kb COMMAND ...          the knowledge base (hotlinectl kb help; also kbctl)
//   hotlinectl [flags] metrics COMMAND ...     rates, backlog, overdue (hotlinectl metrics help)
//   hotlinectl [flags] account COMMAND ...     people's accounts (admin)
//   hotlinectl [flags] audit list              the audit trail (admin)
//
// Flags can also come from the environment (HOTLINE_TOKEN, HOTLINE_TICKET, ...).
#include <grpcpp/grpcpp.h>

#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/program.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/hotlinectl/account_commands.h"
#include "services/hotlinectl/client_util.h"
#include "services/hotlinectl/kb_commands.h"
#include "services/hotlinectl/metrics_commands.h"
#include "services/hotlinectl/ticket_commands.h"

ABSL_FLAG(absl::Duration, wait, absl::ZeroDuration(),
          "health: keep asking until every service is SERVING or this much time has passed");

namespace hotline::cli {
namespace {

struct Target {
  std::string label;
  std::string address;
  std::string service;  // Full proto service name, as reported by the health service.
};

std::vector<Target> Targets() {
  return {{"kb", absl::GetFlag(FLAGS_kb), "hotline.kb.v1.KnowledgeBaseService"},
          {"ticket", absl::GetFlag(FLAGS_ticket), "hotline.ticket.v1.TicketService"},
          {"metrics", absl::GetFlag(FLAGS_metrics), "hotline.metrics.v1.MetricsService"}};
}

std::string CheckHealth(const Target& target) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = Connect(target.address);
  if (!channel.ok()) return std::string(channel.status().message());
  auto stub = grpc::health::v1::Health::NewStub(*channel);
  grpc::ClientContext context;  // No token: health answers anyone.
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_timeout)));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(target.service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    return status.error_code() == grpc::StatusCode::UNAVAILABLE ? "UNREACHABLE"
                                                                : status.error_message();
  }
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
}

int Health() {
  absl::Time deadline = absl::Now() + absl::GetFlag(FLAGS_wait);
  std::map<std::string, std::string> states;
  while (true) {
    bool all_serving = true;
    for (const Target& t : Targets()) {
      states[t.label] = CheckHealth(t);
      all_serving = all_serving && states[t.label] == "SERVING";
    }
    if (all_serving || absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(200));  // Polling a remote service until its deadline.
  }
  bool all_serving = true;
  if (absl::GetFlag(FLAGS_json)) std::cout << "[";
  bool first = true;
  for (const Target& t : Targets()) {
    const std::string& state = states[t.label];
    all_serving = all_serving && state == "SERVING";
    if (absl::GetFlag(FLAGS_json)) {
      std::cout << (first ? "" : ",")
                << absl::StrFormat(R"({"service":"%s","address":"%s","status":"%s"})", t.label,
                                   t.address, state);
      first = false;
    } else {
      std::cout << absl::StrFormat("%-8s %-22s %s\n", t.label, t.address, state);
    }
  }
  if (absl::GetFlag(FLAGS_json)) std::cout << "]\n";
  return all_serving ? 0 : 1;
}

}  // namespace
}  // namespace hotline::cli

int main(int argc, char** argv) {
  namespace cli = hotline::cli;
  cli::ShowAllProgramFlagsInHelp();
  // `hotlinectl kb COMMAND --help` shows that command's help rather than every flag.
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) != "kb") continue;
    if (std::string command = cli::KbCommandAskingForHelp(argc, argv, i + 1); !command.empty()) {
      return cli::RunKbCommand({"help", command}, "hotlinectl kb");
    }
    break;
  }
  std::set<std::string> list_flags = cli::TicketListFlags();
  list_flags.merge(cli::KbListFlags());
  // Kept alive for the whole run: logging keeps a pointer to argv[0].
  std::vector<std::string> prepared = cli::PrepareCommandLine(argc, argv, list_flags);
  std::vector<char*> prepared_argv;
  for (std::string& arg : prepared) prepared_argv.push_back(arg.data());
  prepared_argv.push_back(nullptr);
  std::vector<std::string> args = hotline::InitProgram(
      static_cast<int>(prepared.size()), prepared_argv.data(),
      absl::StrCat("hotlinectl [flags] COMMAND ...\n\n"
                   "Commands:\n"
                   "  health                   show whether each service answers SERVING (with "
                   "--wait, wait for it)\n",
                   cli::TicketCommandSummary(),
                   "  ticket help [COMMAND]    the ticket commands with their arguments, flags "
                   "and values\n",
                   cli::KbCommandSummary("kb "),
                   "  kb help [COMMAND]        the knowledge-base commands with their arguments "
                   "and flags\n",
                   cli::MetricsCommandSummary(),
                   "  metrics help [COMMAND]   the metrics commands with their flags and values\n",
                   cli::AccountCommandSummary()));
  if (args.size() < 2) {
    return cli::ReportUsageError("a COMMAND is missing (health, ticket, kb, metrics)", "--help");
  }
  const std::string& command = args[1];
  if (command == "ticket") return cli::RunTicketCommand({args.begin() + 2, args.end()});
  if (command == "kb") return cli::RunKbCommand({args.begin() + 2, args.end()}, "hotlinectl kb");
  if (command == "metrics") return cli::RunMetricsCommand({args.begin() + 2, args.end()});
  if (command == "account") return cli::RunAccountCommand({args.begin() + 2, args.end()});
  if (command == "audit") return cli::RunAuditCommand({args.begin() + 2, args.end()});
  if (command == "health") {
    if (args.size() != 2) return cli::ReportUsageError("health takes no arguments", "--help");
    return cli::Health();
  }
  if (command == "help") {
    std::cout << absl::ProgramUsageMessage();
    return cli::kExitOk;
  }
  return cli::ReportUsageError(absl::StrCat("unknown command '", command, "'"), "--help");
}
