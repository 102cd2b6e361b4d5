// ClassifyText: the taxonomy classifier of the import pipeline, offered for any text (the
// caller's words at intake), so that tickets and the knowledge base speak of the same
// categories.
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/unary_call.h"
#include "services/kb/internal/entry_rules.h"
#include "services/kb/kb_service.h"

namespace hotline::kb {
namespace {

constexpr int kMaxTextCodePoints = 10000;
constexpr int kMaxTitleCodePoints = 500;

}  // namespace

grpc::ServerUnaryReactor* KnowledgeBaseService::ClassifyText(grpc::CallbackServerContext* context,
                                                             const v1::ClassifyTextRequest* request,
                                                             v1::ClassifyTextResponse* response) {
  // CPU only and short (one pass of the analyser over a few hundred characters): inline.
  return ServeInline(context, [=]() -> absl::Status {
    RETURN_IF_ERROR(AuthenticateAndAuthorize(*tokens_, *context, kReaders, *request).status());
    const v1::ClassifyTextRequest& r = *request;
    if (r.text().find_first_not_of(" \t\r\n") == std::string::npos) {
      return absl::InvalidArgumentError("text: required");
    }
    if (CodePointCount(r.text()) > kMaxTextCodePoints) {
      return absl::InvalidArgumentError(
          absl::StrCat("text: longer than ", kMaxTextCodePoints, " code points"));
    }
    if (CodePointCount(r.title()) > kMaxTitleCodePoints) {
      return absl::InvalidArgumentError(
          absl::StrCat("title: longer than ", kMaxTitleCodePoints, " code points"));
    }
    if (options_.classifier == nullptr) {
      return absl::UnavailableError("this knowledge base runs without a taxonomy");
    }
    ASSIGN_OR_RETURN(ingest::Classification c, options_.classifier->Classify(r.title(), r.text()));
    if (c.score > 0) {
      response->set_category_path(c.path);
      response->set_score(c.score);
    }
    for (const auto& [path, score] : c.top_level) {
      v1::CategoryScore* alternative = response->add_alternatives();
      alternative->set_category_path(path);
      alternative->set_score(score);
    }
    return absl::OkStatus();
  });
}

}  // namespace hotline::kb
