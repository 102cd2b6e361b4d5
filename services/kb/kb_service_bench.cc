// kb_service_bench: the knowledge-base service as deployed, measured from outside. A kb_server
// child process (real RocksDB in a temporary directory, the full import pipeline: taxonomy
// classification and TF-IDF tagging) is fed the whole lawref corpus through the gRPC Import
// stream, stopped with SIGTERM and started again on the same data, then searched with the real
// STARD questions by concurrent clients:
//   - import: documents/s and passages/s, total seconds, the server's RSS;
//   - restart: time from spawning the server until its health check answers SERVING (target
//     60 s), and its RSS then;
//   - search, closed loop: every client sends its next query as soon as the last one returned,
//     giving the maximum throughput with p50/p99;
//   - search, open loop: a fixed rate spread evenly over the clients; each latency runs from the
//     request's scheduled send time, so a slow reply that delays the next sends is counted in
//     them (no coordinated omission). Target: p99 <= 10 ms at 500 req/s.
// The server and this process share the machine (two cores on the reference host), as an agent
// console and the server would not: the figures include the clients' own CPU.
// Not a test; run by scripts/bench.sh (HOTLINE_BENCH=kb_service_bench).
#include <grpcpp/grpcpp.h>
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/auth.h"
#include "common/program.h"
#include "common/status_macros.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "hotline/kb/v1/kb.grpc.pb.h"
#include "services/kb/importers/jsonl_importer.h"
#include "services/kb/importers/lawref_format.h"
#include "services/kb/importers/line_reader.h"
#include "tests/support/latency_summary.h"
#include "tests/support/server_process.h"
#include "tests/support/test_util.h"

ABSL_FLAG(std::string, corpus, "../shared/data/lawref/documents.jsonl.gz",
          "lawref JSON Lines (gzip allowed): the documents imported");
ABSL_FLAG(std::string, queries, "../shared/data/stard/dev.queries.tsv",
          "qid<TAB>question: the search queries (real citizens' questions)");
ABSL_FLAG(std::string, server, KB_SERVER_PATH, "the kb_server binary");
ABSL_FLAG(std::string, taxonomy, "services/kb/ingest/data/taxonomy.txt",
          "kb_server --taxonomy (classification of imported entries)");
ABSL_FLAG(std::string, idf, "/usr/lib/python3/dist-packages/jieba/analyse/idf.txt",
          "kb_server --idf (tagging of imported entries)");
ABSL_FLAG(int, clients, 16, "concurrent search clients, each with its own channel");
ABSL_FLAG(double, rate, 500, "open loop: requests per second, over all clients");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(60),
          "open loop: how long (long enough for the p99 to cover many of the host's "
          "periodic stalls, see the host line)");
ABSL_FLAG(int, senders, 2,
          "open loop: threads that send the requests as they fall due (asynchronously, "
          "whichever is awake)");
ABSL_FLAG(absl::Duration, closed_duration, absl::Seconds(10), "closed loop: how long");
ABSL_FLAG(absl::Duration, search_deadline, absl::Seconds(1),
          "client deadline of each Search (the contract suggests about 1 s)");
ABSL_FLAG(bool, exclude_from_statistics, false,
          "mark the searches as excluded from statistics; by default they are logged for "
          "Suggest and ListGaps like an agent's");
ABSL_FLAG(int, max_documents, -1, "import only the first N documents (-1: all)");
ABSL_FLAG(bool, classify, true,
          "send the laws without the collection's folder as category, so that the server "
          "classifies every one with its taxonomy (the whole pipeline); false: as the importer "
          "reads them, folder as category");
ABSL_FLAG(absl::Duration, startup_timeout, absl::Minutes(5),
          "how long a start of the server may take before the benchmark gives up");
ABSL_FLAG(bool, huge_pages, true,
          "start the server with GLIBC_TUNABLES=glibc.malloc.hugetlb=1, as deploy/config/kb.env "
          "and scripts/run.sh do (its heap on transparent huge pages)");
ABSL_FLAG(std::string, data_dir, "",
          "keep the server's files here instead of a temporary directory; when it already "
          "holds an imported store, the import is skipped and the run starts with the restart "
          "(for quick repeated search measurements)");

namespace hotline::kb {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kEditorToken[] = "kb-bench-editor";
constexpr char kAgentToken[] = "kb-bench-agent";

// A "Field:  N kB" line of /proc/PID/status (or of another such file there), in MiB.
double MiB(const std::string& proc_status_field, pid_t pid, const std::string& file = "status") {
  std::ifstream status(absl::StrCat("/proc/", pid, "/", file));
  for (std::string line; std::getline(status, line);) {
    if (absl::StartsWith(line, proc_status_field)) {
      double kb = 0;
      absl::SimpleAtod(absl::StripAsciiWhitespace(
                           absl::StripSuffix(line.substr(proc_status_field.size()), "kB")),
                       &kb);
      return kb / 1024;
    }
  }
  return 0;
}

// CPU seconds (user + system) that process `pid` has used so far; 0 for this process.
double CpuSeconds(pid_t pid) {
  std::ifstream stat(pid == 0 ? std::string("/proc/self/stat")
                              : absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may hold spaces.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> fields = absl::StrSplit(text.substr(close + 2), ' ');
  double utime = 0, stime = 0;
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
  if (fields.size() < 13 || !absl::SimpleAtod(fields[11], &utime) ||
      !absl::SimpleAtod(fields[12], &stime)) {
    return 0;
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The first line of a file, or "" (sysfs and procfs values).
std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The host's memory-access monitor: DAMON kernel threads (kdamond) that are running, by pid.
// On some virtual machines they scan guest memory for reclaim and take a CPU for milliseconds
// at a time, which shows in the latency tail; the benchmark reports how much CPU they used.
std::vector<pid_t> RunningKdamonds() {
  std::vector<pid_t> pids;
  std::error_code error;
  for (const auto& d :
       std::filesystem::directory_iterator("/sys/kernel/mm/damon/admin/kdamonds", error)) {
    if (!d.is_directory(error) || ReadLine(d.path() / "state") != "on") continue;
    int pid = 0;
    if (absl::SimpleAtoi(ReadLine(d.path() / "pid"), &pid) && pid > 0) pids.push_back(pid);
  }
  return pids;
}

// CPU time of `pids` so far, in milliseconds, from /proc/PID/schedstat (nanoseconds on CPU).
double ThreadsCpuMs(const std::vector<pid_t>& pids) {
  double ms = 0;
  for (pid_t pid : pids) {
    std::vector<std::string> f =
        absl::StrSplit(ReadLine(absl::StrCat("/proc/", pid, "/schedstat")), ' ');
    double ns = 0;
    if (!f.empty() && absl::SimpleAtod(f[0], &ns)) ms += ns / 1e6;
  }
  return ms;
}

// Bytes of the files under `dir`, what the store takes on disk.
double DirectoryMiB(const std::string& dir) {
  std::error_code error;
  uintmax_t bytes = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir, error)) {
    if (f.is_regular_file(error)) bytes += f.file_size(error);
  }
  return static_cast<double>(bytes) / 1048576.0;
}

// The kb_server binary as a child process in `dir`: data/, tokens, port file, log.
class KbServerProcess {
 public:
  explicit KbServerProcess(std::string dir)
      : dir_(std::move(dir)), process_(absl::GetFlag(FLAGS_server), dir_) {}

  // Writes the token file, spawns the server and waits until it serves.
  absl::Status Start() {
    const std::string tokens = dir_ + "/tokens";
    {
      std::ofstream out(tokens, std::ios::trunc);
      out << HashToken(kEditorToken) << " bench-editor editor\n"
          << HashToken(kAgentToken) << " bench-agent agent\n";
      if (!out) return absl::InternalError(absl::StrCat("cannot write ", tokens));
    }
    return process_.Start({"--data_dir=" + dir_ + "/data", "--token_file=" + tokens,
                           "--taxonomy=" + absl::GetFlag(FLAGS_taxonomy),
                           "--idf=" + absl::GetFlag(FLAGS_idf), "--demo_data="},
                          absl::GetFlag(FLAGS_startup_timeout));
  }

  // SIGTERM and wait for the graceful shutdown, which must end with exit code 0.
  absl::Status Terminate() {
    absl::StatusOr<int> code = process_.Terminate(absl::Minutes(1));
    if (!code.ok()) return code.status();
    if (*code != 0) return absl::InternalError(absl::StrCat("kb_server exited with ", *code));
    return absl::OkStatus();
  }

  pid_t pid() const { return process_.pid(); }
  int port() const { return process_.port(); }
  std::string address() const { return absl::StrCat("127.0.0.1:", process_.port()); }
  std::string LogTail(size_t lines = 20) const { return process_.LogTail(lines); }

 private:
  const std::string dir_;
  testing::ServerProcess process_;
};

// A channel of its own for each client, as each agent's console has: the distinct argument
// keeps gRPC from sharing one connection between them.
std::shared_ptr<grpc::Channel> ClientChannel(const std::string& address, int client) {
  grpc::ChannelArguments args;
  args.SetInt("hotline.kb_service_bench.client", client);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

using testing::LatencySummary;
using testing::Summarise;

struct LoadResult {
  std::vector<double> latencies_ms;
  int64_t errors = 0;
  std::string first_error;
  double seconds = 0;
  int64_t late = 0;  // open loop: requests sent after their scheduled time
};

// One search as an agent sends it; the latency in ms, or the error.
v1::SearchRequest AgentSearch(const std::string& query) {
  v1::SearchRequest request;
  request.set_query(query);
  request.set_exclude_from_statistics(absl::GetFlag(FLAGS_exclude_from_statistics));
  return request;
}

std::unique_ptr<grpc::ClientContext> AgentContext() {
  return testing::ContextWithToken(kAgentToken, absl::GetFlag(FLAGS_search_deadline));
}

grpc::Status SearchOnce(v1::KnowledgeBaseService::Stub& stub, const std::string& query) {
  v1::SearchResponse response;
  return stub.Search(AgentContext().get(), AgentSearch(query), &response);
}

// A stub per client, each on its channel, connected (one search each) before any clock starts.
std::vector<std::unique_ptr<v1::KnowledgeBaseService::Stub>> ConnectedStubs(
    const std::string& address, int clients, const std::vector<std::string>& queries) {
  std::vector<std::unique_ptr<v1::KnowledgeBaseService::Stub>> stubs;
  for (int c = 0; c < clients; ++c) {
    stubs.push_back(v1::KnowledgeBaseService::NewStub(ClientChannel(address, c)));
    SearchOnce(*stubs.back(), queries[c % queries.size()]);
  }
  return stubs;
}

// Closed loop: each client sends its next query as soon as the last one returned, for
// `duration`.
LoadResult RunClosedLoop(const std::string& address, const std::vector<std::string>& queries,
                         int clients, absl::Duration duration) {
  std::vector<std::unique_ptr<v1::KnowledgeBaseService::Stub>> stubs =
      ConnectedStubs(address, clients, queries);

  std::vector<LoadResult> per_client(clients);
  const Clock::time_point start = Clock::now();
  const Clock::time_point end =
      start + std::chrono::nanoseconds(absl::ToInt64Nanoseconds(duration));
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      LoadResult& out = per_client[c];
      size_t next_query = static_cast<size_t>(c) * queries.size() / clients;
      for (Clock::time_point sent = Clock::now(); sent < end; sent = Clock::now()) {
        grpc::Status status = SearchOnce(*stubs[c], queries[next_query++ % queries.size()]);
        if (status.ok()) {
          out.latencies_ms.push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
        } else if (out.errors++ == 0) {
          out.first_error = absl::StrCat(status.error_code(), ": ", status.error_message());
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  LoadResult all;
  all.seconds = absl::ToDoubleSeconds(duration);
  for (LoadResult& r : per_client) {
    all.latencies_ms.insert(all.latencies_ms.end(), r.latencies_ms.begin(), r.latencies_ms.end());
    all.errors += r.errors;
    if (all.first_error.empty()) all.first_error = r.first_error;
  }
  return all;
}

// Open loop: request k is due at start + k / rate, from client k % clients (each client is a
// channel of its own, an agent's console), whether or not earlier ones have returned, and its
// latency counts from that moment, so a slow reply that delays later sends is counted in them
// (no coordinated omission). Requests are asynchronous, sent by whichever of `senders` threads
// is awake when one falls due: a load generator whose one thread is kept off its CPU for a
// while (the host's kernel threads do that) would otherwise charge that to the server.
LoadResult RunOpenLoop(const std::string& address, const std::vector<std::string>& queries,
                       int clients, double rate, absl::Duration duration, int senders) {
  std::vector<std::unique_ptr<v1::KnowledgeBaseService::Stub>> stubs =
      ConnectedStubs(address, clients, queries);

  const int64_t total = static_cast<int64_t>(rate * absl::ToDoubleSeconds(duration));
  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(20);
  auto due = [&](int64_t k) {
    return start + std::chrono::duration_cast<Clock::duration>(
                       std::chrono::duration<double>(static_cast<double>(k) / rate));
  };
  struct Call {
    std::unique_ptr<grpc::ClientContext> context;
    v1::SearchRequest request;
    v1::SearchResponse response;
    Clock::time_point due;
  };
  absl::Mutex mu;
  LoadResult all;
  int64_t finished = 0;
  std::atomic<int64_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, senders); ++t) {
    threads.emplace_back([&] {
      for (int64_t k = next.load(); k < total; k = next.load()) {
        std::this_thread::sleep_until(due(k));  // Pacing, not waiting for a condition.
        // Send everything due by now, whichever sender got here first.
        for (k = next.load(); k < total && due(k) <= Clock::now(); k = next.load()) {
          if (!next.compare_exchange_weak(k, k + 1)) continue;
          if (Clock::now() > due(k) + std::chrono::milliseconds(1)) {
            absl::MutexLock lock(&mu);
            ++all.late;
          }
          auto* call = new Call{AgentContext(),
                                AgentSearch(queries[static_cast<size_t>(k) % queries.size()]),
                                {},
                                due(k)};
          stubs[static_cast<size_t>(k % clients)]->async()->Search(
              call->context.get(), &call->request, &call->response, [&, call](grpc::Status status) {
                const double ms =
                    std::chrono::duration<double, std::milli>(Clock::now() - call->due).count();
                delete call;
                absl::MutexLock lock(&mu);
                ++finished;
                if (status.ok()) {
                  all.latencies_ms.push_back(ms);
                } else if (all.errors++ == 0) {
                  all.first_error = absl::StrCat(status.error_code(), ": ", status.error_message());
                }
              });
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  {
    absl::MutexLock lock(&mu);
    auto all_done = [&] { return finished == total; };
    mu.Await(absl::Condition(&all_done));
  }
  all.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return all;
}

// Polls the standard health service until it answers SERVING for the knowledge base.
bool WaitServing(const std::string& address, absl::Duration timeout) {
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  return testing::WaitFor(
      [&] {
        grpc::health::v1::HealthCheckRequest request;
        request.set_service("hotline.kb.v1.KnowledgeBaseService");
        grpc::health::v1::HealthCheckResponse response;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
        return health->Check(&context, request, &response).ok() &&
               response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
      },
      timeout);
}

absl::StatusOr<v1::StatsResponse> Stats(const std::string& address) {
  auto stub = v1::KnowledgeBaseService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  v1::StatsResponse stats;
  grpc::Status s =
      stub->Stats(testing::ContextWithToken(kEditorToken, absl::Minutes(1)).get(), {}, &stats);
  if (!s.ok()) return absl::InternalError(absl::StrCat("Stats: ", s.error_message()));
  return stats;
}

// The documents as the JSON Lines importer gives them to a client.
absl::StatusOr<std::vector<v1::ImportItem>> ReadCorpus(const std::string& path, int limit) {
  ASSIGN_OR_RETURN(std::unique_ptr<importers::SourceReader> reader, importers::OpenJsonLines(path));
  std::vector<v1::ImportItem> items;
  while (limit < 0 || static_cast<int>(items.size()) < limit) {
    ASSIGN_OR_RETURN(std::optional<importers::SourceRecord> record, reader->Next());
    if (!record.has_value()) break;
    if (!record->item.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(record->origin, ": ", record->item.status().message()));
    }
    items.push_back(*std::move(record->item));
    if (absl::GetFlag(FLAGS_classify)) items.back().mutable_entry()->clear_category_path();
  }
  return items;
}

int Fail(const absl::Status& status) {
  std::cerr << "kb_service_bench: " << status << "\n";
  return 1;
}

int Main() {
  absl::StatusOr<std::vector<v1::ImportItem>> items =
      ReadCorpus(absl::GetFlag(FLAGS_corpus), absl::GetFlag(FLAGS_max_documents));
  if (!items.ok()) return Fail(items.status());
  const size_t corpus_documents = items->size();
  std::vector<std::string> queries;
  absl::Status read =
      importers::ForEachLine(absl::GetFlag(FLAGS_queries), [&](absl::string_view line) {
        std::vector<std::string> f = absl::StrSplit(line, absl::MaxSplits('\t', 1));
        if (f.size() == 2 && !f[1].empty()) queries.push_back(f[1]);
        return absl::OkStatus();
      });
  if (!read.ok()) return Fail(read);
  if (queries.empty()) return Fail(absl::InvalidArgumentError("--queries: no query"));
  const int clients = std::max(1, absl::GetFlag(FLAGS_clients));

  if (absl::GetFlag(FLAGS_huge_pages)) {
    // Read by the server's glibc at its start; this process has already set up its own malloc.
    setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1);
  }
  testing::TempDir temp;
  const std::string dir =
      absl::GetFlag(FLAGS_data_dir).empty() ? temp.path() : absl::GetFlag(FLAGS_data_dir);
  std::error_code no_store;
  // A store left by an earlier run with the same --data_dir: measure the searches on it.
  const bool reuse = !std::filesystem::is_empty(dir + "/data", no_store) && !no_store;
  if (reuse) {
    std::vector<v1::ImportItem>().swap(*items);
    malloc_trim(0);
  }
  KbServerProcess server(dir);
  const absl::Time first_start = absl::Now();
  if (absl::Status s = server.Start(); !s.ok()) return Fail(s);
  if (!WaitServing(server.address(), absl::GetFlag(FLAGS_startup_timeout))) {
    return Fail(absl::DeadlineExceededError("the first start never answered SERVING"));
  }
  double startup_s = absl::ToDoubleSeconds(absl::Now() - first_start);
  double startup_rss = MiB("VmRSS:", server.pid());

  v1::ImportResponse imported;
  double import_s = 0, import_rss = 0, import_peak = 0, import_disk = 0, stop_s = 0;
  absl::StatusOr<v1::StatsResponse> stats = Stats(server.address());
  if (!stats.ok()) return Fail(stats.status());
  if (!reuse) {
    // ---- Import: one client stream with every document, as a source's nightly export. ----
    const absl::Time import_start = absl::Now();
    auto stub = v1::KnowledgeBaseService::NewStub(
        grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
    auto context = testing::ContextWithToken(kEditorToken, absl::Hours(2));
    auto writer = stub->Import(context.get(), &imported);
    v1::ImportRequest header;
    header.mutable_header()->set_source_name(importers::kLawrefSourceName);
    // Only rejections and warnings come back item by item; the totals count everything.
    header.mutable_header()->set_only_exceptions(true);
    bool writable = writer->Write(header);
    for (const v1::ImportItem& item : *items) {
      if (!writable) break;  // The server ended the call; Finish says why.
      v1::ImportRequest request;
      *request.mutable_item() = item;
      writable = writer->Write(request);
    }
    writer->WritesDone();
    // The corpus is not needed any more: its memory is handed back, so that during the
    // searches the machine holds what a deployment would (the host's memory scanner sees it).
    std::vector<v1::ImportItem>().swap(*items);
    malloc_trim(0);
    grpc::Status s = writer->Finish();
    if (!s.ok()) {
      return Fail(absl::InternalError(absl::StrCat("Import: ", s.error_code(), ": ",
                                                   s.error_message(), "\n", server.LogTail())));
    }
    import_s = absl::ToDoubleSeconds(absl::Now() - import_start);
    import_rss = MiB("VmRSS:", server.pid());
    import_peak = MiB("VmHWM:", server.pid());
    import_disk = DirectoryMiB(dir + "/data");
    stats = Stats(server.address());
    if (!stats.ok()) return Fail(stats.status());
    int shown = 0;
    for (const v1::ImportItemResult& r : imported.results()) {
      if (r.outcome() == v1::IMPORT_OUTCOME_REJECTED && shown++ < 5) {
        std::cerr << "rejected " << r.source_id() << ": " << r.message() << "\n";
      }
    }

    // ---- Restart on the same data. ------------------------------------------------------
    const absl::Time stop_start = absl::Now();
    if (absl::Status s = server.Terminate(); !s.ok()) return Fail(s);
    stop_s = absl::ToDoubleSeconds(absl::Now() - stop_start);
    const absl::Time restart = absl::Now();
    if (absl::Status s = server.Start(); !s.ok()) return Fail(s);
    if (!WaitServing(server.address(), absl::GetFlag(FLAGS_startup_timeout))) {
      return Fail(absl::DeadlineExceededError("the restarted server never answered SERVING"));
    }
    startup_s = absl::ToDoubleSeconds(absl::Now() - restart);
    startup_rss = MiB("VmRSS:", server.pid());
    absl::StatusOr<v1::StatsResponse> after_restart = Stats(server.address());
    if (!after_restart.ok()) return Fail(after_restart.status());
    if (after_restart->total_entries() != stats->total_entries() ||
        after_restart->total_passages() != stats->total_passages()) {
      return Fail(absl::DataLossError(
          absl::StrCat("after the restart the store holds ", after_restart->total_entries(),
                       " entries and ", after_restart->total_passages(), " passages, before it ",
                       stats->total_entries(), " and ", stats->total_passages())));
    }
  }

  // ---- Search. ----------------------------------------------------------------------------
  // Warm-up: every query once, so that the measurement sees a server in steady state.
  // Its latencies, one request at a time, are the floor that queueing adds to.
  std::vector<std::pair<double, std::string>> serial;
  {
    auto stub = v1::KnowledgeBaseService::NewStub(ClientChannel(server.address(), -1));
    SearchOnce(*stub, queries[0]);  // Connects.
    for (const std::string& q : queries) {
      const Clock::time_point t0 = Clock::now();
      SearchOnce(*stub, q);
      serial.emplace_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count(), q);
    }
  }
  std::sort(serial.begin(), serial.end());
  std::vector<double> serial_ms;
  for (const auto& [ms, q] : serial) serial_ms.push_back(ms);
  const LatencySummary one = Summarise(serial_ms);
  // CPU milliseconds per request of the server and of this process (the clients) in a run.
  struct CpuShare {
    double server_ms = 0, clients_ms = 0;
  };
  auto measure = [&](auto run, CpuShare* cpu) {
    const double server0 = CpuSeconds(server.pid()), self0 = CpuSeconds(0);
    LoadResult result = run();
    const double n = std::max<size_t>(1, result.latencies_ms.size());
    cpu->server_ms = (CpuSeconds(server.pid()) - server0) * 1000 / n;
    cpu->clients_ms = (CpuSeconds(0) - self0) * 1000 / n;
    return result;
  };
  CpuShare closed_cpu, open_cpu;
  const std::vector<pid_t> kdamonds = RunningKdamonds();
  LoadResult closed = measure(
      [&] {
        return RunClosedLoop(server.address(), queries, clients,
                             absl::GetFlag(FLAGS_closed_duration));
      },
      &closed_cpu);
  const double rate = absl::GetFlag(FLAGS_rate);
  const double kdamond_before = ThreadsCpuMs(kdamonds);
  LoadResult opened = measure(
      [&] {
        return RunOpenLoop(server.address(), queries, clients, rate, absl::GetFlag(FLAGS_duration),
                           absl::GetFlag(FLAGS_senders));
      },
      &open_cpu);
  const double kdamond_ms = ThreadsCpuMs(kdamonds) - kdamond_before;
  const double search_rss = MiB("VmRSS:", server.pid());
  const double huge_mib = MiB("AnonHugePages:", server.pid(), "smaps_rollup");
  const LatencySummary c = Summarise(closed.latencies_ms);
  const LatencySummary o = Summarise(opened.latencies_ms);

  const double passages = static_cast<double>(stats->total_passages());
  const v1::ImportTotals& t = imported.totals();
  std::cout << absl::StrFormat(
                   "\n==== kb_service_bench: a kb_server process, %d lawref documents "
                   "(%s) ====\n",
                   corpus_documents, absl::GetFlag(FLAGS_corpus))
            << absl::StrFormat(
                   "pipeline          clean, metadata, dedup and versions, %s, "
                   "tagging (--taxonomy=%s --idf=%s)\n",
                   absl::GetFlag(FLAGS_classify) ? "classification of every law"
                                                 : "categories from the collection's folders",
                   absl::GetFlag(FLAGS_taxonomy), absl::GetFlag(FLAGS_idf))
            << absl::StrFormat("machine           %d cores (server and clients share them)\n",
                               std::thread::hardware_concurrency())
            << (reuse ? absl::StrFormat("import            skipped: the store in --data_dir=%s "
                                        "was reused (%d entries, %d passages)\n",
                                        dir, stats->total_entries(), stats->total_passages())
                      : absl::StrFormat(
                            "import            %d documents in %.1f s: %.1f documents/s, %.0f "
                            "passages/s (%d passages stored)\n"
                            "import outcomes   created %d duplicates %d superseded %d "
                            "created_superseded %d rejected %d; entries %d (active %d)\n"
                            "server memory     after import rss %.0f MiB, peak %.0f MiB; "
                            "data directory %.0f MiB on disk\n",
                            t.received(), import_s, t.received() / import_s, passages / import_s,
                            stats->total_passages(), t.created(), t.duplicates(), t.superseded(),
                            t.created_superseded(), t.rejected(), stats->total_entries(),
                            stats->active_entries(), import_rss, import_peak, import_disk))
            << absl::StrFormat(
                   "%s SIGTERM to exit %.1f s; spawn to SERVING %.1f s "
                   "(target <= 60 s: %s); rss after start-up %.0f MiB\n",
                   reuse ? "start            " : "restart          ", stop_s, startup_s,
                   startup_s <= 60 ? "met" : "MISSED", startup_rss)
            << absl::StrFormat(
                   "search serial     1 client, each query once: p50 %.2f ms, p99 %.2f ms, "
                   "max %.2f ms (slowest: %s)\n",
                   one.p50, one.p99, one.max, serial.back().second)
            << absl::StrFormat(
                   "search closed     %d clients, %.0f s: %.0f req/s, p50 %.2f ms, p99 %.2f ms, "
                   "max %.2f ms, errors %d\n",
                   clients, closed.seconds, closed.latencies_ms.size() / closed.seconds, c.p50,
                   c.p99, c.max, closed.errors)
            << absl::StrFormat(
                   "                  cpu per request: server %.2f ms, clients %.2f ms\n",
                   closed_cpu.server_ms, closed_cpu.clients_ms)
            << absl::StrFormat(
                   "search open       %.0f req/s over %d clients, %.0f s: %d done (%.0f req/s), "
                   "from scheduled send: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms; "
                   "sent late %d, errors %d (target p99 <= 10 ms: %s)\n",
                   rate, clients, absl::ToDoubleSeconds(absl::GetFlag(FLAGS_duration)), o.count,
                   o.count / opened.seconds, o.p50, o.p99, o.p999, o.max, opened.late,
                   opened.errors, o.p99 <= 10 && opened.errors == 0 ? "met" : "MISSED")
            << absl::StrFormat(
                   "                  cpu per request: server %.2f ms, clients %.2f ms\n",
                   open_cpu.server_ms, open_cpu.clients_ms)
            << absl::StrFormat(
                   "server memory     after the searches rss %.0f MiB, of it on huge "
                   "pages %.0f MiB (--huge_pages=%s; transparent_hugepage: %s)\n",
                   search_rss, huge_mib, absl::GetFlag(FLAGS_huge_pages) ? "true" : "false",
                   ReadLine("/sys/kernel/mm/transparent_hugepage/enabled"))
            << (kdamonds.empty()
                    ? std::string("host              no DAMON memory scanner (kdamond) running\n")
                    : absl::StrFormat(
                          "host              DAMON memory scanner (kdamond) running: "
                          "%.0f ms of CPU during the open loop (%.1f%% of one core)\n",
                          kdamond_ms,
                          kdamond_ms / 10 / absl::ToDoubleSeconds(absl::GetFlag(FLAGS_duration))))
            << absl::StrFormat("queries           %d real questions (%s), %s\n", queries.size(),
                               absl::GetFlag(FLAGS_queries),
                               absl::GetFlag(FLAGS_exclude_from_statistics)
                                   ? "excluded from statistics"
                                   : "logged for Suggest and ListGaps like an agent's");
  if (!closed.first_error.empty() || !opened.first_error.empty()) {
    std::cout << "first search error: "
              << (closed.first_error.empty() ? opened.first_error : closed.first_error) << "\n";
  }
  std::cout << std::flush;
  if (absl::Status s = server.Terminate(); !s.ok()) return Fail(s);
  return 0;
}

}  // namespace
}  // namespace hotline::kb

int main(int argc, char** argv) {
  hotline::InitProgram(argc, argv,
                       "kb_service_bench: import, restart and search of a kb_server process");
  return hotline::kb::Main();
}
