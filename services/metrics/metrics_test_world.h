// Test support for the metrics service (test-only library): the real ticket service in
// process, a driver of random histories through its gRPC API, and an independent "direct
// count" of every figure from the tickets as the ticket service stores them.
#ifndef HOTLINE_SERVICES_METRICS_METRICS_TEST_WORLD_H_
#define HOTLINE_SERVICES_METRICS_METRICS_TEST_WORLD_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/redis_client.h"
#include "common/service_host.h"
#include "hotline/metrics/v1/metrics.grpc.pb.h"
#include "hotline/ticket/v1/ticket.grpc.pb.h"
#include "services/metrics/aggregates.h"
#include "services/metrics/event_consumer.h"
#include "services/metrics/metrics_service.h"
#include "services/ticket/outbox_relay.h"
#include "services/ticket/ticket_service.h"

namespace hotline::metrics::testing {

namespace tv1 = ::hotline::ticket::v1;
namespace mv1 = ::hotline::metrics::v1;

absl::Time Shanghai(int y, int m, int d, int hh, int mm = 0);

// Tokens: "supervisor", "reviewer", "agent", "editor", "admin", and one department token per
// configured department, named after it ("water", "housing", "hrss", ...).
std::string TokenFileContents(const ticket::config::TicketConfig& config);
std::shared_ptr<const TokenRegistry> Tokens(const ticket::config::TicketConfig& config);
// The deployed ticket configuration (deploy/config/ticket.textproto).
ticket::config::TicketConfig DeployedConfig();

// The ticket service on a real gRPC server on port 0, with the deployed configuration and the
// real holiday calendar, on a manual clock. Paths are relative to the repository root.
class TicketWorld {
 public:
  TicketWorld(const std::string& directory, ManualClock* clock, bool sync_writes = false);
  ~TicketWorld();

  ticket::TicketService& service() { return *service_; }
  ticket::TicketStore& store() { return service_->store(); }
  const ticket::config::TicketConfig& config() const { return config_; }
  std::shared_ptr<const ticket::WorkingCalendar> calendar() const { return calendar_; }
  std::vector<std::string> departments() const;
  ManualClock* clock() { return clock_; }

  // Publishes every committed event to the Redis stream in the background.
  void StartRelay(const std::string& redis_address,
                  const std::string& stream_key = "hotline:ticket:events");
  int64_t published_sequence() const { return relay_ ? relay_->published_sequence() : 0; }

  // Every ticket ever created, as stored, with its events (TICKET_VIEW_FULL).
  std::vector<tv1::Ticket> AllTickets();

  // One call each, as the role that makes it; on success `*t` becomes the returned ticket.
  grpc::Status Create(tv1::Ticket* t, tv1::TicketKind kind, tv1::Channel channel,
                      const std::string& category, tv1::Urgency urgency = tv1::URGENCY_NORMAL,
                      const std::string& phone = "13812345678", bool answer_on_the_spot = false);
  grpc::Status Confirm(tv1::Ticket* t, const std::string& category = "");
  grpc::Status Dispatch(tv1::Ticket* t, const std::string& lead,
                        const std::vector<std::string>& assists = {}, int working_days = 0);
  grpc::Status Sign(tv1::Ticket* t, const std::string& work_order);
  grpc::Status Return(tv1::Ticket* t, const std::string& work_order);
  // Re-routes to `department`; an empty department withdraws the (assisting) work order.
  grpc::Status Redispatch(tv1::Ticket* t, const std::string& work_order,
                          const std::string& department);
  grpc::Status RefuseReturn(tv1::Ticket* t, const std::string& work_order);
  grpc::Status RequestExtension(tv1::Ticket* t, const std::string& work_order, int working_days);
  grpc::Status DecideExtension(tv1::Ticket* t, const std::string& work_order, bool approve,
                               int granted_days = 0);
  grpc::Status Reply(tv1::Ticket* t, const std::string& work_order);
  grpc::Status Note(tv1::Ticket* t, const std::string& work_order);
  grpc::Status Urge(tv1::Ticket* t);
  grpc::Status Callback(tv1::Ticket* t, tv1::CallbackResult result);
  grpc::Status Close(tv1::Ticket* t);
  grpc::Status Reopen(tv1::Ticket* t, const std::string& lead = "");
  grpc::Status Reject(tv1::Ticket* t);
  grpc::Status Merge(tv1::Ticket* t, const std::string& target);
  grpc::Status Refresh(tv1::Ticket* t);

  // Some ticket created so far, chosen by `r`.
  std::string RandomTicketId(uint64_t r);

  // The latest work order of `department` in `t`, or "".
  static std::string OrderOf(const tv1::Ticket& t, const std::string& department);

 private:
  template <typename Request>
  Request ForWorkOrder(const tv1::Ticket& t, const std::string& work_order);
  std::string NextRequestId();

  ManualClock* const clock_;
  ticket::config::TicketConfig config_;
  std::shared_ptr<const TokenRegistry> tokens_;
  std::shared_ptr<const ticket::WorkingCalendar> calendar_;
  std::unique_ptr<RocksStore> db_;
  std::unique_ptr<ticket::TicketService> service_;
  std::unique_ptr<ServiceHost> host_;
  std::unique_ptr<tv1::TicketService::Stub> stub_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<ticket::OutboxRelay> relay_;
  int listener_ = 0;
  std::atomic<int64_t> request_counter_{0};
  absl::Mutex ids_mu_;
  std::vector<std::string> ids_ ABSL_GUARDED_BY(ids_mu_);
};

// The metrics service in process: its own RocksDB, the aggregates, optionally a consumer of a
// Redis stream, and the gRPC service on port 0.
class MetricsNode {
 public:
  // Without `redis_address` nothing feeds the aggregates: call aggregates().Apply().
  MetricsNode(const std::string& directory, Clock* clock,
              std::shared_ptr<const ticket::WorkingCalendar> calendar,
              const ticket::config::TicketConfig& config, const std::string& redis_address = "",
              int batch_size = 64, rocksdb::Env* env = nullptr,
              std::function<void(MetricsServiceOptions*)> adjust = nullptr);
  ~MetricsNode();

  Aggregates& aggregates() { return *aggregates_; }
  MetricsService& service() { return *service_; }
  EventConsumer* consumer() { return consumer_.get(); }
  mv1::MetricsService::Stub& stub() { return *stub_; }
  RocksStore& store() { return *db_; }

 private:
  std::unique_ptr<RocksStore> db_;
  std::unique_ptr<Aggregates> aggregates_;
  std::unique_ptr<EventConsumer> consumer_;
  std::unique_ptr<MetricsService> service_;
  std::unique_ptr<ServiceHost> host_;
  std::unique_ptr<mv1::MetricsService::Stub> stub_;
};

// Drives random histories through the ticket service: intake, review (confirm, recategorise,
// reject, merge), dispatch with assisting departments, signing, returns (re-routed, refused,
// withdrawn), extensions (approved, refused, granted differently), urging, replies, callbacks
// of every result, closures, reopens, and deadline warnings, while the manual clock advances.
struct HistoryOptions {
  int tickets = 2000;
  int rounds = 240;
  // Share of the rounds during which tickets are created; the rest let them progress.
  double creation_share = 0.75;
  uint64_t seed = 1;
  int threads = 8;
  // Each round advances the clock by a random time up to this.
  absl::Duration max_step = absl::Hours(8);
};

class HistoryDriver {
 public:
  HistoryDriver(TicketWorld* world, HistoryOptions options);
  ~HistoryDriver();
  // Runs rounds [first, last) of the history, so a test can act between parts.
  void Run(int first, int last);
  int rounds() const { return options_.rounds; }
  int64_t calls() const { return calls_.load(); }

 private:
  struct Active;
  void Act(Active* a, uint64_t salt);

  TicketWorld* const world_;
  const HistoryOptions options_;
  std::vector<std::string> departments_;
  std::vector<std::unique_ptr<Active>> active_;
  std::atomic<int64_t> calls_{0};
  int created_ = 0;
};

// What a query counts, for the direct count.
struct DirectQuery {
  absl::Time start;
  absl::Time end;
  absl::Time now;
  std::vector<std::string> departments;
  std::string category_prefix;
  std::vector<int> channels;
  mv1::Dimension group_by = mv1::DIMENSION_UNSPECIFIED;
  int category_depth = 1;
};

struct DirectResult {
  mv1::Figures totals;
  // Row key (department id, category, or channel number as text) -> figures; rows without
  // any count are omitted.
  std::map<std::string, mv1::Figures> rows;
};

// Counts every figure straight from the tickets (their work orders, callbacks and events), by
// the definitions in metrics.proto, without using the metrics service's code.
DirectResult DirectCount(const std::vector<tv1::Ticket>& tickets,
                         const ticket::WorkingCalendar& calendar, const DirectQuery& query);

// The key DirectResult uses for a response row.
std::string RowKeyText(const mv1::GroupKey& key);

// Empty when equal; otherwise what differs (counts exactly, working hours to 1e-6).
std::string FiguresDiff(const mv1::Figures& expected, const mv1::Figures& actual);

}  // namespace hotline::metrics::testing

#endif  // HOTLINE_SERVICES_METRICS_METRICS_TEST_WORLD_H_
