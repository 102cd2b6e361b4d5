#include "services/kb/importers/entry_format.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/kb/importers/lawref_format.h"

namespace hotline::kb::importers {
namespace {

using nlohmann::json;

std::string Text(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array()) {
    // Some guide fields (conditions, how) are lists of lines.
    std::vector<std::string> lines;
    for (const json& line : *it) {
      if (line.is_string()) lines.push_back(line.get<std::string>());
    }
    return absl::StrJoin(lines, "\n");
  }
  return it->dump();
}

std::vector<std::string> List(const json& j, const char* field) {
  std::vector<std::string> out;
  auto it = j.find(field);
  if (it == j.end()) return out;
  if (it->is_string() && !it->get<std::string>().empty()) return {it->get<std::string>()};
  if (!it->is_array()) return out;
  for (const json& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

// A whole number given as a number or as digits in a string (CSV cells are strings).
absl::StatusOr<int> WholeNumber(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return 0;
  if (it->is_number_integer()) return it->get<int>();
  int value = 0;
  if (it->is_string()) {
    std::string text(absl::StripAsciiWhitespace(it->get<std::string>()));
    if (text.empty()) return 0;
    if (absl::SimpleAtoi(text, &value) && value >= 0) return value;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": must be a whole number of working days, got ",
                   it->dump(-1, ' ', false, json::error_handler_t::replace)));
}

bool Flag(const json& j, const char* field, bool default_value) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return default_value;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) {
    std::string text = absl::AsciiStrToLower(it->get<std::string>());
    if (text == "true" || text == "yes" || text == "是") return true;
    if (text == "false" || text == "no" || text == "否") return false;
  }
  return default_value;
}

absl::StatusOr<v1::EntryStatus> StatusFromName(absl::string_view name) {
  if (name.empty()) return v1::ENTRY_STATUS_UNSPECIFIED;  // Derived by the import from the dates.
  if (name == "in_force") return v1::ENTRY_STATUS_IN_FORCE;
  if (name == "amended") return v1::ENTRY_STATUS_AMENDED;
  if (name == "repealed") return v1::ENTRY_STATUS_REPEALED;
  if (name == "expired") return v1::ENTRY_STATUS_EXPIRED;
  if (name == "not_yet_effective") return v1::ENTRY_STATUS_NOT_YET_EFFECTIVE;
  return absl::InvalidArgumentError(absl::StrCat(
      "status: unknown status '", name,
      "' (in_force, amended, repealed, expired, not_yet_effective, or empty to derive it)"));
}

absl::StatusOr<v1::HandlingChannel> ChannelFromName(absl::string_view name) {
  if (name == "online") return v1::HANDLING_CHANNEL_ONLINE;
  if (name == "mobile") return v1::HANDLING_CHANNEL_MOBILE;
  if (name == "window") return v1::HANDLING_CHANNEL_WINDOW;
  if (name == "self_service" || name == "self_service_terminal") {
    return v1::HANDLING_CHANNEL_SELF_SERVICE_TERMINAL;
  }
  if (name == "post") return v1::HANDLING_CHANNEL_POST;
  return absl::InvalidArgumentError(
      absl::StrCat("channels: unknown channel '", name,
                   "' (online, mobile, window, self_service_terminal, post)"));
}

absl::StatusOr<v1::ContentFormat> BodyFormat(absl::string_view name) {
  if (name.empty() || name == "markdown") return v1::CONTENT_FORMAT_MARKDOWN;
  if (name == "plain" || name == "text") return v1::CONTENT_FORMAT_PLAIN_TEXT;
  if (name == "html") return v1::CONTENT_FORMAT_HTML;
  return absl::InvalidArgumentError(
      absl::StrCat("body_format: unknown format '", name, "' (markdown, plain, html)"));
}

void AddLinks(const std::vector<std::string>& ids, v1::LinkRelation relation, v1::Entry* e) {
  for (const std::string& id : ids) {
    v1::EntryLink* link = e->add_links();
    link->set_relation(relation);
    link->set_target_id(id);
  }
}

absl::Status FillPolicy(const json& j, v1::ImportItem& item) {
  v1::Entry* e = item.mutable_entry();
  e->set_kind(v1::ENTRY_KIND_POLICY_DOCUMENT);
  e->set_title(Text(j, "title"));
  absl::StatusOr<v1::EntryStatus> status = StatusFromName(Text(j, "status"));
  if (!status.ok()) return status.status();
  e->set_status(*status);
  v1::PolicyDocument* p = e->mutable_policy_document();
  p->set_doc_number(Text(j, "doc_number"));
  if (std::string lead = Text(j, "issuing_agency"); !lead.empty()) p->add_issuing_agencies(lead);
  for (const std::string& a : List(j, "co_issuing_agencies")) p->add_issuing_agencies(a);
  p->set_level_text(Text(j, "level"));
  p->set_level(PolicyLevelFromName(p->level_text()));
  p->set_short_title(Text(j, "short_title"));
  p->set_publish_date(Text(j, "publish_date"));
  p->set_effective_date(Text(j, "effective_date"));
  p->set_expiry_date(Text(j, "expiry_date"));
  e->set_superseded_by(Text(j, "superseded_by"));
  for (const std::string& id : List(j, "supersedes")) e->add_supersedes(id);
  absl::StatusOr<v1::ContentFormat> format = BodyFormat(Text(j, "body_format"));
  if (!format.ok()) return format.status();
  item.mutable_content()->set_format(*format);
  item.mutable_content()->set_text(Text(j, "body"));
  return absl::OkStatus();
}

void FillQa(const json& j, v1::Entry* e) {
  e->set_kind(v1::ENTRY_KIND_QA_PAIR);
  e->set_title(Text(j, "question"));
  v1::QaPair* qa = e->mutable_qa_pair();
  qa->set_question(Text(j, "question"));
  for (const std::string& q : List(j, "alternative_questions")) qa->add_alternative_questions(q);
  qa->set_answer(Text(j, "answer"));
  qa->set_source_document_id(Text(j, "source_entry_id"));
  qa->set_source_passage_label(Text(j, "source_passage"));
}

absl::Status FillGuide(const json& j, v1::Entry* e) {
  e->set_kind(v1::ENTRY_KIND_SERVICE_GUIDE);
  e->set_title(Text(j, "title"));
  v1::ServiceGuide* g = e->mutable_service_guide();
  g->set_matter_name(Text(j, "matter"));
  if (e->title().empty()) e->set_title(g->matter_name());
  g->set_responsible_department(Text(j, "department"));
  for (const std::string& a : List(j, "audiences")) g->add_audiences(a);
  g->set_conditions(Text(j, "conditions"));
  if (auto it = j.find("materials"); it != j.end() && it->is_array()) {
    for (const json& m : *it) {
      v1::ServiceMaterial* out = g->add_materials();
      if (m.is_string()) {  // A bare name: a required material.
        out->set_name(m.get<std::string>());
        out->set_required(true);
        continue;
      }
      out->set_name(Text(m, "name"));
      out->set_form(Text(m, "form"));
      out->set_note(Text(m, "note"));
      out->set_required(Flag(m, "required", false));
      absl::StatusOr<int> copies = WholeNumber(m, "copies");
      if (!copies.ok())
        return absl::InvalidArgumentError(absl::StrCat("materials.", copies.status().message()));
      out->set_copies(*copies);
    }
  }
  g->set_procedure(Text(j, "how"));
  g->set_time_limit_note(Text(j, "time_limit"));
  absl::StatusOr<int> days = WholeNumber(j, "promised_working_days");
  if (!days.ok()) return days.status();
  g->set_promised_limit_working_days(*days);
  g->set_immediate(Text(j, "time_limit") == "即办件");
  g->set_fee_description(Text(j, "fees"));
  g->set_free_of_charge(absl::StartsWith(g->fee_description(), "不收费"));
  for (const std::string& c : List(j, "channels")) {
    absl::StatusOr<v1::HandlingChannel> channel = ChannelFromName(c);
    if (!channel.ok()) return channel.status();
    g->add_channels(*channel);
  }
  g->set_online_service_url(Text(j, "online_url"));
  if (auto it = j.find("where"); it != j.end() && it->is_array()) {
    for (const json& w : *it) {
      v1::ServiceLocation* out = g->add_locations();
      out->set_name(Text(w, "name"));
      out->set_address(Text(w, "address"));
      out->set_opening_hours(Text(w, "hours"));
      out->set_phone(Text(w, "phone"));
    }
  }
  g->set_consultation_phone(Text(j, "consultation_phone"));
  AddLinks(List(j, "policy_ids"), v1::LINK_RELATION_BASIS, e);
  return absl::OkStatus();
}

void FillHotTopic(const json& j, v1::Entry* e) {
  e->set_kind(v1::ENTRY_KIND_HOT_TOPIC);
  e->set_title(Text(j, "title"));
  v1::HotTopic* h = e->mutable_hot_topic();
  h->set_reply_script(Text(j, "body"));
  for (const std::string& q : List(j, "sample_questions")) h->add_sample_questions(q);
  h->set_issuing_department(Text(j, "issuing_department"));
  h->set_valid_from(Text(j, "valid_from"));
  h->set_valid_until(Text(j, "valid_until"));
  AddLinks(List(j, "related_ids"), v1::LINK_RELATION_RELATED, e);
}

}  // namespace

bool IsEntryObject(const nlohmann::json& object) {
  return object.is_object() && object.contains("kind");
}

absl::StatusOr<v1::ImportItem> EntryObjectToItem(const nlohmann::json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("not a JSON object");
  v1::ImportItem item;
  // Re-imports are recognised by source_id; the entry id is what the source proposes.
  std::string source_id = Text(j, "source_id");
  item.set_source_id(source_id.empty() ? Text(j, "id") : source_id);
  item.set_source_url(Text(j, "url"));
  v1::Entry* e = item.mutable_entry();
  e->set_id(Text(j, "id"));
  e->set_region(Text(j, "region"));
  e->set_category_path(Text(j, "category_path"));
  for (const std::string& tag : List(j, "tags")) e->add_tags(tag);
  for (const std::string& keyword : List(j, "keywords")) e->add_keywords(keyword);
  const std::string kind = Text(j, "kind");
  absl::Status filled;
  if (kind == "policy") {
    filled = FillPolicy(j, item);
  } else if (kind == "qa") {
    FillQa(j, e);
  } else if (kind == "guide") {
    filled = FillGuide(j, e);
  } else if (kind == "hot_topic") {
    FillHotTopic(j, e);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("kind: unknown kind '", kind, "' (policy, qa, guide, hot_topic)"));
  }
  if (!filled.ok()) return filled;
  return item;
}

absl::StatusOr<v1::ImportItem> ParseEntryLine(absl::string_view json_line) {
  json j = json::parse(json_line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return absl::InvalidArgumentError("not a JSON object");
  return EntryObjectToItem(j);
}

int LinkOrder(v1::EntryKind kind) {
  switch (kind) {
    case v1::ENTRY_KIND_POLICY_DOCUMENT:
      return 0;
    case v1::ENTRY_KIND_SERVICE_GUIDE:
    case v1::ENTRY_KIND_QA_PAIR:
      return 1;
    default:
      return 2;
  }
}

}  // namespace hotline::kb::importers
