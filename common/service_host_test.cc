#include "common/service_host.h"

#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/impl/codegen/rpc_method.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/support/echo_service.h"
#include "tests/support/test_util.h"

namespace hotline {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using hotline::testing::ContextWithToken;
using hotline::testing::v1::Echo;
using hotline::testing::v1::EchoRequest;
using hotline::testing::v1::EchoResponse;

constexpr char kEchoName[] = "hotline.testing.v1.Echo";

class ServiceHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tokens =
        HashToken("agent-token") + " zhang agent\n" + HashToken("editor-token") + " wang editor\n";
    auto registry = TokenRegistry::Parse(tokens);
    ASSERT_TRUE(registry.ok());
    echo_ = std::make_unique<testing::EchoService>(*registry);
    ServiceHostOptions options;
    options.max_receive_message_bytes = 64 << 10;
    options.shutdown_grace = absl::Seconds(30);
    host_ = std::make_unique<ServiceHost>(options);
    host_->AddService(echo_.get(), kEchoName);
    ASSERT_TRUE(host_->Start().ok());
    ASSERT_GT(host_->port(), 0);
    channel_ = testing::LocalChannel(host_->port());
    stub_ = Echo::NewStub(channel_);
  }

  void TearDown() override {
    echo_->ReleaseSlowCalls();
    host_->Shutdown();
  }

  grpc::Status CallEcho(absl::string_view token, const std::string& message,
                        EchoResponse* response) {
    EchoRequest request;
    request.set_message(message);
    return stub_->Echo(ContextWithToken(token).get(), request, response);
  }

  std::unique_ptr<testing::EchoService> echo_;
  std::unique_ptr<ServiceHost> host_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Echo::Stub> stub_;
};

TEST_F(ServiceHostTest, CallWithoutTokenIsUnauthenticated) {
  EchoResponse response;
  grpc::Status status = CallEcho("", "hi", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(status.error_message().find("authorization"), std::string::npos);

  status = CallEcho("not-a-real-token", "hi", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ServiceHostTest, TokenOfTheWrongRoleIsPermissionDenied) {
  EchoResponse response;
  grpc::Status status = CallEcho("editor-token", "hi", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(status.error_message().find("editor"), std::string::npos);
}

TEST_F(ServiceHostTest, AuthorisedCallSucceedsWithItsPrincipal) {
  EchoResponse response;
  grpc::Status status = CallEcho("agent-token", "你好", &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.message(), "你好");
  EXPECT_EQ(response.principal(), "zhang");
}

TEST_F(ServiceHostTest, OversizedRequestIsRefused) {
  EchoResponse response;
  grpc::Status status = CallEcho("agent-token", std::string(100 << 10, 'x'), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

// The request exactly as bytes on the wire, past the client's own protobuf.
grpc::Status CallWithRawBytes(grpc::Channel* channel, const std::string& method,
                              const std::string& bytes) {
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::unique_ptr<grpc::ClientContext> context = ContextWithToken("agent-token");
  return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel, grpc::internal::RpcMethod(method.c_str(), grpc::internal::RpcMethod::NORMAL_RPC),
      context.get(), request, &response);
}

TEST_F(ServiceHostTest, InvalidUtf8IsInvalidArgumentNamingTheField) {
  // Field 1 (message), length 3: "a", then a lone continuation byte and 0xFF.
  grpc::Status status = CallWithRawBytes(channel_.get(), "/hotline.testing.v1.Echo/Echo",
                                         "\x0a\x03"
                                         "a\x80\xff");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(status.error_message(),
            "message (hotline.testing.v1.EchoRequest): not valid UTF-8; a string field must hold "
            "UTF-8 text");
  // The server is unharmed and the next call on the same connection is served.
  EchoResponse response;
  EXPECT_TRUE(CallEcho("agent-token", "你好", &response).ok());
}

TEST_F(ServiceHostTest, UnparsableRequestIsInvalidArgumentNamingTheMethod) {
  // Field 1 claims 5 bytes and 2 follow.
  grpc::Status status = CallWithRawBytes(channel_.get(), "/hotline.testing.v1.Echo/Echo",
                                         "\x0a\x05"
                                         "ab");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(status.error_message(),
            "the request to /hotline.testing.v1.Echo/Echo cannot be parsed as its message type");
}

TEST_F(ServiceHostTest, AMethodThatDoesNotExistStaysUnimplemented) {
  grpc::Status status =
      CallWithRawBytes(channel_.get(), "/hotline.testing.v1.Echo/NoSuchMethod", "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << status.error_message();
}

TEST_F(ServiceHostTest, HealthReportsEachServiceAndTheServer) {
  auto health = Health::NewStub(channel_);
  for (const char* name : {"", kEchoName}) {
    HealthCheckRequest request;
    request.set_service(name);
    HealthCheckResponse response;
    grpc::Status status = health->Check(ContextWithToken("").get(), request, &response);
    ASSERT_TRUE(status.ok()) << name << ": " << status.error_message();
    EXPECT_EQ(response.status(), HealthCheckResponse::SERVING) << name;
  }
  HealthCheckRequest unknown;
  unknown.set_service("hotline.nosuch.v1.Service");
  HealthCheckResponse response;
  EXPECT_EQ(health->Check(ContextWithToken("").get(), unknown, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServiceHostTest, ShutdownGoesNotServingAndLetsInFlightCallsFinish) {
  // A health watcher sees the switch to NOT_SERVING as soon as shutdown begins.
  auto health = Health::NewStub(channel_);
  auto watch_context = ContextWithToken("", absl::Seconds(30));
  HealthCheckRequest watch_request;
  watch_request.set_service(kEchoName);
  auto watch = health->Watch(watch_context.get(), watch_request);
  HealthCheckResponse update;
  ASSERT_TRUE(watch->Read(&update));
  ASSERT_EQ(update.status(), HealthCheckResponse::SERVING);

  grpc::Status slow_status;
  EchoResponse slow_response;
  std::thread slow_call([&] {
    EchoRequest request;
    request.set_message("in flight");
    slow_status = stub_->SlowEcho(ContextWithToken("agent-token", absl::Seconds(30)).get(), request,
                                  &slow_response);
  });
  ASSERT_TRUE(testing::WaitFor([&] { return echo_->slow_calls_waiting() == 1; }));

  std::thread shutdown([&] { host_->Shutdown(); });
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), HealthCheckResponse::NOT_SERVING);
  watch_context->TryCancel();
  watch->Finish().IgnoreError();

  // The call that was running when shutdown began still completes successfully.
  echo_->ReleaseSlowCalls();
  slow_call.join();
  shutdown.join();
  ASSERT_TRUE(slow_status.ok()) << slow_status.error_message();
  EXPECT_EQ(slow_response.message(), "in flight");

  // And nothing new is accepted afterwards.
  EchoResponse response;
  EXPECT_EQ(CallEcho("agent-token", "late", &response).error_code(), grpc::StatusCode::UNAVAILABLE);
}

// A certificate made for this test by the openssl command-line tool.
TEST(ServiceHostTlsTest, ServesTlsWithTheGivenCertificateAndRefusesPlaintext) {
  testing::TempDir dir;
  std::string command =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
      "-keyout " +
      dir.Sub("key.pem") + " -out " + dir.Sub("cert.pem") + " 2>/dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0) << "openssl failed";
  auto registry = TokenRegistry::Parse(HashToken("agent-token") + " zhang agent\n");
  testing::EchoService echo(*registry);
  ServiceHostOptions options;
  options.tls_cert_file = dir.Sub("cert.pem");
  options.tls_key_file = dir.Sub("key.pem");
  ServiceHost host(options);
  host.AddService(&echo, kEchoName);
  ASSERT_TRUE(host.Start().ok());

  std::ifstream cert_file(dir.Sub("cert.pem"));
  std::stringstream cert;
  cert << cert_file.rdbuf();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = cert.str();
  grpc::ChannelArguments arguments;
  arguments.SetSslTargetNameOverride("localhost");
  auto stub = Echo::NewStub(grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", host.port()),
                                                      grpc::SslCredentials(ssl), arguments));
  EchoRequest request;
  request.set_message("secure");
  EchoResponse response;
  grpc::Status status = stub->Echo(ContextWithToken("agent-token").get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.message(), "secure");

  auto plaintext = Echo::NewStub(testing::LocalChannel(host.port()));
  EXPECT_EQ(
      plaintext->Echo(ContextWithToken("agent-token", absl::Seconds(2)).get(), request, &response)
          .error_code(),
      grpc::StatusCode::UNAVAILABLE);
  host.Shutdown();
}

TEST(ServiceHostTlsTest, CertificateWithoutKeyIsAnError) {
  ServiceHostOptions options;
  options.tls_cert_file = "cert.pem";
  ServiceHost host(options);
  EXPECT_EQ(host.Start().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hotline
