#include "services/kb/demo_loader.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/kb/engine/lawref.h"

namespace hotline::kb {
namespace {

std::string Text(const nlohmann::json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array()) {
    // Some guide fields (conditions, how) are lists of lines.
    std::vector<std::string> lines;
    for (const nlohmann::json& line : *it) {
      if (line.is_string()) lines.push_back(line.get<std::string>());
    }
    return absl::StrJoin(lines, "\n");
  }
  return it->dump();
}

std::vector<std::string> List(const nlohmann::json& j, const char* field) {
  std::vector<std::string> out;
  auto it = j.find(field);
  if (it == j.end() || !it->is_array()) return out;
  for (const nlohmann::json& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

v1::EntryStatus StatusFromName(absl::string_view name) {
  if (name == "amended") return v1::ENTRY_STATUS_AMENDED;
  if (name == "repealed") return v1::ENTRY_STATUS_REPEALED;
  if (name == "expired") return v1::ENTRY_STATUS_EXPIRED;
  if (name == "in_force") return v1::ENTRY_STATUS_IN_FORCE;
  return v1::ENTRY_STATUS_UNSPECIFIED;  // Derived by the import from the dates.
}

v1::HandlingChannel ChannelFromName(absl::string_view name) {
  if (name == "online") return v1::HANDLING_CHANNEL_ONLINE;
  if (name == "mobile") return v1::HANDLING_CHANNEL_MOBILE;
  if (name == "window") return v1::HANDLING_CHANNEL_WINDOW;
  if (name == "self_service" || name == "self_service_terminal") {
    return v1::HANDLING_CHANNEL_SELF_SERVICE_TERMINAL;
  }
  if (name == "post") return v1::HANDLING_CHANNEL_POST;
  return v1::HANDLING_CHANNEL_UNSPECIFIED;
}

void AddLinks(const std::vector<std::string>& ids, v1::LinkRelation relation, v1::Entry* e) {
  for (const std::string& id : ids) {
    v1::EntryLink* link = e->add_links();
    link->set_relation(relation);
    link->set_target_id(id);
  }
}

int KindOrder(v1::EntryKind kind) {
  switch (kind) {
    case v1::ENTRY_KIND_POLICY_DOCUMENT: return 0;
    case v1::ENTRY_KIND_SERVICE_GUIDE:
    case v1::ENTRY_KIND_QA_PAIR: return 1;
    default: return 2;
  }
}

}  // namespace

absl::StatusOr<v1::ImportItem> ParseDemoLine(absl::string_view json_line) {
  nlohmann::json j = nlohmann::json::parse(json_line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return absl::InvalidArgumentError("not a JSON object");
  v1::ImportItem item;
  item.set_source_id(Text(j, "id"));
  v1::Entry* e = item.mutable_entry();
  e->set_id(Text(j, "id"));
  e->set_region(Text(j, "region"));
  e->set_category_path(Text(j, "category_path"));
  for (const std::string& tag : List(j, "tags")) e->add_tags(tag);
  const std::string kind = Text(j, "kind");
  if (kind == "policy") {
    e->set_kind(v1::ENTRY_KIND_POLICY_DOCUMENT);
    e->set_title(Text(j, "title"));
    e->set_status(StatusFromName(Text(j, "status")));
    v1::PolicyDocument* p = e->mutable_policy_document();
    p->set_doc_number(Text(j, "doc_number"));
    if (std::string lead = Text(j, "issuing_agency"); !lead.empty()) p->add_issuing_agencies(lead);
    for (const std::string& a : List(j, "co_issuing_agencies")) p->add_issuing_agencies(a);
    p->set_level_text(Text(j, "level"));
    p->set_level(PolicyLevelFromName(p->level_text()));
    p->set_publish_date(Text(j, "publish_date"));
    p->set_effective_date(Text(j, "effective_date"));
    p->set_expiry_date(Text(j, "expiry_date"));
    e->set_superseded_by(Text(j, "superseded_by"));
    for (const std::string& id : List(j, "supersedes")) e->add_supersedes(id);
    item.mutable_content()->set_format(v1::CONTENT_FORMAT_MARKDOWN);
    item.mutable_content()->set_text(Text(j, "body"));
  } else if (kind == "qa") {
    e->set_kind(v1::ENTRY_KIND_QA_PAIR);
    e->set_title(Text(j, "question"));
    v1::QaPair* qa = e->mutable_qa_pair();
    qa->set_question(Text(j, "question"));
    for (const std::string& q : List(j, "alternative_questions")) qa->add_alternative_questions(q);
    qa->set_answer(Text(j, "answer"));
    qa->set_source_document_id(Text(j, "source_entry_id"));
    qa->set_source_passage_label(Text(j, "source_passage"));
  } else if (kind == "guide") {
    e->set_kind(v1::ENTRY_KIND_SERVICE_GUIDE);
    e->set_title(Text(j, "title"));
    v1::ServiceGuide* g = e->mutable_service_guide();
    g->set_matter_name(Text(j, "matter"));
    g->set_responsible_department(Text(j, "department"));
    for (const std::string& a : List(j, "audiences")) g->add_audiences(a);
    g->set_conditions(Text(j, "conditions"));
    if (auto it = j.find("materials"); it != j.end() && it->is_array()) {
      for (const nlohmann::json& m : *it) {
        v1::ServiceMaterial* out = g->add_materials();
        out->set_name(Text(m, "name"));
        out->set_form(Text(m, "form"));
        out->set_note(Text(m, "note"));
        out->set_required(m.value("required", false));
      }
    }
    g->set_procedure(Text(j, "how"));
    g->set_time_limit_note(Text(j, "time_limit"));
    g->set_promised_limit_working_days(j.value("promised_working_days", 0));
    g->set_immediate(Text(j, "time_limit") == "即办件");
    g->set_fee_description(Text(j, "fees"));
    g->set_free_of_charge(absl::StartsWith(g->fee_description(), "不收费"));
    for (const std::string& c : List(j, "channels")) {
      if (v1::HandlingChannel channel = ChannelFromName(c);
          channel != v1::HANDLING_CHANNEL_UNSPECIFIED) {
        g->add_channels(channel);
      }
    }
    g->set_online_service_url(Text(j, "online_url"));
    if (auto it = j.find("where"); it != j.end() && it->is_array()) {
      for (const nlohmann::json& w : *it) {
        v1::ServiceLocation* out = g->add_locations();
        out->set_name(Text(w, "name"));
        out->set_address(Text(w, "address"));
        out->set_opening_hours(Text(w, "hours"));
        out->set_phone(Text(w, "phone"));
      }
    }
    g->set_consultation_phone(Text(j, "consultation_phone"));
    AddLinks(List(j, "policy_ids"), v1::LINK_RELATION_BASIS, e);
  } else if (kind == "hot_topic") {
    e->set_kind(v1::ENTRY_KIND_HOT_TOPIC);
    e->set_title(Text(j, "title"));
    v1::HotTopic* h = e->mutable_hot_topic();
    h->set_reply_script(Text(j, "body"));
    for (const std::string& q : List(j, "sample_questions")) h->add_sample_questions(q);
    h->set_issuing_department(Text(j, "issuing_department"));
    h->set_valid_from(Text(j, "valid_from"));
    h->set_valid_until(Text(j, "valid_until"));
    AddLinks(List(j, "related_ids"), v1::LINK_RELATION_RELATED, e);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("kind: unknown kind '", kind, "'"));
  }
  return item;
}

absl::StatusOr<std::vector<v1::ImportItem>> ReadDemoKnowledgeBase(const std::string& path) {
  std::vector<v1::ImportItem> items;
  int line_number = 0;
  absl::Status read = ForEachLine(path, [&](absl::string_view line) -> absl::Status {
    ++line_number;
    if (line.empty()) return absl::OkStatus();
    absl::StatusOr<v1::ImportItem> item = ParseDemoLine(line);
    if (!item.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number, ": ", item.status().message()));
    }
    items.push_back(*std::move(item));
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  std::stable_sort(items.begin(), items.end(),
                   [](const v1::ImportItem& a, const v1::ImportItem& b) {
                     return KindOrder(a.entry().kind()) < KindOrder(b.entry().kind());
                   });
  return items;
}

}  // namespace hotline::kb
