// Serves a process's services on its store until told to stop, and brings them back by itself
// when the store stops accepting writes.
//
// RocksDB stops an open database after a failed log write or sync, and rightly: after a
// failed fsync the page cache may hold data the disk never got, so nothing but a fresh
// recovery from what is durable can be trusted (PostgreSQL came to the same rule). The loop
// therefore tears everything down (gRPC server, services, store), opens the store again
// (retrying while the disk still refuses) and rebuilds the services on the same address. A
// write that failed may or may not be there afterwards, whole or not at all; clients retry it
// under its request_id, which is what the contracts ask of them after any error.
#ifndef HOTLINE_COMMON_SERVING_LOOP_H_
#define HOTLINE_COMMON_SERVING_LOOP_H_

#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/rocks_store.h"
#include "common/server_main.h"
#include "common/service_host.h"

namespace hotline {

// What wakes the loop: a request to stop (a termination signal, a test) or the store.
class ServingEvents {
 public:
  void RequestStop();
  void StoreUnwritable(const absl::Status& why);

  enum class Event { kStop, kStoreUnwritable };
  // Blocks until an event; kStop wins once requested. Clears kStoreUnwritable when returned.
  Event Wait();
  // Sleeps up to `timeout`; true when a stop was requested meanwhile.
  bool WaitForStop(absl::Duration timeout);

 private:
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool store_unwritable_ ABSL_GUARDED_BY(mu_) = false;
};

struct ServingOptions {
  ServiceHostOptions host;
  // on_unwritable is set by the loop.
  RocksStoreOptions store;
  // Rewritten with the bound port at every start (see WritePortFile); may be empty.
  std::string port_file;
  // Between attempts to open the store again while the disk still refuses.
  absl::Duration reopen_interval = absl::Seconds(1);
  // Called with the port each time the services are up (first start and every rebuild).
  std::function<void(int port)> on_serving;
};

// Runs until `events` asks to stop; returns the process's exit code: 0 after a stop, 1 when
// the store cannot be opened at the first start, the services cannot be built, or the host
// cannot listen.
int ServeUntilStopped(ServingOptions options, std::shared_ptr<const TokenRegistry> tokens,
                      Clock* clock, const ServiceFactory& factory, ServingEvents* events);

}  // namespace hotline

#endif  // HOTLINE_COMMON_SERVING_LOOP_H_
