// hotline_simulator: the demo scenario. Plays agents, reviewers, departments and supervisors
// against a running ticket service so that the dashboards show a living hotline; see
// simulator.h. scripts/run.sh starts it with the demo tokens.
#include <glog/logging.h>

#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/program.h"
#include "services/simulator/simulator.h"
#include "services/ticket/ticket_service.h"

ABSL_FLAG(std::string, ticket, "127.0.0.1:50052", "host:port of the ticket service");
ABSL_FLAG(std::string, tokens_env, "data/demo-tokens.env",
          "the demo tokens (lines 'export NAME=TOKEN'): AGENT_TOKEN, REVIEWER_TOKEN, "
          "SUPERVISOR_TOKEN and one <DEPARTMENT_ID>_TOKEN per department played");
ABSL_FLAG(std::string, config, "deploy/config/ticket.textproto",
          "the ticket service's configuration, for its department directory");
ABSL_FLAG(uint64_t, seed, 12345, "the same seed gives the same tickets, plans and delays");
ABSL_FLAG(int, tickets, 0, "tickets to create in all; 0: keep creating until stopped");
ABSL_FLAG(absl::Duration, history_interval, absl::Minutes(70),
          "mean service time between new tickets while the service replays its history");
ABSL_FLAG(absl::Duration, live_interval, absl::Seconds(30),
          "mean time between new tickets once the service runs on real time");
ABSL_FLAG(bool, exit_when_caught_up, false,
          "stop once the service's clock has caught up with real time");
ABSL_FLAG(bool, adopt_unfinished, true,
          "finish the tickets an earlier run of the simulator left unfinished");

namespace {

// Set by the signal thread; the simulator's pauses wake up on it.
absl::Mutex stop_mu;
bool stop_requested ABSL_GUARDED_BY(stop_mu) = false;

}  // namespace

int main(int argc, char** argv) {
  hotline::InitProgram(argc, argv,
                       "hotline_simulator: a lively, truthful demo of the 12345 hotline, played "
                       "through the ticket service's API");
  hotline::BlockTerminationSignals();
  std::thread([] {
    hotline::WaitForTerminationSignal();
    absl::MutexLock lock(&stop_mu);
    stop_requested = true;
  }).detach();

  absl::StatusOr<hotline::ticket::config::TicketConfig> config =
      hotline::ticket::LoadTicketConfig(absl::GetFlag(FLAGS_config));
  if (!config.ok()) {
    LOG(ERROR) << config.status();
    return 2;
  }
  std::set<std::string> department_ids;
  for (const auto& d : config->departments()) department_ids.insert(d.id());
  absl::StatusOr<hotline::simulator::RoleTokens> tokens =
      hotline::simulator::ReadTokensEnv(absl::GetFlag(FLAGS_tokens_env), department_ids);
  if (!tokens.ok()) {
    LOG(ERROR) << tokens.status();
    return 2;
  }

  hotline::simulator::SimulatorOptions options;
  options.seed = absl::GetFlag(FLAGS_seed);
  options.max_tickets = absl::GetFlag(FLAGS_tickets);
  options.history_interval = absl::GetFlag(FLAGS_history_interval);
  options.live_interval = absl::GetFlag(FLAGS_live_interval);
  options.exit_when_caught_up = absl::GetFlag(FLAGS_exit_when_caught_up);
  options.adopt_unfinished = absl::GetFlag(FLAGS_adopt_unfinished);
  auto channel =
      grpc::CreateChannel(absl::GetFlag(FLAGS_ticket), grpc::InsecureChannelCredentials());
  hotline::simulator::Simulator simulator(
      channel, *std::move(tokens), options, hotline::Clock::Real(), [](absl::Duration d) {
        absl::MutexLock lock(&stop_mu);
        return stop_mu.AwaitWithTimeout(absl::Condition(&stop_requested), d);
      });
  absl::Status status = simulator.Run();
  const hotline::simulator::SimulatorStats& stats = simulator.stats();
  LOG(INFO) << "created " << stats.tickets_created << " tickets, took over "
            << stats.tickets_adopted
            << "; steps: " << absl::StrJoin(stats.steps, ", ", absl::PairFormatter(" "))
            << "; failed steps " << stats.failed_steps;
  if (!status.ok()) {
    LOG(ERROR) << status;
    return 1;
  }
  return 0;
}
