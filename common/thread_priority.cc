#include "common/thread_priority.h"

#include <glog/logging.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace hotline {

void LowerThisThreadsPriority(int niceness) {
  thread_local bool lowered = false;
  if (lowered || niceness <= 0) return;
  lowered = true;
  const pid_t thread = static_cast<pid_t>(syscall(SYS_gettid));
  errno = 0;
  const int current = getpriority(PRIO_PROCESS, static_cast<id_t>(thread));
  if (errno != 0 || setpriority(PRIO_PROCESS, static_cast<id_t>(thread), current + niceness) != 0) {
    PLOG(WARNING) << "thread " << thread << " keeps its priority";
  }
}

}  // namespace hotline
