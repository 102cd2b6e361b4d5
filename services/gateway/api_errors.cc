#include "services/gateway/api_errors.h"

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "services/gateway/api_helpers.h"

namespace hotline::gateway {

namespace {

grpc::Status ToJson(const google::protobuf::Message& message, bool print_defaults,
                    std::string* json) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = print_defaults;
  json->clear();
  auto converted = google::protobuf::util::MessageToJsonString(message, json, options);
  if (converted.ok()) return grpc::Status::OK;
  json->clear();
  return grpc::Status(grpc::StatusCode::INTERNAL,
                      absl::StrCat(message.GetDescriptor()->name(),
                                   " could not be converted to JSON: ", converted.ToString()));
}

}  // namespace

grpc::Status ToApiJson(const google::protobuf::Message& message, std::string* json) {
  return ToJson(message, /*print_defaults=*/true, json);
}

grpc::Status ToPublicJson(const google::protobuf::Message& message, std::string* json) {
  return ToJson(message, /*print_defaults=*/false, json);
}

int HttpStatusFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
      return 409;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::FAILED_PRECONDITION:
      return 400;
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::DATA_LOSS:
    default:
      return 500;
  }
}

absl::string_view CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

absl::string_view ChineseExplanation(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "成功。";
    case grpc::StatusCode::CANCELLED:
      return "请求已取消。";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "请求内容有误，请检查后重新提交。";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "服务响应超时，结果未知，请稍后刷新查看。";
    case grpc::StatusCode::NOT_FOUND:
      return "未找到该记录，请核对编号。";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "该记录已存在，请核对编号后重试。";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "您的账号无权执行此操作。";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "当前访问人数过多，请稍后再试。";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "工单当前状态不允许此操作。";
    case grpc::StatusCode::ABORTED:
      return "工单已被他人修改，请刷新后重试。";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "请求超出可用范围。";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "服务暂不支持此操作。";
    case grpc::StatusCode::UNAVAILABLE:
      return "服务暂时不可用，请稍后重试。";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "登录已失效或令牌无效，请重新登录。";
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::DATA_LOSS:
    default:
      return "服务内部错误，请联系管理员。";
  }
}

namespace {

std::string Body(absl::string_view code, absl::string_view message, absl::string_view detail,
                 absl::string_view field) {
  nlohmann::json error = {{"code", code}, {"message", message}};
  if (!detail.empty()) error["detail"] = detail;
  if (!field.empty()) error["field"] = field;
  return ToJsonText(nlohmann::json{{"error", error}});
}

// The services start INVALID_ARGUMENT messages with the field's path ("message: must not be
// empty"); the page highlights that field.
std::string FieldOf(const grpc::Status& status) {
  if (status.error_code() != grpc::StatusCode::INVALID_ARGUMENT) return "";
  const std::string& message = status.error_message();
  size_t colon = message.find(": ");
  if (colon == std::string::npos) return "";
  std::string field = message.substr(0, colon);
  for (char c : field) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '[' || c == ']')) {
      return "";
    }
  }
  return field;
}

}  // namespace

std::string ErrorBodyFromGrpc(const grpc::Status& status) {
  // The service's own words follow the explanation: they name the field, state or version
  // that made the call fail, which a supervisor needs to act ("当前版本 8" and the like).
  std::string message(ChineseExplanation(status.error_code()));
  if (!status.error_message().empty())
    absl::StrAppend(&message, "（", status.error_message(), "）");
  return Body(CodeName(status.error_code()), message, status.error_message(), FieldOf(status));
}

std::string InvalidFieldBody(absl::string_view field, absl::string_view problem) {
  return Body("INVALID_ARGUMENT", absl::StrCat(field, ": ", problem), "", field);
}

std::string SessionEndedBody() {
  return Body("UNAUTHENTICATED", "会话已结束（已退出、超时未操作或账号已变更），请重新登录。", "",
              "");
}

std::string MissingTokenBody() {
  return Body("UNAUTHENTICATED",
              "请先登录：缺少访问令牌（Cookie 或 Authorization: Bearer 请求头）。", "", "");
}

std::string MalformedTokenBody() {
  return Body("UNAUTHENTICATED",
              "令牌格式不正确：令牌只能由字母、数字和 -_.~+/= 组成，请重新登录。", "", "");
}

}  // namespace hotline::gateway
