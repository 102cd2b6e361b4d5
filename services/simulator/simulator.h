// The demo scenario simulator: plays the hotline's agents, reviewers, departments and
// supervisors against a real ticket service, through its public gRPC API and with each role's
// own token, so that every figure the metrics service shows comes from real events.
//
// It paces itself by the ticket service's clock, which it reads from the service (the send
// time of a WatchWorkOrders heartbeat), never by its own: when the service runs a demo clock
// that replays the last working days fast (ticket_server --demo_history_working_days), the
// simulator replays them with it, creating tickets through past days and letting deadlines
// pass; once the service runs on real time, it carries on at a calm pace.
#ifndef HOTLINE_SERVICES_SIMULATOR_SIMULATOR_H_
#define HOTLINE_SERVICES_SIMULATOR_SIMULATOR_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "hotline/ticket/v1/ticket.grpc.pb.h"
#include "services/simulator/scenario.h"

namespace hotline::simulator {

// The bearer tokens of the roles the simulator plays.
struct RoleTokens {
  std::string agent;
  std::string reviewer;
  std::string supervisor;
  // Department id -> token.
  std::map<std::string, std::string> departments;
};

// Reads a demo-tokens.env file (lines `export NAME=TOKEN`, as scripts/run.sh writes it):
// AGENT_TOKEN, REVIEWER_TOKEN and SUPERVISOR_TOKEN are required; a department's token is
// `<ID>_TOKEN` with the id upper-cased and '-' as '_' (HOUSING_FUND_TOKEN for housing-fund),
// kept for the ids in `department_ids`.
absl::StatusOr<RoleTokens> ReadTokensEnv(const std::string& path,
                                         const std::set<std::string>& department_ids);

struct SimulatorOptions {
  uint64_t seed = 12345;
  // Tickets to create in all; 0: no limit.
  int max_tickets = 0;
  // Mean service time between new tickets while the service replays its history (day time;
  // fewer at night and at weekends).
  absl::Duration history_interval = absl::Minutes(70);
  // Mean time between new tickets once the service runs on real time.
  absl::Duration live_interval = absl::Seconds(30);
  // Stop once the service's clock has caught up with real time and every step due by then is
  // done (for tests and for building a demo history without carrying on).
  bool exit_when_caught_up = false;
  // Take over the unfinished tickets an earlier run of the simulator left (after a restart).
  bool adopt_unfinished = true;
  absl::Duration rpc_timeout = absl::Seconds(10);
};

struct SimulatorStats {
  int tickets_created = 0;
  int tickets_adopted = 0;
  std::map<std::string, int> steps;  // By step name.
  int failed_steps = 0;
};

class Simulator {
 public:
  // `real_clock` is the simulator's own (it tells whether the service replays its history);
  // `pause` waits up to the given real time and returns true when the simulator should stop.
  Simulator(std::shared_ptr<grpc::Channel> channel, RoleTokens tokens, SimulatorOptions options,
            Clock* real_clock, std::function<bool(absl::Duration)> pause);

  // Runs until `pause` asks to stop, or until done (max_tickets created and finished, or
  // caught up with exit_when_caught_up). Errors only when the service cannot be used at all
  // (e.g. a token is refused).
  absl::Status Run();

  const SimulatorStats& stats() const { return stats_; }

 private:
  struct Due {
    absl::Time at;
    int case_index;
    int generation;
    bool operator>(const Due& o) const {
      return at != o.at ? at > o.at : case_index > o.case_index;
    }
  };
  struct Running {
    Case c;
    Step next;           // The step queued; kNone with an empty ticket id means "create".
    int generation = 0;  // Invalidates queue entries of an earlier schedule.
    int steps_done = 0;  // Numbers the request ids.
    int failures = 0;
    // No step before this service time: taken-over tickets resume gradually, not in a burst.
    absl::Time not_before = absl::InfinitePast();
  };

  absl::StatusOr<absl::Time> ServiceNow();
  void StartCase(absl::Time arrival, absl::Time real_now);
  void AdoptUnfinished(absl::Time service_now);
  void Schedule(int index);
  // Sends the case's queued step; returns an error only for errors that concern every step
  // (unavailable service, refused token).
  absl::Status Execute(int index);
  absl::Time NextArrival(absl::Time after, bool history);
  std::string Token(const Step& step, const std::string& department) const;
  void PrepareContext(grpc::ClientContext* context, const std::string& token) const;
  grpc::Status Refresh(Running& r);

  std::unique_ptr<ticket::v1::TicketService::Stub> stub_;
  const RoleTokens tokens_;
  const SimulatorOptions options_;
  Clock* const real_clock_;
  const std::function<bool(absl::Duration)> pause_;
  std::set<std::string> departments_;
  std::string run_id_;
  Rng arrivals_;
  std::vector<Running> cases_;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> queue_;
  SimulatorStats stats_;
};

}  // namespace hotline::simulator

#endif  // HOTLINE_SERVICES_SIMULATOR_SIMULATOR_H_
