#include "common/service_host.h"

#include <glog/logging.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/files.h"
#include "common/malformed_requests.h"
#include "common/server_flags.h"
#include "common/telemetry.h"

namespace hotline {
ServiceHostOptions ServiceHostOptionsFromFlags() {
  ServiceHostOptions options;
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.max_receive_message_bytes = absl::GetFlag(FLAGS_max_request_bytes);
  options.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  return options;
}

ServiceHost::ServiceHost(ServiceHostOptions options) : options_(std::move(options)) {}

ServiceHost::~ServiceHost() { Shutdown(); }

void ServiceHost::AddService(grpc::Service* service, std::string health_name) {
  services_.emplace_back(service, std::move(health_name));
}

absl::Status ServiceHost::Start() {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (options_.tls_cert_file.empty() != options_.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key must be given together");
  }
  if (options_.tls_cert_file.empty()) {
    credentials = grpc::InsecureServerCredentials();
  } else {
    absl::StatusOr<std::string> cert = ReadFileToString(options_.tls_cert_file, "TLS certificate");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFileToString(options_.tls_key_file, "TLS key");
    if (!key.ok()) return key.status();
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    credentials = grpc::SslServerCredentials(ssl);
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen_address, credentials, &port_);
  builder.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  // Sending hooks run in this order: the request metrics count the status as rewritten.
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(NewMalformedRequestInterceptorFactory());
  if (telemetry::RequestMetricsInstalled()) {
    creators.push_back(telemetry::NewRequestMetricsInterceptorFactory());
  }
  builder.experimental().SetInterceptorCreators(std::move(creators));
  for (auto& [service, name] : services_) builder.RegisterService(service);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.listen_address));
  }
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus("", true);
  for (auto& [service, name] : services_) health->SetServingStatus(name, true);
  LOG(INFO) << "listening on " << address();
  return absl::OkStatus();
}

std::string ServiceHost::address() const {
  std::string host = options_.listen_address.substr(0, options_.listen_address.rfind(':'));
  return absl::StrCat(host, ":", port_);
}

void ServiceHost::Shutdown() {
  if (server_ == nullptr || shut_down_) return;
  shut_down_ = true;
  LOG(INFO) << "shutting down: NOT_SERVING, draining calls for up to "
            << absl::FormatDuration(options_.shutdown_grace);
  // Freezes every status at NOT_SERVING; later SetServingStatus calls are ignored.
  server_->GetHealthCheckService()->Shutdown();
  for (const auto& hook : hooks_) hook();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + options_.shutdown_grace));
  server_->Wait();
  LOG(INFO) << "shut down";
}

absl::Status WritePortFile(const std::string& path, int port) {
  if (path.empty()) return absl::OkStatus();
  std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << port << "\n";
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", temporary));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", temporary, " to ", path));
  }
  return absl::OkStatus();
}

}  // namespace hotline
