// Suggest: as-you-type completion from entry titles, Q&A questions and frequent queries.
#include <glog/logging.h>

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "common/unary_call.h"
#include "services/kb/internal/entry_rules.h"
#include "services/kb/kb_service.h"
#include "services/kb/public_scope.h"

namespace hotline::kb {

namespace {

constexpr int kMaxPrefixCodePoints = 64;
constexpr int kDefaultSuggestions = 8;
constexpr int kMaxSuggestions = 20;
// A query is offered to other agents only once this many principals searched it.
constexpr int64_t kFrequentQueryPrincipals = 3;

// Six or more digits in a row are likely a phone or ID number: such queries are never shown to
// other agents.
bool HasLongDigitRun(absl::string_view q) {
  int run = 0;
  for (char c : q) {
    run = absl::ascii_isdigit(static_cast<unsigned char>(c)) ? run + 1 : 0;
    if (run >= 6) return true;
  }
  return false;
}

// Segment-wise: an entry of "湖南" applies to a caller in "湖南/长沙"; "全国" applies everywhere.
bool AppliesTo(absl::string_view entry_region, absl::string_view caller_region) {
  if (caller_region.empty() || entry_region.empty() || entry_region == "全国") return true;
  return caller_region == entry_region || (absl::StartsWith(caller_region, entry_region) &&
                                           caller_region[entry_region.size()] == '/');
}

// Where `prefix` matches `text` (case-insensitively for ASCII): the code-point range, and
// whether it is at the start.
std::optional<std::pair<int, int>> MatchRange(absl::string_view text, absl::string_view prefix) {
  const std::string lower_text = absl::AsciiStrToLower(text);
  const std::string lower_prefix = absl::AsciiStrToLower(prefix);
  const size_t at = lower_text.find(lower_prefix);
  if (at == std::string::npos) return std::nullopt;
  const int start = CodePointCount(absl::string_view(text).substr(0, at));
  return std::make_pair(start, start + CodePointCount(prefix));
}

}  // namespace

void KnowledgeBaseService::IndexSuggestions(const v1::Entry& entry) {
  std::vector<Completion> list;
  list.push_back(
      {entry.title(), v1::SUGGESTION_SOURCE_TITLE, entry.kind(), entry.status(), entry.region()});
  if (entry.has_qa_pair()) {
    if (entry.qa_pair().question() != entry.title()) {
      list.push_back({entry.qa_pair().question(), v1::SUGGESTION_SOURCE_QUESTION, entry.kind(),
                      entry.status(), entry.region()});
    }
    for (const std::string& q : entry.qa_pair().alternative_questions()) {
      list.push_back(
          {q, v1::SUGGESTION_SOURCE_QUESTION, entry.kind(), entry.status(), entry.region()});
    }
  }
  absl::MutexLock lock(&suggest_mu_);
  completions_[entry.id()] = std::move(list);
}

void KnowledgeBaseService::NoteQuery(const std::string& query, const std::string& principal) {
  const std::string normalized = NormalizeQuery(query);
  if (normalized.empty() || HasLongDigitRun(normalized)) return;
  const absl::Time now = options_.clock->Now();
  bool schedule = false;
  {
    absl::MutexLock lock(&query_log_mu_);
    PendingQuery& pending = pending_queries_[normalized];
    pending.question = query;
    ++pending.count;
    pending.principals.insert(principal);
    pending.last_seen = now;
    // Paced by real time whatever clock the service runs on: this is about I/O, not dates.
    if (!query_log_flush_scheduled_ &&
        (absl::Now() - query_log_flushed_ >= absl::Seconds(1) || pending_queries_.size() >= 4096)) {
      query_log_flush_scheduled_ = true;
      schedule = true;
    }
  }
  if (schedule) {
    workers_->Schedule([this] {
      if (absl::Status s = FlushQueryLog(); !s.ok()) LOG(WARNING) << "query counts: " << s;
    });
  }
}

absl::Status KnowledgeBaseService::FlushQueryLog() {
  absl::flat_hash_map<std::string, PendingQuery> pending;
  {
    absl::MutexLock lock(&query_log_mu_);
    pending.swap(pending_queries_);
    query_log_flushed_ = absl::Now();
    query_log_flush_scheduled_ = false;
  }
  if (pending.empty()) return absl::OkStatus();
  absl::MutexLock lock(&gaps_mu_);
  rocksdb::ColumnFamilyHandle* family = store_->Family(kGapsFamily);
  rocksdb::WriteBatch batch;
  for (const auto& [normalized, p] : pending) {
    const std::string key = "q/" + normalized;
    ASSIGN_OR_RETURN(std::optional<std::string> stored, store_->Get(family, key));
    // The Gap message doubles as a query counter: question, count, principals, last seen.
    v1::Gap counter;
    if (stored.has_value() && !counter.ParseFromString(*stored)) counter.Clear();
    counter.set_question(p.question);
    counter.set_normalized_question(normalized);
    counter.set_count(counter.count() + p.count);
    SetTime(p.last_seen, counter.mutable_last_seen_time());
    for (const std::string& principal : p.principals) {
      const std::string marker = absl::StrCat("qp/", normalized, "\n", principal);
      ASSIGN_OR_RETURN(std::optional<std::string> seen, store_->Get(family, marker));
      if (!seen.has_value()) {
        counter.set_principal_count(counter.principal_count() + 1);
        batch.Put(family, marker, "");
      }
    }
    batch.Put(family, key, counter.SerializeAsString());
  }
  // Unsynced: losing the last second of counts in a crash is harmless for suggestions.
  return store_->WriteUnsynced(&batch);
}

grpc::ServerUnaryReactor* KnowledgeBaseService::Suggest(grpc::CallbackServerContext* context,
                                                        const v1::SuggestRequest* request,
                                                        v1::SuggestResponse* response) {
  return ServeRead(context, StaffLane::kWorkers, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(Principal principal,
                     AuthenticateAndAuthorize(*tokens_, *context, kReadersAndPublic, *request));
    // The public scope completes from titles and questions only: what agents searched is
    // theirs, not the public's.
    const bool in_public = principal.role == Role::kPublic;
    v1::SuggestRequest narrowed;
    if (in_public) {
      narrowed = *request;
      RETURN_IF_ERROR(NarrowSuggestForPublic(&narrowed));
    }
    const v1::SuggestRequest& r = in_public ? narrowed : *request;
    if (CodePointCount(r.prefix()) > kMaxPrefixCodePoints) {
      return absl::InvalidArgumentError(
          absl::StrCat("prefix: longer than ", kMaxPrefixCodePoints, " code points"));
    }
    if (r.max_suggestions() < 0) {
      return absl::InvalidArgumentError("max_suggestions: must not be negative");
    }
    RETURN_IF_ERROR(CheckPath(r.applicable_region(), "applicable_region"));
    const int limit = r.max_suggestions() == 0 ? kDefaultSuggestions
                                               : std::min(r.max_suggestions(), kMaxSuggestions);
    const std::string prefix(absl::StripAsciiWhitespace(r.prefix()));

    // Frequent queries first: what colleagues actually searched is the likeliest completion.
    struct Scored {
      v1::Suggestion suggestion;
      int rank;  // 0: starts with the prefix, 1: contains it.
      int64_t count;
    };
    std::vector<Scored> frequent;
    if (!in_public) RETURN_IF_ERROR(FlushQueryLog());  // Every search so far counts.
    if (!in_public)
      RETURN_IF_ERROR(store_->ScanPrefix(
          store_->Family(kGapsFamily), "q/", [&](absl::string_view, absl::string_view value) {
            v1::Gap counter;
            if (!counter.ParseFromString(std::string(value)) ||
                counter.principal_count() < kFrequentQueryPrincipals) {
              return true;
            }
            std::optional<std::pair<int, int>> match = MatchRange(counter.question(), prefix);
            if (!match.has_value()) return true;
            Scored s{{}, match->first == 0 ? 0 : 1, counter.count()};
            s.suggestion.set_text(counter.question());
            s.suggestion.set_source(v1::SUGGESTION_SOURCE_FREQUENT_QUERY);
            s.suggestion.set_query_count(counter.count());
            if (!prefix.empty()) {
              v1::TextRange* h = s.suggestion.add_highlights();
              h->set_start(match->first);
              h->set_end(match->second);
            }
            frequent.push_back(std::move(s));
            return true;
          }));
    std::vector<Scored> entries;
    if (!prefix.empty()) {
      absl::MutexLock lock(&suggest_mu_);
      for (const auto& [id, list] : completions_) {
        for (const Completion& c : list) {
          if (!r.include_inactive() && IsInactive(c.status)) continue;
          if (!r.kinds().empty() &&
              std::find(r.kinds().begin(), r.kinds().end(), c.kind) == r.kinds().end()) {
            continue;
          }
          if (!AppliesTo(c.region, r.applicable_region())) continue;
          std::optional<std::pair<int, int>> match = MatchRange(c.text, prefix);
          if (!match.has_value()) continue;
          Scored s{{}, match->first == 0 ? 0 : 1, 0};
          s.suggestion.set_text(c.text);
          s.suggestion.set_source(c.source);
          s.suggestion.set_entry_id(id);
          s.suggestion.set_entry_kind(c.kind);
          v1::TextRange* h = s.suggestion.add_highlights();
          h->set_start(match->first);
          h->set_end(match->second);
          entries.push_back(std::move(s));
        }
      }
    }
    auto order = [](const Scored& a, const Scored& b) {
      if (a.rank != b.rank) return a.rank < b.rank;
      if (a.count != b.count) return a.count > b.count;
      // Shorter completions first: they need the least reading while on a call.
      const int la = CodePointCount(a.suggestion.text()), lb = CodePointCount(b.suggestion.text());
      if (la != lb) return la < lb;
      return a.suggestion.text() < b.suggestion.text();
    };
    std::sort(frequent.begin(), frequent.end(), order);
    std::sort(entries.begin(), entries.end(), order);
    std::set<std::string> shown;
    for (std::vector<Scored>* group : {&frequent, &entries}) {
      for (Scored& s : *group) {
        if (response->suggestions_size() >= limit) break;
        if (!shown.insert(s.suggestion.text()).second) continue;
        *response->add_suggestions() = std::move(s.suggestion);
      }
    }
    return absl::OkStatus();
  });
}

}  // namespace hotline::kb
