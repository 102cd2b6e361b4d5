// The one write reactor of our server streams (WatchWorkOrders, WatchDashboard): a queue with at
// most one write in flight, an end that happens once, and a lifetime that lasts while gRPC or
// any work outside gRPC's callbacks (a read on a worker, an evaluation on a hub thread) still
// uses the reactor. A stream says what to send and when; this class owns how.
//
// Locking: the writer's lock is held only inside its own methods, and the hooks run without it
// (BeforeWrite excepted, which must not call back into the writer), so a stream may call Send
// or End while holding a lock of its own.
#ifndef HOTLINE_COMMON_STREAM_WRITER_H_
#define HOTLINE_COMMON_STREAM_WRITER_H_

#include <grpcpp/grpcpp.h>

#include <deque>
#include <utility>

#include "absl/synchronization/mutex.h"

namespace hotline {

template <typename Response>
class StreamWriter : public grpc::ServerWriteReactor<Response> {
 public:
  // Queues a message and starts its write when none is in flight. Ignored once ended.
  void Send(Response message) {
    absl::MutexLock lock(&mu_);
    if (ended_) return;
    queue_.push_back(std::move(message));
    WriteNextLocked();
  }

  // Ends the stream with `status`, once; queued messages not yet written are dropped.
  void End(grpc::Status status) {
    absl::MutexLock lock(&mu_);
    EndLocked(std::move(status));
  }

  // No write in flight, nothing queued, not ended: a message may be produced now.
  bool Idle() const {
    absl::MutexLock lock(&mu_);
    return !ended_ && !writing_ && queue_.empty();
  }
  // Messages queued behind the one in flight.
  size_t Queued() const {
    absl::MutexLock lock(&mu_);
    return queue_.size();
  }
  bool Ended() const {
    absl::MutexLock lock(&mu_);
    return ended_;
  }

  // Keeps the reactor alive across work outside gRPC's callbacks. False when gRPC is already
  // done with it: the caller must not use it then. Every successful Hold needs a Release.
  bool Hold() {
    absl::MutexLock lock(&mu_);
    if (done_) return false;
    ++holds_;
    return true;
  }
  // Lets go; deletes the reactor when gRPC is done with it and nothing holds it any more.
  void Release() {
    bool last;
    {
      absl::MutexLock lock(&mu_);
      last = --holds_ == 0 && done_;
    }
    if (last) delete this;
  }

 protected:
  StreamWriter() = default;
  ~StreamWriter() override = default;

  // After each write completes (without the writer's lock): produce more, if the stream wants.
  virtual void OnSent() {}
  // Just before a message is written, under the writer's lock: stamp it (send time).
  virtual void BeforeWrite(Response* message) {}
  // Once, when gRPC is done with the stream and before the reactor may be deleted: unregister
  // it from whatever finds it.
  virtual void OnClosed() {}

 private:
  void OnWriteDone(bool ok) final {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) {
        EndLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
      } else {
        WriteNextLocked();
      }
    }
    OnSent();
  }

  void OnCancel() final { End(grpc::Status::CANCELLED); }

  void OnDone() final {
    OnClosed();
    bool unheld;
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
      unheld = holds_ == 0;
    }
    if (unheld) delete this;
  }

  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (ended_ || writing_ || queue_.empty()) return;
    current_ = std::move(queue_.front());
    queue_.pop_front();
    BeforeWrite(&current_);
    writing_ = true;
    this->StartWrite(&current_);
  }

  void EndLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (ended_) return;
    ended_ = true;
    queue_.clear();
    this->Finish(std::move(status));
  }

  mutable absl::Mutex mu_;
  std::deque<Response> queue_ ABSL_GUARDED_BY(mu_);
  Response current_;  // The message in flight; gRPC reads it until OnWriteDone.
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  int holds_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace hotline

#endif  // HOTLINE_COMMON_STREAM_WRITER_H_
