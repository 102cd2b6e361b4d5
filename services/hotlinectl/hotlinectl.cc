// hotlinectl: the command-line client of the 12345 hotline services.
//
//   hotlinectl [flags] health [--wait=30s]     health of every service
//
// Flags can also come from the environment (HOTLINE_TOKEN, HOTLINE_TICKET, ...).
#include <grpcpp/grpcpp.h>

#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/program.h"
#include "grpc/health/v1/health.grpc.pb.h"

ABSL_FLAG(std::string, kb, "127.0.0.1:50051", "address of the knowledge-base service");
ABSL_FLAG(std::string, ticket, "127.0.0.1:50052", "address of the ticket service");
ABSL_FLAG(std::string, metrics, "127.0.0.1:50053", "address of the metrics service");
ABSL_FLAG(std::string, tls_ca, "", "PEM root certificates; enables TLS to the services");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(5), "deadline of each call");
ABSL_FLAG(absl::Duration, wait, absl::ZeroDuration(),
          "health: keep asking until every service is SERVING or this much time has passed");
ABSL_FLAG(bool, json, false, "print JSON instead of a table");

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

std::shared_ptr<grpc::Channel> Connect(const std::string& address) {
  std::string ca = absl::GetFlag(FLAGS_tls_ca);
  if (ca.empty()) return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ca;
  return grpc::CreateChannel(address, grpc::SslCredentials(options));
}

std::string CheckHealth(const Target& target) {
  auto stub = grpc::health::v1::Health::NewStub(Connect(target.address));
  grpc::ClientContext context;
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
  std::vector<std::string> args = hotline::InitProgram(
      argc, argv,
      "hotlinectl [flags] COMMAND\n\n"
      "Commands:\n"
      "  health   show whether each service answers SERVING (with --wait, wait for it)\n");
  if (args.size() != 2) {
    std::cerr << "usage: hotlinectl [flags] health   (hotlinectl --help for flags)\n";
    return 2;
  }
  if (args[1] == "health") return hotline::cli::Health();
  std::cerr << "hotlinectl: unknown command '" << args[1] << "' (try: health)\n";
  return 2;
}
