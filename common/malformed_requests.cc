#include "common/malformed_requests.h"

#include <glog/logging.h>
#include <google/protobuf/stubs/logging.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace hotline {
namespace {

namespace gx = grpc::experimental;

// gRPC deserializes a unary request on the thread that then runs the interceptors' receive
// hooks, and protobuf reports a refused UTF-8 field through its log handler during that
// parse; a thread-local carries the field's name from one to the other.
thread_local std::string refused_field;

// protobuf 3.21: "String field 'pkg.Message.field' contains invalid UTF-8 data when parsing
// a protocol buffer. ..." (also "serializing" on the sending side, which is not ours to
// report).
void ProtobufLogHandler(google::protobuf::LogLevel level, const char* filename, int line,
                        const std::string& message) {
  constexpr absl::string_view kPrefix = "String field '";
  if (absl::StartsWith(message, kPrefix) &&
      absl::StrContains(message, "invalid UTF-8 data when parsing")) {
    absl::string_view rest = absl::string_view(message).substr(kPrefix.size());
    refused_field = std::string(rest.substr(0, rest.find('\'')));
    return;  // answered to the client; a log line per hostile request would be a flood
  }
  switch (level) {
    case google::protobuf::LOGLEVEL_INFO:
      LOG(INFO) << "protobuf " << filename << ":" << line << ": " << message;
      break;
    case google::protobuf::LOGLEVEL_WARNING:
      LOG(WARNING) << "protobuf " << filename << ":" << line << ": " << message;
      break;
    default:
      LOG(ERROR) << "protobuf " << filename << ":" << line << ": " << message;
      break;
  }
}

// "hotline.kb.v1.SearchRequest.query" -> "query (hotline.kb.v1.SearchRequest)": the field as
// a client names it, with the message it belongs to for nested ones.
std::string DescribeField(absl::string_view full_name) {
  size_t dot = full_name.rfind('.');
  if (dot == absl::string_view::npos) return std::string(full_name);
  return absl::StrCat(full_name.substr(dot + 1), " (", full_name.substr(0, dot), ")");
}

class MalformedRequestInterceptor final : public gx::Interceptor {
 public:
  explicit MalformedRequestInterceptor(gx::ServerRpcInfo* info)
      : method_(info->method() != nullptr ? info->method() : "") {
    // Created just before this call's request is parsed on this thread: what an earlier
    // parse here left behind is not about this call.
    refused_field.clear();
  }

  void Intercept(gx::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(gx::InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      malformed_ = true;
      field_ = std::move(refused_field);
      refused_field.clear();
    }
    if (malformed_ &&
        methods->QueryInterceptionHookPoint(gx::InterceptionHookPoints::PRE_SEND_STATUS) &&
        methods->GetSendStatus().error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      methods->ModifySendStatus(grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          field_.empty()
              ? absl::StrCat("the request to ", method_, " cannot be parsed as its message type")
              : absl::StrCat(DescribeField(field_),
                             ": not valid UTF-8; a string field must hold UTF-8 text")));
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
  bool malformed_ = false;
  std::string field_;
};

class MalformedRequestFactory final : public gx::ServerInterceptorFactoryInterface {
 public:
  gx::Interceptor* CreateServerInterceptor(gx::ServerRpcInfo* info) override {
    return new MalformedRequestInterceptor(info);
  }
};

}  // namespace

std::unique_ptr<gx::ServerInterceptorFactoryInterface> NewMalformedRequestInterceptorFactory() {
  static const bool installed = [] {
    google::protobuf::SetLogHandler(&ProtobufLogHandler);
    return true;
  }();
  (void)installed;
  return std::make_unique<MalformedRequestFactory>();
}

}  // namespace hotline
