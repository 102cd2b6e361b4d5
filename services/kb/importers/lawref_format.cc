#include "services/kb/importers/lawref_format.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace hotline::kb::importers {

bool IsLawrefObject(const nlohmann::json& object) {
  auto it = object.find("source");
  return object.is_object() && it != object.end() && it->is_string() &&
         it->get<std::string>() == "LawRefBook";
}

absl::StatusOr<LawrefRecord> LawrefFromObject(const nlohmann::json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("not a JSON object");
  auto text = [&](const char* field) -> std::string {
    auto it = j.find(field);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  LawrefRecord r;
  r.id = text("id");
  if (r.id.empty()) return absl::InvalidArgumentError("id: missing");
  r.title = text("title");
  if (r.title.empty()) return absl::InvalidArgumentError(absl::StrCat(r.id, ": title: missing"));
  r.short_title = text("short_title");
  r.level = text("level");
  r.category = text("category");
  r.region = text("region");
  r.publish_date = text("publish_date");
  r.effective_date = text("effective_date");
  r.repealed = text("status") == "repealed";
  r.history = text("history");
  r.body = text("body");
  return r;
}

absl::StatusOr<LawrefRecord> ParseLawrefLine(absl::string_view json_line) {
  nlohmann::json j = nlohmann::json::parse(json_line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("not a JSON object");
  }
  return LawrefFromObject(j);
}

v1::ImportItem LawrefToItem(const LawrefRecord& r) {
  v1::ImportItem item;
  item.set_source_id(r.id);
  v1::Entry* e = item.mutable_entry();
  e->set_id(r.id);
  e->set_kind(v1::ENTRY_KIND_POLICY_DOCUMENT);
  e->set_title(r.title);
  e->set_region(r.region);
  // The export's category is its folder (宪法相关法, 民法商法...), not a path of our taxonomy;
  // left empty, the import classifies the law like any other document.
  // Unspecified lets the server derive IN_FORCE or NOT_YET_EFFECTIVE from the effective date.
  e->set_status(r.repealed ? v1::ENTRY_STATUS_REPEALED : v1::ENTRY_STATUS_UNSPECIFIED);
  v1::PolicyDocument* p = e->mutable_policy_document();
  if (r.short_title != r.title) p->set_short_title(r.short_title);
  p->set_level_text(r.level);
  p->set_level(PolicyLevelFromName(r.level));
  p->set_publish_date(r.publish_date);
  p->set_effective_date(r.effective_date);
  p->set_history(r.history);
  item.mutable_content()->set_format(v1::CONTENT_FORMAT_MARKDOWN);
  item.mutable_content()->set_text(r.body);
  return item;
}

v1::PolicyLevel PolicyLevelFromName(absl::string_view name) {
  static const std::pair<absl::string_view, v1::PolicyLevel> kLevels[] = {
      {"宪法", v1::POLICY_LEVEL_CONSTITUTION},
      {"法律", v1::POLICY_LEVEL_LAW},
      {"行政法规", v1::POLICY_LEVEL_ADMINISTRATIVE_REGULATION},
      {"监察法规", v1::POLICY_LEVEL_SUPERVISORY_REGULATION},
      {"司法解释", v1::POLICY_LEVEL_JUDICIAL_INTERPRETATION},
      {"地方性法规", v1::POLICY_LEVEL_LOCAL_REGULATION},
      {"部门规章", v1::POLICY_LEVEL_DEPARTMENTAL_RULE},
      {"地方政府规章", v1::POLICY_LEVEL_LOCAL_GOVERNMENT_RULE},
      {"规范性文件", v1::POLICY_LEVEL_NORMATIVE_DOCUMENT},
      {"案例", v1::POLICY_LEVEL_CASE},
  };
  for (const auto& [chinese, level] : kLevels) {
    if (chinese == name) return level;
  }
  return name.empty() ? v1::POLICY_LEVEL_UNSPECIFIED : v1::POLICY_LEVEL_OTHER;
}

}  // namespace hotline::kb::importers
