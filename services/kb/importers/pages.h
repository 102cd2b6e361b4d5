// Sources of pages: one file, or every file with one of a format's extensions under a
// directory (in path order), each page one record. The HTML and Markdown importers are built on
// it. The source id of a page is its path relative to the directory (the file name for one
// file); progress counts pages.
#ifndef HOTLINE_SERVICES_KB_IMPORTERS_PAGES_H_
#define HOTLINE_SERVICES_KB_IMPORTERS_PAGES_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/kb/importers/source.h"

namespace hotline::kb::importers {

using PageToItem =
    std::function<absl::StatusOr<v1::ImportItem>(absl::string_view page, const std::string& id)>;

// `extensions` are lowercase with their dot (".html"); a file given by name is read whatever
// its extension.
absl::StatusOr<std::unique_ptr<SourceReader>> OpenPages(const std::string& file_or_directory,
                                                        std::vector<std::string> extensions,
                                                        v1::ContentFormat default_format,
                                                        PageToItem page_to_item);

// Whether `path`'s extension is one of `extensions` (case-insensitive).
bool HasExtension(const std::string& path, const std::vector<std::string>& extensions);

}  // namespace hotline::kb::importers

#endif  // HOTLINE_SERVICES_KB_IMPORTERS_PAGES_H_
