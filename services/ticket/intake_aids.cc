// The rpcs that help agents and reviewers decide rather than change a ticket: the settings the
// consoles offer choices from, similar tickets (possible duplicates, merge targets) and the
// departments suggested for dispatch. They read the similar-ticket index the service keeps
// current (TicketService::IndexChanges), and the store for the tickets they name.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "common/unary_call.h"
#include "services/ticket/ticket_service.h"

namespace hotline::ticket {
namespace {

constexpr int kMaxContent = 10000;

}  // namespace

grpc::ServerUnaryReactor* TicketService::GetIntakeSettings(
    grpc::CallbackServerContext* context, const v1::GetIntakeSettingsRequest* request,
    v1::IntakeSettings* response) {
  return ServeInline(context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal principal,
                     AuthenticateAndAuthorize(*tokens_, *context,
                                              {Role::kAgent, Role::kReviewer, Role::kDepartment,
                                               Role::kSupervisor, Role::kEditor, Role::kCallback},
                                              *request));
    const config::TicketConfig& config = options_.config;
    for (const config::Department& d : config.departments()) {
      v1::DepartmentInfo* info = response->add_departments();
      info->set_id(d.id());
      info->set_name(d.name());
    }
    *response->mutable_districts() = config.districts();
    *response->mutable_category_routes() = config.category_routes();
    response->set_repeat_call_window_days(config.repeat_call_window_days());
    response->set_duplicate_window_days(config.duplicate_window_days());
    for (int kind = v1::TicketKind_MIN; kind <= v1::TicketKind_MAX; ++kind) {
      if (v1::TicketKind_IsValid(kind) &&
          MayBeAnsweredDirectly(static_cast<v1::TicketKind>(kind))) {
        response->add_direct_answer_kinds(static_cast<v1::TicketKind>(kind));
      }
    }
    v1::CallerIdentity* caller = response->mutable_caller();
    caller->set_principal(principal.name);
    caller->set_role(ToProtoRole(principal.role));
    caller->set_department_id(principal.department_id);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TicketService::FindSimilarTickets(
    grpc::CallbackServerContext* context, const v1::FindSimilarTicketsRequest* request,
    v1::FindSimilarTicketsResponse* response) {
  return ServeOnPool(context, workers_, [=]() -> absl::Status {
    RETURN_IF_ERROR(AuthenticateAndAuthorize(*tokens_, *context,
                                             {Role::kAgent, Role::kReviewer, Role::kSupervisor},
                                             *request)
                        .status());
    const v1::FindSimilarTicketsRequest& r = *request;
    RETURN_IF_ERROR(RequireText(r.content(), "content", kMaxContent));
    if (r.within_days() < 0 || r.within_days() > 366) {
      return absl::InvalidArgumentError("within_days: must be 0 to 366");
    }
    if (r.page_size() < 0 || r.page_size() > 50) {
      return absl::InvalidArgumentError("page_size: must be 0 to 50");
    }
    if (!(r.min_similarity() >= 0 && r.min_similarity() <= 1)) {
      return absl::InvalidArgumentError("min_similarity: must be 0 to 1");
    }
    SimilarTicketIndex::Query query;
    query.content = r.content();
    query.district_code = r.district_code();
    const int days =
        r.within_days() > 0 ? r.within_days() : options_.config.duplicate_window_days();
    query.created_after = options_.clock->Now() - absl::Hours(24 * days);
    query.open_only = r.open_only();
    query.exclude_id = r.exclude_ticket_id();
    query.limit = r.page_size() > 0 ? r.page_size() : 5;
    query.min_similarity = r.min_similarity() > 0 ? r.min_similarity() : 0.3;
    for (const SimilarTicketIndex::Match& match : similar_.Find(query)) {
      ASSIGN_OR_RETURN(std::optional<StoredTicket> stored, store_.Load(match.id));
      if (!stored.has_value()) continue;  // Not expected: the index follows commits.
      v1::SimilarTicket* similar = response->add_tickets();
      *similar->mutable_ticket() = std::move(stored->ticket);
      similar->set_similarity(match.similarity);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TicketService::SuggestDepartments(
    grpc::CallbackServerContext* context, const v1::SuggestDepartmentsRequest* request,
    v1::SuggestDepartmentsResponse* response) {
  return ServeOnPool(context, workers_, [=]() -> absl::Status {
    RETURN_IF_ERROR(AuthenticateAndAuthorize(*tokens_, *context,
                                             {Role::kAgent, Role::kReviewer, Role::kSupervisor},
                                             *request)
                        .status());
    const v1::SuggestDepartmentsRequest& r = *request;
    if (r.page_size() < 0 || r.page_size() > 20) {
      return absl::InvalidArgumentError("page_size: must be 0 to 20");
    }
    std::string content = r.content();
    std::string category = r.category_path();
    if (!r.ticket_id().empty()) {
      ASSIGN_OR_RETURN(std::optional<StoredTicket> stored, store_.Load(r.ticket_id()));
      if (!stored.has_value()) {
        return absl::NotFoundError(absl::StrCat("ticket ", r.ticket_id(), " not found"));
      }
      content = stored->ticket.content();
      if (category.empty()) category = stored->ticket.category_path();
    } else {
      RETURN_IF_ERROR(RequireText(content, "content", kMaxContent));
    }
    const int limit = r.page_size() > 0 ? r.page_size() : 5;
    for (const DepartmentSuggestion& s : suggester_->Suggest(content, category, limit)) {
      v1::DepartmentSuggestion* out = response->add_suggestions();
      out->set_department_id(s.department_id);
      const std::string name = DepartmentName(s.department_id);
      out->set_department_name(name);
      out->set_score(s.score);
      if (s.from_route) {
        v1::SuggestionReason* reason = out->add_reasons();
        reason->set_source(v1::SuggestionReason::SOURCE_CATEGORY_ROUTE);
        reason->set_text(absl::StrCat("分类“", s.route_prefix, "”配置的承办单位"));
      }
      if (s.from_remit) {
        v1::SuggestionReason* reason = out->add_reasons();
        reason->set_source(v1::SuggestionReason::SOURCE_REMIT);
        reason->set_text(absl::StrCat("诉求与 ", name, " 职责清单相符"));
      }
      if (s.similar_handled > 0 || s.similar_returned > 0) {
        v1::SuggestionReason* reason = out->add_reasons();
        reason->set_source(v1::SuggestionReason::SOURCE_SIMILAR_TICKETS);
        reason->set_similar_handled(s.similar_handled);
        reason->set_similar_returned(s.similar_returned);
        std::string text = s.similar_handled > 0 ? absl::StrFormat("类似工单 %d 件由 %s 办结",
                                                                   s.similar_handled, name)
                                                 : absl::StrFormat("%s 未办结过类似工单", name);
        if (s.similar_returned > 0) {
          absl::StrAppendFormat(&text, "，%d 件被其以派错为由退回", s.similar_returned);
        }
        reason->set_text(text);
      }
    }
    return absl::OkStatus();
  });
}

}  // namespace hotline::ticket
