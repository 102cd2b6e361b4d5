// The Prometheus endpoint through a real HTTP request, and the request metrics of a real gRPC
// server built by ServiceHost, which knows nothing about them (they come in through gRPC's
// builder-plugin hook, as in every server started by RunServerMain).
#include "common/telemetry.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/service_host.h"
#include "tests/support/echo_service.h"
#include "tests/support/test_util.h"

namespace hotline::telemetry {
namespace {

// GET http://127.0.0.1:port/path, HTTP/1.0 so the server closes when done. Returns the body.
std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return "";
  }
  std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: localhost\r\n\r\n");
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return "";
  }
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) response.append(buffer, n);
  close(fd);
  size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

TEST(TelemetryTest, RequestsAreCountedByMethodAndCodeAndServedOverHttp) {
  InstallRequestMetricsInEveryServer();
  auto registry = TokenRegistry::Parse(HashToken("agent-token") + " zhang agent\n");
  ASSERT_TRUE(registry.ok());
  testing::EchoService echo(*registry);
  ServiceHost host(ServiceHostOptions{});
  host.AddService(&echo, "hotline.testing.v1.Echo");
  ASSERT_TRUE(host.Start().ok());
  auto stub = testing::v1::Echo::NewStub(testing::LocalChannel(host.port()));
  testing::v1::EchoRequest request;
  request.set_message("hi");
  testing::v1::EchoResponse response;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        stub->Echo(testing::ContextWithToken("agent-token").get(), request, &response).ok());
  }
  EXPECT_EQ(stub->Echo(testing::ContextWithToken("").get(), request, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  int queue = 7;
  std::unique_ptr<GaugeHandle> gauge =
      AddGauge("hotline_test_queue_length", "a queue", {{"pool", "test"}}, [&] { return queue; });

  auto endpoint = MetricsEndpoint::Start("127.0.0.1:0");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  ASSERT_GT((*endpoint)->port(), 0);
  std::string text;
  // The interceptor records a call when its status is sent; the client may see the status
  // first, so poll.
  ASSERT_TRUE(testing::WaitFor([&] {
    text = HttpGet((*endpoint)->port(), "/metrics");
    return absl::StrContains(text, "grpc_code=\"UNAUTHENTICATED\"");
  })) << text;
  EXPECT_TRUE(absl::StrContains(text,
                                "grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Echo\","
                                "grpc_service=\"hotline.testing.v1.Echo\"} 3"))
      << text;
  EXPECT_TRUE(absl::StrContains(text,
                                "grpc_server_handling_seconds_count{grpc_code=\"OK\","
                                "grpc_method=\"Echo\",grpc_service=\"hotline.testing.v1.Echo\"} 3"))
      << text;
  EXPECT_TRUE(absl::StrContains(text, "# TYPE grpc_server_handling_seconds histogram")) << text;
  EXPECT_TRUE(absl::StrContains(text, "hotline_test_queue_length{pool=\"test\"} 7")) << text;

  // A gauge is read at scrape time and disappears with its handle.
  queue = 9;
  EXPECT_TRUE(absl::StrContains(RenderText(), "hotline_test_queue_length{pool=\"test\"} 9"));
  gauge.reset();
  EXPECT_FALSE(absl::StrContains(RenderText(), "hotline_test_queue_length"));
  host.Shutdown();
}

}  // namespace
}  // namespace hotline::telemetry
