// Reads documents in the JSON Lines format of ../shared/data/lawref (one law a line: id, title,
// short_title, level, category, region, dates, status, Markdown body), plain or gzipped, as index
// documents for the evaluation and the benchmark. The format itself is read in one place,
// services/kb/importers/lawref_format.h, which also gives it to the importer as ImportItems.
#ifndef HOTLINE_SERVICES_KB_ENGINE_LAWREF_H_
#define HOTLINE_SERVICES_KB_ENGINE_LAWREF_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/kb/engine/search_index.h"
#include "services/kb/importers/lawref_format.h"
#include "services/kb/importers/line_reader.h"

namespace hotline::kb {

// Calls `visit` with each line of a (possibly gzipped) text file; stops at its first error.
using importers::ForEachLine;

using importers::PolicyLevelFromName;

// One lawref JSON object as an index document. `articles_only` keeps just the "第N条"
// passages (the passage set the STARD labels refer to). INVALID_ARGUMENT names a bad field.
absl::StatusOr<DocumentInput> ParseLawrefDocument(absl::string_view json_line, bool articles_only);

}  // namespace hotline::kb

#endif  // HOTLINE_SERVICES_KB_ENGINE_LAWREF_H_
