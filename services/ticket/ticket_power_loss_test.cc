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
    fs_ = std::make_shared<testing::PowerLossFileSystem>();
    env_holder_ = rocksdb::NewCompositeEnv(fs_);
    env_ = env_holder_.get();
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
    fs_->SetFailing(/*writes=*/true, /*syncs=*/true);
    stop = true;
    for (auto& c : clients) c.join();
    Stop();
    const testing::PowerLossFileSystem::Dropped dropped = fs_->PowerCut();
    fs_->SetFailing(false, false);
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

  std::shared_ptr<testing::PowerLossFileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_holder_;
};

TEST_F(TicketPowerLossTest, EveryAcknowledgedWriteSurvivesAPowerCut) {
  EXPECT_EQ(LostAfterPowerCut(/*target_acknowledged=*/60), 0);
  EXPECT_GT(fs_->refused_writes() + fs_->refused_syncs(), 0) << "the cut came after the writes";
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
// refused change is visible. RocksDB takes a failed log write as fatal for the open database
// (records after a torn one would be lost at recovery), so the service comes back with a
// restart of the process on the healthy disk, with everything it acknowledged.
TEST_F(TicketPowerLossTest, AFailedWriteOrSyncIsAnErrorAndARestartOnTheHealthyDiskRecovers) {
  v1::Ticket before = Confirm(Create());
  int round = 0;
  for (const auto& [writes, syncs] : {std::pair{true, false}, std::pair{false, true}}) {
    fs_->SetFailing(writes, syncs);
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
    fs_->SetFailing(false, false);
    fs_->PowerCut();
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
  fs_->PowerCut();
  Start();
  EXPECT_EQ(Get(before.id()).state(), v1::TICKET_STATE_IN_PROGRESS);
}

}  // namespace
}  // namespace hotline::ticket
