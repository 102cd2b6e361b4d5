// Search: the request checked and turned into the engine's query, the votes of similar confirmed
// questions blended in, and each hit presented with its links, for staff or for the public.
#include <glog/logging.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/page_token.h"
#include "common/status_macros.h"
#include "common/unary_call.h"
#include "services/kb/internal/entry_rules.h"
#include "services/kb/internal/kb_records.pb.h"
#include "services/kb/internal/listing.h"
#include "services/kb/kb_service.h"
#include "services/kb/public_scope.h"

namespace hotline::kb {

namespace {

constexpr int kMaxQueryCodePoints = 256;
constexpr int kMaxFilterValues = 50;
constexpr int kDefaultLinksPerGroup = 5;

}  // namespace

// ---------------------------------------------------------------------------------------------
// Search
// ---------------------------------------------------------------------------------------------

grpc::ServerUnaryReactor* KnowledgeBaseService::Search(grpc::CallbackServerContext* context,
                                                       const v1::SearchRequest* request,
                                                       v1::SearchResponse* response) {
  // Searching is CPU work of a millisecond or two; see ServeInline.
  return ServeRead(context, StaffLane::kInline, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal principal,
                     AuthenticateAndAuthorize(*tokens_, *context, kReadersAndPublic, *request));
    if (principal.role != Role::kPublic) return DoSearch(principal, *request, response);
    v1::SearchRequest narrowed = *request;
    RETURN_IF_ERROR(NarrowSearchForPublic(&narrowed));
    RETURN_IF_ERROR(DoSearch(principal, narrowed, response));
    // The id ties agents' feedback to a search; citizens answer by entry instead.
    response->clear_search_id();
    for (v1::SearchHit& hit : *response->mutable_hits()) ScrubForPublic(&hit);
    return absl::OkStatus();
  });
}

namespace {

absl::Status CheckListSize(int size, absl::string_view field) {
  if (size <= kMaxFilterValues) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": at most ", kMaxFilterValues, " values, got ", size));
}

absl::Status CheckRange(const v1::DateRange& range, absl::string_view field) {
  RETURN_IF_ERROR(CheckDate(range.start_date(), absl::StrCat(field, ".start_date")));
  RETURN_IF_ERROR(CheckDate(range.end_date(), absl::StrCat(field, ".end_date")));
  if (!range.start_date().empty() && !range.end_date().empty() &&
      range.start_date() > range.end_date()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": start_date after end_date"));
  }
  return absl::OkStatus();
}

// The request's filter in the engine's terms; INVALID_ARGUMENT names the bad field.
absl::StatusOr<SearchFilterSpec> ToFilterSpec(const v1::SearchRequest& r) {
  const v1::SearchFilter& f = r.filter();
  RETURN_IF_ERROR(CheckListSize(f.kinds_size(), "filter.kinds"));
  RETURN_IF_ERROR(CheckListSize(f.regions_size(), "filter.regions"));
  RETURN_IF_ERROR(CheckListSize(f.category_prefixes_size(), "filter.category_prefixes"));
  RETURN_IF_ERROR(CheckListSize(f.issuing_agencies_size(), "filter.issuing_agencies"));
  RETURN_IF_ERROR(CheckListSize(f.statuses_size(), "filter.statuses"));
  RETURN_IF_ERROR(CheckListSize(f.levels_size(), "filter.levels"));
  RETURN_IF_ERROR(CheckListSize(f.tags_size(), "filter.tags"));
  for (const std::string& region : f.regions()) {
    RETURN_IF_ERROR(CheckPath(region, "filter.regions"));
  }
  for (const std::string& prefix : f.category_prefixes()) {
    RETURN_IF_ERROR(CheckPath(prefix, "filter.category_prefixes"));
  }
  RETURN_IF_ERROR(CheckRange(f.publish_date_range(), "filter.publish_date_range"));
  RETURN_IF_ERROR(CheckRange(f.effective_date_range(), "filter.effective_date_range"));
  SearchFilterSpec spec;
  for (int kind : f.kinds()) spec.kinds.push_back(static_cast<v1::EntryKind>(kind));
  for (int s : f.statuses()) {
    const auto status = static_cast<v1::EntryStatus>(s);
    if (IsInactive(status) && !r.include_inactive()) {
      return absl::InvalidArgumentError(
          absl::StrCat("filter.statuses: ", v1::EntryStatus_Name(status),
                       " is inactive; set include_inactive to search inactive entries"));
    }
    spec.statuses.push_back(status);
  }
  for (int level : f.levels()) spec.levels.push_back(static_cast<v1::PolicyLevel>(level));
  spec.regions.assign(f.regions().begin(), f.regions().end());
  if (!f.applicable_region().empty()) {
    RETURN_IF_ERROR(CheckPath(f.applicable_region(), "filter.applicable_region"));
    // The entries that apply to a caller's region are those of the region itself, of every
    // region above it, and the national ones; the engine filters by exact regions.
    std::vector<std::string> applicable = {"全国"};
    std::string path;
    for (absl::string_view segment : absl::StrSplit(f.applicable_region(), '/')) {
      path = path.empty() ? std::string(segment) : absl::StrCat(path, "/", segment);
      applicable.push_back(path);
    }
    if (spec.regions.empty()) {
      spec.regions = std::move(applicable);
    } else {
      // Both given: the regions listed that also apply to the caller.
      std::vector<std::string> both;
      for (const std::string& r : spec.regions) {
        if (std::find(applicable.begin(), applicable.end(), r) != applicable.end())
          both.push_back(r);
      }
      if (both.empty()) {
        return absl::InvalidArgumentError(
            "filter.regions: none of them applies to filter.applicable_region");
      }
      spec.regions = std::move(both);
    }
  }
  spec.category_prefixes.assign(f.category_prefixes().begin(), f.category_prefixes().end());
  spec.agencies.assign(f.issuing_agencies().begin(), f.issuing_agencies().end());
  spec.tags.assign(f.tags().begin(), f.tags().end());
  spec.publish_from = f.publish_date_range().start_date();
  spec.publish_to = f.publish_date_range().end_date();
  spec.effective_from = f.effective_date_range().start_date();
  spec.effective_to = f.effective_date_range().end_date();
  return spec;
}

}  // namespace

absl::Status KnowledgeBaseService::DoSearch(const Principal& principal, const v1::SearchRequest& r,
                                            v1::SearchResponse* response) {
  if (CodePointCount(r.query()) > kMaxQueryCodePoints) {
    return absl::InvalidArgumentError(
        absl::StrCat("query: longer than ", kMaxQueryCodePoints, " code points"));
  }
  SearchOrder order = SearchOrder::kRelevance;
  switch (r.order_by()) {
    case v1::SEARCH_ORDER_UNSPECIFIED:
      // Relevance needs words to be relevant to; without them the newest come first.
      order = r.query().empty() ? SearchOrder::kPublishDate : SearchOrder::kRelevance;
      break;
    case v1::SEARCH_ORDER_RELEVANCE:
      if (r.query().empty()) {
        return absl::InvalidArgumentError("order_by: RELEVANCE needs a query");
      }
      break;
    case v1::SEARCH_ORDER_PUBLISH_DATE_DESC:
      order = SearchOrder::kPublishDate;
      break;
    case v1::SEARCH_ORDER_EFFECTIVE_DATE_DESC:
      order = SearchOrder::kEffectiveDate;
      break;
    case v1::SEARCH_ORDER_UPDATE_TIME_DESC:
      order = SearchOrder::kUpdateTime;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("order_by: unknown value ", static_cast<int>(r.order_by())));
  }
  ASSIGN_OR_RETURN(int page_size, internal::PageSize(r.page_size()));
  ASSIGN_OR_RETURN(SearchFilterSpec filter, ToFilterSpec(r));
  std::set<int> facet_fields;
  SearchQuery query;
  for (int i = 0; i < r.facets_size(); ++i) {
    if (r.facets(i).field() == v1::FACET_FIELD_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat("facets[", i, "].field: required"));
    }
    if (!facet_fields.insert(r.facets(i).field()).second) {
      return absl::InvalidArgumentError(absl::StrCat("facets[", i, "].field: requested twice"));
    }
    query.facets.push_back(r.facets(i).field());
  }
  const absl::Time now = options_.clock->Now();
  const std::string request_hash = internal::FingerprintWithoutToken(r);
  int offset = 0;
  if (!r.page_token().empty()) {
    ASSIGN_OR_RETURN(
        offset, ParseOffsetPageToken(r.page_token(), request_hash, internal::kMaxPageOffset, now));
  }
  query.text = r.query();
  query.order = order;
  query.filter = std::move(filter);
  query.include_inactive = r.include_inactive();
  query.offset = offset;
  query.limit = page_size;
  query.max_hits_per_entry = std::max(0, r.max_hits_per_entry());
  query.regional = !r.filter().applicable_region().empty();
  query.passage_lift = FeedbackLift(NormalizeQuery(r.query()));
  // Similar questions' confirmed answers, by (entry, label), with how many confirmed each.
  const CurrentVoteSet vote_set =
      r.query().empty() ? CurrentVoteSet() : CurrentVotes(r.query(), now);
  const VotesByPassage& votes = vote_set.passages;
  for (const auto& [passage, v] : votes) query.passage_votes[passage] = v.weight;
  query.entry_votes = vote_set.entries;
  query.vote_confidence = vote_set.confidence;
  absl::StatusOr<SearchResult> result = index_->index().Search(query);
  if (!result.ok()) {
    if (absl::IsInvalidArgument(result.status())) {
      return absl::InvalidArgumentError(absl::StrCat("query: ", result.status().message()));
    }
    return result.status();
  }
  response->set_search_id(NewId("s-"));
  response->set_total_size(result->total_passages);
  response->set_total_size_is_estimate(result->total_is_estimate);
  response->set_total_entries(result->total_entries);
  for (const std::string& term : result->query_terms) response->add_query_terms(term);
  if (offset + static_cast<int64_t>(result->hits.size()) < result->total_passages) {
    response->set_next_page_token(
        MakePageToken({absl::StrCat(offset + page_size)}, request_hash, now));
  }
  const int max_links =
      r.max_links_per_group() > 0 ? r.max_links_per_group() : kDefaultLinksPerGroup;
  for (const PassageHit& h : result->hits) {
    std::shared_ptr<const v1::Entry> entry = Head(h.entry_id);
    if (entry == nullptr) continue;  // Deleted between search and read.
    v1::SearchHit* hit = response->add_hits();
    hit->set_entry_id(h.entry_id);
    hit->set_entry_version(entry->version());
    hit->set_kind(entry->kind());
    hit->set_title(entry->title());
    for (const auto& [start, end] : h.title_highlights) {
      v1::TextRange* range = hit->add_title_highlights();
      range->set_start(start);
      range->set_end(end);
    }
    hit->set_passage_label(h.passage_label);
    hit->set_passage_ordinal(h.passage_ordinal);
    if (!h.heading.empty()) hit->add_passage_headings(h.heading);
    v1::Snippet* snippet = hit->mutable_snippet();
    snippet->set_text(h.snippet);
    for (const auto& [start, end] : h.highlights) {
      v1::TextRange* range = snippet->add_highlights();
      range->set_start(start);
      range->set_end(end);
    }
    snippet->set_starts_mid_passage(h.starts_mid_passage);
    snippet->set_ends_mid_passage(h.ends_mid_passage);
    hit->set_score(h.score);
    if (auto v = votes.find({h.entry_id, h.passage_label});
        v != votes.end() && v->second.weight > 0 && v->second.confirmations > 0) {
      // Why it ranks where it does, in the agents' words, so that they can trust it.
      hit->set_similar_confirmations(v->second.confirmations);
      hit->set_ranking_note(absl::StrCat(v->second.confirmations, " 个相似问题确认过此条款"));
    }
    hit->set_status(entry->status());
    hit->set_inactive(EntryInactive(*entry));
    hit->set_superseded_by(entry->superseded_by());
    hit->set_region(entry->region());
    hit->set_category_path(entry->category_path());
    if (entry->has_policy_document()) {
      const v1::PolicyDocument& p = entry->policy_document();
      hit->set_doc_number(p.doc_number());
      *hit->mutable_issuing_agencies() = p.issuing_agencies();
      hit->set_level(p.level());
      hit->set_publish_date(p.publish_date());
      hit->set_effective_date(p.effective_date());
    }
    if (entry->has_qa_pair() && !entry->qa_pair().source_document_id().empty()) {
      ASSIGN_OR_RETURN(v1::EntryLink source,
                       LinkTo(v1::LINK_RELATION_BASIS, entry->qa_pair().source_document_id()));
      source.set_target_passage_label(entry->qa_pair().source_passage_label());
      *hit->mutable_answer_source() = std::move(source);
    }
    if (entry->has_service_guide()) {
      hit->set_online_service_url(entry->service_guide().online_service_url());
    }
    *hit->mutable_sources() = entry->sources();
    RETURN_IF_ERROR(FillLookAskDo(*entry, max_links, hit->mutable_look_ask_do()));
    if (SeesCitizenFeedback(principal.role)) {
      *hit->mutable_citizen_feedback() = citizen_feedback_->Counts(h.entry_id);
    }
  }
  for (const auto& [field, values] : result->facets) {
    v1::Facet* facet = response->add_facets();
    facet->set_field(field);
    int max_values = 0;
    for (const v1::FacetRequest& fr : r.facets()) {
      if (fr.field() == field) max_values = fr.max_values();
    }
    for (const auto& [value, count] : values) {
      if (max_values > 0 && facet->values_size() >= max_values) break;
      v1::FacetValue* out = facet->add_values();
      out->set_value(value);
      out->set_count(count);
    }
  }
  if (!r.exclude_from_statistics() && offset == 0 && !r.query().empty()) {
    if (result->total_passages == 0) {
      // Written by a worker: a search runs on gRPC's own thread and must neither wait for a
      // synced write nor fail with the disk. The gap is the knowledge base's bookkeeping, not
      // a write the agent asked for; a crash in between loses this one occurrence.
      workers_->Schedule([this, query = r.query(), principal = principal.name,
                          search = response->search_id(), now = options_.clock->Now()] {
        absl::Status noted = NoteGap(query, principal, v1::GAP_REASON_NO_HITS, search, "", "", now);
        LOG_IF(WARNING, !noted.ok())
            << "the gap of search " << search << " was not recorded: " << noted;
      });
    } else {
      NoteQuery(r.query(), principal.name);
    }
  }
  return absl::OkStatus();
}

}  // namespace hotline::kb
