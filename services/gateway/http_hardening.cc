#include "services/gateway/http_hardening.h"

#include <glog/logging.h>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/utf8.h"
#include "services/gateway/api_errors.h"
#include "services/gateway/api_helpers.h"

namespace hotline::gateway {

bool RefuseMalformedRequest(const httplib::Request& request, httplib::Response& response) {
  // A control byte in the decoded path (%00 above all) would cut the file name short on its
  // way to the file system: /common.js%00.html was served as HTML.
  for (char c : request.path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      SendJson(response, 400, InvalidFieldBody("path", "地址中含有控制字符"));
      return true;
    }
  }
  // Every text a handler may put in a request upstream (a proto3 string must be UTF-8: the
  // service would refuse the call, and protobuf logs each such request).
  if (!IsValidUtf8(request.path)) {
    SendJson(response, 400, InvalidFieldBody("path", "地址不是有效的 UTF-8 文字"));
    return true;
  }
  for (const auto& [name, value] : request.params) {
    if (!IsValidUtf8(name) || !IsValidUtf8(value)) {
      SendJson(
          response, 400,
          InvalidFieldBody(IsValidUtf8(name) ? name : "query", "查询参数不是有效的 UTF-8 文字"));
      return true;
    }
  }
  return false;
}

void InstallErrorHandlers(httplib::Server* server) {
  server->set_error_handler([](const httplib::Request& request, httplib::Response& response) {
    if (!absl::StartsWith(request.path, "/api/") || !response.body.empty()) return;
    nlohmann::json error;
    if (response.status == 404) {
      error = {{"code", "NOT_FOUND"},
               {"message", absl::StrCat("没有这个接口：", request.method, " ", request.path)}};
    } else if (response.status == 413) {
      // httplib refused the body before any handler saw it (the payload limit).
      error = {{"code", "INVALID_ARGUMENT"}, {"message", "body: 内容过长"}, {"field", "body"}};
    } else {
      error = {{"code", "UNKNOWN"}, {"message", "请求无法处理。"}};
    }
    response.set_content(ToJsonText(nlohmann::json{{"error", error}}), kJson);
  });
  server->set_exception_handler(
      [](const httplib::Request& request, httplib::Response& response, std::exception_ptr e) {
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          what = ex.what();
        } catch (...) {
        }
        LOG(ERROR) << request.method << " " << request.path << ": " << what;
        SendJson(response, 500,
                 nlohmann::json{{"error", {{"code", "INTERNAL"}, {"message", "网关内部错误。"}}}});
      });
}

void SetSecurityHeaders(const httplib::Request& request, httplib::Response& response) {
  // The pages need nothing from elsewhere: no inline script, no other origin.
  response.set_header("Content-Security-Policy",
                      "default-src 'self'; script-src 'self'; style-src 'self'; "
                      "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
                      "base-uri 'none'; form-action 'self'");
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header("Referrer-Policy", "no-referrer");
  if (absl::StartsWith(request.path, "/api/")) response.set_header("Cache-Control", "no-store");
}

std::string ClientAddress(const httplib::Request& request, const std::string& header) {
  if (!header.empty()) {
    std::string forwarded = request.get_header_value(header.c_str());
    bool printable = !forwarded.empty() && forwarded.size() <= 64;
    for (char c : forwarded) printable = printable && c > 0x20 && c < 0x7f;
    if (printable) return forwarded;
  }
  return request.remote_addr;
}

}  // namespace hotline::gateway
