// Markdown policy pages: one .md/.markdown file, or every one under a directory (pages.h), each
// a policy document whose content goes to the server as CONTENT_FORMAT_MARKDOWN, so that the
// server's cleaner turns its headings and articles into passages like any other text.
//   - Metadata may stand in front matter between two "---" lines at the top, one "key: value"
//     a line: title (标题), doc_number (文号), agency (发文机关), publish_date (发布日期),
//     effective_date (施行日期), region (地区), category (分类), url (来源) and keywords (关键词,
//     separated by commas or 、). An unknown key is the page's error, so a typo is not lost.
//   - Without a title there, the first "# " heading is the title.
//   - 文号, 发文机关 and dates not given there are taken from the page's own labelled lines
//     ("发文字号：湘政发〔2023〕5号"), through the ingestion's metadata extraction.
#ifndef HOTLINE_SERVICES_KB_IMPORTERS_MARKDOWN_IMPORTER_H_
#define HOTLINE_SERVICES_KB_IMPORTERS_MARKDOWN_IMPORTER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/kb/importers/formats.h"
#include "services/kb/importers/source.h"

namespace hotline::kb::importers {

absl::StatusOr<std::unique_ptr<SourceReader>> OpenMarkdown(const std::string& file_or_directory);

// One page as an import item; `source_id` names it in the source.
absl::StatusOr<v1::ImportItem> MarkdownPageToItem(absl::string_view page,
                                                  const std::string& source_id);

// The format as formats.cc registers it.
SourceFormat MarkdownFormat();

}  // namespace hotline::kb::importers

#endif  // HOTLINE_SERVICES_KB_IMPORTERS_MARKDOWN_IMPORTER_H_
