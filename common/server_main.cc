#include "common/server_main.h"

#include <glog/logging.h>

#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/program.h"
#include "common/server_flags.h"
#include "common/service_host.h"
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
  absl::StatusOr<std::unique_ptr<RocksStore>> store =
      RocksStore::Open({.path = data_dir, .column_families = column_families});
  if (!store.ok()) {
    LOG(ERROR) << store.status();
    return 1;
  }

  ServerContext context{*tokens, store->get(), Clock::Real()};
  absl::StatusOr<std::vector<HostedService>> built = factory(context);
  if (!built.ok()) {
    LOG(ERROR) << built.status();
    return 1;
  }
  std::vector<HostedService> services = std::move(*built);

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

  ServiceHost host(ServiceHostOptionsFromFlags());
  for (HostedService& s : services) {
    host.AddService(s.service.get(), s.health_name);
    if (s.on_shutdown) host.AddShutdownHook(s.on_shutdown);
  }
  if (absl::Status started = host.Start(); !started.ok()) {
    LOG(ERROR) << started;
    return 1;
  }
  if (absl::Status written = WritePortFile(absl::GetFlag(FLAGS_port_file), host.port());
      !written.ok()) {
    LOG(ERROR) << written;
    return 1;
  }

  int signal_number = WaitForTerminationSignal();
  LOG(INFO) << "received signal " << signal_number;
  host.Shutdown();
  // Services (and their worker pools) go before the store they write to.
  services.clear();
  return 0;
}

}  // namespace hotline
