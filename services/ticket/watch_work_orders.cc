// WatchWorkOrders: each department's stream of the events addressed to it, resumable by
// cursor, and the service's calls that wake, beat and end the streams.
#include <algorithm>
#include <atomic>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/grpc_status.h"
#include "common/proto_time.h"
#include "common/stream_writer.h"
#include "common/unary_call.h"
#include "services/ticket/ticket_service.h"

namespace hotline::ticket {
namespace {

std::string EncodeCursor(const std::string& department, int64_t sequence) {
  return absl::StrCat("c1.", absl::WebSafeBase64Escape(absl::StrCat(department, "\n", sequence)));
}

absl::StatusOr<int64_t> DecodeCursor(const std::string& cursor, const std::string& department) {
  std::string raw;
  if (cursor.rfind("c1.", 0) != 0 || !absl::WebSafeBase64Unescape(cursor.substr(3), &raw)) {
    return absl::InvalidArgumentError("cursor: malformed");
  }
  std::vector<std::string> parts = absl::StrSplit(raw, '\n');
  int64_t sequence = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &sequence) || sequence < 0) {
    return absl::InvalidArgumentError("cursor: malformed");
  }
  if (parts[0] != department) {
    return absl::InvalidArgumentError("cursor: issued for another department");
  }
  return sequence;
}

}  // namespace

// One department's stream. Events are read from the store on a worker (never on a gRPC
// thread), held in the writer's queue with their cursors, and read ahead only while the queue
// is short, so a slow reader is back-pressured.
class TicketService::WatchReactor final : public StreamWriter<v1::WatchWorkOrdersResponse> {
 public:
  WatchReactor(TicketService* service, std::string department, int64_t cursor)
      : service_(service), department_(std::move(department)), cursor_(cursor), scanned_(cursor) {}

  void Start() {
    {
      absl::MutexLock lock(&service_->watch_mu_);
      service_->watches_.insert(this);
    }
    absl::MutexLock lock(&mu_);
    SendLocked(nullptr);  // Every stream opens with a heartbeat carrying its position.
    ScheduleFetchLocked();
  }

  // A commit happened, or time passed: look for new events.
  void Wake() {
    absl::MutexLock lock(&mu_);
    ScheduleFetchLocked();
  }

  void Heartbeat(absl::Time now, absl::Duration interval) {
    if (!Idle() || now - absl::FromUnixMicros(last_send_us_.load()) < interval) return;
    absl::MutexLock lock(&mu_);
    SendLocked(nullptr);
  }

 private:
  void OnSent() override {
    absl::MutexLock lock(&mu_);
    ScheduleFetchLocked();
  }

  void BeforeWrite(v1::WatchWorkOrdersResponse* m) override {
    const absl::Time now = service_->options_.clock->Now();
    last_send_us_.store(absl::ToUnixMicros(now));
    *m->mutable_send_time() = ToProtoTime(now);
  }

  void OnClosed() override {
    absl::MutexLock lock(&service_->watch_mu_);
    service_->watches_.erase(this);
  }

  // An event, or a heartbeat (nullptr), with the cursor just after it.
  void SendLocked(const v1::TicketEvent* event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    v1::WatchWorkOrdersResponse m;
    if (event != nullptr) {
      *m.mutable_event() = *event;
      cursor_ = event->global_sequence();
    } else {
      // An idle stream may skip ahead over other departments' events it has scanned.
      cursor_ = std::max(cursor_, scanned_);
    }
    m.set_cursor(EncodeCursor(department_, cursor_));
    Send(std::move(m));
  }

  void ScheduleFetchLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    // Read ahead only when the queue is nearly drained: a slow reader is back-pressured.
    if (fetching_ || Ended() || Queued() > 16) return;
    if (scanned_ >= service_->store_.committed_sequence()) return;
    if (!Hold()) return;  // gRPC is done with the stream.
    fetching_ = true;
    service_->workers_.Schedule([this] { Fetch(); });
  }

  void Fetch() {
    int64_t from;
    {
      absl::MutexLock lock(&mu_);
      from = scanned_;
    }
    int64_t up_to = service_->store_.committed_sequence();
    std::vector<v1::TicketEvent> events;
    constexpr size_t kBatch = 64;
    absl::Status status =
        service_->store_.ScanDepartmentEvents(department_, from, up_to, kBatch, &events);
    {
      absl::MutexLock lock(&mu_);
      fetching_ = false;
      if (!status.ok()) {
        End(ToGrpcStatus(status));
      } else {
        for (const v1::TicketEvent& e : events) SendLocked(&e);
        scanned_ = events.size() == kBatch ? events.back().global_sequence() : up_to;
        ScheduleFetchLocked();
      }
    }
    Release();  // May delete this stream: nothing of it is used after.
  }

  TicketService* const service_;
  const std::string department_;
  absl::Mutex mu_;
  int64_t cursor_ ABSL_GUARDED_BY(mu_);
  int64_t scanned_ ABSL_GUARDED_BY(mu_);
  bool fetching_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<int64_t> last_send_us_{0};
};

grpc::ServerWriteReactor<v1::WatchWorkOrdersResponse>* TicketService::WatchWorkOrders(
    grpc::CallbackServerContext* context, const v1::WatchWorkOrdersRequest* request) {
  auto fail = [](const absl::Status& status) {
    return RefusedStream<v1::WatchWorkOrdersResponse>(status);
  };
  absl::StatusOr<Principal> principal = AuthenticateAndAuthorize(
      *tokens_, *context, {Role::kDepartment, Role::kSupervisor}, *request);
  if (!principal.ok()) return fail(principal.status());
  std::string department = request->department_id();
  if (principal->role == Role::kDepartment) {
    if (!department.empty() && department != principal->department_id) {
      return fail(absl::PermissionDeniedError(absl::StrCat(
          "department '", principal->department_id, "' may only watch its own work orders")));
    }
    department = principal->department_id;
  }
  if (department.empty()) return fail(absl::InvalidArgumentError("department_id: must be set"));
  bool known = false;
  for (const config::Department& d : options_.config.departments()) known |= d.id() == department;
  if (!known) {
    return fail(absl::InvalidArgumentError(
        absl::StrCat("department_id: unknown department '", department, "'")));
  }
  if (request->start_from_now() && !request->cursor().empty()) {
    return fail(absl::InvalidArgumentError("start_from_now: not allowed together with cursor"));
  }
  int64_t cursor = 0;
  if (!request->cursor().empty()) {
    absl::StatusOr<int64_t> decoded = DecodeCursor(request->cursor(), department);
    if (!decoded.ok()) return fail(decoded.status());
    cursor = *decoded;
    if (cursor > store_.committed_sequence()) {
      return fail(absl::InvalidArgumentError("cursor: ahead of this server's history"));
    }
  } else if (request->start_from_now()) {
    cursor = store_.committed_sequence();
  }
  {
    absl::MutexLock lock(&watch_mu_);
    if (static_cast<int>(watches_.size()) >= options_.max_watch_streams) {
      return fail(absl::ResourceExhaustedError("too many WatchWorkOrders streams; retry later"));
    }
  }
  auto* reactor = new WatchReactor(this, department, cursor);
  reactor->Start();
  return reactor;
}

void TicketService::WakeStreams() {
  absl::MutexLock lock(&watch_mu_);
  for (WatchReactor* w : watches_) w->Wake();
}

void TicketService::SendHeartbeats() {
  absl::Time now = options_.clock->Now();
  absl::MutexLock lock(&watch_mu_);
  for (WatchReactor* w : watches_) w->Heartbeat(now, options_.heartbeat_interval);
}

void TicketService::EndStreams() {
  absl::MutexLock lock(&watch_mu_);
  for (WatchReactor* w : watches_) {
    w->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the ticket service is shutting down"));
  }
}

}  // namespace hotline::ticket
