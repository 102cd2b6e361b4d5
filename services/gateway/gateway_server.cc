// gateway_server: the supervisors' web dashboard. Serves the pages and a JSON API on HTTP and
// calls the knowledge-base, ticket and metrics services over gRPC with each user's token.
#include <glog/logging.h>
#include <httplib.h>
#include <signal.h>
#include <sys/resource.h>

#include <fstream>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/files.h"
#include "common/program.h"
#include "common/thread_priority.h"
#include "services/gateway/citizen_portal.h"
#include "services/gateway/gated_server.h"
#include "services/gateway/gateway.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:8080",
          "host:port to serve HTTP on; port 0 picks a free port (see --port_file)");
ABSL_FLAG(std::string, port_file, "",
          "if set, the bound port is written to this file once the gateway is serving");
ABSL_FLAG(std::string, web_root, HOTLINE_GATEWAY_DEFAULT_WEB_ROOT,
          "directory of the dashboard's pages (services/gateway/web in the source tree)");
ABSL_FLAG(std::string, kb, "127.0.0.1:50051", "address of the knowledge-base service");
ABSL_FLAG(std::string, ticket, "127.0.0.1:50052", "address of the ticket service");
ABSL_FLAG(std::string, metrics, "127.0.0.1:50053", "address of the metrics service");
ABSL_FLAG(std::string, identity, "",
          "address of the identity service; people then sign in with a user name and password "
          "(empty: token sign-in only)");
ABSL_FLAG(absl::Duration, session_refresh, absl::Seconds(15),
          "how often a signed-in person's credential is renewed: also how soon a session ended "
          "elsewhere (account disabled, password changed) stops working here");
ABSL_FLAG(std::string, calendar_dir, "",
          "the official working calendar (holiday-cn YYYY.json files): departments then see the "
          "working time left before each deadline");
ABSL_FLAG(std::string, client_address_header, "",
          "behind a reverse proxy: the header that carries the browser's address (e.g. "
          "X-Real-IP), for sign-in throttling and the audit trail; empty: the peer address");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM root certificates file; enables TLS on the connections to the services");
ABSL_FLAG(absl::Duration, call_timeout, absl::Seconds(5), "deadline of each upstream call");
ABSL_FLAG(absl::Duration, sse_heartbeat, absl::Seconds(15),
          "a live dashboard gets a heartbeat event after this long without new figures");
ABSL_FLAG(absl::Duration, dashboard_min_interval, absl::Seconds(1),
          "at most one dashboard update per this interval (WatchDashboard min_interval)");
ABSL_FLAG(int, http_threads, 64,
          "HTTP worker threads; each open dashboard holds one for as long as it is open. "
          "Connections waiting for a request hold none");
ABSL_FLAG(int, max_connections, 4096,
          "open HTTP connections at most; when full, the one idle longest is closed");
ABSL_FLAG(absl::Duration, request_timeout, absl::Seconds(10),
          "a request (head and body) must arrive within this long of its first byte");
ABSL_FLAG(absl::Duration, idle_timeout, absl::Seconds(5),
          "a kept-alive connection without a new request is closed after this long");
ABSL_FLAG(int, max_streams_per_user, 8, "live dashboards one token may keep open");
ABSL_FLAG(int, max_streams, -1,
          "live dashboards open at most, for all users; -1: three quarters of --http_threads");
ABSL_FLAG(std::string, public_listen, "",
          "host:port of the citizens' portal (public policy Q&A and online requests), served "
          "by threads of its own; empty: no portal");
ABSL_FLAG(std::string, public_port_file, "", "like --port_file, for --public_listen");
ABSL_FLAG(std::string, public_token_file, "",
          "file holding the portal's own bearer token (role public) on its first line");
ABSL_FLAG(int, public_http_threads, 32, "HTTP worker threads of the citizens' portal");
ABSL_FLAG(double, public_reads_per_second, 20,
          "searches and page reads one client address may make per second on the portal");
ABSL_FLAG(absl::Duration, public_cache_ttl, absl::Seconds(30),
          "how long the portal keeps an anonymous answer (searches, pages) to serve again; "
          "0: never");
ABSL_FLAG(int, public_thread_niceness, 10,
          "added to the nice value of the portal's HTTP threads, so that under load the staff "
          "consoles' threads get the CPU first; 0: the same priority");
ABSL_FLAG(double, public_writes_per_minute, 30,
          "submissions, answers and lookups one client address may make per minute");
ABSL_FLAG(bool, secure_cookie, false,
          "mark the session cookie Secure (set it when browsers reach the gateway over HTTPS)");

namespace hotline::gateway {
namespace {

std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address,
                                         const std::string& root_certificates) {
  if (root_certificates.empty()) {
    return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = root_certificates;
  return grpc::CreateChannel(address, grpc::SslCredentials(ssl));
}

// Every connection is a descriptor, and the gateway is meant to hold thousands: the soft
// limit (often 1024) is raised to the hard one.
void RaiseOpenFileLimit() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// "host:port" split; false when malformed.
bool ParseListen(const std::string& listen, std::string* host, int* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), port) ||
      *port < 0 || *port > 65535) {
    return false;
  }
  *host = listen.substr(0, colon);
  return true;
}

// Binds `server` to host:port (port 0: any free one); the bound port, or -1.
int Bind(GatedServer& server, const std::string& host, int port) {
  if (port == 0) return server.bind_to_any_port(host);
  return server.bind_to_port(host, port) ? port : -1;
}

bool WritePortFile(const std::string& path, int port) {
  if (path.empty()) return true;
  // Written under another name and renamed, so a reader never sees a half-written number.
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary);
    out << port << "\n";
    if (!out.good()) return false;
  }
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

int Main(int argc, char** argv) {
  InitProgram(argc, argv,
              "gateway_server: the 12345 hotline supervisors' web dashboard (HTTP) in front of "
              "the kb, ticket and metrics gRPC services");
  // Before any thread exists, so that only WaitForTerminationSignal() sees SIGTERM. A browser
  // that closes its connection mid-write must not kill the process.
  BlockTerminationSignals();
  signal(SIGPIPE, SIG_IGN);

  std::string root_certificates;
  if (std::string ca = absl::GetFlag(FLAGS_tls_ca); !ca.empty()) {
    absl::StatusOr<std::string> pem = ReadFileToString(ca);
    if (!pem.ok()) {
      LOG(ERROR) << "--tls_ca: " << pem.status();
      return 2;
    }
    root_certificates = *pem;
  }

  const std::string listen = absl::GetFlag(FLAGS_listen);
  std::string host;
  int requested_port = -1;
  if (!ParseListen(listen, &host, &requested_port)) {
    std::cerr << "--listen must be host:port, got '" << listen << "'\n";
    return 2;
  }
  const std::string public_listen = absl::GetFlag(FLAGS_public_listen);
  std::string public_host;
  int public_port = -1;
  std::string public_token;
  if (!public_listen.empty()) {
    if (!ParseListen(public_listen, &public_host, &public_port)) {
      std::cerr << "--public_listen must be host:port, got '" << public_listen << "'\n";
      return 2;
    }
    absl::StatusOr<std::string> token =
        ReadFileToString(absl::GetFlag(FLAGS_public_token_file), "--public_token_file");
    if (!token.ok()) {
      LOG(ERROR) << token.status();
      return 2;
    }
    public_token = std::string(absl::StripAsciiWhitespace(token->substr(0, token->find('\n'))));
    if (public_token.empty()) {
      LOG(ERROR) << "--public_token_file holds no token";
      return 2;
    }
  }

  GatewayOptions options;
  options.web_root = absl::GetFlag(FLAGS_web_root);
  options.call_timeout = absl::GetFlag(FLAGS_call_timeout);
  options.sse_heartbeat = absl::GetFlag(FLAGS_sse_heartbeat);
  options.dashboard_min_interval = absl::GetFlag(FLAGS_dashboard_min_interval);
  options.secure_cookie = absl::GetFlag(FLAGS_secure_cookie);
  options.session_refresh = absl::GetFlag(FLAGS_session_refresh);
  options.client_address_header = absl::GetFlag(FLAGS_client_address_header);
  if (std::string dir = absl::GetFlag(FLAGS_calendar_dir); !dir.empty()) {
    auto calendar = hotline::ticket::WorkingCalendar::LoadDirectory(dir);
    if (!calendar.ok()) {
      LOG(ERROR) << calendar.status();
      return 2;
    }
    options.calendar = *calendar;
  }
  const int threads = std::max(4, absl::GetFlag(FLAGS_http_threads));
  options.max_streams_per_user = std::max(1, absl::GetFlag(FLAGS_max_streams_per_user));
  options.max_streams =
      absl::GetFlag(FLAGS_max_streams) >= 0 ? absl::GetFlag(FLAGS_max_streams) : threads * 3 / 4;
  Gateway gateway(options, ChannelTo(absl::GetFlag(FLAGS_kb), root_certificates),
                  ChannelTo(absl::GetFlag(FLAGS_ticket), root_certificates),
                  ChannelTo(absl::GetFlag(FLAGS_metrics), root_certificates),
                  absl::GetFlag(FLAGS_identity).empty()
                      ? nullptr
                      : ChannelTo(absl::GetFlag(FLAGS_identity), root_certificates));

  RaiseOpenFileLimit();
  GatedServerOptions gate;
  gate.worker_threads = threads;
  gate.max_connections = absl::GetFlag(FLAGS_max_connections);
  gate.request_timeout = absl::GetFlag(FLAGS_request_timeout);
  gate.idle_timeout = absl::GetFlag(FLAGS_idle_timeout);
  GatedServer server(gate);
  server.set_payload_max_length(gate.max_body_bytes);
  server.set_logger([](const httplib::Request& request, const httplib::Response& response) {
    VLOG(1) << request.method << " " << request.path << " " << response.status;
  });
  if (!gateway.Register(&server)) return 2;

  // The citizens' portal: a server of its own, so that a crowd of citizens never holds the
  // threads or the connection slots of the staff consoles.
  std::unique_ptr<CitizenPortal> portal;
  std::unique_ptr<GatedServer> public_server;
  if (!public_listen.empty()) {
    CitizenPortalOptions portal_options;
    portal_options.web_root = options.web_root;
    portal_options.token = public_token;
    portal_options.client_address_header = options.client_address_header;
    portal_options.cache_ttl = absl::GetFlag(FLAGS_public_cache_ttl);
    portal_options.thread_niceness = absl::GetFlag(FLAGS_public_thread_niceness);
    portal_options.reads.per_second = absl::GetFlag(FLAGS_public_reads_per_second);
    portal_options.reads.burst = 3 * portal_options.reads.per_second;
    portal_options.writes.per_second = absl::GetFlag(FLAGS_public_writes_per_minute) / 60;
    portal_options.writes.burst = std::max(5.0, absl::GetFlag(FLAGS_public_writes_per_minute) / 3);
    portal = std::make_unique<CitizenPortal>(
        portal_options, ChannelTo(absl::GetFlag(FLAGS_kb), root_certificates),
        ChannelTo(absl::GetFlag(FLAGS_ticket), root_certificates));
    GatedServerOptions public_gate = gate;
    public_gate.worker_threads = std::max(4, absl::GetFlag(FLAGS_public_http_threads));
    public_gate.niceness = portal_options.thread_niceness;
    public_server = std::make_unique<GatedServer>(public_gate);
    if (!portal->Register(public_server.get())) return 2;
  }

  const int port = Bind(server, host, requested_port);
  if (port < 0) {
    LOG(ERROR) << "cannot listen on " << listen;
    return 1;
  }
  const int bound_public_port = public_server ? Bind(*public_server, public_host, public_port) : -1;
  if (public_server && bound_public_port < 0) {
    LOG(ERROR) << "cannot listen on " << public_listen;
    return 1;
  }
  std::vector<GatedServer*> servers = {&server};
  if (public_server) servers.push_back(public_server.get());
  std::vector<std::thread> serving;
  for (GatedServer* s : servers) {
    s->WidenBacklog(1024);
    // The portal's accept loop yields to the consoles' as its other threads do.
    const int niceness = s == public_server.get() ? absl::GetFlag(FLAGS_public_thread_niceness) : 0;
    serving.emplace_back([s, niceness] {
      LowerThisThreadsPriority(niceness);
      s->listen_after_bind();
    });
    // stop() is a no-op until the accept loop runs, so a signal arriving this early must not
    // be allowed to find it not yet started. Connections queue on the bound socket meanwhile.
    while (!s->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto stop_all = [&] {
    // Live dashboards first: their HTTP threads end once their upstream streams do, and the
    // server's thread pool waits for every thread when it stops.
    gateway.BeginShutdown();
    for (GatedServer* s : servers) s->stop();
    for (std::thread& t : serving) t.join();
    for (GatedServer* s : servers) s->StopGate();
  };
  // The portal's port first: whoever waits for the main port file then finds both.
  if ((public_server && !WritePortFile(absl::GetFlag(FLAGS_public_port_file), bound_public_port)) ||
      !WritePortFile(absl::GetFlag(FLAGS_port_file), port)) {
    LOG(ERROR) << "cannot write --port_file or --public_port_file";
    stop_all();
    return 1;
  }
  LOG(INFO) << "dashboard at http://" << host << ":" << port << "/";
  if (public_server) {
    LOG(INFO) << "citizens' portal at http://" << public_host << ":" << bound_public_port << "/";
  }

  int signal_number = WaitForTerminationSignal();
  LOG(INFO) << "received signal " << signal_number;
  stop_all();
  return 0;
}

}  // namespace
}  // namespace hotline::gateway

int main(int argc, char** argv) { return hotline::gateway::Main(argc, argv); }
