// The ticket event stream in Redis against the ticket service, with a real redis-server and a
// real ticket_server process, through a Redis outage and through crashes of the ticket server.
//
// ticket.proto promises that every event is published to the stream "hotline:ticket:events"
// exactly once, in global_sequence order, with entry id "<global_sequence>-0", and that while
// Redis is unreachable transitions keep working and events wait in the outbox. So once the
// clients stop and the relay has caught up, the stream must be exactly "1-0", "2-0", ..., "N-0",
// where N is the number of events the service holds, each entry carrying that very event.
#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/redis_client.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_util.h"
#include "tests/ticket_harness.h"

namespace hotline::ticket {
namespace {

using hotline::testing::GetFullTicket;
using hotline::testing::ListAllTickets;
using hotline::testing::LoopClients;
using hotline::testing::RedisServer;
using hotline::testing::TicketServerOptions;
using hotline::testing::TicketServerProcess;
using hotline::testing::TicketTokens;
using hotline::testing::WaitFor;

// stream_key in deploy/config/ticket.textproto.
constexpr char kStream[] = "hotline:ticket:events";
constexpr int64_t kWritesPerPhase = 150;
// The relay backs off up to 2 s, and so does the Redis client's reconnection.
constexpr absl::Duration kCatchUp = absl::Seconds(60);

std::string ReplyString(const redisReply* r) { return std::string(r->str, r->len); }

class TicketStreamRedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string redis_dir = dir_.Sub("redis");
    ASSERT_EQ(mkdir(redis_dir.c_str(), 0755), 0);
    // Append-only with fsync always: a stopped Redis keeps what it had acknowledged.
    redis_ = std::make_unique<RedisServer>(redis_dir, /*appendonly=*/true);
    absl::Status redis_started = redis_->Start();
    ASSERT_TRUE(redis_started.ok()) << redis_started;
    absl::StatusOr<RedisOptions> redis_options = ParseRedisAddress(redis_->address());
    ASSERT_TRUE(redis_options.ok()) << redis_options.status();
    redis_client_ = std::make_unique<RedisClient>(*redis_options);

    const std::string server_dir = dir_.Sub("ticket");
    ASSERT_EQ(mkdir(server_dir.c_str(), 0755), 0);
    TicketServerOptions options;
    options.binary = TICKET_SERVER_PATH;
    options.work_dir = server_dir;
    options.redis_address = redis_->address();
    options.tokens = tokens_;
    server_ = std::make_unique<TicketServerProcess>(options);
    absl::Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started;

    LoopClients::Options client_options;
    client_options.clients = 6;
    client_options.key_prefix = "stream";
    clients_ = std::make_unique<LoopClients>(&tokens_, client_options);
  }

  void TearDown() override {
    if (clients_ != nullptr) clients_->Stop();
  }

  // Waits until `more` writes beyond `from` are acknowledged.
  bool AwaitWrites(int64_t from, int64_t more) {
    return WaitFor([&] { return clients_->acknowledged() >= from + more; }, absl::Seconds(30));
  }

  // SIGKILLs the ticket server under running clients, restarts it on the same data, and resends
  // the writes the crash interrupted.
  void CrashTicketServer() {
    const int64_t from = clients_->acknowledged();
    ASSERT_TRUE(AwaitWrites(from, kWritesPerPhase));
    clients_->ExpectServerLoss();
    server_->Kill();
    clients_->Join();
    EXPECT_THAT(clients_->UnexpectedErrors(), ::testing::IsEmpty());
    absl::Status restarted = server_->Start();
    ASSERT_TRUE(restarted.ok()) << restarted;
    absl::Status retried = clients_->RetryInterruptedSteps(*server_->NewStub());
    ASSERT_TRUE(retried.ok()) << retried;
  }

  // Once the clients have stopped: waits for the relay to catch up, then checks the stream
  // entry by entry against the events the service holds.
  void ExpectStreamMatchesService() {
    std::unique_ptr<v1::TicketService::Stub> stub = server_->NewStub();
    absl::StatusOr<std::vector<v1::Ticket>> tickets =
        ListAllTickets(*stub, tokens_.supervisor, 100);
    ASSERT_TRUE(tickets.ok()) << tickets.status();
    std::map<int64_t, v1::TicketEvent> events;  // By global sequence.
    for (const v1::Ticket& t : *tickets) {
      absl::StatusOr<v1::Ticket> full = GetFullTicket(*stub, tokens_.supervisor, t.id());
      ASSERT_TRUE(full.ok()) << t.id() << ": " << full.status();
      for (const v1::TicketEvent& e : full->events()) {
        ASSERT_TRUE(events.emplace(e.global_sequence(), e).second)
            << "global sequence " << e.global_sequence() << " used twice, again by " << t.id();
      }
    }
    const int64_t total = static_cast<int64_t>(events.size());
    ASSERT_GT(total, 0);
    ASSERT_EQ(events.begin()->first, 1);
    ASSERT_EQ(events.rbegin()->first, total) << "the service's global sequences have gaps";

    int64_t length = -1;
    bool caught_up = WaitFor(
        [&] {
          absl::StatusOr<RedisReplyPtr> reply = redis_client_->Command({"XLEN", kStream});
          if (reply.ok() && (*reply)->type == REDIS_REPLY_INTEGER) length = (*reply)->integer;
          return length >= total;
        },
        kCatchUp);
    ASSERT_TRUE(caught_up) << "the stream holds " << length << " entries, the service " << total
                           << " events; ticket_server log ends:\n"
                           << server_->LogTail();

    int64_t expected = 1;
    std::string start = "-";
    while (true) {
      absl::StatusOr<RedisReplyPtr> page =
          redis_client_->Command({"XRANGE", kStream, start, "+", "COUNT", "500"});
      ASSERT_TRUE(page.ok()) << page.status();
      const redisReply* entries = page->get();
      ASSERT_EQ(entries->type, REDIS_REPLY_ARRAY);
      if (entries->elements == 0) break;
      for (size_t i = 0; i < entries->elements; ++i, ++expected) {
        const redisReply* entry = entries->element[i];
        ASSERT_EQ(entry->elements, 2u);
        const std::string id = ReplyString(entry->element[0]);
        ASSERT_EQ(id, absl::StrCat(expected, "-0")) << "entry #" << expected << " of the stream";
        std::map<std::string, std::string> fields;
        const redisReply* pairs = entry->element[1];
        for (size_t f = 0; f + 1 < pairs->elements; f += 2) {
          fields[ReplyString(pairs->element[f])] = ReplyString(pairs->element[f + 1]);
        }
        v1::TicketEvent event;
        ASSERT_TRUE(event.ParseFromString(fields["event"])) << "entry " << id;
        ASSERT_EQ(event.global_sequence(), expected) << "entry " << id;
        auto stored = events.find(expected);
        ASSERT_NE(stored, events.end()) << "entry " << id << " beyond the service's events";
        EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(event, stored->second))
            << "entry " << id << " is\n"
            << event.DebugString() << "but the service holds\n"
            << stored->second.DebugString();
        EXPECT_EQ(fields["type"], v1::EventType_Name(event.type())) << "entry " << id;
        EXPECT_EQ(fields["ticket_id"], event.ticket_id()) << "entry " << id;
        start = "(" + id;  // Exclusive: the next page starts after this entry.
      }
    }
    EXPECT_EQ(expected - 1, total) << "entries in the stream";
  }

  hotline::testing::TempDir dir_;
  TicketTokens tokens_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<RedisClient> redis_client_;
  std::unique_ptr<TicketServerProcess> server_;
  std::unique_ptr<LoopClients> clients_;
};

TEST_F(TicketStreamRedisTest, EveryEventOnceInOrderThroughRedisOutage) {
  clients_->Start(server_->NewChannel());
  ASSERT_TRUE(AwaitWrites(0, kWritesPerPhase));

  redis_->Stop();
  // Transitions do not wait for Redis: they go on being acknowledged while it is down.
  const int64_t at_stop = clients_->acknowledged();
  EXPECT_TRUE(AwaitWrites(at_stop, 2 * kWritesPerPhase))
      << "only " << clients_->acknowledged() - at_stop << " writes while Redis was down";

  absl::Status restarted = redis_->Start();
  ASSERT_TRUE(restarted.ok()) << restarted;
  ASSERT_TRUE(AwaitWrites(clients_->acknowledged(), kWritesPerPhase));
  clients_->Stop();
  EXPECT_THAT(clients_->UnexpectedErrors(), ::testing::IsEmpty());
  ASSERT_NO_FATAL_FAILURE(ExpectStreamMatchesService());
}

TEST_F(TicketStreamRedisTest, EveryEventOnceInOrderAcrossTicketServerCrashes) {
  // A crash while the relay is publishing: some events may be in the stream but still in the
  // outbox, and are offered again after the restart.
  clients_->Start(server_->NewChannel());
  ASSERT_NO_FATAL_FAILURE(CrashTicketServer());
  clients_->Start(server_->NewChannel());
  ASSERT_TRUE(AwaitWrites(clients_->acknowledged(), kWritesPerPhase));
  clients_->Stop();
  ASSERT_NO_FATAL_FAILURE(ExpectStreamMatchesService());

  // A crash while Redis is down: the backlog in the outbox must survive it, and be published
  // once both are back.
  clients_->Start(server_->NewChannel());
  redis_->Stop();
  ASSERT_NO_FATAL_FAILURE(CrashTicketServer());
  clients_->Start(server_->NewChannel());
  ASSERT_TRUE(AwaitWrites(clients_->acknowledged(), kWritesPerPhase));
  absl::Status redis_restarted = redis_->Start();
  ASSERT_TRUE(redis_restarted.ok()) << redis_restarted;
  ASSERT_TRUE(AwaitWrites(clients_->acknowledged(), kWritesPerPhase));
  clients_->Stop();
  EXPECT_THAT(clients_->UnexpectedErrors(), ::testing::IsEmpty());
  ASSERT_NO_FATAL_FAILURE(ExpectStreamMatchesService());
}

}  // namespace
}  // namespace hotline::ticket
