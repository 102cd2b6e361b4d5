#include "services/kb/engine/lawref.h"

#include <zlib.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace hotline::kb {

absl::Status ForEachLine(const std::string& path,
                         const std::function<absl::Status(absl::string_view)>& visit) {
  // zlib reads plain files transparently too.
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  gzbuffer(file, 1 << 20);
  std::string line;
  char buffer[1 << 16];
  absl::Status status;
  while (status.ok()) {
    char* got = gzgets(file, buffer, sizeof(buffer));
    if (got == nullptr) break;
    size_t n = strlen(buffer);
    line.append(buffer, n);
    if (n > 0 && buffer[n - 1] == '\n') {
      line.pop_back();
      status = visit(line);
      line.clear();
    }
  }
  if (status.ok() && !line.empty()) status = visit(line);
  int error = 0;
  const char* message = gzerror(file, &error);
  gzclose(file);
  if (status.ok() && error != Z_OK && error != Z_STREAM_END) {
    return absl::DataLossError(absl::StrCat(path, ": ", message));
  }
  return status;
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

absl::StatusOr<DocumentInput> ParseLawrefDocument(absl::string_view json_line,
                                                  bool articles_only) {
  nlohmann::json j = nlohmann::json::parse(json_line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("not a JSON object");
  }
  auto text = [&](const char* field) -> std::string {
    auto it = j.find(field);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  DocumentInput doc;
  doc.id = text("id");
  if (doc.id.empty()) return absl::InvalidArgumentError("id: missing");
  doc.title = text("title");
  if (doc.title.empty()) return absl::InvalidArgumentError(absl::StrCat(doc.id, ": title: missing"));
  std::string short_title = text("short_title");
  if (!short_title.empty() && short_title != doc.title) doc.other_titles.push_back(short_title);
  doc.kind = v1::ENTRY_KIND_POLICY_DOCUMENT;
  std::string status = text("status");
  doc.status = status == "repealed" ? v1::ENTRY_STATUS_REPEALED : v1::ENTRY_STATUS_IN_FORCE;
  doc.level = PolicyLevelFromName(text("level"));
  doc.region = text("region");
  doc.category_path = text("category");
  doc.publish_date = text("publish_date");
  doc.effective_date = text("effective_date");
  doc.passages = SplitRegulation(text("body"), articles_only);
  return doc;
}

}  // namespace hotline::kb
