// Agents' feedback on hits and the gaps in the knowledge base: what agents confirmed or found
// unhelpful (and so what similar questions vote for), and the questions that found nothing.
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/page_token.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "common/unary_call.h"
#include "services/kb/internal/entry_rules.h"
#include "services/kb/internal/idempotent_mutation.h"
#include "services/kb/internal/kb_records.pb.h"
#include "services/kb/internal/listing.h"
#include "services/kb/kb_service.h"

namespace hotline::kb {

// ---------------------------------------------------------------------------------------------
// Feedback and gaps
// ---------------------------------------------------------------------------------------------

namespace {

// Gap records: "g/<normalized question>" holds what belongs to the question (its id, first
// sighting, resolution); "o/<normalized question>\n<occurrence>" one occurrence each, so that
// any window can be counted.
std::string GapKey(const std::string& normalized) { return "g/" + normalized; }
std::string OccurrencePrefix(const std::string& normalized) { return "o/" + normalized + "\n"; }

// The stronger reason names an occurrence: an agent's report, then no hits, then unhelpful hits.
int ReasonStrength(v1::GapReason reason) {
  switch (reason) {
    case v1::GAP_REASON_REPORTED_NO_ANSWER:
      return 3;
    case v1::GAP_REASON_NO_HITS:
      return 2;
    case v1::GAP_REASON_ONLY_UNHELPFUL:
      return 1;
    default:
      return 0;
  }
}

// How far agents' judgements move a passage for a question (SearchQuery::passage_lift):
// half a point per doubling of confirmations, less per doubling of "not helpful". One
// confirmation adds half the best score of the search, three put the passage at the top; one
// "not helpful" alone scales it by e^-0.5 = 0.61.
double FeedbackLiftOf(int answered, int not_helpful) {
  return 0.5 * std::log2((1.0 + std::max(0, answered)) / (1.0 + std::max(0, not_helpful)));
}

}  // namespace

void KnowledgeBaseService::CountFeedback(const v1::RecordFeedbackRequest& r, int delta,
                                         const std::string& key, absl::Time time) {
  if (r.entry_id().empty() || r.type() == v1::FEEDBACK_TYPE_NO_ANSWER) return;
  if (!key.empty()) {
    if (delta > 0) {
      // A question that cannot be analysed (punctuation only) is simply not remembered.
      answer_memory_
          ->Add(RememberedAnswer{key, r.query(), r.entry_id(), r.passage_label(),
                                 r.type() == v1::FEEDBACK_TYPE_ANSWERED ? 1 : -1, time})
          .IgnoreError();
    } else {
      answer_memory_->Remove(key);
    }
  }
  const std::string normalized = NormalizeQuery(r.query());
  absl::MutexLock lock(&feedback_mu_);
  FeedbackTally& tally = feedback_[normalized][{r.entry_id(), r.passage_ordinal()}];
  if (r.type() == v1::FEEDBACK_TYPE_ANSWERED) tally.answered += delta;
  if (r.type() == v1::FEEDBACK_TYPE_NOT_HELPFUL) tally.not_helpful += delta;
}

std::shared_ptr<const v1::Entry> KnowledgeBaseService::InForceSuccessor(
    const std::string& entry_id) const {
  // Follow the supersede links to the version in force (a chain, bounded against loops).
  std::shared_ptr<const v1::Entry> entry = Head(entry_id);
  for (int hops = 0; entry != nullptr && EntryInactive(*entry) && hops < 8; ++hops) {
    entry = entry->superseded_by().empty() ? nullptr : Head(entry->superseded_by());
  }
  if (entry == nullptr || EntryInactive(*entry)) return nullptr;  // Nothing in force.
  return entry;
}

KnowledgeBaseService::CurrentVoteSet KnowledgeBaseService::CurrentVotes(const std::string& query,
                                                                        absl::Time now) const {
  CurrentVoteSet current;
  SimilarQuestionVotes votes = answer_memory_->Votes(query, now);
  current.confidence = votes.confidence;
  for (PassageVote v : votes.passages) {
    std::shared_ptr<const v1::Entry> entry = InForceSuccessor(v.entry_id);
    if (entry == nullptr) continue;
    // The same clause label in the successor: the search applies a vote only where the entry
    // has a passage of that label, so a clause that no longer exists gets none.
    v.entry_id = entry->id();
    PassageVote& merged = current.passages[{v.entry_id, v.passage_label}];
    merged.entry_id = v.entry_id;
    merged.passage_label = v.passage_label;
    merged.weight += v.weight;
    merged.confirmations += v.confirmations;
    merged.rejections += v.rejections;
  }
  for (const EntryVote& v : votes.entries) {
    if (std::shared_ptr<const v1::Entry> entry = InForceSuccessor(v.entry_id)) {
      current.entries[entry->id()] += v.weight;
    }
  }
  return current;
}

std::map<std::pair<std::string, int>, double> KnowledgeBaseService::FeedbackLift(
    const std::string& normalized_query) const {
  std::map<std::pair<std::string, int>, double> out;
  absl::MutexLock lock(&feedback_mu_);
  auto it = feedback_.find(normalized_query);
  if (it == feedback_.end()) return out;
  for (const auto& [passage, tally] : it->second) {
    if (tally.answered == 0 && tally.not_helpful == 0) continue;
    out[passage] = FeedbackLiftOf(tally.answered, tally.not_helpful);
  }
  return out;
}

absl::Status KnowledgeBaseService::NoteGap(const std::string& query, const std::string& principal,
                                           v1::GapReason reason, const std::string& occurrence,
                                           const std::string& entry_id,
                                           const std::string& passage_label, absl::Time now) {
  const std::string normalized = NormalizeQuery(query);
  if (normalized.empty()) return absl::OkStatus();
  absl::MutexLock lock(&gaps_mu_);
  rocksdb::ColumnFamilyHandle* family = store_->Family(kGapsFamily);
  ASSIGN_OR_RETURN(std::optional<std::string> stored, store_->Get(family, GapKey(normalized)));
  v1::Gap gap;
  if (stored.has_value() && !gap.ParseFromString(*stored)) {
    return absl::DataLossError(absl::StrCat("gap '", normalized, "' is corrupt"));
  }
  // Occurrences may be written out of order (a search's gap is written later, by a worker):
  // the first-seen time is the earliest, and only an occurrence after the gap was resolved
  // reopens it.
  if (!stored.has_value()) {
    gap.set_id(Sha256Hex(normalized).substr(0, 16));
    gap.set_normalized_question(normalized);
    SetTime(now, gap.mutable_first_seen_time());
  } else if (now < FromProtoTime(gap.first_seen_time())) {
    SetTime(now, gap.mutable_first_seen_time());
  }
  if (!gap.resolved() || now > FromProtoTime(gap.resolve_time())) {
    // A new occurrence after an answer was confirmed: the answer did not settle it after all.
    gap.set_resolved(false);
    gap.clear_resolve_time();
    gap.clear_resolved_by_entry_id();
  }

  const std::string key = OccurrencePrefix(normalized) + occurrence;
  ASSIGN_OR_RETURN(std::optional<std::string> seen, store_->Get(family, key));
  internal::GapOccurrence record;
  if (seen.has_value()) {
    if (!record.ParseFromString(*seen)) {
      return absl::DataLossError(absl::StrCat("gap occurrence '", key, "' is corrupt"));
    }
    if (ReasonStrength(reason) > ReasonStrength(record.reason())) record.set_reason(reason);
  } else {
    SetTime(now, record.mutable_time());
    record.set_principal(principal);
    record.set_query(query);
    record.set_reason(reason);
  }
  if (reason == v1::GAP_REASON_ONLY_UNHELPFUL) {
    bool known = false;
    for (const internal::UnhelpfulPassage& u : record.unhelpful()) {
      known |= u.entry_id() == entry_id && u.passage_label() == passage_label;
    }
    if (!known) {
      internal::UnhelpfulPassage* u = record.add_unhelpful();
      u->set_entry_id(entry_id);
      u->set_passage_label(passage_label);
    }
  }
  rocksdb::WriteBatch batch;
  batch.Put(family, GapKey(normalized), gap.SerializeAsString());
  batch.Put(family, key, record.SerializeAsString());
  return store_->Write(&batch);
}

absl::Status KnowledgeBaseService::ResolveGap(const std::string& query,
                                              const std::string& occurrence,
                                              const std::string& entry_id) {
  const std::string normalized = NormalizeQuery(query);
  if (normalized.empty()) return absl::OkStatus();
  absl::MutexLock lock(&gaps_mu_);
  rocksdb::ColumnFamilyHandle* family = store_->Family(kGapsFamily);
  ASSIGN_OR_RETURN(std::optional<std::string> stored, store_->Get(family, GapKey(normalized)));
  if (!stored.has_value()) return absl::OkStatus();  // Never a gap: nothing to resolve.
  v1::Gap gap;
  if (!gap.ParseFromString(*stored)) {
    return absl::DataLossError(absl::StrCat("gap '", normalized, "' is corrupt"));
  }
  rocksdb::WriteBatch batch;
  // The search itself had an answer after all, so it no longer counts as "only unhelpful";
  // a search that found nothing or was reported stays what it was.
  const std::string key = OccurrencePrefix(normalized) + occurrence;
  ASSIGN_OR_RETURN(std::optional<std::string> seen, store_->Get(family, key));
  internal::GapOccurrence record;
  if (seen.has_value() && record.ParseFromString(*seen) &&
      record.reason() == v1::GAP_REASON_ONLY_UNHELPFUL) {
    batch.Delete(family, key);
  }
  gap.set_resolved(true);
  SetTime(options_.clock->Now(), gap.mutable_resolve_time());
  gap.set_resolved_by_entry_id(entry_id);
  batch.Put(family, GapKey(normalized), gap.SerializeAsString());
  return store_->Write(&batch);
}

grpc::ServerUnaryReactor* KnowledgeBaseService::RecordFeedback(
    grpc::CallbackServerContext* context, const v1::RecordFeedbackRequest* request,
    v1::RecordFeedbackResponse* response) {
  return ServeOnPool(context, *workers_, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(
        Principal principal,
        AuthenticateAndAuthorize(*tokens_, *context, {Role::kAgent, Role::kReviewer, Role::kEditor},
                                 *request));
    const v1::RecordFeedbackRequest& r = *request;
    if (r.query().empty()) return absl::InvalidArgumentError("query: required");
    if (CodePointCount(r.query()) > 256) {
      return absl::InvalidArgumentError("query: longer than 256 code points");
    }
    if (r.type() == v1::FEEDBACK_TYPE_UNSPECIFIED) {
      return absl::InvalidArgumentError("type: required");
    }
    if (r.type() == v1::FEEDBACK_TYPE_NO_ANSWER && !r.entry_id().empty()) {
      return absl::InvalidArgumentError("entry_id: must be empty for NO_ANSWER");
    }
    if (r.type() != v1::FEEDBACK_TYPE_NO_ANSWER && r.entry_id().empty()) {
      return absl::InvalidArgumentError("entry_id: required for ANSWERED and NOT_HELPFUL");
    }
    if (r.passage_ordinal() < 0) {
      return absl::InvalidArgumentError("passage_ordinal: must not be negative");
    }
    if (CodePointCount(r.comment()) > 1000) {
      return absl::InvalidArgumentError("comment: longer than 1,000 code points");
    }
    return Mutate("feedback", r, response, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
      return DoFeedback(principal, r, response);
    });
  });
}

absl::Status KnowledgeBaseService::DoFeedback(const Principal& principal,
                                              const v1::RecordFeedbackRequest& r,
                                              v1::RecordFeedbackResponse* response) {
  if (!r.entry_id().empty()) {
    ASSIGN_OR_RETURN(std::optional<v1::Entry> entry, LoadEntry(r.entry_id()));
    if (!entry.has_value()) {
      return absl::NotFoundError(absl::StrCat("entry_id: no entry '", r.entry_id(), "'"));
    }
  }
  // The latest judgement of one principal on one passage of one search wins.
  const std::string key = absl::StrCat("f/", r.search_id(), "\n", principal.name, "\n",
                                       r.entry_id(), "\n", r.passage_label());
  rocksdb::ColumnFamilyHandle* family = store_->Family(kGapsFamily);
  ASSIGN_OR_RETURN(std::optional<std::string> previous, store_->Get(family, key));
  const absl::Time now = options_.clock->Now();
  {
    // The judgement and when it was given, in one synced write.
    rocksdb::WriteBatch batch;
    batch.Put(family, key, r.SerializeAsString());
    batch.Put(family, absl::StrCat("t", key), absl::StrCat(absl::ToUnixMicros(now)));
    RETURN_IF_ERROR(store_->Write(&batch));
  }
  if (previous.has_value()) {
    v1::RecordFeedbackRequest replaced;
    if (replaced.ParseFromString(*previous)) CountFeedback(replaced, -1, key);
  }
  CountFeedback(r, +1, key, now);
  const std::string feedback_id = Sha256Hex(key).substr(0, 16);
  // One search is one occurrence; feedback without a search id stands for its own.
  const std::string occurrence = r.search_id().empty() ? "f:" + feedback_id : r.search_id();
  switch (r.type()) {
    case v1::FEEDBACK_TYPE_NO_ANSWER:
      RETURN_IF_ERROR(NoteGap(r.query(), principal.name, v1::GAP_REASON_REPORTED_NO_ANSWER,
                              occurrence, "", "", options_.clock->Now()));
      break;
    case v1::FEEDBACK_TYPE_NOT_HELPFUL: {
      // A search in which some hit was confirmed is not a gap, whatever else was unhelpful.
      bool answered = false;
      if (!r.search_id().empty()) {
        RETURN_IF_ERROR(store_->ScanPrefix(family, absl::StrCat("f/", r.search_id(), "\n"),
                                           [&](absl::string_view, absl::string_view value) {
                                             v1::RecordFeedbackRequest other;
                                             answered |=
                                                 other.ParseFromString(std::string(value)) &&
                                                 other.type() == v1::FEEDBACK_TYPE_ANSWERED;
                                             return !answered;
                                           }));
      }
      if (!answered) {
        RETURN_IF_ERROR(NoteGap(r.query(), principal.name, v1::GAP_REASON_ONLY_UNHELPFUL,
                                occurrence, r.entry_id(), r.passage_label(),
                                options_.clock->Now()));
      }
      break;
    }
    case v1::FEEDBACK_TYPE_ANSWERED:
      RETURN_IF_ERROR(ResolveGap(r.query(), occurrence, r.entry_id()));
      // Enough similar questions answered from one passage make a draft Q&A pair.
      RETURN_IF_ERROR(ProposeDraft(r.entry_id(), r.passage_label()));
      break;
    default:
      break;
  }
  response->set_feedback_id(feedback_id);
  SetTime(options_.clock->Now(), response->mutable_record_time());
  response->set_replaced_previous(previous.has_value());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Gap>> KnowledgeBaseService::CollectGaps(absl::Time start,
                                                                       absl::Time end) const {
  rocksdb::ColumnFamilyHandle* family = store_->Family(kGapsFamily);
  struct Tally {
    v1::Gap gap;
    absl::Time last_seen = absl::InfinitePast();
    std::map<std::string, int64_t> wordings;
    std::set<std::string> principals;
    std::map<std::pair<std::string, std::string>, int64_t> unhelpful;
  };
  std::map<std::string, Tally> tallies;
  absl::Status parse_error;
  RETURN_IF_ERROR(
      store_->ScanPrefix(family, "o/", [&](absl::string_view key, absl::string_view value) {
        const size_t newline = key.find('\n');
        internal::GapOccurrence o;
        if (newline == absl::string_view::npos || !o.ParseFromString(std::string(value))) {
          parse_error = absl::DataLossError(absl::StrCat("gap occurrence '", key, "' is corrupt"));
          return false;
        }
        Tally& t = tallies[std::string(key.substr(2, newline - 2))];
        const absl::Time time = FromProtoTime(o.time());
        t.last_seen = std::max(t.last_seen, time);
        if (time < start || time >= end) return true;
        t.gap.set_count(t.gap.count() + 1);
        switch (o.reason()) {
          case v1::GAP_REASON_NO_HITS:
            t.gap.set_no_hit_count(t.gap.no_hit_count() + 1);
            break;
          case v1::GAP_REASON_ONLY_UNHELPFUL:
            t.gap.set_unhelpful_count(t.gap.unhelpful_count() + 1);
            break;
          case v1::GAP_REASON_REPORTED_NO_ANSWER:
            t.gap.set_reported_count(t.gap.reported_count() + 1);
            break;
          default:
            break;
        }
        ++t.wordings[o.query()];
        t.principals.insert(o.principal());
        for (const internal::UnhelpfulPassage& u : o.unhelpful()) {
          ++t.unhelpful[{u.entry_id(), u.passage_label()}];
        }
        return true;
      }));
  RETURN_IF_ERROR(parse_error);
  std::vector<v1::Gap> out;
  for (auto& [normalized, t] : tallies) {
    if (t.gap.count() == 0) continue;  // Nothing in the window.
    ASSIGN_OR_RETURN(std::optional<std::string> stored, store_->Get(family, GapKey(normalized)));
    v1::Gap summary;
    if (!stored.has_value() || !summary.ParseFromString(*stored)) {
      return absl::DataLossError(absl::StrCat("gap '", normalized, "' is missing or corrupt"));
    }
    v1::Gap& gap = t.gap;
    gap.set_id(summary.id());
    gap.set_normalized_question(normalized);
    *gap.mutable_first_seen_time() = summary.first_seen_time();
    SetTime(t.last_seen, gap.mutable_last_seen_time());
    gap.set_resolved(summary.resolved());
    if (summary.resolved()) {
      *gap.mutable_resolve_time() = summary.resolve_time();
      gap.set_resolved_by_entry_id(summary.resolved_by_entry_id());
    }
    gap.set_principal_count(static_cast<int64_t>(t.principals.size()));
    // The reason with the most occurrences; on a tie, the stronger.
    std::vector<std::pair<int64_t, v1::GapReason>> reasons = {
        {gap.reported_count(), v1::GAP_REASON_REPORTED_NO_ANSWER},
        {gap.no_hit_count(), v1::GAP_REASON_NO_HITS},
        {gap.unhelpful_count(), v1::GAP_REASON_ONLY_UNHELPFUL}};
    gap.set_reason(
        std::max_element(reasons.begin(), reasons.end(), [](const auto& a, const auto& b) {
          return a.first != b.first ? a.first < b.first
                                    : ReasonStrength(a.second) < ReasonStrength(b.second);
        })->second);
    std::vector<std::pair<int64_t, std::string>> wordings;
    for (const auto& [text, n] : t.wordings) wordings.emplace_back(n, text);
    std::sort(wordings.begin(), wordings.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    gap.set_question(wordings.front().second);
    for (size_t i = 1; i < wordings.size() && gap.sample_queries_size() < 5; ++i) {
      gap.add_sample_queries(wordings[i].second);
    }
    std::vector<std::pair<int64_t, std::pair<std::string, std::string>>> unhelpful;
    for (const auto& [passage, n] : t.unhelpful) unhelpful.emplace_back(n, passage);
    std::sort(unhelpful.begin(), unhelpful.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    for (size_t i = 0; i < unhelpful.size() && i < 5; ++i) {
      v1::UnhelpfulHit* hit = gap.add_unhelpful_hits();
      hit->set_entry_id(unhelpful[i].second.first);
      hit->set_passage_label(unhelpful[i].second.second);
      hit->set_count(unhelpful[i].first);
      if (std::shared_ptr<const v1::Entry> entry = Head(hit->entry_id())) {
        hit->set_title(entry->title());
      }
    }
    out.push_back(std::move(gap));
  }
  return out;
}

grpc::ServerUnaryReactor* KnowledgeBaseService::ListGaps(grpc::CallbackServerContext* context,
                                                         const v1::ListGapsRequest* request,
                                                         v1::ListGapsResponse* response) {
  return ServeOnPool(context, *workers_, [=]() -> absl::Status {
    RETURN_IF_ERROR(
        AuthenticateAndAuthorize(*tokens_, *context, {Role::kEditor, Role::kSupervisor}, *request)
            .status());
    const v1::ListGapsRequest& r = *request;
    ASSIGN_OR_RETURN(int page_size, internal::PageSize(r.page_size()));
    if (r.min_count() < 0) return absl::InvalidArgumentError("min_count: must not be negative");
    const absl::Time now = options_.clock->Now();
    // Unset: up to and including this instant (end_time itself is exclusive).
    const absl::Time end =
        r.has_end_time() ? FromProtoTime(r.end_time()) : now + absl::Nanoseconds(1);
    const absl::Time start =
        r.has_start_time() ? FromProtoTime(r.start_time()) : end - absl::Hours(24 * 30);
    if (start > end) return absl::InvalidArgumentError("start_time: after end_time");
    const std::string request_hash = internal::FingerprintWithoutToken(r);
    int offset = 0;
    if (!r.page_token().empty()) {
      ASSIGN_OR_RETURN(offset, ParseOffsetPageToken(r.page_token(), request_hash,
                                                    internal::kMaxPageOffset, now));
    }
    ASSIGN_OR_RETURN(std::vector<v1::Gap> all, CollectGaps(start, end));
    const int64_t min_count = std::max<int64_t>(1, r.min_count());
    std::vector<v1::Gap> gaps;
    for (v1::Gap& gap : all) {
      if (gap.count() < min_count) continue;
      if (gap.resolved() && !r.include_resolved()) continue;
      if (!r.reasons().empty() &&
          std::find(r.reasons().begin(), r.reasons().end(), gap.reason()) == r.reasons().end()) {
        continue;
      }
      gaps.push_back(std::move(gap));
    }
    const bool by_count = r.order_by() == v1::GAP_ORDER_MOST_FREQUENT_FIRST;
    std::sort(gaps.begin(), gaps.end(), [by_count](const v1::Gap& a, const v1::Gap& b) {
      const absl::Time ta = FromProtoTime(a.last_seen_time());
      const absl::Time tb = FromProtoTime(b.last_seen_time());
      if (by_count && a.count() != b.count()) return a.count() > b.count();
      if (ta != tb) return ta > tb;
      return a.id() < b.id();
    });
    response->set_total_size(static_cast<int64_t>(gaps.size()));
    for (int i = offset; i < static_cast<int>(gaps.size()) && i < offset + page_size; ++i) {
      *response->add_gaps() = std::move(gaps[i]);
    }
    if (offset + page_size < static_cast<int>(gaps.size())) {
      response->set_next_page_token(
          MakePageToken({absl::StrCat(offset + page_size)}, request_hash, now));
    }
    return absl::OkStatus();
  });
}

}  // namespace hotline::kb
