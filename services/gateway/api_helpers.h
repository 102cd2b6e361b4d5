// What every handler of the gateway's JSON API shares: answering in the API's shape (see
// api_errors.h) and reading the query and JSON body, with a 400 naming the field when they are
// malformed.
#ifndef HOTLINE_SERVICES_GATEWAY_API_HELPERS_H_
#define HOTLINE_SERVICES_GATEWAY_API_HELPERS_H_

#include <google/protobuf/message.h>
#include <grpcpp/support/status.h>
#include <httplib.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/strings/string_view.h"
#include "hotline/ticket/v1/ticket.pb.h"

namespace hotline::gateway {

inline constexpr char kJson[] = "application/json; charset=utf-8";

void SendJson(httplib::Response& response, int status, const std::string& body);
// The same with `body` written by ToJsonText.
void SendJson(httplib::Response& response, int status, const nlohmann::json& body);
inline void SendJson(httplib::Response& response, int status, const char* body) {
  SendJson(response, status, std::string(body));
}

// JSON text of `value` with any invalid UTF-8 (a path, a header, an upstream message: what a
// client or a service sent) replaced by U+FFFD. nlohmann's plain dump() throws on it, and a
// throw outside a route's handler ends the process.
std::string ToJsonText(const nlohmann::json& value);
// Sends the message, or the call's failure in the API's error shape.
void Reply(httplib::Response& response, const grpc::Status& status,
           const google::protobuf::Message& message);
void InvalidField(httplib::Response& response, absl::string_view field, absl::string_view problem);

// An optional integer query parameter in [min, max]; false (and a 400 sent) when malformed.
bool IntParam(const httplib::Request& request, httplib::Response& response, const char* name,
              int min, int max, int* value);
// Parses a JSON object body; false (and a 400 sent) when it is not one.
bool ParseBody(const httplib::Request& request, httplib::Response& response, nlohmann::json* body);
bool StringField(const nlohmann::json& body, httplib::Response& response, const char* name,
                 bool required, std::string* value);
// Every mutation the pages send carries the version the user saw (optimistic concurrency)
// and an idempotency key generated once per intended operation, reused on retry.
bool VersionAndRequestId(const nlohmann::json& body, httplib::Response& response,
                         int64_t* expected_version, std::string* request_id);
// Mutations must come with a JSON body (a second fence against cross-site forms, see the .cc).
bool RequireJsonContent(const httplib::Request& request, httplib::Response& response);
// The body as the upstream request message in proto JSON (field names as in the .proto, enums
// by name); unknown fields are refused. False (and a 400 naming the problem) otherwise.
bool BodyAsProto(const httplib::Request& request, httplib::Response& response,
                 google::protobuf::Message* message);

// The JSON of a message as a value to embed in a larger answer; false (and a 500 sent) when
// it cannot be converted.
bool JsonValue(const google::protobuf::Message& message, httplib::Response& response,
               nlohmann::json* value);
// True (and the failure sent) when `status` is not OK.
bool Failed(httplib::Response& response, const grpc::Status& status);

// What the consoles' lists show of a caller's number: masked as the ticket service masks it
// for departments (common/caller_phone.h).
void MaskCallerPhone(ticket::v1::Ticket* ticket);
// For the audit trail: "unmasked", "masked" or "none".
const char* PhoneVisibility(const std::string& phone);

// A route's handler that calls `handler` on `self`, e.g. server->Get("/x", Bound(this,
// &Gateway::X)).
template <typename T>
httplib::Server::Handler Bound(T* self,
                               void (T::*handler)(const httplib::Request&, httplib::Response&)) {
  return [self, handler](const httplib::Request& request, httplib::Response& response) {
    (self->*handler)(request, response);
  };
}

}  // namespace hotline::gateway

#endif  // HOTLINE_SERVICES_GATEWAY_API_HELPERS_H_
