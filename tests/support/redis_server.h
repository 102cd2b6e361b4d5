// A real redis-server process for one test: started on a free port in a temporary directory,
// and stoppable, killable and restartable on the same port, so tests can exercise what happens
// when Redis goes away.
#ifndef HOTLINE_TESTS_SUPPORT_REDIS_SERVER_H_
#define HOTLINE_TESTS_SUPPORT_REDIS_SERVER_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"

namespace hotline::testing {

class RedisServer {
 public:
  // `appendonly` keeps data across a restart (AOF with fsync always).
  explicit RedisServer(std::string directory, bool appendonly = true);
  ~RedisServer();

  // Starts redis-server and waits until it answers PING.
  absl::Status Start();
  // SIGTERM and wait.
  void Stop();
  // SIGKILL and wait: no chance to save anything.
  void Kill();

  int port() const { return port_; }
  std::string address() const;
  bool running() const { return pid_ > 0; }

 private:
  void Signal(int signal_number);

  std::string directory_;
  bool appendonly_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace hotline::testing

#endif  // HOTLINE_TESTS_SUPPORT_REDIS_SERVER_H_
