// ticket_bench: what a durable ticket transition costs, next to a bare gRPC call on the same
// machine with the same runtime.
//
// 1. Starts ticket_server as a child process on a fresh data directory, with a private
//    redis-server for its event stream as in production, and runs --clients concurrent clients
//    for --duration. Each takes tickets round the loop create -> confirm -> dispatch (one lead
//    department) -> sign -> reply -> callback satisfied: six transitions, each acknowledged only
//    after its synced RocksDB commit. Every transition's latency is recorded.
// 2. Starts the test Echo service in process on a ServiceHost (the same authentication and
//    hosting, no storage) and runs Echo calls with the same concurrency and duration.
// During the ticket load, --readers clients read the ticket writer 0 is changing (GetTicket
// with its events), which shows whether a read waits behind a commit.
// Prints throughput and latency percentiles of both, their ratios, and one summary line.
//
// Run from the repository root (the default --config and --calendar_dir are relative to it),
// e.g. through scripts/bench.sh:
//   build/tests/ticket_bench --clients=16 --duration=20s
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/auth.h"
#include "common/program.h"
#include "common/service_host.h"
#include "hotline/testing/v1/echo.grpc.pb.h"
#include "tests/support/echo_service.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_util.h"
#include "tests/ticket_harness.h"

ABSL_FLAG(int, clients, 16, "concurrent clients, each one rpc at a time");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(20), "how long each of the two loads runs");
ABSL_FLAG(std::string, server, TICKET_SERVER_PATH, "the ticket_server binary");
ABSL_FLAG(std::string, config, "deploy/config/ticket.textproto", "ticket configuration");
ABSL_FLAG(std::string, calendar_dir, "../shared/data/holiday-cn", "official holiday calendars");
ABSL_FLAG(int, readers, 2,
          "during the ticket load, clients reading (GetTicket, with its events) the ticket a "
          "writer is changing, each one call at a time");
ABSL_FLAG(bool, with_redis, true,
          "publish events to a private redis-server as in production; false: the relay finds "
          "no Redis and events stay in the outbox");

namespace hotline {
namespace {

using testing::v1::Echo;

// What one load produced: the latency of every successful call, failures, and the wall time
// from the first call to the last reply.
struct LoadResult {
  std::vector<int64_t> latencies_us;
  int64_t errors = 0;
  absl::Duration elapsed;

  double per_second() const {
    return static_cast<double>(latencies_us.size()) / absl::ToDoubleSeconds(elapsed);
  }
  // The latency below which `fraction` of the calls finished, in milliseconds; needs sorted
  // latencies.
  double percentile_ms(double fraction) const {
    if (latencies_us.empty()) return 0;
    const double n = static_cast<double>(latencies_us.size());
    size_t index = std::min(latencies_us.size() - 1, static_cast<size_t>(fraction * n));
    return static_cast<double>(latencies_us[index]) / 1000.0;
  }
};

// One client's calls: each invocation makes one call and says whether it succeeded. Built per
// thread, so it may keep state (a stub, a ticket half-way round the loop).
using Call = std::function<bool()>;

// Runs `clients` threads for `duration`, each making calls back to back, closed-loop: a client
// sends its next call when the previous one is answered, as an agent's desktop would.
LoadResult RunLoad(int clients, absl::Duration duration,
                   const std::function<Call(int client)>& make_call) {
  std::vector<std::vector<int64_t>> latencies(clients);
  std::atomic<int64_t> errors{0};
  std::vector<Call> calls;
  for (int i = 0; i < clients; ++i) calls.push_back(make_call(i));
  const absl::Time start = absl::Now();
  const absl::Time end = start + duration;
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      while (absl::Now() < end) {
        absl::Time sent = absl::Now();
        bool ok = calls[i]();
        int64_t us = absl::ToInt64Microseconds(absl::Now() - sent);
        if (ok) {
          latencies[i].push_back(us);
        } else {
          errors.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  LoadResult result;
  result.elapsed = absl::Now() - start;
  result.errors = errors.load();
  for (const auto& l : latencies) {
    result.latencies_us.insert(result.latencies_us.end(), l.begin(), l.end());
  }
  std::sort(result.latencies_us.begin(), result.latencies_us.end());
  return result;
}

// A channel of its own per client (its own connection), as separate callers have; by default
// gRPC would share one connection between channels to the same address.
std::shared_ptr<grpc::Channel> ClientChannel(int port) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials(), args);
}

void Print(const char* name, const char* unit, int clients, const LoadResult& r) {
  std::printf(
      "%-7s %d clients, %.1f s: %zu %s (%lld errors), %.1f %s/s, p50 %.3f ms, "
      "p99 %.3f ms\n",
      name, clients, absl::ToDoubleSeconds(r.elapsed), r.latencies_us.size(), unit,
      static_cast<long long>(r.errors), r.per_second(), unit, r.percentile_ms(0.50),
      r.percentile_ms(0.99));
  std::fflush(stdout);
}

// The ticket load against a ticket_server child process on a fresh data directory.
// Reads during the ticket load: what a read of a ticket being written costs.
LoadResult reads_during_writes;

absl::StatusOr<LoadResult> BenchTickets(int clients, absl::Duration duration) {
  testing::TempDir dir;
  testing::TicketTokens tokens;
  std::unique_ptr<testing::RedisServer> redis;
  std::string redis_address = absl::StrCat("127.0.0.1:", testing::PickFreePort());
  if (absl::GetFlag(FLAGS_with_redis)) {
    std::string redis_dir = dir.Sub("redis");
    mkdir(redis_dir.c_str(), 0755);
    // No append-only file: the disk is the ticket store's, as on a production host where Redis
    // runs elsewhere.
    redis = std::make_unique<testing::RedisServer>(redis_dir, /*appendonly=*/false);
    if (absl::Status s = redis->Start(); !s.ok()) return s;
    redis_address = redis->address();
  }
  std::string server_dir = dir.Sub("ticket");
  mkdir(server_dir.c_str(), 0755);
  testing::TicketServerOptions options;
  options.binary = absl::GetFlag(FLAGS_server);
  options.work_dir = server_dir;
  options.redis_address = redis_address;
  options.config = absl::GetFlag(FLAGS_config);
  options.calendar_dir = absl::GetFlag(FLAGS_calendar_dir);
  options.tokens = tokens;
  testing::TicketServerProcess server(options);
  if (absl::Status s = server.Start(); !s.ok()) return s;

  // The ticket writer 0 is changing, for the readers; empty until it made one.
  absl::Mutex written_mu;
  std::string written_id;
  std::thread readers([&] {
    reads_during_writes = RunLoad(absl::GetFlag(FLAGS_readers), duration, [&](int) -> Call {
      auto stub = std::shared_ptr<ticket::v1::TicketService::Stub>(
          ticket::v1::TicketService::NewStub(ClientChannel(server.port())));
      return [stub, &written_mu, &written_id, &tokens]() {
        std::string id;
        {
          absl::MutexLock lock(&written_mu);
          id = written_id;
        }
        if (id.empty()) id = "T00000000-000000";  // Before the first write: a miss, also a read.
        ticket::v1::GetTicketRequest get;
        get.set_ticket_id(id);
        ticket::v1::Ticket reply;
        grpc::ClientContext context;
        context.AddMetadata("authorization", "Bearer " + tokens.supervisor);
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        grpc::Status status = stub->GetTicket(&context, get, &reply);
        return status.ok() || status.error_code() == grpc::StatusCode::NOT_FOUND;
      };
    });
  });
  LoadResult result = RunLoad(clients, duration, [&](int client) -> Call {
    struct State {
      std::unique_ptr<ticket::v1::TicketService::Stub> stub;
      std::unique_ptr<testing::TicketLoop> loop;
      int loops = 0;
    };
    auto state = std::make_shared<State>();
    state->stub = ticket::v1::TicketService::NewStub(ClientChannel(server.port()));
    absl::Mutex* written_mu_ptr = &written_mu;
    std::string* written_id_ptr = &written_id;
    return [state, client, &tokens, written_mu_ptr, written_id_ptr]() {
      if (state->loop == nullptr || state->loop->done()) {
        state->loop = std::make_unique<testing::TicketLoop>(
            &tokens, absl::StrCat("bench-c", client, "-", state->loops++), "water",
            std::vector<std::string>{});
      }
      ticket::v1::Ticket reply;
      grpc::Status status = state->loop->Step(*state->stub, absl::Seconds(10), &reply);
      if (client == 0 && status.ok()) {
        absl::MutexLock lock(written_mu_ptr);
        *written_id_ptr = reply.id();
      }
      if (!status.ok()) {
        std::fprintf(stderr, "client %d, %s: %s\n", client, state->loop->StepName().c_str(),
                     status.error_message().c_str());
        state->loop.reset();  // Start afresh rather than repeat a failing step.
      }
      return status.ok();
    };
  });
  readers.join();
  absl::StatusOr<int> exit_code = server.Terminate();
  if (!exit_code.ok() || *exit_code != 0) {
    std::string why =
        exit_code.ok() ? absl::StrCat("exit code ", *exit_code) : exit_code.status().ToString();
    std::fprintf(stderr, "ticket_server did not shut down cleanly: %s\n%s", why.c_str(),
                 server.LogTail().c_str());
  }
  return result;
}

// The same load on the in-process Echo service.
absl::StatusOr<LoadResult> BenchEcho(int clients, absl::Duration duration) {
  testing::TicketTokens tokens;
  absl::StatusOr<std::shared_ptr<const TokenRegistry>> registry =
      TokenRegistry::Parse(tokens.FileContents());
  if (!registry.ok()) return registry.status();
  testing::EchoService echo(*registry);
  ServiceHost host(ServiceHostOptions{});
  host.AddService(&echo, "hotline.testing.v1.Echo");
  if (absl::Status s = host.Start(); !s.ok()) return s;
  LoadResult result = RunLoad(clients, duration, [&](int client) -> Call {
    std::shared_ptr<Echo::Stub> stub = Echo::NewStub(ClientChannel(host.port()));
    return [stub, &tokens]() {
      testing::v1::EchoRequest request;
      request.set_message("ping");
      testing::v1::EchoResponse response;
      return stub->Echo(testing::ContextWithToken(tokens.agent).get(), request, &response).ok();
    };
  });
  host.Shutdown();
  return result;
}

int Main() {
  const int clients = absl::GetFlag(FLAGS_clients);
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  if (clients < 1 || duration <= absl::ZeroDuration()) {
    std::fprintf(stderr, "--clients and --duration must be positive\n");
    return 2;
  }
  absl::StatusOr<LoadResult> ticket = BenchTickets(clients, duration);
  if (!ticket.ok()) {
    std::fprintf(stderr, "ticket load: %s\n", ticket.status().ToString().c_str());
    return 1;
  }
  Print("ticket", "transitions", clients, *ticket);
  Print("reads", "reads", absl::GetFlag(FLAGS_readers), reads_during_writes);
  absl::StatusOr<LoadResult> echo = BenchEcho(clients, duration);
  if (!echo.ok()) {
    std::fprintf(stderr, "echo load: %s\n", echo.status().ToString().c_str());
    return 1;
  }
  Print("echo", "calls", clients, *echo);
  std::printf("ratios: ticket p99 / echo p99 = %.1f, ticket transitions/s / echo qps = %.4f\n",
              ticket->percentile_ms(0.99) / echo->percentile_ms(0.99),
              ticket->per_second() / echo->per_second());
  std::printf(
      "ticket_bench transitions_per_s %.1f p50_ms %.3f p99_ms %.3f echo_qps %.1f echo_p50_ms %.3f "
      "echo_p99_ms %.3f read_p50_ms %.3f read_p99_ms %.3f\n",
      ticket->per_second(), ticket->percentile_ms(0.50), ticket->percentile_ms(0.99),
      echo->per_second(), echo->percentile_ms(0.50), echo->percentile_ms(0.99),
      reads_during_writes.percentile_ms(0.50), reads_during_writes.percentile_ms(0.99));
  // Failed calls make the numbers meaningless; say so through the exit code.
  return ticket->errors == 0 && echo->errors == 0 && reads_during_writes.errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace hotline

int main(int argc, char** argv) {
  hotline::InitProgram(argc, argv,
                       "ticket_bench: durable ticket transitions against bare gRPC calls");
  return hotline::Main();
}
