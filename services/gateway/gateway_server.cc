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
#include "common/files.h"
#include "common/program.h"
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
  size_t colon = listen.rfind(':');
  int requested_port = -1;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &requested_port) || requested_port < 0 ||
      requested_port > 65535) {
    std::cerr << "--listen must be host:port, got '" << listen << "'\n";
    return 2;
  }
  const std::string host = listen.substr(0, colon);

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
  options.max_streams = absl::GetFlag(FLAGS_max_streams) >= 0 ? absl::GetFlag(FLAGS_max_streams)
                                                                : threads * 3 / 4;
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

  int port = requested_port;
  if (requested_port == 0) {
    port = server.bind_to_any_port(host);
    if (port < 0) {
      LOG(ERROR) << "cannot listen on " << listen;
      return 1;
    }
  } else if (!server.bind_to_port(host, requested_port)) {
    LOG(ERROR) << "cannot listen on " << listen;
    return 1;
  }
  server.WidenBacklog(1024);
  std::thread serving([&server] { server.listen_after_bind(); });
  // stop() is a no-op until the accept loop runs, so a signal arriving this early must not be
  // allowed to find it not yet started. Connections queue on the bound socket meanwhile.
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!WritePortFile(absl::GetFlag(FLAGS_port_file), port)) {
    LOG(ERROR) << "cannot write --port_file " << absl::GetFlag(FLAGS_port_file);
    gateway.BeginShutdown();
    server.stop();
    serving.join();
    server.StopGate();
    return 1;
  }
  LOG(INFO) << "dashboard at http://" << host << ":" << port << "/";

  int signal_number = WaitForTerminationSignal();
  LOG(INFO) << "received signal " << signal_number;
  // Live dashboards first: their HTTP threads end once their upstream streams do, and the
  // server's thread pool waits for every thread when it stops.
  gateway.BeginShutdown();
  server.stop();
  serving.join();
  server.StopGate();
  return 0;
}

}  // namespace
}  // namespace hotline::gateway

int main(int argc, char** argv) { return hotline::gateway::Main(argc, argv); }
