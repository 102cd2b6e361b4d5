// The knowledge-base editors' API: draft Q&A pairs proposed from agents' confirmations
// (问答提炼), listed, accepted (creating the Q&A entry) or dismissed, with the editor's own
// credential, so the knowledge base decides who may.
#include "services/gateway/api_errors.h"
#include "services/gateway/api_helpers.h"
#include "services/gateway/gateway.h"

namespace hotline::gateway {
namespace {

namespace kbv1 = ::hotline::kb::v1;

// POST /api/kb/drafts/{id}/<decision>: the body is the upstream request in proto JSON, the
// draft is the one the address names.
template <typename Request, typename Answer>
void DecideDraft(const httplib::Request& request, httplib::Response& response,
                 kbv1::KnowledgeBaseService::Stub* kb, grpc::ClientContext* context,
                 grpc::Status (kbv1::KnowledgeBaseService::Stub::*rpc)(grpc::ClientContext*,
                                                                       const Request&, Answer*)) {
  Request upstream;
  if (!BodyAsProto(request, response, &upstream)) return;
  upstream.set_draft_id(request.matches[1]);
  Answer reply;
  Reply(response, (kb->*rpc)(context, upstream, &reply), reply);
}

}  // namespace

void Gateway::RegisterEditorApi(httplib::Server* server) {
  server->Get("/api/kb/drafts", [this](const httplib::Request& request,
                                       httplib::Response& response) {
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
  auto decide = [this](auto rpc) {
    return [this, rpc](const httplib::Request& request, httplib::Response& response) {
      DecideDraft(request, response, kb_.get(), ContextFor(TokenOf(request)).get(), rpc);
    };
  };
  using Stub = kbv1::KnowledgeBaseService::Stub;
  server->Post(R"(/api/kb/drafts/([^/]+)/accept)", decide(&Stub::AcceptQaDraft));
  server->Post(R"(/api/kb/drafts/([^/]+)/dismiss)", decide(&Stub::DismissQaDraft));
}

}  // namespace hotline::gateway
