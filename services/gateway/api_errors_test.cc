#include "services/gateway/api_errors.h"

#include <google/protobuf/timestamp.pb.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace hotline::gateway {
namespace {

TEST(ApiErrorsTest, CanonicalCodesMapToTheirHttpStatus) {
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::INVALID_ARGUMENT), 400);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::FAILED_PRECONDITION), 400);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::UNAUTHENTICATED), 401);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::PERMISSION_DENIED), 403);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::NOT_FOUND), 404);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::ABORTED), 409);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::ALREADY_EXISTS), 409);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::RESOURCE_EXHAUSTED), 429);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::INTERNAL), 500);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::UNAVAILABLE), 503);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::DEADLINE_EXCEEDED), 504);
}

TEST(ApiErrorsTest, UpstreamFailureKeepsTheServiceWordsAndTheField) {
  nlohmann::json body = nlohmann::json::parse(ErrorBodyFromGrpc(
      grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "message: must not be empty")));
  EXPECT_EQ(body["error"]["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(body["error"]["field"], "message");
  EXPECT_EQ(body["error"]["detail"], "message: must not be empty");
  std::string message = body["error"]["message"];
  EXPECT_NE(message.find("请求内容有误"), std::string::npos) << message;
  EXPECT_NE(message.find("message: must not be empty"), std::string::npos) << message;
}

TEST(ApiErrorsTest, OnlyInvalidArgumentNamesAField) {
  nlohmann::json body = nlohmann::json::parse(ErrorBodyFromGrpc(
      grpc::Status(grpc::StatusCode::ABORTED, "ticket T1: is at version 8, request expected 7")));
  EXPECT_EQ(body["error"]["code"], "ABORTED");
  EXPECT_FALSE(body["error"].contains("field"));
  std::string message = body["error"]["message"];
  EXPECT_NE(message.find("已被他人修改"), std::string::npos) << message;
  // A sentence is not mistaken for a field path.
  body = nlohmann::json::parse(ErrorBodyFromGrpc(
      grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "range must not exceed 366 days: no")));
  EXPECT_FALSE(body["error"].contains("field"));
}

TEST(ApiErrorsTest, GatewayRefusalsNameTheField) {
  nlohmann::json body = nlohmann::json::parse(InvalidFieldBody("expected_version", "必须填写"));
  EXPECT_EQ(body["error"]["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(body["error"]["field"], "expected_version");
  EXPECT_EQ(body["error"]["message"], "expected_version: 必须填写");
  body = nlohmann::json::parse(MissingTokenBody());
  EXPECT_EQ(body["error"]["code"], "UNAUTHENTICATED");
}

// A message JSON cannot express (a stored Timestamp with negative nanos) is an error the
// caller must answer with, not an empty string sent as a 200.
TEST(ApiErrorsTest, AMessageJsonCannotExpressIsAnInternalError) {
  google::protobuf::Timestamp fine;
  fine.set_seconds(1727316000);
  std::string json;
  ASSERT_TRUE(ToApiJson(fine, &json).ok());
  EXPECT_EQ(json, "\"2024-09-26T02:00:00Z\"");
  google::protobuf::Timestamp bad;
  bad.set_seconds(1727316000);
  bad.set_nanos(-1);
  grpc::Status status = ToApiJson(bad, &json);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_TRUE(json.empty());
  nlohmann::json body = nlohmann::json::parse(ErrorBodyFromGrpc(status));
  EXPECT_EQ(body["error"]["code"], "INTERNAL");
  EXPECT_EQ(HttpStatusFor(status.error_code()), 500);
}

// An upstream message that is not UTF-8 (found by fuzzing: the JSON library threw, and the
// live dashboard sends this body after its response has begun, where a throw ends the
// process) becomes an error body with U+FFFD in place of the bad bytes.
TEST(ApiErrorsTest, AnUpstreamMessageThatIsNotUtf8StillMakesAnErrorBody) {
  std::string text = ErrorBodyFromGrpc(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                                    std::string("message: mus\x8d be empty\xff")));
  nlohmann::json body = nlohmann::json::parse(text);
  EXPECT_EQ(body["error"]["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(body["error"]["detail"], "message: mus\xef\xbf\xbd be empty\xef\xbf\xbd");
  EXPECT_EQ(body["error"]["field"], "message");
}

}  // namespace
}  // namespace hotline::gateway
