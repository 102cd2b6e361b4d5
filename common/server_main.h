// The main() of every server: flags, token file, store, service host, signals. A server
// supplies its column families and a factory for its services.
#ifndef HOTLINE_COMMON_SERVER_MAIN_H_
#define HOTLINE_COMMON_SERVER_MAIN_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth.h"
#include "common/clock.h"
#include "common/rocks_store.h"

namespace hotline {

// What the runtime has opened for the services of one server process.
struct ServerContext {
  std::shared_ptr<const TokenRegistry> tokens;
  RocksStore* store = nullptr;
  Clock* clock = nullptr;
};

struct HostedService {
  std::shared_ptr<grpc::Service> service;
  std::string health_name;
  // Called when shutdown begins (see ServiceHost::AddShutdownHook); may be empty.
  std::function<void()> on_shutdown;
};

// Builds the services; an error stops the server with that message.
using ServiceFactory =
    std::function<absl::StatusOr<std::vector<HostedService>>(const ServerContext&)>;

// Runs a server until SIGINT or SIGTERM, then shuts down gracefully. Returns the exit code.
int RunServerMain(int argc, char** argv, absl::string_view usage,
                  const std::vector<std::string>& column_families, const ServiceFactory& factory);

}  // namespace hotline

#endif  // HOTLINE_COMMON_SERVER_MAIN_H_
