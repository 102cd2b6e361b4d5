// portal_bench: the citizens' portal under public load, measured from outside. A kb_server and
// a gateway_server with its portal run as child processes; this process is the crowd. Three
// phases of --duration each, all open loop (every request has a scheduled send time and its
// latency runs from then, so a slow answer that delays the next sends is counted in them):
//   1. agents alone: --agent_rate searches/s through the staff consoles' API;
//   2. citizens: --citizen_rate anonymous searches/s from --addresses client addresses
//      (127.0.1.x, ...: every address of 127/8 is this machine's), each well under the
//      per-address allowance, plus the agents;
//   3. flood: the same, plus one address (127.0.0.250) sending --flood_rate/s.
// For each kind of client it prints how many answers of each HTTP status came back and the
// p50/p99 of the answered ones. The questions are the real STARD questions; with the portal's
// answer cache on (the default) most repeat searches are answered from it, so run once more
// with --cache_ttl=0s for the knowledge base's own cost.
// Not a test; run by scripts/bench.sh (HOTLINE_BENCH=portal_bench).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/program.h"
#include "common/thread_priority.h"
#include "tests/support/latency_summary.h"
#include "tests/support/server_process.h"
#include "tests/support/test_util.h"

ABSL_FLAG(std::string, kb_server, KB_SERVER_PATH, "the kb_server binary");
ABSL_FLAG(std::string, gateway_server, GATEWAY_SERVER_PATH, "the gateway_server binary");
ABSL_FLAG(std::string, kb_data_dir, "",
          "a knowledge base's data directory to serve (e.g. one kb_service_bench --data_dir= "
          "filled with the lawref corpus); empty: a new one with the demo data only");
ABSL_FLAG(std::string, queries, "../shared/data/stard/dev.queries.tsv",
          "qid<TAB>question: what the citizens and agents search");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(20), "length of each phase");
ABSL_FLAG(double, agent_rate, 50, "agents' searches per second, in every phase");
ABSL_FLAG(double, citizen_rate, 1000, "anonymous portal searches per second (phases 2 and 3)");
ABSL_FLAG(int, addresses, 250, "client addresses the citizens come from");
ABSL_FLAG(double, flood_rate, 5000, "searches per second of the one flooding address");
ABSL_FLAG(int, threads_per_1000, 24, "sending threads per 1,000 requests/s of a client kind");
ABSL_FLAG(absl::Duration, cache_ttl, absl::Seconds(30), "the portal's answer cache (0: off)");
ABSL_FLAG(double, reads_per_second, 20, "the portal's allowance per address");
ABSL_FLAG(absl::Duration, warm_after, absl::Seconds(3),
          "a second p99 leaves out the requests due in a phase's first seconds (a cold cache)");
ABSL_FLAG(int, client_niceness, 19,
          "nice value added to every client thread (agents' and citizens' alike): they stand "
          "for browsers on other machines, so the servers get the CPU first; 0 lets the crowd "
          "compete with the servers for the two cores");

namespace hotline::gateway {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr char kAgentToken[] = "portal-bench-agent-token";
constexpr char kPublicToken[] = "portal-bench-public-token";

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  std::string hex;
  for (unsigned char c : digest) absl::StrAppendFormat(&hex, "%02x", c);
  return hex;
}

std::string UrlEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

// One kept-alive HTTP/1.1 connection from a chosen local address: just enough client for GETs
// with a Content-Length answer (all the gateway sends to these).
class Connection {
 public:
  Connection(std::string local_address, int port) : local_(std::move(local_address)), port_(port) {}
  ~Connection() { Close(); }

  // The answer's HTTP status, or -1 when the connection failed.
  int Get(const std::string& target, const std::string& extra_headers) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (fd_ < 0 && !Open()) return -1;
      const std::string request =
          absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: 127.0.0.1\r\n", extra_headers, "\r\n");
      int status = -1;
      if (Send(request) && (status = ReadAnswer()) > 0) return status;
      Close();  // The server closed a kept-alive connection: once more on a new one.
    }
    return -1;
  }

 private:
  bool Open() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, local_.c_str(), &local.sin_addr);
    sockaddr_in remote{};
    remote.sin_family = AF_INET;
    remote.sin_port = htons(static_cast<uint16_t>(port_));
    inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        connect(fd_, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
      Close();
      return false;
    }
    buffer_.clear();
    return true;
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  bool Send(const std::string& bytes) {
    for (size_t sent = 0; sent < bytes.size();) {
      ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }
  bool Fill() {
    char chunk[16384];
    ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  int ReadAnswer() {
    size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return -1;
    }
    const std::string head = buffer_.substr(0, head_end);
    int status = -1;
    if (head.size() < 12 || !absl::SimpleAtoi(head.substr(9, 3), &status)) return -1;
    size_t length = 0;
    for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
      if (absl::StartsWithIgnoreCase(line, "content-length:")) {
        absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(15)), &length);
      }
    }
    const size_t total = head_end + 4 + length;
    while (buffer_.size() < total) {
      if (!Fill()) return -1;
    }
    const bool closing = absl::AsciiStrToLower(head).find("connection: close") != std::string::npos;
    buffer_.erase(0, total);
    if (closing) Close();
    return status;
  }

  const std::string local_;
  const int port_;
  int fd_ = -1;
  std::string buffer_;
};

// What one kind of client saw in a phase.
struct Tally {
  absl::Mutex mu;
  std::map<int, int64_t> statuses ABSL_GUARDED_BY(mu);
  std::vector<double> answered_ms ABSL_GUARDED_BY(mu);  // 200s only
  // The same, of the requests due after the phase's first seconds (--warm_after): what is
  // left once the cache holds the questions asked so far.
  std::vector<double> warm_ms ABSL_GUARDED_BY(mu);
};

struct ClientKind {
  std::string name;
  int port;
  double rate;
  std::vector<std::string> addresses;  // spread over the kind's threads
  std::string path;                    // "/api/public/search?q=" or "/api/search?q="
  std::string headers;
  Tally tally;
};

// Sends `kind`'s requests on schedule from `threads` threads until `end`.
void Drive(ClientKind& kind, const std::vector<std::string>& queries, SteadyClock::time_point start,
           SteadyClock::time_point end, std::vector<std::thread>* threads) {
  const int n =
      std::max(1, static_cast<int>(kind.rate / 1000 * absl::GetFlag(FLAGS_threads_per_1000)));
  for (int t = 0; t < n; ++t) {
    threads->emplace_back([&kind, &queries, start, end, n, t] {
      LowerThisThreadsPriority(absl::GetFlag(FLAGS_client_niceness));
      std::vector<std::unique_ptr<Connection>> connections;
      for (size_t a = t; a < kind.addresses.size(); a += n) {
        connections.push_back(std::make_unique<Connection>(kind.addresses[a], kind.port));
      }
      if (connections.empty()) {
        connections.push_back(
            std::make_unique<Connection>(kind.addresses[t % kind.addresses.size()], kind.port));
      }
      const auto interval = std::chrono::duration<double>(n / kind.rate);
      std::map<int, int64_t> statuses;
      std::vector<double> answered, warm;
      const auto warm_from = start + absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_warm_after));
      for (int64_t i = 0;; ++i) {
        // Offset per thread, so that the threads' sends interleave evenly.
        const auto due = start + std::chrono::duration_cast<SteadyClock::duration>(
                                     interval * (static_cast<double>(i) + double(t) / n));
        if (due >= end) break;
        std::this_thread::sleep_until(due);
        Connection& c = *connections[static_cast<size_t>(i) % connections.size()];
        const std::string& q = queries[static_cast<size_t>(i * n + t) % queries.size()];
        const int status = c.Get(kind.path + UrlEncode(q), kind.headers);
        const double ms =
            std::chrono::duration<double, std::milli>(SteadyClock::now() - due).count();
        ++statuses[status];
        if (status == 200) {
          answered.push_back(ms);
          if (due >= warm_from) warm.push_back(ms);
        }
      }
      absl::MutexLock lock(&kind.tally.mu);
      for (auto [status, count] : statuses) kind.tally.statuses[status] += count;
      kind.tally.answered_ms.insert(kind.tally.answered_ms.end(), answered.begin(), answered.end());
      kind.tally.warm_ms.insert(kind.tally.warm_ms.end(), warm.begin(), warm.end());
    });
  }
}

void Report(const std::string& phase, ClientKind& kind, absl::Duration duration) {
  absl::MutexLock lock(&kind.tally.mu);
  std::string statuses;
  int64_t total = 0;
  for (auto [status, count] : kind.tally.statuses) {
    absl::StrAppend(&statuses, statuses.empty() ? "" : ", ",
                    status < 0 ? "failed" : absl::StrCat(status), ": ", count);
    total += count;
  }
  testing::LatencySummary s = testing::Summarise(kind.tally.answered_ms);
  testing::LatencySummary warm = testing::Summarise(kind.tally.warm_ms);
  std::cout << absl::StrFormat(
      "%-8s %-9s sent %6.0f/s  200s: p50 %6.2f ms  p99 %7.2f ms  max %7.1f ms; after %s: p99 "
      "%7.2f ms   (%s)\n",
      phase, kind.name, static_cast<double>(total) / absl::ToDoubleSeconds(duration), s.p50, s.p99,
      s.max, absl::FormatDuration(absl::GetFlag(FLAGS_warm_after)), warm.p99, statuses);
}

std::vector<std::string> ReadQueries(const std::string& path) {
  std::vector<std::string> queries;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> fields = absl::StrSplit(line, '\t');
    if (fields.size() >= 2 && !fields[1].empty()) queries.push_back(fields[1]);
  }
  return queries;
}

int Main() {
  if (sodium_init() < 0) return 1;
  const std::vector<std::string> queries = ReadQueries(absl::GetFlag(FLAGS_queries));
  if (queries.empty()) {
    std::cerr << "no queries in " << absl::GetFlag(FLAGS_queries) << "\n";
    return 2;
  }
  testing::TempDir temp;
  const std::string tokens = temp.Sub("tokens");
  std::ofstream(tokens) << Sha256Hex(kAgentToken) << " portal-bench-agent agent\n"
                        << Sha256Hex(kPublicToken) << " portal-bench-portal public\n";
  std::ofstream(temp.Sub("portal-token")) << kPublicToken << "\n";

  std::filesystem::create_directories(temp.Sub("kb"));
  testing::ServerProcess kb(absl::GetFlag(FLAGS_kb_server), temp.Sub("kb"));
  const std::string kb_data = absl::GetFlag(FLAGS_kb_data_dir).empty()
                                  ? temp.Sub("kb-data")
                                  : absl::GetFlag(FLAGS_kb_data_dir);
  if (absl::Status s = kb.Start({"--data_dir=" + kb_data, "--token_file=" + tokens,
                                 "--demo_data=services/kb/demo/knowledge_base.jsonl"},
                                absl::Minutes(5));
      !s.ok()) {
    std::cerr << s << "\n" << kb.LogTail() << "\n";
    return 1;
  }
  std::filesystem::create_directories(temp.Sub("gateway"));
  testing::ServerProcess gateway(absl::GetFlag(FLAGS_gateway_server), temp.Sub("gateway"));
  const std::string public_port_file = temp.Sub("public.port");
  if (absl::Status s = gateway.Start(
          {absl::StrCat("--kb=127.0.0.1:", kb.port()), "--ticket=127.0.0.1:1",
           "--metrics=127.0.0.1:1", "--public_listen=127.0.0.1:0",
           "--public_port_file=" + public_port_file,
           "--public_token_file=" + temp.Sub("portal-token"),
           absl::StrCat("--public_cache_ttl=",
                        absl::FormatDuration(absl::GetFlag(FLAGS_cache_ttl))),
           absl::StrCat("--public_reads_per_second=", absl::GetFlag(FLAGS_reads_per_second))},
          absl::Seconds(30));
      !s.ok()) {
    std::cerr << s << "\n" << gateway.LogTail() << "\n";
    return 1;
  }
  int public_port = 0;
  {
    std::ifstream in(public_port_file);
    in >> public_port;
  }

  auto agents = [&] {
    auto k = std::make_unique<ClientKind>();
    k->name = "agents";
    k->port = gateway.port();
    k->rate = absl::GetFlag(FLAGS_agent_rate);
    k->addresses = {"127.0.0.1"};
    k->path = "/api/search?q=";
    k->headers = absl::StrCat("Authorization: Bearer ", kAgentToken, "\r\n");
    return k;
  };
  auto citizens = [&] {
    auto k = std::make_unique<ClientKind>();
    k->name = "citizens";
    k->port = public_port;
    k->rate = absl::GetFlag(FLAGS_citizen_rate);
    for (int i = 0; i < absl::GetFlag(FLAGS_addresses); ++i) {
      k->addresses.push_back(absl::StrCat("127.0.", 1 + i / 250, ".", 1 + i % 250));
    }
    k->path = "/api/public/search?q=";
    return k;
  };
  auto flood = [&] {
    auto k = std::make_unique<ClientKind>();
    k->name = "flood";
    k->port = public_port;
    k->rate = absl::GetFlag(FLAGS_flood_rate);
    k->addresses = {"127.0.0.250"};
    k->path = "/api/public/search?q=";
    return k;
  };

  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  std::cout << absl::StrFormat(
      "portal_bench: %d queries; phases of %s; agents %.0f/s, citizens %.0f/s from %d addresses "
      "(allowance %.0f/s each), flood %.0f/s from one; portal cache %s; clients at nice +%d; "
      "%u cores\n",
      queries.size(), absl::FormatDuration(duration), absl::GetFlag(FLAGS_agent_rate),
      absl::GetFlag(FLAGS_citizen_rate), absl::GetFlag(FLAGS_addresses),
      absl::GetFlag(FLAGS_reads_per_second), absl::GetFlag(FLAGS_flood_rate),
      absl::FormatDuration(absl::GetFlag(FLAGS_cache_ttl)), absl::GetFlag(FLAGS_client_niceness),
      std::thread::hardware_concurrency());
  struct Phase {
    std::string name;
    bool with_citizens, with_flood;
  };
  for (const Phase& phase : {Phase{"agents", false, false}, Phase{"citizens", true, false},
                             Phase{"flood", true, true}}) {
    std::vector<std::unique_ptr<ClientKind>> kinds;
    kinds.push_back(agents());
    if (phase.with_citizens) kinds.push_back(citizens());
    if (phase.with_flood) kinds.push_back(flood());
    std::vector<std::thread> threads;
    // A second's head start for the threads to open their connections.
    const auto start = SteadyClock::now() + std::chrono::seconds(1);
    const auto end = start + absl::ToChronoNanoseconds(duration);
    for (auto& kind : kinds) Drive(*kind, queries, start, end, &threads);
    for (std::thread& t : threads) t.join();
    for (auto& kind : kinds) Report(phase.name, *kind, duration);
  }
  absl::StatusOr<int> gateway_exit = gateway.Terminate(absl::Seconds(30));
  absl::StatusOr<int> kb_exit = kb.Terminate(absl::Seconds(30));
  return gateway_exit.ok() && *gateway_exit == 0 && kb_exit.ok() && *kb_exit == 0 ? 0 : 1;
}

}  // namespace
}  // namespace hotline::gateway

int main(int argc, char** argv) {
  hotline::InitProgram(argc, argv,
                       "portal_bench: the citizens' portal under public load and one flooding "
                       "address, beside the agents' searches");
  return hotline::gateway::Main();
}
