// Reads documents in the JSON Lines format of ../shared/data/lawref (one law a line: id, title,
// short_title, level, category, region, dates, status, Markdown body), plain or gzipped.
#ifndef HOTLINE_SERVICES_KB_ENGINE_LAWREF_H_
#define HOTLINE_SERVICES_KB_ENGINE_LAWREF_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "services/kb/engine/search_index.h"

namespace hotline::kb {

// Calls `visit` with each line of a (possibly gzipped) text file; stops at its first error.
absl::Status ForEachLine(const std::string& path,
                         const std::function<absl::Status(absl::string_view line)>& visit);

// One lawref JSON object as an index document. `articles_only` keeps just the "第N条"
// passages (the passage set the STARD labels refer to). INVALID_ARGUMENT names a bad field.
absl::StatusOr<DocumentInput> ParseLawrefDocument(absl::string_view json_line, bool articles_only);

v1::PolicyLevel PolicyLevelFromName(absl::string_view chinese_name);

}  // namespace hotline::kb

#endif  // HOTLINE_SERVICES_KB_ENGINE_LAWREF_H_
