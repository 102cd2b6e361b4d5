// The ticket gRPC service (hotline.ticket.v1.TicketService): authentication, the contract's
// error order, locking and request-id replay around the pure TicketMachine, with every
// transition committed durably by the TicketStore before it is acknowledged.
#ifndef HOTLINE_SERVICES_TICKET_TICKET_SERVICE_H_
#define HOTLINE_SERVICES_TICKET_TICKET_SERVICE_H_

#include <atomic>
#include <deque>
#include <memory>
#include <set>
#include <string>

#include "absl/synchronization/mutex.h"
#include "common/auth.h"
#include "common/clock.h"
#include "common/rocks_store.h"
#include "common/worker_pool.h"
#include "hotline/ticket/v1/ticket.grpc.pb.h"
#include "services/ticket/similar_tickets.h"
#include "services/ticket/ticket_machine.h"
#include "services/ticket/ticket_store.h"
#include "services/ticket/transitions.h"
#include "services/ticket/working_calendar.h"
#include "ticket_config.pb.h"

namespace hotline::ticket {

struct TicketServiceOptions {
  config::TicketConfig config;
  std::shared_ptr<const WorkingCalendar> calendar;
  Clock* clock = Clock::Real();
  // Threads that wait for synced commits; more threads mean larger commit groups.
  int worker_threads = 32;
  // Idle WatchWorkOrders streams get a heartbeat this often.
  absl::Duration heartbeat_interval = absl::Seconds(30);
  int max_watch_streams = 1000;
};

// The contract's name for an authenticated role.
v1::Role ToProtoRole(Role role);

// Parses a TicketConfig in protobuf text format; errors name the line.
absl::StatusOr<config::TicketConfig> ParseTicketConfig(const std::string& text);
absl::StatusOr<config::TicketConfig> LoadTicketConfig(const std::string& path);

class TicketService final : public v1::TicketService::CallbackService {
 public:
  static constexpr char kName[] = "hotline.ticket.v1.TicketService";

  TicketService(std::shared_ptr<const TokenRegistry> tokens, RocksStore* db,
                TicketServiceOptions options);
  ~TicketService() override;

  // Opens the store (counters, committer thread).
  absl::Status Init();

  // Raises every deadline warning due at the clock's current time. The server calls it
  // periodically; tests call it after moving a manual clock. Returns how many tickets changed.
  absl::StatusOr<int> RunDueWarnings();

  // Sends heartbeats to idle department streams; called periodically by the server.
  void SendHeartbeats();
  // Ends every department stream with UNAVAILABLE, so shutdown need not wait for them.
  void EndStreams();

  // A newer calendar applies to deadlines set from now on; existing deadlines do not move.
  void SetCalendar(std::shared_ptr<const WorkingCalendar> calendar);

  TicketStore& store() { return store_; }
  // Calls waiting for a worker thread (an exported gauge).
  size_t worker_queue_length() const { return workers_.queue_length(); }

  grpc::ServerUnaryReactor* CreateTicket(grpc::CallbackServerContext*,
                                         const v1::CreateTicketRequest*, v1::Ticket*) override;
  grpc::ServerUnaryReactor* MergeTicket(grpc::CallbackServerContext*, const v1::MergeTicketRequest*,
                                        v1::Ticket*) override;
  // One handler per update transition of transitions.h, all through Update().
#define HOTLINE_DECLARE_UPDATE_RPC(Rpc, Method, Target)                                \
  grpc::ServerUnaryReactor* Rpc(grpc::CallbackServerContext*, const v1::Rpc##Request*, \
                                v1::Ticket*) override;
  HOTLINE_TICKET_UPDATES(HOTLINE_DECLARE_UPDATE_RPC)
#undef HOTLINE_DECLARE_UPDATE_RPC
  grpc::ServerUnaryReactor* GetTicket(grpc::CallbackServerContext*, const v1::GetTicketRequest*,
                                      v1::Ticket*) override;
  grpc::ServerUnaryReactor* ListTickets(grpc::CallbackServerContext*, const v1::ListTicketsRequest*,
                                        v1::ListTicketsResponse*) override;
  grpc::ServerUnaryReactor* ListEvents(grpc::CallbackServerContext*, const v1::ListEventsRequest*,
                                       v1::ListEventsResponse*) override;
  grpc::ServerWriteReactor<v1::WatchWorkOrdersResponse>* WatchWorkOrders(
      grpc::CallbackServerContext*, const v1::WatchWorkOrdersRequest*) override;
  grpc::ServerUnaryReactor* GetIntakeSettings(grpc::CallbackServerContext*,
                                              const v1::GetIntakeSettingsRequest*,
                                              v1::IntakeSettings*) override;
  grpc::ServerUnaryReactor* FindSimilarTickets(grpc::CallbackServerContext*,
                                               const v1::FindSimilarTicketsRequest*,
                                               v1::FindSimilarTicketsResponse*) override;
  grpc::ServerUnaryReactor* SuggestDepartments(grpc::CallbackServerContext*,
                                               const v1::SuggestDepartmentsRequest*,
                                               v1::SuggestDepartmentsResponse*) override;
  // The citizens' portal (online_requests.cc).
  grpc::ServerUnaryReactor* SubmitOnlineRequest(grpc::CallbackServerContext*,
                                                const v1::SubmitOnlineRequestRequest*,
                                                v1::SubmitOnlineRequestResponse*) override;
  grpc::ServerUnaryReactor* GetOnlineRequest(grpc::CallbackServerContext*,
                                             const v1::GetOnlineRequestRequest*,
                                             v1::OnlineRequest*) override;

 private:
  class WatchReactor;
  struct UpdateSpec;

  // The shape shared by every update rpc; see ticket_service.cc.
  using Apply =
      std::function<absl::StatusOr<TicketChange>(const TicketMachine&, const StoredTicket&)>;
  absl::Status Update(grpc::CallbackServerContext* context, const UpdateSpec& spec,
                      const Apply& apply, v1::Ticket* response);

  // CreateTicket after its role check; also the online requests' way in. Idempotent by
  // request_id.
  absl::Status Create(const Principal& principal, const v1::CreateTicketRequest& request,
                      v1::Ticket* response);
  // The query code of an online request (online_requests.cc).
  std::string QueryCode(const std::string& ticket_id) const;

  void WakeStreams();
  // Keeps the similar-ticket index in step with committed changes; call after each commit,
  // under the ticket's stripe lock, so that the index sees a ticket's versions in order.
  void IndexChanges(const std::vector<TicketChange>& changes);
  std::string DepartmentName(const std::string& id) const;
  TicketMachine MachineFor(const Principal& principal, const std::string& request_id) const;
  TicketMachine SystemMachine() const;
  absl::Mutex& LockFor(const std::string& key);
  std::shared_ptr<const WorkingCalendar> calendar() const;

  std::shared_ptr<const TokenRegistry> tokens_;
  TicketServiceOptions options_;
  mutable absl::Mutex calendar_mu_;
  std::shared_ptr<const WorkingCalendar> calendar_ ABSL_GUARDED_BY(calendar_mu_);
  TicketStore store_;
  absl::Mutex stripes_[256];
  // Derives online requests' query codes (HMAC key, kept in the store's meta family).
  std::string query_code_key_;

  // Contents of every ticket, for possible duplicates and department suggestions; built from
  // the store at Init and kept current by IndexChanges.
  SimilarTicketIndex similar_;
  std::unique_ptr<DepartmentSuggester> suggester_;

  absl::Mutex watch_mu_;
  std::set<WatchReactor*> watches_ ABSL_GUARDED_BY(watch_mu_);
  int listener_id_ = 0;

  // Declared last: destroyed first, so no worker outlives what it uses.
  WorkerPool workers_;
};

}  // namespace hotline::ticket

#endif  // HOTLINE_SERVICES_TICKET_TICKET_SERVICE_H_
