// Hosts gRPC services the same way in every server and every test: health checking with a
// status per service name, server reflection, optional TLS, request size limits, and a
// graceful shutdown that lets in-flight calls finish.
#ifndef HOTLINE_COMMON_SERVICE_HOST_H_
#define HOTLINE_COMMON_SERVICE_HOST_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace hotline {

struct ServiceHostOptions {
  // host:port; port 0 picks a free port (see ServiceHost::port()).
  std::string listen_address = "127.0.0.1:0";
  // PEM files; both empty means plaintext (for loopback and tests only).
  std::string tls_cert_file;
  std::string tls_key_file;
  // Largest request accepted; larger ones fail with RESOURCE_EXHAUSTED before any handler runs.
  int max_receive_message_bytes = 4 << 20;
  // How long in-flight calls may run once shutdown has begun; then they are cancelled.
  absl::Duration shutdown_grace = absl::Seconds(10);
};

// Builds ServiceHostOptions from the shared server flags (--listen, --tls_cert, ...).
ServiceHostOptions ServiceHostOptionsFromFlags();

class ServiceHost {
 public:
  explicit ServiceHost(ServiceHostOptions options);
  ~ServiceHost();

  // Runs `hook` when shutdown begins, after health goes NOT_SERVING and before the server
  // drains: services end their long-lived streams here so shutdown need not wait for them.
  void AddShutdownHook(std::function<void()> hook) { hooks_.push_back(std::move(hook)); }

  // Registers a service; `health_name` is its full proto name (e.g. "hotline.kb.v1.KnowledgeBase"),
  // reported by the health service. The service must outlive the host.
  void AddService(grpc::Service* service, std::string health_name);

  absl::Status Start();

  // The bound port, valid after Start().
  int port() const { return port_; }
  std::string address() const;

  // Marks every service NOT_SERVING so load balancers stop sending work, then waits up to
  // shutdown_grace for in-flight calls, then cancels what is left. Idempotent.
  void Shutdown();

  grpc::Server* server() { return server_.get(); }

 private:
  ServiceHostOptions options_;
  std::vector<std::pair<grpc::Service*, std::string>> services_;
  std::vector<std::function<void()>> hooks_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

// Writes the bound port to `path` (if not empty) atomically, so a supervisor script or test
// can wait for the file instead of parsing logs.
absl::Status WritePortFile(const std::string& path, int port);

}  // namespace hotline

#endif  // HOTLINE_COMMON_SERVICE_HOST_H_
