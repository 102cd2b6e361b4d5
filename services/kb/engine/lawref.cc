#include "services/kb/engine/lawref.h"

namespace hotline::kb {

absl::StatusOr<DocumentInput> ParseLawrefDocument(absl::string_view json_line, bool articles_only) {
  absl::StatusOr<importers::LawrefRecord> record = importers::ParseLawrefLine(json_line);
  if (!record.ok()) return record.status();
  DocumentInput doc;
  doc.id = record->id;
  doc.title = record->title;
  if (!record->short_title.empty() && record->short_title != doc.title) {
    doc.other_titles.push_back(record->short_title);
  }
  doc.kind = v1::ENTRY_KIND_POLICY_DOCUMENT;
  doc.status = record->repealed ? v1::ENTRY_STATUS_REPEALED : v1::ENTRY_STATUS_IN_FORCE;
  doc.level = PolicyLevelFromName(record->level);
  doc.region = record->region;
  doc.category_path = record->category;
  doc.publish_date = record->publish_date;
  doc.effective_date = record->effective_date;
  doc.passages = SplitRegulation(record->body, articles_only);
  return doc;
}

}  // namespace hotline::kb
