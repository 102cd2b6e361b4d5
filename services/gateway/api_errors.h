// What the gateway's JSON API answers: the services' messages as proto JSON, and failures as
//   {"error": {"code": "<canonical gRPC code name>", "message": "<Chinese, for the page>",
//              "detail": "<the upstream service's own message, if any>", "field": "<if known>"}}
// with the HTTP status that corresponds to the canonical code (the mapping Google's HTTP/JSON
// APIs use), so that scripts can branch on the status and pages can show the message as is.
#ifndef HOTLINE_SERVICES_GATEWAY_API_ERRORS_H_
#define HOTLINE_SERVICES_GATEWAY_API_ERRORS_H_

#include <google/protobuf/message.h>
#include <grpcpp/support/status.h>

#include <string>

#include "absl/strings/string_view.h"

namespace hotline::gateway {

// A service's message as the pages read it: proto field names, enums by name, fields with
// default values included (a rate of 0/0 is still there to show as "—"). INTERNAL when the
// message cannot be expressed in JSON (a stored Timestamp out of range, say): the caller must
// answer with that error, never with an empty 200.
grpc::Status ToApiJson(const google::protobuf::Message& message, std::string* json);

// The same for the citizens' portal, without the fields left at their defaults: a citizen's
// answer names only what it holds, not even the empty names of the fields kept from the
// public (versions, sources, staff).
grpc::Status ToPublicJson(const google::protobuf::Message& message, std::string* json);

// The HTTP status for a canonical code, e.g. NOT_FOUND -> 404, ABORTED -> 409.
int HttpStatusFor(grpc::StatusCode code);

// "INVALID_ARGUMENT", "NOT_FOUND", ...
absl::string_view CodeName(grpc::StatusCode code);

// A sentence in Chinese that tells a supervisor or agent what happened and what to do next,
// e.g. for ABORTED "工单已被他人修改，请刷新后重试。".
absl::string_view ChineseExplanation(grpc::StatusCode code);

// A failure of an upstream call, as the API body. `detail` is the service's message, which
// names the field for INVALID_ARGUMENT (e.g. "message: must not be empty").
std::string ErrorBodyFromGrpc(const grpc::Status& status);

// A request the gateway itself refuses before calling anything: 400 naming `field`.
std::string InvalidFieldBody(absl::string_view field, absl::string_view problem);

// The body of a 401 for a request without any token.
std::string MissingTokenBody();

// The body of a 401 for a token holding characters no token has (a control byte, a space,
// non-ASCII text); the token itself is not repeated.
std::string MalformedTokenBody();
// 401 for a signed-in person whose session has ended (logout, idle, disabled, new password).
std::string SessionEndedBody();

}  // namespace hotline::gateway

#endif  // HOTLINE_SERVICES_GATEWAY_API_ERRORS_H_
