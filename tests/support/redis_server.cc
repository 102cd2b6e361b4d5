#include "tests/support/redis_server.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/support/test_util.h"

extern char** environ;

namespace hotline::testing {

RedisServer::RedisServer(std::string directory, bool appendonly)
    : directory_(std::move(directory)), appendonly_(appendonly) {}

RedisServer::~RedisServer() { Stop(); }

std::string RedisServer::address() const { return absl::StrCat("127.0.0.1:", port_); }

absl::Status RedisServer::Start() {
  if (pid_ > 0) return absl::OkStatus();
  if (port_ == 0) port_ = PickFreePort();
  std::vector<std::string> args = {"redis-server",
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--dir",
                                   directory_,
                                   "--save",
                                   "",
                                   "--appendonly",
                                   appendonly_ ? "yes" : "no",
                                   "--appendfsync",
                                   "always",
                                   "--daemonize",
                                   "no",
                                   "--logfile",
                                   directory_ + "/redis.log"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, "redis-server", nullptr, nullptr, argv.data(), environ) != 0) {
    return absl::FailedPreconditionError("cannot start redis-server; is it installed?");
  }
  pid_ = pid;
  bool ready = WaitFor([&] {
    timeval timeout{0, 200000};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, timeout);
    bool ok = false;
    if (c != nullptr && c->err == 0) {
      auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
      ok = reply != nullptr && reply->type == REDIS_REPLY_STATUS;
      if (reply != nullptr) freeReplyObject(reply);
    }
    if (c != nullptr) redisFree(c);
    return ok;
  });
  if (!ready) {
    Kill();
    return absl::DeadlineExceededError(
        absl::StrCat("redis-server on port ", port_, " did not answer PING"));
  }
  return absl::OkStatus();
}

void RedisServer::Signal(int signal_number) {
  if (pid_ <= 0) return;
  kill(pid_, signal_number);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

void RedisServer::Stop() { Signal(SIGTERM); }
void RedisServer::Kill() { Signal(SIGKILL); }

}  // namespace hotline::testing
