// The test-only Echo service, built the way real services are: authenticate and authorise
// first, do blocking work on a worker pool, finish the reactor from there.
#ifndef HOTLINE_TESTS_SUPPORT_ECHO_SERVICE_H_
#define HOTLINE_TESTS_SUPPORT_ECHO_SERVICE_H_

#include <atomic>
#include <memory>

#include "absl/synchronization/notification.h"
#include "common/auth.h"
#include "common/worker_pool.h"
#include "hotline/testing/v1/echo.grpc.pb.h"

namespace hotline::testing {

class EchoService final : public hotline::testing::v1::Echo::CallbackService {
 public:
  explicit EchoService(std::shared_ptr<const TokenRegistry> tokens);

  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const v1::EchoRequest* request,
                                 v1::EchoResponse* response) override;
  grpc::ServerUnaryReactor* SlowEcho(grpc::CallbackServerContext* context,
                                     const v1::EchoRequest* request,
                                     v1::EchoResponse* response) override;

  // SlowEcho calls that have started and not yet been released.
  int slow_calls_waiting() const { return slow_calls_waiting_.load(); }
  // Lets every SlowEcho call, present and future, answer.
  void ReleaseSlowCalls() {
    if (!release_.HasBeenNotified()) release_.Notify();
  }

 private:
  std::shared_ptr<const TokenRegistry> tokens_;
  absl::Notification release_;
  std::atomic<int> slow_calls_waiting_{0};
  // Declared last so it is destroyed first: its threads may still be finishing calls.
  WorkerPool workers_{"echo-worker", 2};
};

}  // namespace hotline::testing

#endif  // HOTLINE_TESTS_SUPPORT_ECHO_SERVICE_H_
