// The knowledge base's importers (services/kb/importers) on arbitrary file contents. The first
// byte chooses the importer: CSV, JSON Lines (both read through their file readers, the
// contents in an in-memory file, since LineReader only opens paths), one HTML page (in
// memory, HtmlPageToItem), one Markdown page (MarkdownPageToItem) or one Word document
// (DocxToItem: a ZIP container, binary and hostile). Checked for every input:
//   - opening fails only with INVALID_ARGUMENT (a bad CSV header) or DATA_LOSS (a corrupt gzip
//     stream), and reading ends, record after record, each with an origin;
//   - a record is an item or INVALID_ARGUMENT, never another failure;
//   - every item survives the trip through the wire format (proto3 strings must be UTF-8, or
//     the Import stream breaks at the server), and the suggested source name and the progress
//     are what source.h promises;
//   - a page's item keeps the page as HTML or Markdown content (a document's text as plain
//     text), with a canonical 文号 and YYYY-MM-DD dates.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "hotline/kb/v1/kb.pb.h"
#include "services/kb/importers/csv_importer.h"
#include "services/kb/importers/docx_importer.h"
#include "services/kb/importers/html_importer.h"
#include "services/kb/importers/jsonl_importer.h"
#include "services/kb/importers/markdown_importer.h"
#include "services/kb/importers/source.h"
#include "services/kb/ingest/metadata.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

namespace importers = hotline::kb::importers;
namespace v1 = hotline::kb::v1;

// The contents as a file only this process sees, without touching the disk.
class MemoryFile {
 public:
  explicit MemoryFile(absl::string_view contents) {
    fd_ = memfd_create("fuzz-import", MFD_CLOEXEC);
    if (fd_ < 0) hotline::fuzz::SetupFailed("memfd_create failed");
    size_t written = 0;
    while (written < contents.size()) {
      ssize_t n = ::write(fd_, contents.data() + written, contents.size() - written);
      if (n <= 0) hotline::fuzz::SetupFailed("writing the in-memory file failed");
      written += static_cast<size_t>(n);
    }
  }
  ~MemoryFile() { ::close(fd_); }
  std::string path() const { return absl::StrCat("/proc/self/fd/", fd_); }

 private:
  int fd_ = -1;
};

bool IsIsoDate(const std::string& date) {
  absl::CivilDay day;
  return date.size() == 10 && absl::ParseCivilTime(date, &day) &&
         absl::FormatCivilTime(day) == date;
}

void CheckItem(const v1::ImportItem& item, absl::string_view origin) {
  v1::ImportItem reparsed;
  FUZZ_CHECK(reparsed.ParseFromString(item.SerializeAsString()))
      << origin << ": the item does not survive serialisation (a string field that is not "
      << "UTF-8?): " << item.ShortDebugString().substr(0, 400);
}

void ReadAll(importers::SourceReader& reader) {
  const importers::SourceDefaults& defaults = reader.defaults();
  FUZZ_CHECK(!defaults.source_name.empty() && defaults.source_name.size() <= 64 &&
             defaults.source_name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") ==
                 std::string::npos)
      << "source name '" << defaults.source_name << "'";
  // A reader that stops advancing shows up as a libFuzzer timeout (a gzip stream may expand to
  // any number of lines, so no count is a bound).
  while (true) {
    absl::StatusOr<std::optional<importers::SourceRecord>> next = reader.Next();
    if (!next.ok()) {
      FUZZ_CHECK(absl::IsDataLoss(next.status()) || absl::IsInvalidArgument(next.status()))
          << "reading stopped with " << next.status();
      break;
    }
    if (!next->has_value()) break;
    const importers::SourceRecord& record = **next;
    FUZZ_CHECK(!record.origin.empty()) << "record without an origin";
    if (record.item.ok()) {
      CheckItem(*record.item, record.origin);
    } else {
      FUZZ_CHECK(absl::IsInvalidArgument(record.item.status()))
          << record.origin << ": " << record.item.status();
    }
    const importers::ReadProgress progress = reader.Progress();
    FUZZ_CHECK(progress.done >= 0 && progress.total >= 0 &&
               (progress.total == 0 || progress.done <= progress.total))
        << "progress " << progress.done << " of " << progress.total;
  }
}

void ImportFile(absl::string_view contents, bool csv) {
  MemoryFile file(contents);
  absl::StatusOr<std::unique_ptr<importers::SourceReader>> reader =
      csv ? importers::OpenCsv(file.path()) : importers::OpenJsonLines(file.path());
  if (!reader.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(reader.status()) || absl::IsDataLoss(reader.status()))
        << "open failed with " << reader.status();
    return;
  }
  if (csv) {
    FUZZ_CHECK((*reader)->defaults().default_format == v1::CONTENT_FORMAT_PLAIN_TEXT);
  } else {
    FUZZ_CHECK((*reader)->defaults().default_format == v1::CONTENT_FORMAT_MARKDOWN);
  }
  ReadAll(**reader);
}

enum class PageKind { kHtml, kMarkdown, kDocx };

void ImportPage(absl::string_view page, PageKind kind) {
  absl::StatusOr<v1::ImportItem> item =
      kind == PageKind::kMarkdown ? importers::MarkdownPageToItem(page, "pages/notice.html")
      : kind == PageKind::kDocx   ? importers::DocxToItem(page, "pages/notice.html")
                                  : importers::HtmlPageToItem(page, "pages/notice.html");
  if (!item.ok()) {
    // UNAVAILABLE only when the system has no GB18030 converter at all.
    FUZZ_CHECK(absl::IsInvalidArgument(item.status()) || absl::IsUnavailable(item.status()))
        << item.status();
    return;
  }
  CheckItem(*item, "page");
  FUZZ_CHECK(item->source_id() == "pages/notice.html");
  FUZZ_CHECK(item->entry().kind() == v1::ENTRY_KIND_POLICY_DOCUMENT);
  FUZZ_CHECK(item->content().format() == (kind == PageKind::kMarkdown ? v1::CONTENT_FORMAT_MARKDOWN
                                          : kind == PageKind::kDocx ? v1::CONTENT_FORMAT_PLAIN_TEXT
                                                                    : v1::CONTENT_FORMAT_HTML));
  const v1::PolicyDocument& p = item->entry().policy_document();
  if (!p.doc_number().empty()) {
    std::optional<hotline::kb::ingest::DocNumber> parsed =
        hotline::kb::ingest::ParseDocNumber(p.doc_number());
    FUZZ_CHECK(parsed.has_value() && parsed->Canonical() == p.doc_number())
        << "doc_number '" << p.doc_number() << "' is not canonical";
  }
  for (const std::string* date : {&p.publish_date(), &p.effective_date(), &p.expiry_date()}) {
    FUZZ_CHECK(date->empty() || IsIsoDate(*date)) << "date '" << *date << "'";
  }
  for (const std::string& keyword : item->entry().keywords()) {
    FUZZ_CHECK(!keyword.empty() && keyword.size() <= 150) << "keyword of " << keyword.size();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view contents(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      ImportFile(contents, /*csv=*/true);
      break;
    case 1:
      ImportFile(contents, /*csv=*/false);
      break;
    case 2:
      ImportPage(contents, PageKind::kHtml);
      break;
    case 3:
      ImportPage(contents, PageKind::kMarkdown);
      break;
    default:
      ImportPage(contents, PageKind::kDocx);
      break;
  }
  return 0;
}
