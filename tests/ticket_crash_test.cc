// Crash consistency of the ticket service, checked from outside through its own API.
//
// Eight clients take tickets round the closed loop against a real ticket_server process. Once a
// few hundred writes have been acknowledged the process is SIGKILLed while the clients are still
// running, and restarted on the same data directory. Then:
//   - every acknowledged write survived: its ticket exists at or beyond the acknowledged version
//     (the service acknowledges a write only once it is durable);
//   - each client's one write whose outcome the crash left unknown succeeds when sent again with
//     its request_id, whether or not the lost attempt had been applied;
//   - each ticket's history is gapless (sequences 1..N), and replaying it
//     (services/ticket/replay.h) gives the stored state, version, cycle and work-order states;
//   - global sequences are gapless across all tickets (1..M), which the event stream relies on;
//   - ListTickets pages through every ticket exactly once, and no creation was duplicated.
// The crash happens twice: the second hits a store that has recovered once already, and tickets
// created after the first restart must not take the ids of earlier ones.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/ticket/replay.h"
#include "tests/support/test_util.h"
#include "tests/ticket_harness.h"

namespace hotline::ticket {
namespace {

using hotline::testing::GetFullTicket;
using hotline::testing::ListAllTickets;
using hotline::testing::LoopClients;
using hotline::testing::TicketServerOptions;
using hotline::testing::TicketServerProcess;
using hotline::testing::TicketTokens;
using hotline::testing::WaitFor;

constexpr int kClients = 8;
// Far more loops than run before a kill (8 rpcs each), so every client is still busy when the
// server dies, yet a bound on the work should the kill never come.
constexpr int kLoopsPerClient = 40;
constexpr int64_t kWritesBeforeKill = 300;
constexpr int kCrashes = 2;

// The ticket's history against the ticket: gapless from 1, and replaying to the same state.
::testing::AssertionResult HistoryMatches(const v1::Ticket& t) {
  std::vector<v1::TicketEvent> events(t.events().begin(), t.events().end());
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].sequence() != static_cast<int64_t>(i + 1) || events[i].ticket_id() != t.id()) {
      return ::testing::AssertionFailure()
             << t.id() << ": event #" << i << " is sequence " << events[i].sequence()
             << " of ticket '" << events[i].ticket_id() << "', expected sequence " << i + 1;
    }
  }
  absl::StatusOr<ReplayedTicket> replayed = Replay(events);
  if (!replayed.ok()) {
    return ::testing::AssertionFailure() << t.id() << ": replay failed: " << replayed.status();
  }
  if (replayed->state != t.state() || replayed->version != t.version() ||
      replayed->cycle != t.cycle()) {
    return ::testing::AssertionFailure()
           << t.id() << ": stored " << v1::TicketState_Name(t.state()) << " version " << t.version()
           << " cycle " << t.cycle() << ", but the history replays to "
           << v1::TicketState_Name(replayed->state) << " version " << replayed->version << " cycle "
           << replayed->cycle;
  }
  std::map<std::string, v1::WorkOrderState> stored;
  for (const v1::WorkOrder& w : t.work_orders()) stored[w.id()] = w.state();
  if (replayed->work_orders != stored) {
    auto describe = [](const std::map<std::string, v1::WorkOrderState>& m) {
      std::string out;
      for (const auto& [id, state] : m) {
        absl::StrAppend(&out, " ", id, "=", v1::WorkOrderState_Name(state));
      }
      return out;
    };
    return ::testing::AssertionFailure() << t.id() << ": stored work orders" << describe(stored)
                                         << ", replayed" << describe(replayed->work_orders);
  }
  return ::testing::AssertionSuccess();
}

// `sorted` is exactly 1, 2, ..., n.
::testing::AssertionResult GaplessFromOne(const std::vector<int64_t>& sorted) {
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (sorted[i] != static_cast<int64_t>(i + 1)) {
      return ::testing::AssertionFailure()
             << "global sequence " << i + 1 << " is missing or repeated (found " << sorted[i]
             << " in its place, among " << sorted.size() << " events)";
    }
  }
  return ::testing::AssertionSuccess();
}

std::vector<std::string> Minus(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::vector<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

class TicketCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TicketServerOptions options;
    options.binary = TICKET_SERVER_PATH;
    options.work_dir = dir_.path();
    // Nothing listens there: events simply wait in the outbox. This test is about the store.
    options.redis_address = absl::StrCat("127.0.0.1:", hotline::testing::PickFreePort());
    options.tokens = tokens_;
    server_ = std::make_unique<TicketServerProcess>(options);
    absl::Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started;
  }

  // Checks the restarted server against what the clients were told.
  void ExpectRecovered(const LoopClients& clients) {
    std::unique_ptr<v1::TicketService::Stub> stub = server_->NewStub();
    const std::map<std::string, int64_t> acknowledged = clients.AcknowledgedVersions();

    // 37 a page: page boundaries that line up with nothing the clients did.
    absl::StatusOr<std::vector<v1::Ticket>> listed = ListAllTickets(*stub, tokens_.supervisor, 37);
    ASSERT_TRUE(listed.ok()) << listed.status();
    std::set<std::string> ids;
    for (const v1::Ticket& t : *listed) {
      EXPECT_TRUE(ids.insert(t.id()).second) << "ListTickets returned " << t.id() << " twice";
    }
    // After the retries each client knows every ticket it created, so the listing must be
    // exactly the acknowledged tickets.
    std::set<std::string> known;
    for (const auto& [id, version] : acknowledged) known.insert(id);
    EXPECT_THAT(Minus(known, ids), ::testing::IsEmpty()) << "acknowledged, but not listed";
    EXPECT_THAT(Minus(ids, known), ::testing::IsEmpty()) << "listed, but never acknowledged";

    std::vector<int64_t> global;
    std::set<std::string> creations;
    for (const std::string& id : ids) {
      absl::StatusOr<v1::Ticket> ticket = GetFullTicket(*stub, tokens_.supervisor, id);
      ASSERT_TRUE(ticket.ok()) << id << ": " << ticket.status();
      auto it = acknowledged.find(id);
      if (it != acknowledged.end()) {
        EXPECT_GE(ticket->version(), it->second) << id << " lost acknowledged writes";
      }
      EXPECT_TRUE(creations.insert(ticket->request_id()).second)
          << "request " << ticket->request_id() << " created two tickets, one of them " << id;
      EXPECT_TRUE(HistoryMatches(*ticket));
      for (const v1::TicketEvent& e : ticket->events()) global.push_back(e.global_sequence());
    }
    std::sort(global.begin(), global.end());
    EXPECT_TRUE(GaplessFromOne(global));
  }

  hotline::testing::TempDir dir_;
  TicketTokens tokens_;
  std::unique_ptr<TicketServerProcess> server_;
};

TEST_F(TicketCrashTest, AcknowledgedWritesSurviveSigkill) {
  LoopClients::Options options;
  options.clients = kClients;
  options.key_prefix = "crash";
  options.lead = "water";
  options.assists = {"housing"};
  options.max_loops_per_client = kLoopsPerClient;
  LoopClients clients(&tokens_, options);

  for (int crash = 1; crash <= kCrashes; ++crash) {
    SCOPED_TRACE(absl::StrCat("crash ", crash));
    const int64_t before = clients.acknowledged();
    clients.Start(server_->NewChannel());
    bool reached = WaitFor([&] { return clients.acknowledged() >= before + kWritesBeforeKill; },
                           absl::Seconds(30));
    // Kill even if too slow, so that the clients stop and the failure is reported.
    clients.ExpectServerLoss();
    server_->Kill();
    clients.Join();
    ASSERT_TRUE(reached) << "only " << clients.acknowledged() - before
                         << " writes acknowledged in 30 s";
    EXPECT_THAT(clients.UnexpectedErrors(), ::testing::IsEmpty());
    // Every client still had work, so the kill cut each off with a write in flight.
    EXPECT_EQ(clients.interrupted(), kClients);

    absl::Status restarted = server_->Start();
    ASSERT_TRUE(restarted.ok()) << restarted;
    absl::Status retried = clients.RetryInterruptedSteps(*server_->NewStub());
    EXPECT_TRUE(retried.ok()) << retried;
    ASSERT_NO_FATAL_FAILURE(ExpectRecovered(clients));
  }

  // Two crashes later, a graceful shutdown still works.
  absl::StatusOr<int> exit_code = server_->Terminate();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << server_->LogTail();
}

}  // namespace
}  // namespace hotline::ticket
