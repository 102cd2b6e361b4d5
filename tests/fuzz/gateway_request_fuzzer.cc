// The gateway's handling of untrusted requests (services/gateway), without any network: raw
// HTTP bytes go through httplib's own request processing (the protected process_request that
// GatedServer also calls) into the gateway's routes, and every upstream service is a fake on
// gRPC's in-process channel that answers each call as the input says (a status code and
// message, or OK with the bytes as the response message). A second mode calls the JSON helpers
// directly.
//
// Input, HTTP mode (first byte < 0x80): first byte & 3 = number of upstream answers minus one;
// each answer is a code byte, a length byte and that many bytes; the rest is the request.
// Direct mode (first byte >= 0x80): the second byte picks the helper, the rest is its input.
//
// Checked:
//   - no request, header, cookie, path or upstream answer makes the gateway throw out of
//     request processing or crash (gRPC aborts the process on a metadata value that is not
//     printable ASCII, so a token must be checked before it goes upstream);
//   - every JSON response parses, and an API failure has the documented
//     {"error": {"code": ..., "message": ...}} shape with a known code;
//   - ErrorBodyFromGrpc gives that shape for any upstream status and message; a body that
//     BodyAsProto accepts prints back through ToApiJson (and re-parses to the same JSON);
//     IntParam and VersionAndRequestId either accept a value in range or answer 400 in JSON.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "hotline/kb/v1/kb.pb.h"
#include "hotline/ticket/v1/ticket.pb.h"
#include "services/gateway/api_errors.h"
#include "services/gateway/api_helpers.h"
#include "services/gateway/gateway.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

namespace gateway = hotline::gateway;
using hotline::fuzz::ByteReader;

// ---- The fake upstream ---------------------------------------------------------------------

struct Answer {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string bytes;  // The message of a failure, or the serialised response of an OK.
};

class Script {
 public:
  void Set(std::vector<Answer> answers) {
    std::lock_guard<std::mutex> lock(mu_);
    answers_ = std::move(answers);
    next_ = 0;
  }
  Answer Next() {
    std::lock_guard<std::mutex> lock(mu_);
    if (answers_.empty()) return Answer{grpc::StatusCode::UNAVAILABLE, "no answer scripted"};
    return answers_[next_++ % answers_.size()];
  }

 private:
  std::mutex mu_;
  std::vector<Answer> answers_;
  size_t next_ = 0;
};

Script& TheScript() {
  static Script* const script = new Script();
  return *script;
}

// Answers any method: reads the request, then sends the scripted answer.
class ScriptedCall : public grpc::ServerGenericBidiReactor {
 public:
  ScriptedCall() : answer_(TheScript().Next()) { StartRead(&request_); }

  void OnReadDone(bool) override {
    if (answer_.code != grpc::StatusCode::OK) {
      Finish(grpc::Status(answer_.code, answer_.bytes));
      return;
    }
    grpc::Slice slice(answer_.bytes);
    response_ = grpc::ByteBuffer(&slice, 1);
    StartWrite(&response_);
  }
  void OnWriteDone(bool ok) override {
    Finish(ok ? grpc::Status::OK : grpc::Status(grpc::StatusCode::UNKNOWN, "write failed"));
  }
  void OnDone() override { delete this; }

 private:
  Answer answer_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

class ScriptedServices : public grpc::CallbackGenericService {
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
    return new ScriptedCall();
  }
};

// ---- The gateway over an in-memory connection ----------------------------------------------

// httplib's request processing, reachable from outside as GatedServer reaches it.
class HttpFront : public httplib::Server {
 public:
  bool Process(httplib::Stream& stream) {
    bool connection_closed = false;
    return process_request(stream, /*close_connection=*/true, connection_closed, nullptr);
  }
};

// A connection whose bytes are the fuzzer's, answered into a string.
class MemoryStream : public httplib::Stream {
 public:
  MemoryStream(absl::string_view in, std::string* out) : in_(in), out_(out) {}
  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, in_.size() - offset_);
    std::memcpy(ptr, in_.data() + offset_, n);
    offset_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    out_->append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "192.0.2.10";
    port = 40000;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 8080;
  }
  socket_t socket() const override { return INVALID_SOCKET; }

 private:
  absl::string_view in_;
  size_t offset_ = 0;
  std::string* out_;
};

struct World {
  ScriptedServices upstream;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<gateway::Gateway> gateway;
  HttpFront front;
};

World& SharedWorld() {
  static World* const world = [] {
    auto* w = new World();  // Never destroyed: gRPC and the gateway's streams may outlive exit.
    grpc::ServerBuilder builder;
    builder.RegisterCallbackGenericService(&w->upstream);
    w->server = builder.BuildAndStart();
    if (w->server == nullptr)
      hotline::fuzz::SetupFailed("the in-process gRPC server did not start");
    std::shared_ptr<grpc::Channel> channel = w->server->InProcessChannel(grpc::ChannelArguments());
    gateway::GatewayOptions options;
    options.web_root = hotline::fuzz::SourcePath("services/gateway/web");
    options.call_timeout = absl::Seconds(2);
    options.sse_heartbeat = absl::Milliseconds(200);
    options.session_refresh = absl::Milliseconds(200);
    options.dashboard_min_interval = absl::Milliseconds(10);
    options.client_address_header = "X-Real-IP";
    w->gateway = std::make_unique<gateway::Gateway>(options, channel, channel, channel, channel);
    if (!w->gateway->Register(&w->front)) hotline::fuzz::SetupFailed("Gateway::Register failed");
    return w;
  }();
  return *world;
}

// ---- Checks --------------------------------------------------------------------------------

const std::vector<std::string>& KnownCodes() {
  static const auto* const codes = new std::vector<std::string>{"OK",
                                                                "CANCELLED",
                                                                "UNKNOWN",
                                                                "INVALID_ARGUMENT",
                                                                "DEADLINE_EXCEEDED",
                                                                "NOT_FOUND",
                                                                "ALREADY_EXISTS",
                                                                "PERMISSION_DENIED",
                                                                "RESOURCE_EXHAUSTED",
                                                                "FAILED_PRECONDITION",
                                                                "ABORTED",
                                                                "OUT_OF_RANGE",
                                                                "UNIMPLEMENTED",
                                                                "INTERNAL",
                                                                "UNAVAILABLE",
                                                                "DATA_LOSS",
                                                                "UNAUTHENTICATED"};
  return *codes;
}

// The API's failure shape; `code` empty: any known code.
void CheckErrorBody(const std::string& body, const std::string& code, const char* what) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(j.is_object() && j.contains("error") && j["error"].is_object())
      << what << ": not an error body: " << body.substr(0, 300);
  const nlohmann::json& error = j["error"];
  FUZZ_CHECK(error.contains("code") && error["code"].is_string() && error.contains("message") &&
             error["message"].is_string())
      << what << ": error without code or message: " << body.substr(0, 300);
  const std::string got = error["code"].get<std::string>();
  FUZZ_CHECK(code.empty()
                 ? std::find(KnownCodes().begin(), KnownCodes().end(), got) != KnownCodes().end()
                 : got == code)
      << what << ": code " << got << (code.empty() ? "" : ", expected ") << code;
}

void CheckHttpResponse(absl::string_view request, const std::string& out) {
  if (out.empty()) return;  // httplib gave up on the connection without a word.
  FUZZ_CHECK(absl::StartsWith(out, "HTTP/1.1 ")) << "response starts " << out.substr(0, 40);
  const int status = std::atoi(out.c_str() + 9);
  FUZZ_CHECK(status >= 100 && status <= 599) << "status " << status;
  const size_t head_end = out.find("\r\n\r\n");
  FUZZ_CHECK(head_end != std::string::npos) << "response without the end of its head";
  const absl::string_view head(out.data(), head_end);
  const std::string body = out.substr(head_end + 4);
  bool json = false, chunked = false;
  for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
    json = json || absl::StartsWithIgnoreCase(line, "Content-Type: application/json");
    chunked = chunked || absl::StartsWithIgnoreCase(line, "Transfer-Encoding: chunked");
  }
  // A HEAD response has the head of its GET and no body. httplib cuts any answer to the byte
  // range a request asks for (an error body too, keeping its status): not the JSON whole.
  const bool ranged = absl::StrContains(absl::AsciiStrToLower(request), "\nrange:");
  if (!json || chunked || ranged || absl::StartsWith(request, "HEAD ")) return;
  FUZZ_CHECK(nlohmann::json::accept(body))
      << "a JSON response that does not parse, status " << status << ": " << body.substr(0, 300);
  const size_t path_at = request.find(' ');
  const bool api =
      path_at != absl::string_view::npos && absl::StartsWith(request.substr(path_at + 1), "/api/");
  if (api && status >= 400) CheckErrorBody(body, "", "API failure");
}

void RunHttp(uint8_t mode, ByteReader& in) {
  World& w = SharedWorld();
  std::vector<Answer> answers(1 + mode % 4);
  for (Answer& a : answers) {
    a.code = static_cast<grpc::StatusCode>(in.Byte() % 17);
    a.bytes = in.Chunk();
  }
  TheScript().Set(std::move(answers));
  const std::string request = in.Rest();
  std::string out;
  MemoryStream stream(request, &out);
  // An exception out of here would end a worker thread of the real server, and the process.
  w.front.Process(stream);
  CheckHttpResponse(request, out);
}

// ---- Direct mode ---------------------------------------------------------------------------

httplib::Request JsonRequest(const std::string& body) {
  httplib::Request r;
  r.method = "POST";
  r.path = "/api/fuzz";
  r.body = body;
  r.headers.emplace("Content-Type", "application/json");
  return r;
}

void CheckInvalidField(const httplib::Response& response, const char* what) {
  FUZZ_CHECK(response.status == 400) << what << " refused with status " << response.status;
  CheckErrorBody(response.body, "INVALID_ARGUMENT", what);
}

void RunDirect(ByteReader& in) {
  switch (in.Byte() % 5) {
    case 0: {
      const auto code = static_cast<grpc::StatusCode>(in.Byte() % 17);
      const std::string message = in.Rest();
      const std::string body = gateway::ErrorBodyFromGrpc(grpc::Status(code, message));
      CheckErrorBody(body, std::string(gateway::CodeName(code)), "ErrorBodyFromGrpc");
      const int http = gateway::HttpStatusFor(code);
      FUZZ_CHECK(http >= 200 && http <= 599) << "HTTP status " << http;
      return;
    }
    case 1: {
      static const std::vector<const google::protobuf::Message*> kPrototypes = {
          &hotline::ticket::v1::UrgeTicketRequest::default_instance(),
          &hotline::ticket::v1::DecideExtensionRequest::default_instance(),
          &hotline::ticket::v1::CreateTicketRequest::default_instance(),
          &hotline::ticket::v1::DispatchTicketRequest::default_instance(),
          &hotline::ticket::v1::RecordCallbackRequest::default_instance(),
          &hotline::kb::v1::SearchRequest::default_instance()};
      const google::protobuf::Message* prototype = kPrototypes[in.Byte() % kPrototypes.size()];
      std::unique_ptr<google::protobuf::Message> message(prototype->New());
      httplib::Response response;
      if (!gateway::BodyAsProto(JsonRequest(in.Rest()), response, message.get())) {
        CheckInvalidField(response, "BodyAsProto");
        return;
      }
      std::string json;
      const grpc::Status printed = gateway::ToApiJson(*message, &json);
      FUZZ_CHECK(printed.ok()) << "an accepted body does not print back: "
                               << printed.error_message();
      std::unique_ptr<google::protobuf::Message> again(prototype->New());
      FUZZ_CHECK(google::protobuf::util::JsonStringToMessage(json, again.get()).ok())
          << "ToApiJson output does not parse: " << json.substr(0, 300);
      std::string json_again;
      FUZZ_CHECK(gateway::ToApiJson(*again, &json_again).ok() && json_again == json)
          << "JSON round trip changed " << json.substr(0, 200) << " into "
          << json_again.substr(0, 200);
      return;
    }
    case 2: {
      const int min = static_cast<int8_t>(in.Byte());
      const int max = min + in.Byte();
      httplib::Request request;
      request.params.emplace("page_size", in.Rest());
      httplib::Response response;
      int value = -12345;
      if (gateway::IntParam(request, response, "page_size", min, max, &value)) {
        FUZZ_CHECK(value >= min && value <= max)
            << value << " outside [" << min << ", " << max << "]";
      } else {
        CheckInvalidField(response, "IntParam");
      }
      return;
    }
    case 3: {
      httplib::Response response;
      nlohmann::json body;
      if (!gateway::ParseBody(JsonRequest(in.Rest()), response, &body)) {
        CheckInvalidField(response, "ParseBody");
        return;
      }
      int64_t version = 0;
      std::string request_id;
      if (gateway::VersionAndRequestId(body, response, &version, &request_id)) {
        FUZZ_CHECK(version > 0 && !request_id.empty() && request_id.size() <= 128)
            << "accepted version " << version << ", request_id of " << request_id.size();
      } else {
        CheckInvalidField(response, "VersionAndRequestId");
      }
      return;
    }
    default: {
      // Numbers as the ticket service accepts them: 3 to 20 digits, perhaps after a '+'.
      std::string phone = in.Bit() ? "+" : "";
      for (char c : in.Take(3 + in.Byte() % 18)) {
        phone.push_back(static_cast<char>('0' + static_cast<unsigned char>(c) % 10));
      }
      if (phone.size() - (phone[0] == '+') < 3) return;  // The input ran out.
      hotline::ticket::v1::Ticket ticket;
      ticket.set_caller_phone(phone);
      gateway::MaskCallerPhone(&ticket);
      const std::string& masked = ticket.caller_phone();
      FUZZ_CHECK(masked.size() == phone.size() &&
                 std::string(gateway::PhoneVisibility(masked)) == "masked")
          << "phone " << phone << " shown as " << masked;
      const std::string digits_kept = [&] {
        std::string out;
        for (char c : masked) {
          if (c >= '0' && c <= '9') out.push_back(c);
        }
        return out;
      }();
      FUZZ_CHECK(digits_kept.size() <= 7) << "phone " << phone << " shown as " << masked;
      return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  SharedWorld();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteReader in(data, size);
  const uint8_t mode = in.Byte();
  if (mode & 0x80) {
    RunDirect(in);
  } else {
    RunHttp(mode, in);
  }
  return 0;
}
