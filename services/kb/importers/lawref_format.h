// The LawRefBook export of ../shared/data/lawref (documents.jsonl.gz): one law per JSON line
// with id, title, short_title, level (法律, 行政法规, ...), category, region, publish and
// effective dates, status (effective / repealed), history (题注) and the Markdown body. Read here
// for both the importer (as ImportItems) and the search engine's evaluation and benchmark (as
// index documents, services/kb/engine/lawref.h).
#ifndef HOTLINE_SERVICES_KB_IMPORTERS_LAWREF_FORMAT_H_
#define HOTLINE_SERVICES_KB_IMPORTERS_LAWREF_FORMAT_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hotline/kb/v1/kb.pb.h"

namespace hotline::kb::importers {

// The source name of LawRefBook imports.
inline constexpr char kLawrefSourceName[] = "lawref";

struct LawrefRecord {
  std::string id;  // "lawref:6246072fc0765e59", stable across exports
  std::string title;
  std::string short_title;
  std::string level;     // as written: 法律, 行政法规, 地方性法规, ...
  std::string category;  // 宪法相关法, 民法商法, ...
  std::string region;    // 全国, or a province
  std::string publish_date;
  std::string effective_date;
  bool repealed = false;
  std::string history;
  std::string body;  // Markdown
};

// Whether a parsed JSON object is a LawRefBook record (its "source" says so).
bool IsLawrefObject(const nlohmann::json& object);

// INVALID_ARGUMENT names a missing id or title.
absl::StatusOr<LawrefRecord> LawrefFromObject(const nlohmann::json& object);
absl::StatusOr<LawrefRecord> ParseLawrefLine(absl::string_view json_line);

// The record as a policy-document import item: the id is kept as entry id and source id, the
// body goes as Markdown, a repealed law arrives REPEALED and the others have their status
// derived from the effective date. The category is left for the import's classifier.
v1::ImportItem LawrefToItem(const LawrefRecord& record);

// 法律 -> POLICY_LEVEL_LAW, ...; OTHER for an unknown name, UNSPECIFIED for an empty one.
v1::PolicyLevel PolicyLevelFromName(absl::string_view chinese_name);

}  // namespace hotline::kb::importers

#endif  // HOTLINE_SERVICES_KB_IMPORTERS_LAWREF_FORMAT_H_
