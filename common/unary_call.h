// The shape of every unary handler: the library thread hands the call to a worker pool (where
// blocking reads and synced writes are allowed), and the worker finishes the reactor with the
// handler's absl::Status, converted once, here.
#ifndef HOTLINE_COMMON_UNARY_CALL_H_
#define HOTLINE_COMMON_UNARY_CALL_H_

#include <grpcpp/grpcpp.h>

#include <utility>

#include "absl/status/status.h"
#include "common/grpc_status.h"
#include "common/worker_pool.h"

namespace hotline {

// `handler` is a callable returning absl::Status; it fills the response itself. The request,
// response and context stay valid until the reactor is finished, so the handler may use them.
template <typename Handler>
grpc::ServerUnaryReactor* ServeOnPool(grpc::CallbackServerContext* context, WorkerPool& pool,
                                      Handler handler) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  pool.Schedule([reactor, handler = std::move(handler)]() mutable {
    reactor->Finish(ToGrpcStatus(handler()));
  });
  return reactor;
}

}  // namespace hotline

#endif  // HOTLINE_COMMON_UNARY_CALL_H_
