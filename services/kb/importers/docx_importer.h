// Word documents (.docx, Office Open XML): one file, or every .docx under a directory
// (pages.h), each a policy document. Departments hand the hotline their notices and guides as
// Word files; an editor imports the folder instead of copying each one by hand.
//   - The text is the body's paragraphs (word/document.xml), one line each, table cells
//     included, tracked deletions and field codes left out; it goes to the server as
//     CONTENT_FORMAT_PLAIN_TEXT, so the server's cleaner finds the articles in it.
//   - The title is the first paragraph that is not the masthead (a line ending in 文件, as
//     "长沙市人民政府办公厅文件"), a 文号 or a date.
//   - 文号, 发文机关 and dates come from the text, through the ingestion's metadata extraction.
// A file that is not a Word document, is password-protected, or would unpack to more than
// kMaxDocumentXmlBytes is that file's error; the other files still go.
#ifndef HOTLINE_SERVICES_KB_IMPORTERS_DOCX_IMPORTER_H_
#define HOTLINE_SERVICES_KB_IMPORTERS_DOCX_IMPORTER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/kb/importers/formats.h"
#include "services/kb/importers/source.h"

namespace hotline::kb::importers {

// The most word/document.xml may unpack to: a policy document is well under 1 MiB of XML, so
// this refuses a decompression bomb long before it costs memory.
inline constexpr size_t kMaxDocumentXmlBytes = 32 << 20;

absl::StatusOr<std::unique_ptr<SourceReader>> OpenDocx(const std::string& file_or_directory);

// One .docx file's bytes as an import item; `source_id` names it in the source.
absl::StatusOr<v1::ImportItem> DocxToItem(absl::string_view file, const std::string& source_id);

// The paragraphs of a word/document.xml, one line each (for tests and DocxToItem).
std::string DocumentXmlText(absl::string_view xml);

// The format as formats.cc registers it.
SourceFormat DocxFormat();

}  // namespace hotline::kb::importers

#endif  // HOTLINE_SERVICES_KB_IMPORTERS_DOCX_IMPORTER_H_
