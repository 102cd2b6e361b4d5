// Helpers shared by tests: temporary directories, free ports, and waiting for a condition with a
// deadline (tests never sleep for a fixed time).
#ifndef HOTLINE_TESTS_SUPPORT_TEST_UTIL_H_
#define HOTLINE_TESTS_SUPPORT_TEST_UTIL_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace hotline::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string Sub(absl::string_view name) const;

 private:
  std::string path_;
};

// Asks the kernel for a port that is free right now on 127.0.0.1.
int PickFreePort();

// Polls `condition` until it is true or `timeout` passes; returns whether it became true.
// Backs off from 1 ms to 50 ms between polls.
bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout = absl::Seconds(10));

// A client context with a deadline and, if `token` is not empty, the bearer token.
std::unique_ptr<grpc::ClientContext> ContextWithToken(absl::string_view token,
                                                      absl::Duration deadline = absl::Seconds(10));

// A plaintext channel to 127.0.0.1:port.
std::shared_ptr<grpc::Channel> LocalChannel(int port);

}  // namespace hotline::testing

#endif  // HOTLINE_TESTS_SUPPORT_TEST_UTIL_H_
