#include "tests/support/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tests/support/test_util.h"

extern char** environ;

namespace hotline::testing {
namespace {

// The port the server wrote, or 0 while there is none. The server writes the file by rename,
// so a file that exists is complete.
int ReadPort(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  int port = 0;
  if (!in || !std::getline(in, text) ||
      !absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &port)) {
    return 0;
  }
  return port;
}

std::string DescribeExit(int wait_status) {
  if (WIFEXITED(wait_status)) return absl::StrCat("exit code ", WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) return absl::StrCat("signal ", WTERMSIG(wait_status));
  return absl::StrCat("wait status ", wait_status);
}

}  // namespace

ServerProcess::ServerProcess(std::string binary, std::string work_dir)
    : binary_(std::move(binary)), work_dir_(std::move(work_dir)) {}

ServerProcess::~ServerProcess() { Kill(); }

std::string ServerProcess::name() const { return binary_.substr(binary_.find_last_of('/') + 1); }

absl::Status ServerProcess::Start(const std::vector<std::string>& args, absl::Duration timeout) {
  if (running()) return absl::FailedPreconditionError(absl::StrCat(name(), " is already running"));
  std::error_code ignored;
  std::filesystem::create_directories(work_dir_, ignored);
  // A port file left by the previous run would name a dead port.
  unlink(port_file().c_str());
  std::vector<std::string> argv_strings = {binary_, "--listen=127.0.0.1:0",
                                           "--port_file=" + port_file()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path().c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, binary_.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot start ", binary_, ": ", strerror(spawned)));
  }
  pid_ = pid;

  int port = 0;
  int wait_status = 0;
  bool exited = false;
  WaitFor(
      [&] {
        if (waitpid(pid_, &wait_status, WNOHANG) == pid_) {
          exited = true;
          return true;
        }
        port = ReadPort(port_file());
        return port > 0;
      },
      timeout);
  if (exited) {
    pid_ = -1;
    return absl::FailedPreconditionError(
        absl::StrCat(name(), " ended with ", DescribeExit(wait_status),
                     " before serving; its log ends:\n", LogTail()));
  }
  if (port == 0) {
    Kill();
    return absl::DeadlineExceededError(absl::StrCat(name(), " wrote no port file within ",
                                                    absl::FormatDuration(timeout),
                                                    "; its log ends:\n", LogTail()));
  }
  port_ = port;
  return absl::OkStatus();
}

void ServerProcess::Kill() {
  if (!running()) return;
  kill(pid_, SIGKILL);
  int wait_status = 0;
  waitpid(pid_, &wait_status, 0);
  pid_ = -1;
}

absl::StatusOr<int> ServerProcess::Terminate(absl::Duration timeout) {
  if (!running()) return absl::FailedPreconditionError(absl::StrCat(name(), " is not running"));
  kill(pid_, SIGTERM);
  int wait_status = 0;
  bool exited = WaitFor([&] { return waitpid(pid_, &wait_status, WNOHANG) == pid_; }, timeout);
  if (!exited) {
    Kill();
    return absl::DeadlineExceededError(absl::StrCat(name(), " did not exit within ",
                                                    absl::FormatDuration(timeout), " of SIGTERM"));
  }
  pid_ = -1;
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  return absl::InternalError(absl::StrCat(name(), " ended with ", DescribeExit(wait_status)));
}

std::string ServerProcess::LogTail(size_t lines) const {
  std::ifstream in(log_path());
  std::deque<std::string> tail;
  for (std::string line; std::getline(in, line);) {
    tail.push_back(std::move(line));
    if (tail.size() > lines) tail.pop_front();
  }
  std::string out;
  for (const std::string& line : tail) absl::StrAppend(&out, line, "\n");
  return out;
}

}  // namespace hotline::testing
