// The ticket service across a power cut: the store writes through a file system that loses
// whatever was not synced (tests/support/power_loss_fs.h), the machine "loses power" while
// clients are writing, and the restarted service must hold every write it acknowledged, with
// nothing half-applied (each ticket equal to the replay of its own events, no event without
// its ticket). The same scenario with syncing turned off must lose acknowledged writes: that
// is what shows the first test can fail.
#include <gtest/gtest.h>
#include <rocksdb/env.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "common/serving_loop.h"
#include "common/status_macros.h"
#include "services/ticket/replay.h"
#include "services/ticket/ticket_service_fixture.h"
#include "tests/support/power_loss_fs.h"

namespace hotline::ticket {
namespace {

class TicketPowerLossTest : public TicketServiceTest {
 protected:
  // Writers that create and move tickets until told to stop; what was acknowledged, by ticket.
  struct Acknowledged {
    std::mutex mu;
    std::map<std::string, int64_t> version;  // ticket id -> highest version acknowledged
  };

  void SetUp() override {
    UsePowerLossFileSystem();
    TicketServiceTest::SetUp();
  }

  // Four clients create, confirm and dispatch tickets, concurrently so that commits are
  // grouped, until `stop`. Each records a ticket's version once the service acknowledged it.
  void Write(std::atomic<bool>* stop, Acknowledged* acked, int client) {
    for (int i = 0; !stop->load(); ++i) {
      v1::CreateTicketRequest create;
      create.set_request_id(absl::StrCat("power-", client, "-", i));
      create.mutable_ticket()->set_kind(v1::TICKET_KIND_COMPLAINT);
      create.mutable_ticket()->set_channel(v1::CHANNEL_HOTLINE);
      create.mutable_ticket()->set_content(absl::StrCat("第 ", client, "-", i, " 件：小区停水"));
      v1::Ticket t;
      if (!stub_->CreateTicket(ContextWithToken("agent").get(), create, &t).ok()) return;
      Record(acked, t);
      v1::ConfirmTicketRequest confirm;
      confirm.set_ticket_id(t.id());
      confirm.set_expected_version(t.version());
      confirm.set_request_id(absl::StrCat("confirm-", client, "-", i));
      if (!stub_->ConfirmTicket(ContextWithToken("reviewer").get(), confirm, &t).ok()) return;
      Record(acked, t);
      if (!Dispatch(t, i % 2 ? "water" : "hrss", {}, &t).ok()) return;
      Record(acked, t);
    }
  }

  static void Record(Acknowledged* acked, const v1::Ticket& t) {
    std::lock_guard<std::mutex> lock(acked->mu);
    int64_t& v = acked->version[t.id()];
    v = std::max(v, t.version());
  }

  // Runs the writers for a while, cuts the power under them, restarts; returns how many
  // acknowledged versions the restarted service lost, and checks that what it has is whole.
  int LostAfterPowerCut(int target_acknowledged) {
    std::atomic<bool> stop{false};
    Acknowledged acked;
    std::vector<std::thread> clients;
    for (int c = 0; c < 4; ++c) clients.emplace_back([&, c] { Write(&stop, &acked, c); });
    // Until enough writes are acknowledged (a count, not a time: the machine may be slow).
    while (true) {
      {
        std::lock_guard<std::mutex> lock(acked.mu);
        if (static_cast<int>(acked.version.size()) >= target_acknowledged) break;
      }
      std::this_thread::yield();
    }
    // The power goes: from now on nothing reaches the disk, and the clients see failures.
    power_loss_fs_->SetFailing(/*writes=*/true, /*syncs=*/true);
    stop = true;
    for (auto& c : clients) c.join();
    Stop();
    const testing::PowerLossFileSystem::Dropped dropped = power_loss_fs_->PowerCut();
    power_loss_fs_->SetFailing(false, false);
    Start();
    if (::testing::Test::HasFatalFailure()) return -1;
    std::cout << "power cut dropped " << dropped.bytes << " bytes in " << dropped.files
              << " files; " << acked.version.size() << " tickets acknowledged\n";

    int lost = 0;
    std::set<std::string> present;
    for (const auto& [id, version] : acked.version) {
      v1::GetTicketRequest get;
      get.set_ticket_id(id);
      v1::Ticket t;
      grpc::Status s = stub_->GetTicket(ContextWithToken("supervisor").get(), get, &t);
      if (!s.ok() || t.version() < version) {
        ++lost;
        continue;
      }
      present.insert(id);
    }
    // Nothing half-applied: every ticket listed equals the replay of its own history.
    v1::ListTicketsRequest list;
    list.set_page_size(500);
    v1::ListTicketsResponse listed;
    EXPECT_TRUE(stub_->ListTickets(ContextWithToken("supervisor").get(), list, &listed).ok());
    for (const v1::Ticket& basic : listed.tickets()) {
      v1::Ticket full = Get(basic.id());
      std::vector<v1::TicketEvent> events(full.events().begin(), full.events().end());
      absl::StatusOr<ReplayedTicket> replayed = Replay(events);
      EXPECT_TRUE(replayed.ok()) << basic.id() << ": " << replayed.status();
      if (!replayed.ok()) continue;
      EXPECT_EQ(replayed->state, full.state()) << basic.id();
      EXPECT_EQ(replayed->version, full.version()) << basic.id();
    }
    return lost;
  }
};

TEST_F(TicketPowerLossTest, EveryAcknowledgedWriteSurvivesAPowerCut) {
  EXPECT_EQ(LostAfterPowerCut(/*target_acknowledged=*/60), 0);
  EXPECT_GT(power_loss_fs_->refused_writes() + power_loss_fs_->refused_syncs(), 0)
      << "the cut came after the writes";
  // And the service works on: a new ticket after the restart.
  v1::Ticket t = Create();
  EXPECT_EQ(t.state(), v1::TICKET_STATE_PENDING_REVIEW);
}

// The control: without syncing, the acknowledged writes only reached the page cache, and the
// power cut takes them. If this ever passes with nothing lost, the test above proves nothing.
TEST_F(TicketPowerLossTest, WithoutSyncingAcknowledgedWritesAreLost) {
  Stop();
  sync_writes_ = false;
  Start();
  EXPECT_GT(LostAfterPowerCut(/*target_acknowledged=*/60), 0);
}

// A disk that refuses writes or syncs: the caller gets an error, never OK, and nothing of the
// refused change is visible, before or after a power cut and a restart on the healthy disk.
// (Without a restart, the serving loop brings the service back: the next test.)
TEST_F(TicketPowerLossTest, AFailedWriteOrSyncIsAnErrorAndARestartOnTheHealthyDiskRecovers) {
  v1::Ticket before = Confirm(Create());
  int round = 0;
  for (const auto& [writes, syncs] : {std::pair{true, false}, std::pair{false, true}}) {
    power_loss_fs_->SetFailing(writes, syncs);
    v1::Ticket out;
    grpc::Status s = Dispatch(before, "water", {}, &out);
    EXPECT_FALSE(s.ok());
    EXPECT_TRUE(s.error_code() == grpc::StatusCode::INTERNAL ||
                s.error_code() == grpc::StatusCode::UNAVAILABLE)
        << s.error_code() << " " << s.error_message();
    v1::CreateTicketRequest create;
    create.set_request_id(absl::StrCat("while-failing-", round++));
    create.mutable_ticket()->set_kind(v1::TICKET_KIND_CONSULTATION);
    create.mutable_ticket()->set_channel(v1::CHANNEL_HOTLINE);
    create.mutable_ticket()->set_content("磁盘故障时受理的工单");
    EXPECT_FALSE(stub_->CreateTicket(ContextWithToken("agent").get(), create, &out).ok());
    // Nothing half-applied, before and after a power cut and restart on the healthy disk.
    v1::Ticket now = Get(before.id());
    EXPECT_EQ(now.version(), before.version());
    EXPECT_EQ(now.events_size(), 2);
    Stop();
    power_loss_fs_->SetFailing(false, false);
    power_loss_fs_->PowerCut();
    Start();
    now = Get(before.id());
    EXPECT_EQ(now.version(), before.version());
    EXPECT_EQ(now.state(), v1::TICKET_STATE_PENDING_DISPATCH);
    EXPECT_EQ(now.events_size(), 2);
  }
  // The same requests now succeed, and stay.
  v1::Ticket out;
  grpc::Status s = Dispatch(before, "water", {}, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.state(), v1::TICKET_STATE_IN_PROGRESS);
  EXPECT_EQ(Create().state(), v1::TICKET_STATE_PENDING_REVIEW);
  Stop();
  power_loss_fs_->PowerCut();
  Start();
  EXPECT_EQ(Get(before.id()).state(), v1::TICKET_STATE_IN_PROGRESS);
}

// The disk fails a sync under a running server. The caller gets an error, the store stops
// taking writes, and the serving loop brings the service back by itself once the disk works
// again: on the same port, with everything it acknowledged, and the failed request, retried
// under its request_id, applied exactly once whether or not its record reached the disk.
TEST_F(TicketPowerLossTest, AfterAFailedSyncTheServingLoopBringsTheServiceBackInProcess) {
  Stop();  // The fixture's own server; the loop runs one of its own on the same directory.
  ServingEvents events;
  std::atomic<int> starts{0};
  std::atomic<int> port{0};
  ServingOptions options;
  options.store = {.path = dir_.Sub("db"), .column_families = TicketStore::Families(), .env = env_};
  options.reopen_interval = absl::Milliseconds(20);
  options.on_serving = [&](int p) {
    port = p;
    ++starts;
  };
  ServiceFactory factory =
      [&](const ServerContext& context) -> absl::StatusOr<std::vector<HostedService>> {
    TicketServiceOptions service_options;
    service_options.config = config_;
    service_options.calendar = calendar_;
    service_options.clock = &clock_;
    service_options.worker_threads = 4;
    auto service = std::make_shared<TicketService>(context.tokens, context.store, service_options);
    RETURN_IF_ERROR(service->Init());
    TicketService* raw = service.get();
    return std::vector<HostedService>{
        {service, TicketService::kName, [raw] { raw->EndStreams(); }}};
  };
  int exit_code = -1;
  std::thread loop(
      [&] { exit_code = ServeUntilStopped(options, tokens_, &clock_, factory, &events); });
  ASSERT_TRUE(testing::WaitFor([&] { return starts.load() == 1; }));
  const int first_port = port.load();
  stub_ = v1::TicketService::NewStub(testing::LocalChannel(first_port));
  const v1::Ticket confirmed = Confirm(Create());

  v1::DispatchTicketRequest dispatch;
  dispatch.set_ticket_id(confirmed.id());
  dispatch.set_expected_version(confirmed.version());
  dispatch.set_request_id("dispatch-across-the-disk-failure");
  dispatch.mutable_lead()->set_department_id("water");
  power_loss_fs_->SetFailing(/*writes=*/false, /*syncs=*/true);
  v1::Ticket out;
  grpc::Status s = stub_->DispatchTicket(ContextWithToken("reviewer").get(), dispatch, &out);
  EXPECT_TRUE(s.error_code() == grpc::StatusCode::INTERNAL ||
              s.error_code() == grpc::StatusCode::UNAVAILABLE)
      << s.error_code() << " " << s.error_message();
  // The loop takes the server down and keeps trying the store while the disk refuses.
  ASSERT_TRUE(testing::WaitFor([&] {
    v1::GetTicketRequest get;
    get.set_ticket_id(confirmed.id());
    v1::Ticket ignored;
    return stub_->GetTicket(ContextWithToken("agent").get(), get, &ignored).error_code() ==
           grpc::StatusCode::UNAVAILABLE;
  }));

  power_loss_fs_->SetFailing(false, false);
  // Back by itself: the retry of the same request succeeds (polled: the loop may still be
  // opening the store).
  ASSERT_TRUE(testing::WaitFor([&] {
    s = stub_->DispatchTicket(ContextWithToken("reviewer").get(), dispatch, &out);
    return s.ok();
  })) << s.error_message();
  EXPECT_GE(starts.load(), 2);
  EXPECT_EQ(port.load(), first_port);
  EXPECT_EQ(out.state(), v1::TICKET_STATE_IN_PROGRESS);
  v1::Ticket now = Get(confirmed.id());
  EXPECT_EQ(now.events_size(), 3) << "created, confirmed, dispatched once";
  EXPECT_EQ(Create().state(), v1::TICKET_STATE_PENDING_REVIEW);

  events.RequestStop();
  loop.join();
  EXPECT_EQ(exit_code, 0);
  // And what the rebuilt service acknowledged is durable.
  power_loss_fs_->PowerCut();
  Start();
  EXPECT_EQ(Get(confirmed.id()).state(), v1::TICKET_STATE_IN_PROGRESS);
  EXPECT_EQ(Get(confirmed.id()).events_size(), 3);
}

}  // namespace
}  // namespace hotline::ticket
