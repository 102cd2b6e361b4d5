#include "common/telemetry.h"

#include <grpcpp/server_builder.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <sstream>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

ABSL_FLAG(int, metrics_port, 0,
          "if set, serve Prometheus text metrics at http://<--listen host>:<port>/metrics");

namespace hotline::telemetry {
namespace {

std::shared_ptr<prometheus::Registry> SharedRegistry() {
  static auto* const registry =
      new std::shared_ptr<prometheus::Registry>(std::make_shared<prometheus::Registry>());
  return *registry;
}

// Gauges computed at scrape time. prometheus-cpp's Gauge holds a value that the program must
// keep setting; a callback reads the source of truth (a queue, a stream head) exactly when
// Prometheus asks.
class CallbackGauges final : public prometheus::Collectable {
 public:
  struct Entry {
    int id;
    std::string name;
    std::string help;
    std::map<std::string, std::string> labels;
    std::function<double()> read;
  };

  int Add(Entry entry) {
    std::lock_guard<std::mutex> lock(mu_);
    entry.id = ++next_id_;
    entries_.push_back(std::move(entry));
    return next_id_;
  }

  void Remove(int id) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->id == id) {
        entries_.erase(it);
        return;
      }
    }
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    // Held while reading: a handle's destructor waits for a scrape in progress, so a callback
    // never runs after its owner is gone.
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<prometheus::MetricFamily> families;
    for (const Entry& e : entries_) {
      prometheus::MetricFamily* family = nullptr;
      for (auto& f : families) {
        if (f.name == e.name) family = &f;
      }
      if (family == nullptr) {
        family = &families.emplace_back();
        family->name = e.name;
        family->help = e.help;
        family->type = prometheus::MetricType::Gauge;
      }
      prometheus::ClientMetric& m = family->metric.emplace_back();
      for (const auto& [name, value] : e.labels) m.label.push_back({name, value});
      m.gauge.value = e.read();
    }
    return families;
  }

 private:
  mutable std::mutex mu_;
  int next_id_ = 0;
  std::vector<Entry> entries_;
};

std::shared_ptr<CallbackGauges> Callbacks() {
  static auto* const gauges =
      new std::shared_ptr<CallbackGauges>(std::make_shared<CallbackGauges>());
  return *gauges;
}

class Handle final : public GaugeHandle {
 public:
  explicit Handle(int id) : id_(id) {}
  ~Handle() override { Callbacks()->Remove(id_); }

 private:
  int id_;
};

// The families of the request metrics, created once.
struct RequestFamilies {
  prometheus::Family<prometheus::Counter>& started;
  prometheus::Family<prometheus::Counter>& handled;
  prometheus::Family<prometheus::Histogram>& seconds;
  prometheus::Family<prometheus::Gauge>& in_flight;
};

const RequestFamilies& Families() {
  static const RequestFamilies* const families = new RequestFamilies{
      prometheus::BuildCounter()
          .Name("grpc_server_started_total")
          .Help("gRPC calls started on the server, by method")
          .Register(Registry()),
      prometheus::BuildCounter()
          .Name("grpc_server_handled_total")
          .Help("gRPC calls completed on the server, by method and status code")
          .Register(Registry()),
      prometheus::BuildHistogram()
          .Name("grpc_server_handling_seconds")
          .Help("time from the start of a call to its status, by method and status code")
          .Register(Registry()),
      prometheus::BuildGauge()
          .Name("grpc_server_in_flight")
          .Help("gRPC calls started and not yet completed, by method")
          .Register(Registry()),
  };
  return *families;
}

const char* CodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  int i = static_cast<int>(code);
  return i >= 0 && i < 17 ? kNames[i] : "UNKNOWN";
}

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *buckets;
}

// One per call. The interceptor sees the status the server sends; for a call that ends
// without one (the client cancelled, the deadline passed) the destructor records CANCELLED.
class RequestMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit RequestMetricsInterceptor(grpc::experimental::ServerRpcInfo* info)
      : start_(std::chrono::steady_clock::now()) {
    // "/package.Service/Method"
    absl::string_view full = info->method() != nullptr ? info->method() : "";
    if (!full.empty() && full[0] == '/') full.remove_prefix(1);
    size_t slash = full.find('/');
    service_ = std::string(full.substr(0, slash));
    method_ = slash == absl::string_view::npos ? "" : std::string(full.substr(slash + 1));
    const RequestFamilies& f = Families();
    f.started.Add({{"grpc_service", service_}, {"grpc_method", method_}}).Increment();
    in_flight_ = &f.in_flight.Add({{"grpc_service", service_}, {"grpc_method", method_}});
    in_flight_->Increment();
  }

  ~RequestMetricsInterceptor() override {
    if (!recorded_) Record(grpc::StatusCode::CANCELLED);
    in_flight_->Decrement();
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      Record(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Record(grpc::StatusCode code) {
    if (recorded_) return;
    recorded_ = true;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const RequestFamilies& f = Families();
    prometheus::Labels labels = {
        {"grpc_service", service_}, {"grpc_method", method_}, {"grpc_code", CodeName(code)}};
    f.handled.Add(labels).Increment();
    f.seconds.Add(labels, LatencyBuckets()).Observe(seconds);
  }

  const std::chrono::steady_clock::time_point start_;
  std::string service_;
  std::string method_;
  prometheus::Gauge* in_flight_ = nullptr;
  bool recorded_ = false;
};

class RequestMetricsFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RequestMetricsInterceptor(info);
  }
};

std::atomic<bool> request_metrics_installed{false};

}  // namespace

prometheus::Registry& Registry() { return *SharedRegistry(); }

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRequestMetricsInterceptorFactory() {
  return std::make_unique<RequestMetricsFactory>();
}

void InstallRequestMetricsInEveryServer() { request_metrics_installed = true; }

bool RequestMetricsInstalled() { return request_metrics_installed; }

std::unique_ptr<GaugeHandle> AddGauge(const std::string& name, const std::string& help,
                                      const std::map<std::string, std::string>& labels,
                                      std::function<double()> read) {
  int id = Callbacks()->Add(CallbackGauges::Entry{0, name, help, labels, std::move(read)});
  return std::make_unique<Handle>(id);
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address) {
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  try {
    endpoint->exposer_ = std::make_unique<prometheus::Exposer>(address, 2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ": ", e.what()));
  }
  endpoint->exposer_->RegisterCollectable(SharedRegistry());
  endpoint->exposer_->RegisterCollectable(Callbacks());
  std::vector<int> ports = endpoint->exposer_->GetListeningPorts();
  endpoint->port_ = ports.empty() ? 0 : ports.front();
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() = default;

std::string RenderText() {
  std::vector<prometheus::MetricFamily> families = SharedRegistry()->Collect();
  for (prometheus::MetricFamily& f : Callbacks()->Collect()) families.push_back(std::move(f));
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace hotline::telemetry
