// The knowledge-base editors' API: draft Q&A pairs proposed from agents' confirmations
// (问答提炼), listed, accepted (creating the Q&A entry) or dismissed, with the editor's own
// credential, so the knowledge base decides who may.
#include "services/gateway/api_errors.h"
#include "services/gateway/api_helpers.h"
#include "services/gateway/gateway.h"

namespace hotline::gateway {
namespace {

namespace kbv1 = ::hotline::kb::v1;

}  // namespace

void Gateway::RegisterEditorApi(httplib::Server* server) {
  server->Get("/api/kb/drafts", [this](const httplib::Request& request, httplib::Response& response) {
    kbv1::ListQaDraftsRequest upstream;
    const std::string state = request.get_param_value("state");
    if (state.empty() || state == "pending") {
      upstream.set_state(kbv1::QA_DRAFT_STATE_PENDING);
    } else if (state == "accepted") {
      upstream.set_state(kbv1::QA_DRAFT_STATE_ACCEPTED);
    } else if (state == "dismissed") {
      upstream.set_state(kbv1::QA_DRAFT_STATE_DISMISSED);
    } else {
      return InvalidField(response, "state", "必须是 pending、accepted 或 dismissed");
    }
    kbv1::ListQaDraftsResponse reply;
    Reply(response, kb_->ListQaDrafts(ContextFor(TokenOf(request)).get(), upstream, &reply), reply);
  });
  server->Post(R"(/api/kb/drafts/([^/]+)/accept)",
               [this](const httplib::Request& request, httplib::Response& response) {
                 kbv1::AcceptQaDraftRequest upstream;
                 if (!BodyAsProto(request, response, &upstream)) return;
                 upstream.set_draft_id(request.matches[1]);
                 kbv1::AcceptQaDraftResponse reply;
                 Reply(response,
                       kb_->AcceptQaDraft(ContextFor(TokenOf(request)).get(), upstream, &reply),
                       reply);
               });
  server->Post(R"(/api/kb/drafts/([^/]+)/dismiss)",
               [this](const httplib::Request& request, httplib::Response& response) {
                 kbv1::DismissQaDraftRequest upstream;
                 if (!BodyAsProto(request, response, &upstream)) return;
                 upstream.set_draft_id(request.matches[1]);
                 kbv1::QaDraft reply;
                 Reply(response,
                       kb_->DismissQaDraft(ContextFor(TokenOf(request)).get(), upstream, &reply),
                       reply);
               });
}

}  // namespace hotline::gateway
