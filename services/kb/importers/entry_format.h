// Our own JSON entry format: one JSON object per entry with a `kind` (policy, qa, guide,
// hot_topic) and flat fields named as editors know them. services/kb/demo/README.md documents
// it with the demo knowledge base; README.md in this folder lists the optional fields added for
// other sources (source_id, url, keywords, short_title, body_format). The CSV importer maps each
// row onto the same fields, so this file is the one place that knows how they become an Entry.
#ifndef HOTLINE_SERVICES_KB_IMPORTERS_ENTRY_FORMAT_H_
#define HOTLINE_SERVICES_KB_IMPORTERS_ENTRY_FORMAT_H_

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hotline/kb/v1/kb.pb.h"

namespace hotline::kb::importers {

// One entry object as an import item. INVALID_ARGUMENT names the bad field ("kind: unknown kind
// 'x'", "promised_working_days: must be a whole number"). Fields the server checks (dates,
// paths) are passed on as they are, so that its rejection names them.
absl::StatusOr<v1::ImportItem> EntryObjectToItem(const nlohmann::json& object);

// One line of JSON Lines in the entry format.
absl::StatusOr<v1::ImportItem> ParseEntryLine(absl::string_view json_line);

// Whether a parsed JSON object is in the entry format (it has a `kind`).
bool IsEntryObject(const nlohmann::json& object);

// Sort key for loading a whole file in one go so that link targets come before the entries
// linking to them: policies 0, service guides and Q&A pairs 1, hot topics and others 2.
int LinkOrder(v1::EntryKind kind);

}  // namespace hotline::kb::importers

#endif  // HOTLINE_SERVICES_KB_IMPORTERS_ENTRY_FORMAT_H_
