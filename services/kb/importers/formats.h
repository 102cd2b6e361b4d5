// The source formats that can be imported. Each format describes itself once (its name, the
// file names it reads, a line of help and how to open a source) in its own importer, and
// formats.cc lists them: a new format is its own .h/.cc/_test.cc plus one line there. kbctl's
// --format, its help and the choice of format from a file's name all come from this list.
#ifndef HOTLINE_SERVICES_KB_IMPORTERS_FORMATS_H_
#define HOTLINE_SERVICES_KB_IMPORTERS_FORMATS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/kb/importers/source.h"

namespace hotline::kb::importers {

struct SourceFormat {
  std::string name;                  // As given to --format: "csv".
  std::vector<std::string> aliases;  // Also accepted: "htm".
  // Lowercase file-name endings it reads (".csv"); a gzipped file (".csv.gz") too when
  // `gzip` is set.
  std::vector<std::string> extensions;
  bool gzip = false;
  // A directory is read as its pages: every file with one of `extensions` under it.
  bool pages = false;
  std::string summary;  // One line of help.
  absl::StatusOr<std::unique_ptr<SourceReader>> (*open)(const std::string& path) = nullptr;
};

// Every format, in the order help lists them.
const std::vector<SourceFormat>& SourceFormats();

// The format named `name` (or one of its aliases); nullptr for "auto" or "" (the format comes
// from each path). INVALID_ARGUMENT, listing the names, for any other name.
absl::StatusOr<const SourceFormat*> FindSourceFormat(absl::string_view name);

// The format a path's name says: its extension, or for a directory the page format whose pages
// it holds. INVALID_ARGUMENT when it says none (or, for a directory, more than one).
absl::StatusOr<const SourceFormat*> FormatFromPath(const std::string& path);

// Opens `path` in `format` (nullptr: FormatFromPath).
absl::StatusOr<std::unique_ptr<SourceReader>> OpenSource(const std::string& path,
                                                         const SourceFormat* format);

// "jsonl|csv|html|md", for usage lines.
std::string SourceFormatNames();

}  // namespace hotline::kb::importers

#endif  // HOTLINE_SERVICES_KB_IMPORTERS_FORMATS_H_
