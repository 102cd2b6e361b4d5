// The shape of every handler. A unary call: the library thread hands it to a worker pool (where
// blocking reads and synced writes are allowed), and the worker finishes the reactor with the
// handler's absl::Status, converted once, here. A refused stream: finished at once.
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

// Runs `handler` on the gRPC thread that received the call and finishes the call with its
// status. For CPU-only work that takes about a millisecond (a search): handing it to a pool
// would cost two thread switches, as much as the work on a small machine. Anything that
// waits (a synced write, a lock held by writers) belongs on a pool (ServeOnPool).
template <typename Handler>
grpc::ServerUnaryReactor* ServeInline(grpc::CallbackServerContext* context, Handler handler) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(handler()));
  return reactor;
}

// A server-streaming call refused before its first message (bad token, bad request): the
// reactor finishes at once with the status and deletes itself when gRPC is done with it.
template <typename Response>
grpc::ServerWriteReactor<Response>* RefusedStream(const absl::Status& status) {
  class Refused final : public grpc::ServerWriteReactor<Response> {
   public:
    explicit Refused(const absl::Status& s) { this->Finish(ToGrpcStatus(s)); }
    void OnDone() override { delete this; }
  };
  return new Refused(status);
}

}  // namespace hotline

#endif  // HOTLINE_COMMON_UNARY_CALL_H_
