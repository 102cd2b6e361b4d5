#include "services/gateway/dashboard_stream.h"

#include <glog/logging.h>

#include "absl/strings/str_cat.h"
#include "services/gateway/api_errors.h"

namespace hotline::gateway {

std::shared_ptr<DashboardStream> DashboardStream::Start(
    metrics::v1::MetricsService::Stub* stub, const std::string& token,
    const metrics::v1::WatchDashboardRequest& request) {
  std::shared_ptr<DashboardStream> stream(new DashboardStream());
  stream->self_ = stream;
  stream->request_ = request;
  stream->context_.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  stub->async()->WatchDashboard(&stream->context_, &stream->request_, stream.get());
  stream->StartRead(&stream->incoming_);
  stream->StartCall();
  return stream;
}

void DashboardStream::OnReadDone(bool ok) {
  if (!ok) return;  // The stream is over; OnDone follows with the status.
  // Converted here, on the gRPC thread, so that the message buffer can be reused at once.
  std::string json;
  if (grpc::Status converted = ToApiJson(incoming_, &json); !converted.ok()) {
    // The page keeps the figures it has rather than draw an empty dashboard.
    LOG(ERROR) << "dashboard snapshot dropped: " << converted.error_message();
    StartRead(&incoming_);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    latest_json_ = std::move(json);
    has_new_ = true;
  }
  changed_.notify_all();
  StartRead(&incoming_);
}

void DashboardStream::OnDone(const grpc::Status& status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    status_ = status;
  }
  changed_.notify_all();
  // Last use of `this` by gRPC; the HTTP thread may still hold its own reference.
  std::shared_ptr<DashboardStream> release = std::move(self_);
}

DashboardStream::Next DashboardStream::Wait(absl::Duration timeout, std::string* json,
                                            grpc::Status* status) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [this] { return has_new_ || done_; });
  // A snapshot that arrived before the end is still delivered.
  if (has_new_) {
    *json = std::move(latest_json_);
    has_new_ = false;
    return Next::kSnapshot;
  }
  if (done_) {
    *status = status_;
    return Next::kEnded;
  }
  return Next::kQuiet;
}

void DashboardStream::Cancel() { context_.TryCancel(); }

}  // namespace hotline::gateway
