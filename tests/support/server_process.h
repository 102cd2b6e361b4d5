// One of our server binaries as a child process, for tests and benchmarks that need the real
// process: crashes (SIGKILL), graceful shutdown (SIGTERM), restarts on the same data.
#ifndef HOTLINE_TESTS_SUPPORT_SERVER_PROCESS_H_
#define HOTLINE_TESTS_SUPPORT_SERVER_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace hotline::testing {

// The server listens on a free port of 127.0.0.1 (--listen=127.0.0.1:0) and reports it through
// --port_file in `work_dir`; its stdout and stderr are appended to work_dir/server.log, so a
// failure after a restart shows what the earlier runs said. The destructor kills a server that
// still runs, so a failed test leaves no process behind.
class ServerProcess {
 public:
  ServerProcess(std::string binary, std::string work_dir);
  ~ServerProcess();

  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Spawns the server with `args` (besides --listen and --port_file) and waits until it has
  // written its port file, which it does only once it serves. Fails early, with the end of the
  // log, if the server exits first.
  absl::Status Start(const std::vector<std::string>& args, absl::Duration timeout);
  // SIGKILL and reap: a crash, with no chance to flush anything or shut down.
  void Kill();
  // SIGTERM and wait for the graceful shutdown; returns the exit code (0 when clean). Kills the
  // server and fails if it has not exited within `timeout`.
  absl::StatusOr<int> Terminate(absl::Duration timeout);

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // The port of the current run: a restart listens on a new one.
  int port() const { return port_; }
  // The last lines of the log, for failure messages.
  std::string LogTail(size_t lines = 30) const;
  std::string log_path() const { return work_dir_ + "/server.log"; }

 private:
  std::string port_file() const { return work_dir_ + "/port"; }
  std::string name() const;

  const std::string binary_;
  const std::string work_dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace hotline::testing

#endif  // HOTLINE_TESTS_SUPPORT_SERVER_PROCESS_H_
