// HTML sources: one page, or every .html/.htm file under a directory (in path order), each a
// policy document whose content goes to the server as CONTENT_FORMAT_HTML, so that the server's
// cleaner (services/kb/ingest/cleaner.h) turns it into passages like any other page. What only the
// client can see is taken here:
//   - the title: <meta name="ArticleTitle"> (the metadata Chinese government websites carry),
//     else the first <h1>, else <title> without the site name after "_", " - " or " | ";
//   - 文号, 发文机关 and dates from meta tags (文号/发文字号/DocNumber, 发文机关/ContentSource,
//     PubDate/发布日期), else from the page's own labelled lines ("发文字号：湘政发〔2023〕5号",
//     "发布日期：2023-05-09") through the ingestion's metadata extraction;
//   - the page's address from <link rel="canonical"> or <meta property="og:url">;
//   - pages declared as GBK, GB2312 or GB18030 are converted to UTF-8.
// The source id of a page is its path relative to the directory (the file name for one file).
#ifndef HOTLINE_SERVICES_KB_IMPORTERS_HTML_IMPORTER_H_
#define HOTLINE_SERVICES_KB_IMPORTERS_HTML_IMPORTER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/kb/importers/formats.h"
#include "services/kb/importers/source.h"

namespace hotline::kb::importers {

absl::StatusOr<std::unique_ptr<SourceReader>> OpenHtml(const std::string& file_or_directory);

// One page as an import item; `source_id` names it in the source.
absl::StatusOr<v1::ImportItem> HtmlPageToItem(absl::string_view html, const std::string& source_id);

// The format as formats.cc registers it.
SourceFormat HtmlFormat();

}  // namespace hotline::kb::importers

#endif  // HOTLINE_SERVICES_KB_IMPORTERS_HTML_IMPORTER_H_
