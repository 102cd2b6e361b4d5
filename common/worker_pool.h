// A fixed pool of threads for blocking work (synced RocksDB writes, Redis calls), so that
// gRPC's callback threads never block. Handlers hand work here and the worker finishes the
// reactor.
#ifndef HOTLINE_COMMON_WORKER_POOL_H_
#define HOTLINE_COMMON_WORKER_POOL_H_

#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace hotline {

class WorkerPool {
 public:
  WorkerPool(std::string name, int threads);
  // Runs every task already scheduled, then joins the threads.
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Schedule(std::function<void()> task);

  // Tasks waiting for a thread; exported as a queue-length metric.
  size_t queue_length() const;

 private:
  void Loop();

  const std::string name_;
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace hotline

#endif  // HOTLINE_COMMON_WORKER_POOL_H_
