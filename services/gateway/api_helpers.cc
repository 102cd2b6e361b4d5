#include "services/gateway/api_helpers.h"

#include <glog/logging.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/caller_phone.h"
#include "services/gateway/api_errors.h"

namespace hotline::gateway {

std::string ToJsonText(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void SendJson(httplib::Response& response, int status, const std::string& body) {
  response.status = status;
  response.set_content(body, kJson);
}

void SendJson(httplib::Response& response, int status, const nlohmann::json& body) {
  SendJson(response, status, ToJsonText(body));
}

// Sends the message, or the call's failure in the API's error shape.
void Reply(httplib::Response& response, const grpc::Status& status,
           const google::protobuf::Message& message) {
  if (!status.ok()) {
    SendJson(response, HttpStatusFor(status.error_code()), ErrorBodyFromGrpc(status));
    return;
  }
  std::string json;
  if (grpc::Status converted = ToApiJson(message, &json); !converted.ok()) {
    LOG(ERROR) << converted.error_message();
    SendJson(response, 500, ErrorBodyFromGrpc(converted));
    return;
  }
  SendJson(response, 200, json);
}

void InvalidField(httplib::Response& response, absl::string_view field, absl::string_view problem) {
  SendJson(response, 400, InvalidFieldBody(field, problem));
}

// An optional non-negative integer query parameter; false (and a 400 sent) when malformed.
bool IntParam(const httplib::Request& request, httplib::Response& response, const char* name,
              int min, int max, int* value) {
  if (!request.has_param(name)) return true;
  int parsed = 0;
  if (!absl::SimpleAtoi(request.get_param_value(name), &parsed) || parsed < min || parsed > max) {
    InvalidField(response, name, absl::StrCat("必须是 ", min, " 到 ", max, " 之间的整数"));
    return false;
  }
  *value = parsed;
  return true;
}

// Parses a JSON object body; false (and a 400 sent) when it is not one.
bool ParseBody(const httplib::Request& request, httplib::Response& response, nlohmann::json* body) {
  *body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body->is_discarded() || !body->is_object()) {
    InvalidField(response, "body", "请求体必须是 JSON 对象");
    return false;
  }
  return true;
}

bool StringField(const nlohmann::json& body, httplib::Response& response, const char* name,
                 bool required, std::string* value) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    if (required) InvalidField(response, name, "必须填写");
    return !required;
  }
  if (!it->is_string()) {
    InvalidField(response, name, "必须是字符串");
    return false;
  }
  *value = it->get<std::string>();
  if (required && value->empty()) {
    InvalidField(response, name, "必须填写");
    return false;
  }
  return true;
}

// Every mutation the pages send carries the version the user saw (optimistic concurrency)
// and an idempotency key generated once per intended operation, reused on retry.
bool VersionAndRequestId(const nlohmann::json& body, httplib::Response& response,
                         int64_t* expected_version, std::string* request_id) {
  auto it = body.find("expected_version");
  if (it == body.end() || !it->is_number_integer() || it->get<int64_t>() <= 0) {
    InvalidField(response, "expected_version", "必须是正整数（页面上看到的工单版本）");
    return false;
  }
  *expected_version = it->get<int64_t>();
  if (!StringField(body, response, "request_id", true, request_id)) return false;
  if (request_id->size() > 128) {
    InvalidField(response, "request_id", "不能超过 128 个字符");
    return false;
  }
  return true;
}

// Mutations authenticated by the cookie must come from our own pages: SameSite=Strict keeps
// other sites' requests from carrying the cookie, and requiring a JSON body (which a
// cross-site form cannot send without a CORS preflight we never grant) is a second fence.
bool RequireJsonContent(const httplib::Request& request, httplib::Response& response) {
  if (absl::StartsWith(absl::AsciiStrToLower(request.get_header_value("Content-Type")),
                       "application/json")) {
    return true;
  }
  SendJson(response, 415,
           nlohmann::json{{"error",
                           {{"code", "INVALID_ARGUMENT"},
                            {"message", "Content-Type: 请求体必须是 application/json"},
                            {"field", "Content-Type"}}}});
  return false;
}

bool BodyAsProto(const httplib::Request& request, httplib::Response& response,
                 google::protobuf::Message* message) {
  if (!RequireJsonContent(request, response)) return false;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto parsed = google::protobuf::util::JsonStringToMessage(request.body, message, options);
  if (!parsed.ok()) {
    InvalidField(response, "body",
                 absl::StrCat("请求体不符合接口格式：", parsed.message().as_string()));
    return false;
  }
  return true;
}

// The JSON of a message as a value to embed in a larger answer.
bool JsonValue(const google::protobuf::Message& message, httplib::Response& response,
               nlohmann::json* value) {
  std::string text;
  if (grpc::Status converted = ToApiJson(message, &text); !converted.ok()) {
    LOG(ERROR) << converted.error_message();
    SendJson(response, 500, ErrorBodyFromGrpc(converted));
    return false;
  }
  *value = nlohmann::json::parse(text);
  return true;
}

bool Failed(httplib::Response& response, const grpc::Status& status) {
  if (status.ok()) return false;
  SendJson(response, HttpStatusFor(status.error_code()), ErrorBodyFromGrpc(status));
  return true;
}

void MaskCallerPhone(ticket::v1::Ticket* ticket) {
  // Departments get numbers the ticket service already masked.
  if (ticket->caller_phone().find('*') != std::string::npos) return;
  ticket->set_caller_phone(MaskPhone(ticket->caller_phone()));
}

const char* PhoneVisibility(const std::string& phone) {
  if (phone.empty()) return "none";
  return phone.find('*') == std::string::npos ? "unmasked" : "masked";
}

}  // namespace hotline::gateway
