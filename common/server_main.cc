#include "common/server_main.h"

#include <glog/logging.h>

#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/program.h"
#include "common/server_flags.h"
#include "common/serving_loop.h"
#include "common/telemetry.h"

namespace hotline {

int RunServerMain(int argc, char** argv, absl::string_view usage,
                  const std::vector<std::string>& column_families, const ServiceFactory& factory) {
  InitProgram(argc, argv, usage);
  // Before any thread exists, so that only WaitForTerminationSignal() sees SIGTERM.
  BlockTerminationSignals();

  const std::string token_file = absl::GetFlag(FLAGS_token_file);
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (token_file.empty() || data_dir.empty()) {
    std::cerr << "--token_file and --data_dir are required (or HOTLINE_TOKEN_FILE and "
                 "HOTLINE_DATA_DIR)\n";
    return 2;
  }
  absl::StatusOr<std::shared_ptr<const TokenRegistry>> tokens =
      TokenRegistry::LoadFile(token_file, absl::GetFlag(FLAGS_credential_key_file));
  if (!tokens.ok()) {
    LOG(ERROR) << tokens.status();
    return 2;
  }
  // Prometheus text metrics: request counts and latencies of every method come from an
  // interceptor that must be installed before the gRPC server is built; services add their
  // own gauges (queues, lags) when they are created.
  std::unique_ptr<telemetry::MetricsEndpoint> metrics_endpoint;
  if (int port = absl::GetFlag(FLAGS_metrics_port); port > 0) {
    telemetry::InstallRequestMetricsInEveryServer();
    const std::string listen = absl::GetFlag(FLAGS_listen);
    const std::string address = absl::StrCat(listen.substr(0, listen.rfind(':')), ":", port);
    absl::StatusOr<std::unique_ptr<telemetry::MetricsEndpoint>> endpoint =
        telemetry::MetricsEndpoint::Start(address);
    if (!endpoint.ok()) {
      LOG(ERROR) << endpoint.status();
      return 1;
    }
    metrics_endpoint = std::move(*endpoint);
    LOG(INFO) << "Prometheus metrics at http://" << address << "/metrics";
  }

  ServingOptions options;
  options.host = ServiceHostOptionsFromFlags();
  options.store = {.path = data_dir, .column_families = column_families};
  options.port_file = absl::GetFlag(FLAGS_port_file);
  // Never destroyed: the detached signal thread may still be waiting on it when the loop ends
  // on an error and the process exits.
  static ServingEvents* const events = new ServingEvents();
  std::thread([] {
    int signal_number = WaitForTerminationSignal();
    LOG(INFO) << "received signal " << signal_number;
    events->RequestStop();
  }).detach();
  return ServeUntilStopped(std::move(options), *tokens, Clock::Real(), factory, events);
}

}  // namespace hotline
