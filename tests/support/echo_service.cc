#include "tests/support/echo_service.h"

#include "common/grpc_status.h"

namespace hotline::testing {

EchoService::EchoService(std::shared_ptr<const TokenRegistry> tokens)
    : tokens_(std::move(tokens)) {}

grpc::ServerUnaryReactor* EchoService::Echo(grpc::CallbackServerContext* context,
                                            const v1::EchoRequest* request,
                                            v1::EchoResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Principal> principal =
      AuthenticateAndAuthorize(*tokens_, *context, {Role::kAgent, Role::kSupervisor});
  if (!principal.ok()) {
    reactor->Finish(ToGrpcStatus(principal.status()));
    return reactor;
  }
  response->set_message(request->message());
  response->set_principal(principal->name);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* EchoService::SlowEcho(grpc::CallbackServerContext* context,
                                                const v1::EchoRequest* request,
                                                v1::EchoResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Principal> principal =
      AuthenticateAndAuthorize(*tokens_, *context, {Role::kAgent, Role::kSupervisor});
  if (!principal.ok()) {
    reactor->Finish(ToGrpcStatus(principal.status()));
    return reactor;
  }
  ++slow_calls_waiting_;
  // The wait happens on our worker, never on a gRPC callback thread.
  workers_.Schedule([this, reactor, request, response, name = principal->name] {
    release_.WaitForNotification();
    --slow_calls_waiting_;
    response->set_message(request->message());
    response->set_principal(name);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace hotline::testing
