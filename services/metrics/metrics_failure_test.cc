// The figures stay exact through failures: metrics_server runs as a separate process and is
// killed with SIGKILL while it consumes the stream, and Redis is killed and restarted while
// it catches up and while tickets keep changing. Afterwards the live figures equal a rebuild
// from the ticket service's event log, a rebuild by the metrics_rebuild command from the
// stream, and a direct count from the tickets. Also checks the Prometheus endpoint.
#include <arpa/inet.h>
#include <fcntl.h>
#include <glog/logging.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/metrics/metrics_test_world.h"
#include "services/metrics/rebuild.h"
#include "services/metrics/ticket_facts.h"
#include "tests/support/redis_server.h"
#include "tests/support/server_process.h"
#include "tests/support/test_util.h"

namespace hotline::metrics::testing {
namespace {

using google::protobuf::util::MessageDifferencer;
using hotline::testing::ContextWithToken;
using hotline::testing::WaitFor;

google::protobuf::Timestamp Proto(absl::Time t) { return MicrosToProto(absl::ToUnixMicros(t)); }
absl::Time TimeOf(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMicros(ToMicros(t));
}

std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\n\r\n");
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      ssize_t n;
      while ((n = read(fd, buffer, sizeof(buffer))) > 0) response.append(buffer, n);
    }
  }
  close(fd);
  return response;
}

mv1::GetStatusResponse Status(mv1::MetricsService::Stub& stub) {
  mv1::GetStatusResponse status;
  grpc::Status s =
      stub.GetStatus(ContextWithToken("supervisor", absl::Seconds(5)).get(), {}, &status);
  if (!s.ok()) status.set_last_applied_sequence(-1);
  return status;
}

// The responses of two servers for the same request, which differ only in when they were
// computed.
void ExpectSameAnswer(mv1::GetSummaryResponse a, mv1::GetSummaryResponse b,
                      const std::string& name) {
  a.mutable_data_version()->clear_computed_at();
  b.mutable_data_version()->clear_computed_at();
  EXPECT_TRUE(MessageDifferencer::Equals(a, b)) << name << "\n"
                                                << a.ShortDebugString() << "\n"
                                                << b.ShortDebugString();
}

TEST(MetricsFailureTest, KilledServerAndRestartedRedisStillGiveExactFigures) {
  hotline::testing::TempDir dir;
  std::filesystem::create_directories(dir.Sub("redis"));
  hotline::testing::RedisServer redis(dir.Sub("redis"));  // Append-only, fsync always.
  ASSERT_TRUE(redis.Start().ok());
  ManualClock clock(Shanghai(2024, 9, 2, 9));
  const absl::Time begin = clock.Now();
  TicketWorld world(dir.Sub("tickets"), &clock);
  world.StartRelay(redis.address());
  {
    std::ofstream tokens(dir.Sub("tokens"));
    tokens << TokenFileContents(world.config());
  }
  HistoryOptions options;
  options.tickets = 1500;
  options.rounds = 200;
  options.seed = 777;
  HistoryDriver driver(&world, options);
  auto published_all = [&] {
    return world.published_sequence() == world.store().committed_sequence();
  };

  // Part 1 of the history, all of it in the stream.
  driver.Run(0, 110);
  ASSERT_TRUE(WaitFor(published_all, absl::Seconds(120)));
  const int64_t head1 = world.store().committed_sequence();

  const int metrics_port = hotline::testing::PickFreePort();
  hotline::testing::ServerProcess server(METRICS_SERVER, dir.Sub("metrics-process"));
  const std::vector<std::string> server_args = {
      "--data_dir=" + dir.Sub("metrics"), "--token_file=" + dir.Sub("tokens"),
      "--redis=" + redis.address(), "--calendar_dir=../shared/data/holiday-cn",
      "--ticket_config=deploy/config/ticket.textproto",
      // Small batches: many writes, so the kill lands mid-stream.
      "--batch_size=8", absl::StrCat("--metrics_port=", metrics_port)};
  absl::Status started = server.Start(server_args, absl::Seconds(60));
  ASSERT_TRUE(started.ok()) << started;
  auto stub = mv1::MetricsService::NewStub(hotline::testing::LocalChannel(server.port()));

  // SIGKILL while it is catching up.
  ASSERT_TRUE(WaitFor([&] { return Status(*stub).last_applied_sequence() > head1 / 3; },
                      absl::Seconds(120)));
  server.Kill();

  // Tickets keep changing while the metrics service is down.
  driver.Run(110, 150);
  started = server.Start(server_args, absl::Seconds(60));
  ASSERT_TRUE(started.ok()) << started;
  stub = mv1::MetricsService::NewStub(hotline::testing::LocalChannel(server.port()));
  mv1::GetStatusResponse restarted = Status(*stub);
  LOG(INFO) << "restarted at event " << restarted.last_applied_sequence() << " of "
            << world.store().committed_sequence();
  EXPECT_GT(restarted.last_applied_sequence(), head1 / 3);  // Resumed, not from scratch.
  EXPECT_LT(restarted.last_applied_sequence(), head1);      // The kill was mid-stream.

  // Redis goes away while the service catches up, and tickets keep changing meanwhile.
  const int64_t head2 = world.store().committed_sequence();
  ASSERT_TRUE(WaitFor(
      [&] {
        return Status(*stub).last_applied_sequence() > restarted.last_applied_sequence() + 200;
      },
      absl::Seconds(120)));
  redis.Kill();
  EXPECT_LT(Status(*stub).last_applied_sequence(), head2);
  ASSERT_TRUE(
      WaitFor([&] { return Status(*stub).consumer_state() == mv1::CONSUMER_STATE_DISCONNECTED; },
              absl::Seconds(30)));
  driver.Run(150, 200);
  ASSERT_TRUE(redis.Start().ok());
  ASSERT_TRUE(WaitFor(published_all, absl::Seconds(120)));
  const int64_t head = world.store().committed_sequence();
  ASSERT_TRUE(WaitFor(
      [&] {
        mv1::GetStatusResponse s = Status(*stub);
        return s.last_applied_sequence() == head && s.consumer_state() == mv1::CONSUMER_STATE_LIVE;
      },
      absl::Seconds(180)))
      << "at " << Status(*stub).last_applied_sequence() << " of " << head;
  mv1::GetStatusResponse status = Status(*stub);
  EXPECT_EQ(status.head_sequence(), head);
  EXPECT_EQ(status.lag_events(), 0);
  EXPECT_TRUE(status.last_error().empty()) << status.last_error();

  // The same figures three other ways: a rebuild from the ticket service's event log, a
  // rebuild by the metrics_rebuild command from the stream, and a direct count.
  MetricsNode from_log(dir.Sub("from-log"), Clock::Real(), world.calendar(), world.config());
  ASSERT_TRUE(Rebuild([&](const auto& visit) { return world.store().ScanAllEvents(0, visit); },
                      &from_log.aggregates())
                  .ok());
  std::string command = absl::StrCat(
      METRICS_REBUILD, " --data_dir=", dir.Sub("from-stream"), " --redis=", redis.address(),
      " --calendar_dir=../shared/data/holiday-cn >> ", dir.Sub("rebuild.log"), " 2>&1");
  ASSERT_EQ(std::system(command.c_str()), 0) << "see " << dir.Sub("rebuild.log");
  MetricsNode from_stream(dir.Sub("from-stream"), Clock::Real(), world.calendar(), world.config());
  EXPECT_EQ(from_stream.aggregates().last_applied_sequence(), head);

  const std::vector<tv1::Ticket> tickets = world.AllTickets();
  const absl::Time end = clock.Now();
  std::vector<std::pair<std::string, mv1::GetSummaryRequest>> requests;
  for (absl::Time at = begin; at < end; at += absl::Hours(24 * 6)) {
    for (mv1::PeriodKind kind :
         {mv1::PERIOD_KIND_DAY, mv1::PERIOD_KIND_WEEK, mv1::PERIOD_KIND_MONTH}) {
      for (mv1::Dimension d : {mv1::DIMENSION_UNSPECIFIED, mv1::DIMENSION_DEPARTMENT}) {
        mv1::GetSummaryRequest r;
        r.mutable_period()->set_kind(kind);
        *r.mutable_period()->mutable_at() = Proto(at);
        r.set_group_by(d);
        requests.emplace_back(
            absl::StrCat(mv1::PeriodKind_Name(kind), " at ", absl::FormatTime(at)), r);
      }
    }
  }
  mv1::GetSummaryRequest whole;
  *whole.mutable_range()->mutable_start() = Proto(begin - absl::Hours(1) - absl::Minutes(13));
  *whole.mutable_range()->mutable_end() = Proto(end + absl::Hours(7));
  whole.set_group_by(mv1::DIMENSION_CHANNEL);
  requests.emplace_back("whole history", whole);
  for (const auto& [name, request] : requests) {
    mv1::GetSummaryResponse live, log_answer, stream_answer;
    ASSERT_TRUE(stub->GetSummary(ContextWithToken("supervisor").get(), request, &live).ok());
    ASSERT_TRUE(from_log.stub()
                    .GetSummary(ContextWithToken("supervisor").get(), request, &log_answer)
                    .ok());
    ASSERT_TRUE(from_stream.stub()
                    .GetSummary(ContextWithToken("supervisor").get(), request, &stream_answer)
                    .ok());
    ExpectSameAnswer(live, log_answer, name + " (rebuilt from the event log)");
    ExpectSameAnswer(live, stream_answer, name + " (metrics_rebuild from the stream)");
    DirectQuery q;
    q.start = TimeOf(live.period().start());
    q.end = TimeOf(live.period().end());
    q.now = TimeOf(live.data_version().computed_at());
    q.group_by = request.group_by();
    DirectResult expected = DirectCount(tickets, *world.calendar(), q);
    EXPECT_EQ(FiguresDiff(expected.totals, live.totals()), "") << name;
    ASSERT_EQ(static_cast<size_t>(live.rows_size()), expected.rows.size()) << name;
    for (const mv1::SummaryRow& row : live.rows()) {
      EXPECT_EQ(FiguresDiff(expected.rows[RowKeyText(row.key())], row.figures()), "")
          << name << " row " << RowKeyText(row.key());
    }
    if (::testing::Test::HasFailure()) break;
  }

  // Prometheus text metrics of the server process: request counts by method and code, and
  // the stream position.
  std::string text = HttpGet(metrics_port, "/metrics");
  EXPECT_TRUE(
      absl::StrContains(text,
                        "grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"GetStatus\","
                        "grpc_service=\"hotline.metrics.v1.MetricsService\"}"))
      << text;
  EXPECT_TRUE(absl::StrContains(text, absl::StrCat("hotline_metrics_last_applied_sequence ", head)))
      << text;
  EXPECT_TRUE(absl::StrContains(text, "hotline_metrics_stream_lag_events 0")) << text;

  // A graceful stop.
  absl::StatusOr<int> stopped = server.Terminate(absl::Seconds(60));
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(*stopped, 0);
}

}  // namespace
}  // namespace hotline::metrics::testing
