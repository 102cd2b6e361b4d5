// Reads the demo knowledge base (services/kb/demo/knowledge_base.jsonl, format in
// services/kb/demo/README.md) as Import items, so that loading it runs the same ingestion
// pipeline as any other source. The entry format is read by the importers
// (services/kb/importers/entry_format.h), as kbctl import reads it.
#ifndef HOTLINE_SERVICES_KB_DEMO_LOADER_H_
#define HOTLINE_SERVICES_KB_DEMO_LOADER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hotline/kb/v1/kb.pb.h"

namespace hotline::kb {

// The source name under which demo entries are imported.
inline constexpr char kDemoSourceName[] = "demo";

// One line of the demo file as an import item. INVALID_ARGUMENT names a bad field.
absl::StatusOr<v1::ImportItem> ParseDemoLine(absl::string_view json_line);

// Every entry of the file, ordered so that link targets come before the entries linking to
// them: policies, then service guides and Q&A pairs, then hot topics. Errors name the line.
absl::StatusOr<std::vector<v1::ImportItem>> ReadDemoKnowledgeBase(const std::string& path);

}  // namespace hotline::kb

#endif  // HOTLINE_SERVICES_KB_DEMO_LOADER_H_
