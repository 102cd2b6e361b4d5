// Following a server stream from the terminal until Ctrl-C: `ticket watch` and `metrics watch`.
#ifndef HOTLINE_SERVICES_HOTLINECTL_STREAM_FOLLOWER_H_
#define HOTLINE_SERVICES_HOTLINECTL_STREAM_FOLLOWER_H_

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <functional>
#include <iostream>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/program.h"
#include "services/hotlinectl/client_util.h"

namespace hotline::cli {

// Turns SIGINT and SIGTERM into the end of the stream being followed. Create it before any
// channel exists: gRPC's threads inherit the signal mask, and the signals must reach only the
// thread that waits for them. One per program.
class StreamStop {
 public:
  StreamStop() : state_(std::make_shared<State>()) {
    BlockTerminationSignals();
    // Shared with the waiting thread, which may still hold it when the program exits.
    std::thread([state = state_] {
      WaitForTerminationSignal();
      {
        absl::MutexLock lock(&state->mu);
        state->stopped = true;
        if (state->call != nullptr) state->call->TryCancel();
      }
      state->notification.Notify();
    }).detach();
  }

  // Makes `call` the one a signal cancels (nullptr: none); false if already stopped.
  bool Follow(grpc::ClientContext* call) {
    absl::MutexLock lock(&state_->mu);
    state_->call = call;
    return !state_->stopped;
  }
  // Waits `d`; true if a signal came meanwhile.
  bool WaitStopped(absl::Duration d) {
    return state_->notification.WaitForNotificationWithTimeout(d);
  }

 private:
  struct State {
    absl::Mutex mu;
    grpc::ClientContext* call ABSL_GUARDED_BY(mu) = nullptr;
    bool stopped ABSL_GUARDED_BY(mu) = false;
    absl::Notification notification;
  };
  std::shared_ptr<State> state_;
};

template <typename Message>
using StreamOpener =
    std::function<std::unique_ptr<grpc::ClientReaderInterface<Message>>(grpc::ClientContext*)>;

// Reads the stream that `open` starts until Ctrl-C, handing each message to `show`. A stream
// that worked and then ends (the server shutting down: UNAVAILABLE) is opened again, with a
// backoff from 1 s to 30 s; `show` may change what `open` asks for (a cursor to resume from).
// Any other end is the end of the command. Returns the exit code.
template <typename Message>
int FollowStream(StreamStop& stop, const StreamOpener<Message>& open,
                 const std::function<void(const Message&)>& show) {
  bool streamed = false;  // Reconnect only to a stream that worked once.
  absl::Duration backoff = absl::Seconds(1);
  while (true) {
    grpc::ClientContext context;
    PrepareContext(&context, /*with_deadline=*/false);
    if (!stop.Follow(&context)) return kExitOk;
    std::unique_ptr<grpc::ClientReaderInterface<Message>> reader = open(&context);
    Message message;
    while (reader->Read(&message)) {
      streamed = true;
      backoff = absl::Seconds(1);
      show(message);
    }
    grpc::Status status = reader->Finish();
    if (!stop.Follow(nullptr)) return kExitOk;
    // The server ends a stream only when it shuts down (UNAVAILABLE) or revokes the token.
    const bool reconnect =
        streamed && (status.ok() || status.error_code() == grpc::StatusCode::UNAVAILABLE);
    if (!reconnect) return status.ok() ? kExitOk : ReportError(status);
    std::cerr << "hotlinectl: UNAVAILABLE: stream ended (" << status.error_message()
              << "); reconnecting in " << backoff << "\n";
    if (stop.WaitStopped(backoff)) return kExitOk;
    backoff = std::min(backoff * 2, absl::Seconds(30));
  }
}

}  // namespace hotline::cli

#endif  // HOTLINE_SERVICES_HOTLINECTL_STREAM_FOLLOWER_H_
