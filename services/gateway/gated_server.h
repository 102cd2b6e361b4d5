// An httplib::Server that no handful of slow or idle connections can take offline.
//
// cpp-httplib gives each connection a thread from accept to close, and its read timeout
// applies to each read, not to the request: a client that sends one header line every few
// seconds holds a thread for as long as it likes, and 64 of them stop the gateway answering
// anyone. Here a connection holds no thread while it is being read. One thread watches every
// connection with epoll and buffers what arrives; only a connection whose request has arrived
// whole (head, and a body of the length it announced) is handed to a worker, which answers
// it from the buffer through httplib's own request processing. Between requests a kept-alive
// connection goes back to the watcher, not to sleep in a worker.
//
// Limits (GatedServerOptions): a request must arrive within `request_timeout` of its first
// byte (a new connection: of its accept), a kept-alive connection may stay idle for
// `idle_timeout`, and at most `max_connections` are open; when full, the one that has waited
// longest without a request is closed to make room, so a flood of idle sockets cannot lock a
// new visitor out.
#ifndef HOTLINE_SERVICES_GATEWAY_GATED_SERVER_H_
#define HOTLINE_SERVICES_GATEWAY_GATED_SERVER_H_

#include <httplib.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/worker_pool.h"

namespace hotline::gateway {

struct GatedServerOptions {
  // Threads that answer complete requests; a live dashboard (server-sent events) holds one
  // for as long as it is open.
  int worker_threads = 64;
  int max_connections = 4096;
  absl::Duration request_timeout = absl::Seconds(10);
  absl::Duration idle_timeout = absl::Seconds(5);
  // A request head larger than this is answered 431 (httplib's own limits still apply).
  size_t max_head_bytes = 16 * 1024;
  // A body announced larger than this is not buffered: httplib refuses it (413).
  size_t max_body_bytes = 1 << 20;
  // Blocking writes give up after this long (a reader that stopped reading).
  absl::Duration write_timeout = absl::Seconds(10);
  // Added to the nice value of the server's threads (its watcher and workers; the accept
  // loop is the caller's thread): a server for the public yields the CPU to the staff's.
  int niceness = 0;
};

class GatedServer : public httplib::Server {
 public:
  explicit GatedServer(GatedServerOptions options);
  ~GatedServer() override;

  // The listening socket's accept queue: httplib asks for 5, too few for a burst of browsers.
  void WidenBacklog(int backlog);

  // After stop(): closes the connections waiting for a request and joins the workers (each
  // finishes the request it is answering). Idempotent.
  void StopGate();

 private:
  struct Connection;
  class BufferedStream;

  // Called by httplib's accept loop for every accepted socket (inline: see the .cc).
  bool process_and_close_socket(socket_t sock) override;

  void WatchLoop();
  // Gives a connection to the watcher (new, or back from a worker after a response).
  void Park(std::unique_ptr<Connection> connection, bool fresh);
  // Watcher thread: takes in what Park() queued, making room under max_connections.
  void TakeIncoming(absl::Time now);
  // Watcher thread: reads what has arrived. False when the connection is to be closed.
  bool ReadAvailable(Connection& connection);
  // Watcher thread: reads, then hands a whole request to a worker or closes what must close.
  void Examine(int fd);
  // Watcher thread: moves a connection with a whole request to a worker.
  void HandOver(int fd);
  void CloseWatched(int fd, absl::string_view last_words);
  void Serve(std::unique_ptr<Connection> connection);
  void Close(std::unique_ptr<Connection> connection, absl::string_view last_words);

  const GatedServerOptions options_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: wakes the watcher for a parked connection or for shutdown.
  std::atomic<int> open_connections_{0};
  std::atomic<bool> stopping_{false};

  absl::Mutex mu_;
  // Connections accepted or handed back by workers, not yet in the epoll set.
  std::vector<std::pair<std::unique_ptr<Connection>, bool>> incoming_ ABSL_GUARDED_BY(mu_);
  // Watched connections by socket, owned while no worker has them. The watcher thread's own.
  std::unordered_map<int, std::unique_ptr<Connection>> watched_;

  std::unique_ptr<WorkerPool> workers_;
  std::thread watcher_;
};

}  // namespace hotline::gateway

#endif  // HOTLINE_SERVICES_GATEWAY_GATED_SERVER_H_
