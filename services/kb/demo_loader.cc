#include "services/kb/demo_loader.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/kb/importers/entry_format.h"
#include "services/kb/importers/line_reader.h"

namespace hotline::kb {

absl::StatusOr<v1::ImportItem> ParseDemoLine(absl::string_view json_line) {
  return importers::ParseEntryLine(json_line);
}

absl::StatusOr<std::vector<v1::ImportItem>> ReadDemoKnowledgeBase(const std::string& path) {
  std::vector<v1::ImportItem> items;
  int line_number = 0;
  absl::Status read = importers::ForEachLine(path, [&](absl::string_view line) -> absl::Status {
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
  // The demo file is small and written in no particular order; loading it whole lets the
  // policies go first, so that every link finds its target.
  std::stable_sort(
      items.begin(), items.end(), [](const v1::ImportItem& a, const v1::ImportItem& b) {
        return importers::LinkOrder(a.entry().kind()) < importers::LinkOrder(b.entry().kind());
      });
  return items;
}

}  // namespace hotline::kb
