#include "services/kb/internal/entry_rules.h"

#include <algorithm>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "common/status_macros.h"
#include "services/kb/engine/passages.h"
#include "services/kb/ingest/cleaner.h"

namespace hotline::kb {
namespace {

// Civil dates in the API are China Standard Time days; China has no daylight saving time.
absl::TimeZone ChinaTime() { return absl::FixedTimeZone(8 * 3600); }

// Which body a kind must carry.
v1::Entry::BodyCase BodyOf(v1::EntryKind kind) {
  switch (kind) {
    case v1::ENTRY_KIND_POLICY_DOCUMENT:
      return v1::Entry::kPolicyDocument;
    case v1::ENTRY_KIND_QA_PAIR:
      return v1::Entry::kQaPair;
    case v1::ENTRY_KIND_SERVICE_GUIDE:
      return v1::Entry::kServiceGuide;
    case v1::ENTRY_KIND_HOT_TOPIC:
      return v1::Entry::kHotTopic;
    default:
      return v1::Entry::BODY_NOT_SET;
  }
}

// A service guide's fields as Markdown sections, so that search answers with the section
// (materials, conditions, ...) that the caller asks about.
std::string GuideMarkdown(const v1::ServiceGuide& g) {
  std::string md;
  auto section = [&md](absl::string_view heading, absl::string_view text) {
    if (!text.empty()) absl::StrAppend(&md, "## ", heading, "\n", text, "\n\n");
  };
  section("事项名称", g.matter_name());
  section("办理条件", g.conditions());
  std::vector<std::string> materials;
  for (const v1::ServiceMaterial& m : g.materials()) {
    materials.push_back(absl::StrCat(m.name(), m.required() ? "（必需）" : "", m.note()));
  }
  section("申请材料", absl::StrJoin(materials, "\n"));
  section("办理流程", g.procedure());
  std::string limit = g.time_limit_note();
  if (limit.empty() && g.promised_limit_working_days() > 0) {
    limit = absl::StrCat("承诺时限", g.promised_limit_working_days(), "个工作日");
  }
  section("办理时限", limit);
  section("收费标准", g.free_of_charge() ? "不收费" : g.fee_description());
  std::vector<std::string> places;
  for (const v1::ServiceLocation& l : g.locations()) {
    places.push_back(absl::StrCat(l.name(), " ", l.address(), " ", l.opening_hours()));
  }
  section("办理地点", absl::StrJoin(places, "\n"));
  section("责任部门", g.responsible_department());
  return md;
}

// Raw content to the Markdown-like text that the passage splitters read.
absl::StatusOr<std::string> RawToText(const v1::RawContent& raw) {
  switch (raw.format()) {
    case v1::CONTENT_FORMAT_HTML:
      return ingest::HtmlToText(raw.text());
    case v1::CONTENT_FORMAT_PLAIN_TEXT:
    case v1::CONTENT_FORMAT_MARKDOWN:
      return raw.text();
    default:
      return absl::InvalidArgumentError("raw_content.format: must be specified");
  }
}

void SetPassages(const std::vector<PassageText>& passages, v1::Entry* entry) {
  entry->clear_passages();
  int ordinal = 0;
  for (const PassageText& p : passages) {
    v1::Passage* out = entry->add_passages();
    out->set_label(p.label);
    out->set_text(p.text);
    out->set_ordinal(ordinal++);
    if (!p.heading.empty()) out->add_headings(p.heading);
  }
}

}  // namespace

std::string Today(const Clock& clock) {
  return absl::FormatCivilTime(absl::ToCivilDay(clock.Now(), ChinaTime()));
}

// Round-tripping rejects both bad syntax and impossible days such as 2023-02-30, which
// absl would otherwise normalise to March.
bool IsDate(absl::string_view s) {
  absl::CivilDay day;
  return s.size() == 10 && absl::ParseCivilTime(s, &day) && absl::FormatCivilTime(day) == s;
}

absl::Status CheckDate(absl::string_view value, absl::string_view field) {
  if (value.empty() || IsDate(value)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, ": must be YYYY-MM-DD, got ", value));
}

absl::Status CheckPath(absl::string_view value, absl::string_view field) {
  if (value.empty()) return absl::OkStatus();
  for (absl::string_view segment : absl::StrSplit(value, '/')) {
    if (segment.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": '/'-separated non-empty segments without leading or trailing '/', got ",
          value));
    }
  }
  return absl::OkStatus();
}

// Ids appear in keys, logs and URLs of the console, so they are kept to a safe alphabet.
bool IsValidId(absl::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' ||
           c == '.';
  });
}

absl::Status CheckRequestId(absl::string_view id) {
  if (id.empty() || (id.size() <= 64 && IsValidId(id))) return absl::OkStatus();
  return absl::InvalidArgumentError("request_id: 1 to 64 letters, digits, '-', '_', ':' or '.'");
}

bool IsInactive(v1::EntryStatus status) {
  return status == v1::ENTRY_STATUS_AMENDED || status == v1::ENTRY_STATUS_REPEALED ||
         status == v1::ENTRY_STATUS_EXPIRED;
}

v1::EntryStatus InitialStatus(const v1::Entry& e, const Clock& clock) {
  const std::string effective = e.has_policy_document() ? e.policy_document().effective_date() : "";
  return !effective.empty() && effective > Today(clock) ? v1::ENTRY_STATUS_NOT_YET_EFFECTIVE
                                                        : v1::ENTRY_STATUS_IN_FORCE;
}

bool EntryInactive(const v1::Entry& e) {
  return IsInactive(e.status()) ||
         (e.has_qa_pair() && IsInactive(e.qa_pair().source_document_status()));
}

std::optional<DueStatusChange> NextDueStatusChange(const v1::Entry& e) {
  // An editor's scheduled change comes first: it was decided for this very entry.
  if (e.has_pending_status_change()) {
    return DueStatusChange{e.pending_status_change().effective_date(), e.pending_status_change()};
  }
  if (!e.has_policy_document()) return std::nullopt;
  const v1::PolicyDocument& p = e.policy_document();
  if (e.status() == v1::ENTRY_STATUS_NOT_YET_EFFECTIVE && IsDate(p.effective_date())) {
    DueStatusChange due{p.effective_date(), {}};
    due.change.set_from_status(e.status());
    due.change.set_to_status(v1::ENTRY_STATUS_IN_FORCE);
    due.change.set_effective_date(p.effective_date());
    due.change.set_reason("施行日期已到");
    return due;
  }
  absl::CivilDay last_day;
  if ((e.status() == v1::ENTRY_STATUS_IN_FORCE || e.status() == v1::ENTRY_STATUS_AMENDED) &&
      IsDate(p.expiry_date()) && absl::ParseCivilTime(p.expiry_date(), &last_day)) {
    // expiry_date is the last day of validity (有效期至): expired from the day after.
    const std::string day_after = absl::FormatCivilTime(last_day + 1);
    DueStatusChange due{day_after, {}};
    due.change.set_from_status(e.status());
    due.change.set_to_status(v1::ENTRY_STATUS_EXPIRED);
    due.change.set_effective_date(day_after);
    due.change.set_reason(absl::StrCat("有效期至", p.expiry_date(), "，已届满"));
    return due;
  }
  return std::nullopt;
}

void ApplyStatusChange(const v1::StatusChange& change, v1::Entry* e) {
  e->set_status(change.to_status());
  if (!change.superseded_by().empty()) e->set_superseded_by(change.superseded_by());
  *e->add_status_history() = change;
  e->clear_pending_status_change();
  e->set_inactive(EntryInactive(*e));
}

std::string NewId(absl::string_view prefix) {
  static thread_local std::mt19937_64 random(std::random_device{}());
  return absl::StrCat(prefix, absl::Hex(random(), absl::kZeroPad16));
}

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t micros = absl::ToUnixMicros(t);
  out->set_seconds(micros / 1000000);
  out->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
}

void StartFirstVersion(const std::string& by, absl::Time now, v1::Entry* entry) {
  entry->set_version(1);
  SetTime(now, entry->mutable_create_time());
  entry->set_created_by(by);
  entry->clear_status_history();
  entry->clear_pending_status_change();
  entry->clear_superseded_by();
  entry->clear_supersedes();
  entry->clear_merged_ids();
  entry->clear_sources();
}

// Computes the entry's passages from its body (Q&A pairs, guides, hot topics) or from the raw
// content sent with it (policy documents); without raw content a policy keeps the passages it
// has (an update that does not touch the text).
absl::Status ComputePassages(const v1::RawContent* raw, v1::Entry* entry) {
  switch (entry->kind()) {
    case v1::ENTRY_KIND_POLICY_DOCUMENT: {
      if (raw == nullptr) return absl::OkStatus();
      ASSIGN_OR_RETURN(std::string text, RawToText(*raw));
      SetPassages(SplitRegulation(text, /*articles_only=*/false), entry);
      return absl::OkStatus();
    }
    case v1::ENTRY_KIND_QA_PAIR: {
      // One passage: the answer only makes sense with its question.
      const v1::QaPair& qa = entry->qa_pair();
      SetPassages({PassageText{"", "", absl::StrCat(qa.question(), "\n", qa.answer())}}, entry);
      return absl::OkStatus();
    }
    case v1::ENTRY_KIND_SERVICE_GUIDE: {
      std::string md = GuideMarkdown(entry->service_guide());
      if (raw != nullptr) {
        ASSIGN_OR_RETURN(md, RawToText(*raw));
      }
      SetPassages(SplitSections(md), entry);
      return absl::OkStatus();
    }
    case v1::ENTRY_KIND_HOT_TOPIC:
      SetPassages({PassageText{"", "", entry->hot_topic().reply_script()}}, entry);
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError("entry.kind: must be specified");
  }
}

// What the search engine indexes of an entry.
DocumentInput ToDocument(const v1::Entry& e) {
  DocumentInput d;
  d.id = e.id();
  d.title = e.title();
  d.kind = e.kind();
  d.status = e.status();
  d.region = e.region();
  d.category_path = e.category_path();
  d.update_micros = absl::ToUnixMicros(FromProtoTime(e.update_time()));
  d.tags.assign(e.tags().begin(), e.tags().end());
  d.tags.insert(d.tags.end(), e.keywords().begin(), e.keywords().end());
  switch (e.body_case()) {
    case v1::Entry::kPolicyDocument: {
      const v1::PolicyDocument& p = e.policy_document();
      if (!p.short_title().empty()) d.other_titles.push_back(p.short_title());
      if (!p.doc_number().empty()) d.other_titles.push_back(p.doc_number());
      d.agencies.assign(p.issuing_agencies().begin(), p.issuing_agencies().end());
      d.level = p.level();
      d.publish_date = p.publish_date();
      d.effective_date = p.effective_date();
      break;
    }
    case v1::Entry::kQaPair:
      d.source_inactive = IsInactive(e.qa_pair().source_document_status());
      d.question = absl::StrJoin(
          {e.qa_pair().question(), absl::StrJoin(e.qa_pair().alternative_questions(), "\n")}, "\n");
      break;
    case v1::Entry::kServiceGuide:
      if (!e.service_guide().responsible_department().empty()) {
        d.agencies.push_back(e.service_guide().responsible_department());
      }
      break;
    case v1::Entry::kHotTopic:
      d.question = absl::StrJoin(e.hot_topic().sample_questions(), "\n");
      break;
    default:
      break;
  }
  for (const v1::Passage& p : e.passages()) {
    d.passages.push_back(
        PassageText{p.label(), p.headings().empty() ? "" : p.headings(0), p.text()});
  }
  return d;
}

// The basis links of an entry: those an editor set, plus the Q&A pair's source document.
std::vector<std::string> BasisTargets(const v1::Entry& e) {
  std::vector<std::string> out;
  if (e.has_qa_pair() && !e.qa_pair().source_document_id().empty()) {
    out.push_back(e.qa_pair().source_document_id());
  }
  for (const v1::EntryLink& l : e.links()) {
    if (l.relation() == v1::LINK_RELATION_BASIS) out.push_back(l.target_id());
  }
  return out;
}

// Allowed life-cycle transitions (see SetStatus in kb.proto).
bool TransitionAllowed(v1::EntryStatus from, v1::EntryStatus to) {
  switch (from) {
    case v1::ENTRY_STATUS_NOT_YET_EFFECTIVE:
      return to == v1::ENTRY_STATUS_IN_FORCE || to == v1::ENTRY_STATUS_REPEALED;
    case v1::ENTRY_STATUS_IN_FORCE:
      return to == v1::ENTRY_STATUS_AMENDED || to == v1::ENTRY_STATUS_REPEALED ||
             to == v1::ENTRY_STATUS_EXPIRED;
    case v1::ENTRY_STATUS_AMENDED:
      return to == v1::ENTRY_STATUS_REPEALED || to == v1::ENTRY_STATUS_EXPIRED;
    case v1::ENTRY_STATUS_REPEALED:
    case v1::ENTRY_STATUS_EXPIRED:
      return to == v1::ENTRY_STATUS_IN_FORCE;
    default:
      return false;
  }
}

// Queries are grouped into gaps by this form: case and runs of white space do not make a
// different question.
std::string NormalizeQuery(absl::string_view q) {
  // Full-width forms and odd spaces first, as the cleaner does for documents.
  absl::StatusOr<std::string> cleaned = ingest::NormalizeText(q);
  std::string text = absl::AsciiStrToLower(cleaned.ok() ? *cleaned : std::string(q));
  // Punctuation does not make another question.
  static const std::vector<std::pair<std::string, std::string>> kChinesePunctuation = {
      {"，", " "}, {"。", " "}, {"；", " "}, {"：", " "}, {"？", " "}, {"！", " "}, {"、", " "},
      {"“", " "},  {"”", " "},  {"‘", " "},  {"’", " "},  {"（", " "}, {"）", " "}, {"《", " "},
      {"》", " "}, {"【", " "}, {"】", " "}, {"…", " "},  {"—", " "},  {"·", " "}};
  text = absl::StrReplaceAll(text, kChinesePunctuation);
  for (char& c : text) {
    if (absl::ascii_ispunct(static_cast<unsigned char>(c))) c = ' ';
  }
  // Chinese is written without spaces, so a space only separates two Latin words or numbers.
  std::string out;
  for (absl::string_view piece :
       absl::StrSplit(text, absl::ByAnyChar(" \t\r\n"), absl::SkipEmpty())) {
    if (!out.empty() && absl::ascii_isalnum(static_cast<unsigned char>(out.back())) &&
        absl::ascii_isalnum(static_cast<unsigned char>(piece.front()))) {
      out += ' ';
    }
    absl::StrAppend(&out, piece);
  }
  return out;
}

// Policy documents are de-duplicated by their passages' text; other kinds are short texts
// written for the knowledge base, where a fingerprint would mostly find false matches.
std::optional<ingest::DedupDocument> DedupInput(const v1::Entry& e) {
  if (!e.has_policy_document()) return std::nullopt;
  ingest::DedupDocument d;
  d.id = e.id();
  d.source = e.sources().empty() ? "" : e.sources(0).source_name();
  std::vector<absl::string_view> texts;
  for (const v1::Passage& p : e.passages()) texts.push_back(p.text());
  d.text = absl::StrJoin(texts, "\n");
  d.title = e.title();
  d.doc_number = e.policy_document().doc_number();
  d.publish_date = e.policy_document().publish_date();
  return d;
}

absl::Status CheckWebAddress(absl::string_view url, absl::string_view field) {
  if (url.empty()) return absl::OkStatus();
  const std::string lower = absl::AsciiStrToLower(url.substr(0, 8));
  if (!absl::StartsWith(lower, "https://") && !absl::StartsWith(lower, "http://")) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be an http:// or https:// address"));
  }
  if (url.size() > 2000) return absl::InvalidArgumentError(absl::StrCat(field, ": too long"));
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": must not contain spaces or control characters"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateUpsert(const v1::UpsertEntryRequest& r) {
  RETURN_IF_ERROR(CheckRequestId(r.request_id()));
  if (r.expected_version() < 0) {
    return absl::InvalidArgumentError("expected_version: must not be negative");
  }
  if (CodePointCount(r.raw_content().text()) > kMaxRawContentCodePoints) {
    return absl::InvalidArgumentError(
        absl::StrCat("raw_content.text: longer than ", kMaxRawContentCodePoints, " code points"));
  }
  const v1::Entry& e = r.entry();
  if (r.expected_version() > 0 && e.id().empty()) {
    return absl::InvalidArgumentError("entry.id: required for an update");
  }
  if (!e.id().empty() && !IsValidId(e.id())) {
    return absl::InvalidArgumentError("entry.id: 1 to 128 letters, digits, '-', '_', ':' or '.'");
  }
  if (e.title().empty()) return absl::InvalidArgumentError("entry.title: required");
  if (e.kind() == v1::ENTRY_KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError("entry.kind: required");
  }
  if (e.body_case() != BodyOf(e.kind())) {
    return absl::InvalidArgumentError(
        absl::StrCat("entry.body: does not match entry.kind ", v1::EntryKind_Name(e.kind())));
  }
  RETURN_IF_ERROR(CheckPath(e.category_path(), "entry.category_path"));
  RETURN_IF_ERROR(CheckPath(e.region(), "entry.region"));
  if (e.has_policy_document()) {
    const v1::PolicyDocument& p = e.policy_document();
    RETURN_IF_ERROR(CheckDate(p.publish_date(), "entry.policy_document.publish_date"));
    RETURN_IF_ERROR(CheckDate(p.effective_date(), "entry.policy_document.effective_date"));
    RETURN_IF_ERROR(CheckDate(p.expiry_date(), "entry.policy_document.expiry_date"));
  }
  if (e.has_qa_pair()) {
    if (e.qa_pair().question().empty()) {
      return absl::InvalidArgumentError("entry.qa_pair.question: required");
    }
    if (e.qa_pair().answer().empty()) {
      return absl::InvalidArgumentError("entry.qa_pair.answer: required");
    }
  }
  if (e.has_service_guide()) {
    const v1::ServiceGuide& g = e.service_guide();
    RETURN_IF_ERROR(
        CheckWebAddress(g.online_service_url(), "entry.service_guide.online_service_url"));
    for (int i = 0; i < g.materials_size(); ++i) {
      RETURN_IF_ERROR(
          CheckWebAddress(g.materials(i).template_url(),
                          absl::StrCat("entry.service_guide.materials[", i, "].template_url")));
    }
  }
  for (int i = 0; i < e.sources_size(); ++i) {
    RETURN_IF_ERROR(
        CheckWebAddress(e.sources(i).url(), absl::StrCat("entry.sources[", i, "].url")));
  }
  if (e.has_hot_topic()) {
    RETURN_IF_ERROR(CheckDate(e.hot_topic().valid_from(), "entry.hot_topic.valid_from"));
    RETURN_IF_ERROR(CheckDate(e.hot_topic().valid_until(), "entry.hot_topic.valid_until"));
  }
  for (int i = 0; i < e.links_size(); ++i) {
    const v1::EntryLink& l = e.links(i);
    if (l.relation() == v1::LINK_RELATION_DERIVED) continue;  // Output only: ignored.
    const std::string field = absl::StrCat("entry.links[", i, "]");
    if (l.relation() == v1::LINK_RELATION_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".relation: required"));
    }
    if (l.target_id().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".target_id: required"));
    }
    if (!e.id().empty() && l.target_id() == e.id()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".target_id: links to the entry itself"));
    }
  }
  if (r.has_raw_content() && r.raw_content().format() == v1::CONTENT_FORMAT_UNSPECIFIED) {
    return absl::InvalidArgumentError("raw_content.format: must be specified");
  }
  return absl::OkStatus();
}

}  // namespace hotline::kb
