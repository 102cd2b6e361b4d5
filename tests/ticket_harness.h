// What the ticket system tests and the ticket benchmark share:
//   - TicketServerProcess: the real ticket_server binary as a child process, so that it can be
//     SIGKILLed and restarted on the same data, which no in-process test can do;
//   - TicketTokens: the principals the scenarios act as;
//   - TicketLoop: one ticket taken round the closed loop, one acknowledged rpc at a time, with
//     request ids that make the step interrupted by a crash safe to send again;
//   - LoopClients: threads that run TicketLoops back to back and keep what was acknowledged.
#ifndef HOTLINE_TESTS_TICKET_HARNESS_H_
#define HOTLINE_TESTS_TICKET_HARNESS_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "hotline/ticket/v1/ticket.grpc.pb.h"
#include "tests/support/server_process.h"

namespace hotline::testing {

// Bearer tokens of the principals the scenarios act as. Fixed strings: the server only sees
// their hashes, and fixed tokens let a failing run be inspected by hand with hotlinectl.
struct TicketTokens {
  std::string agent = "ticket-test-agent";
  std::string reviewer = "ticket-test-reviewer";
  std::string supervisor = "ticket-test-supervisor";
  // Department id (from deploy/config/ticket.textproto) -> that department's token.
  std::map<std::string, std::string> departments = {{"water", "ticket-test-water"},
                                                    {"housing", "ticket-test-housing"}};

  // Token-file contents (see common/auth.h): "sha256hex principal role [department_id]".
  std::string FileContents() const;
};

struct TicketServerOptions {
  // Path of the ticket_server binary.
  std::string binary;
  // Holds the database (data/), the token file, the port file and the server's log; kept
  // across restarts, which is the point.
  std::string work_dir;
  // host:port of the Redis that receives the event stream. Required: the server's default,
  // 127.0.0.1:6379, may be a Redis that someone else uses.
  std::string redis_address;
  // Relative to the repository root, where tests and benchmarks run.
  std::string config = "deploy/config/ticket.textproto";
  std::string calendar_dir = "../shared/data/holiday-cn";
  TicketTokens tokens;
};

class TicketServerProcess {
 public:
  explicit TicketServerProcess(TicketServerOptions options);

  // Writes the token file, spawns the server and waits until it serves (ServerProcess::Start).
  absl::Status Start(absl::Duration timeout = absl::Seconds(30));
  // SIGKILL and reap: the crash under test, with no chance to flush anything or shut down.
  void Kill() { process_.Kill(); }
  // SIGTERM and wait for the graceful shutdown; returns the exit code (0 when clean).
  absl::StatusOr<int> Terminate(absl::Duration timeout = absl::Seconds(30)) {
    return process_.Terminate(timeout);
  }

  bool running() const { return process_.running(); }
  // The port of the current run: a restart listens on a new one.
  int port() const { return process_.port(); }
  std::shared_ptr<grpc::Channel> NewChannel() const;
  std::unique_ptr<ticket::v1::TicketService::Stub> NewStub() const;
  // The last lines of the server's log (all runs append to one file), for failure messages.
  std::string LogTail(size_t lines = 30) const { return process_.LogTail(lines); }
  std::string log_path() const { return process_.log_path(); }

 private:
  const TicketServerOptions options_;
  ServerProcess process_;
};

// Takes one ticket round the loop the scenarios use,
//   CreateTicket (agent) -> ConfirmTicket (reviewer) -> DispatchTicket (reviewer: a lead and
//   assisting departments) -> SignWorkOrder (each department, with its own token) ->
//   ReplyWorkOrder (each department) -> RecordCallback satisfied (agent, closes the ticket),
// one rpc per Step(). A step's request depends only on the loop's key, the step and the last
// acknowledged reply, and its request_id is "<key>-<step>". So the step whose outcome a crash
// left unknown can be sent again unchanged, which the contract makes safe (ticket.proto,
// "Concurrency and idempotency").
class TicketLoop {
 public:
  // `key` must be unique per loop within a server's data (it makes the request ids).
  TicketLoop(const TicketTokens* tokens, std::string key, std::string lead,
             std::vector<std::string> assists);

  // Rpcs in a full loop: create, confirm, dispatch, a sign and a reply per department, callback.
  int steps() const { return 4 + 2 * static_cast<int>(1 + assists_.size()); }
  bool done() const { return step_ == steps(); }
  // Empty until the creation is acknowledged.
  const std::string& ticket_id() const { return ticket_.id(); }
  // The rpc the next Step() sends, e.g. "SignWorkOrder(housing)", for messages.
  std::string StepName() const;

  // Sends the current step. Only when it returns OK, i.e. the server acknowledged the write,
  // does the loop move on; `reply` then holds the ticket as returned.
  grpc::Status Step(ticket::v1::TicketService::Stub& stub, absl::Duration deadline,
                    ticket::v1::Ticket* reply);

 private:
  // Step index -> department: 0 is the lead, then the assists.
  const std::string& Department(int index) const;
  // The current cycle's work order of `department` in the last acknowledged reply.
  const ticket::v1::WorkOrder* WorkOrderOf(const std::string& department) const;

  const TicketTokens* const tokens_;
  const std::string key_;
  const std::string lead_;
  const std::vector<std::string> assists_;
  ticket::v1::Ticket ticket_;  // The last acknowledged reply.
  int step_ = 0;
};

// Client threads that each run TicketLoops back to back against one server, until stopped, out
// of work, or an rpc fails. What the server acknowledged is kept per client across runs, and
// so is each client's unfinished loop, so a run can continue after the server restarts.
class LoopClients {
 public:
  struct Options {
    int clients = 8;
    // Loop keys are "<key_prefix>-c<client>-<n>".
    std::string key_prefix = "loop";
    std::string lead = "water";
    std::vector<std::string> assists = {"housing"};
    // Loops each client runs in all, over every run; 0 means no limit.
    int max_loops_per_client = 0;
    absl::Duration rpc_deadline = absl::Seconds(10);
  };

  LoopClients(const TicketTokens* tokens, Options options);
  // Stops and joins the threads.
  ~LoopClients();

  // Starts every client thread against `channel`.
  void Start(std::shared_ptr<grpc::Channel> channel);
  // Asks the clients to stop after their current rpc, and joins them.
  void Stop();
  // Waits for clients that stop by themselves: out of work, or at their first error.
  void Join();
  // From now on UNAVAILABLE is expected (the test is about to kill the server): it stops a
  // client without being recorded as an unexpected error.
  void ExpectServerLoss() { expect_server_loss_.store(true); }

  // Writes acknowledged since construction, by every client.
  int64_t acknowledged() const { return acknowledged_.load(); }
  // After Join(): clients whose last run ended with an error, i.e. with a step in flight.
  int interrupted() const;
  // After Join() and a server restart: sends each interrupted client's step again, with its
  // request id. Each must now succeed, whether or not the lost attempt was applied.
  absl::Status RetryInterruptedSteps(ticket::v1::TicketService::Stub& stub);
  // After Join(): ticket id -> the highest version any acknowledged write returned.
  std::map<std::string, int64_t> AcknowledgedVersions() const;
  // Errors other than an expected server loss, one line each, for the failure message.
  std::vector<std::string> UnexpectedErrors() const;

 private:
  struct Client {
    int index = 0;
    int loops_started = 0;
    std::unique_ptr<TicketLoop> loop;
    std::vector<std::pair<std::string, int64_t>> acks;  // (ticket id, version) per OK.
    grpc::Status stopped_by;  // OK when the last run ended without an error.
  };

  void Run(Client* client, ticket::v1::TicketService::Stub* stub);

  const TicketTokens* const tokens_;
  const Options options_;
  std::vector<Client> clients_;
  std::vector<std::thread> threads_;
  std::unique_ptr<ticket::v1::TicketService::Stub> stub_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> expect_server_loss_{false};
  std::atomic<int64_t> acknowledged_{0};
  mutable absl::Mutex mu_;
  std::vector<std::string> unexpected_ ABSL_GUARDED_BY(mu_);
};

// Every ticket, paging through ListTickets with `token` (page size chosen by the caller so that
// tests can make pages not line up with anything), in the order the pages returned them.
absl::StatusOr<std::vector<ticket::v1::Ticket>> ListAllTickets(
    ticket::v1::TicketService::Stub& stub, const std::string& token, int page_size);
// GetTicket in TICKET_VIEW_FULL: the ticket with its whole history.
absl::StatusOr<ticket::v1::Ticket> GetFullTicket(ticket::v1::TicketService::Stub& stub,
                                                 const std::string& token,
                                                 const std::string& ticket_id);

}  // namespace hotline::testing

#endif  // HOTLINE_TESTS_TICKET_HARNESS_H_
