#include "services/kb/importers/formats.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/kb/importers/csv_importer.h"
#include "services/kb/importers/docx_importer.h"
#include "services/kb/importers/html_importer.h"
#include "services/kb/importers/jsonl_importer.h"
#include "services/kb/importers/markdown_importer.h"

namespace hotline::kb::importers {

const std::vector<SourceFormat>& SourceFormats() {
  static const std::vector<SourceFormat>* const formats = new std::vector<SourceFormat>{
      JsonLinesFormat(), CsvFormat(), HtmlFormat(), MarkdownFormat(), DocxFormat(),
  };
  return *formats;
}

namespace {

std::string Names(absl::string_view separator) {
  return absl::StrJoin(SourceFormats(), separator,
                       [](std::string* out, const SourceFormat& f) { out->append(f.name); });
}

}  // namespace

std::string SourceFormatNames() { return Names("|"); }

absl::StatusOr<const SourceFormat*> FindSourceFormat(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(name);
  if (lower == "auto" || lower.empty()) return nullptr;
  for (const SourceFormat& f : SourceFormats()) {
    if (f.name == lower) return &f;
    for (const std::string& alias : f.aliases) {
      if (alias == lower) return &f;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("format: unknown format '", name, "' (", Names(", "), " or auto)"));
}

namespace {

bool NameEndsWith(std::string name, const SourceFormat& f) {
  if (f.gzip && absl::EndsWith(name, ".gz")) name.resize(name.size() - 3);
  for (const std::string& extension : f.extensions) {
    if (absl::EndsWith(name, extension)) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<const SourceFormat*> FormatFromPath(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (fs::is_directory(path, error)) {
    // The page formats whose pages the directory holds.
    std::vector<const SourceFormat*> found;
    for (fs::recursive_directory_iterator it(path, error), end; !error && it != end;
         it.increment(error)) {
      if (!it->is_regular_file()) continue;
      std::string name = absl::AsciiStrToLower(it->path().filename().string());
      for (const SourceFormat& f : SourceFormats()) {
        if (f.pages && NameEndsWith(name, f) &&
            std::find(found.begin(), found.end(), &f) == found.end()) {
          found.push_back(&f);
        }
      }
    }
    if (found.size() == 1) return found.front();
    return absl::InvalidArgumentError(
        absl::StrCat("format: ", path,
                     found.empty() ? " holds no pages of a known format"
                                   : " holds pages of more than one format; give --format"));
  }
  std::string name = absl::AsciiStrToLower(fs::path(path).filename().string());
  for (const SourceFormat& f : SourceFormats()) {
    if (NameEndsWith(name, f)) return &f;
  }
  std::vector<std::string> endings;
  for (const SourceFormat& f : SourceFormats()) {
    for (const std::string& e : f.extensions) endings.push_back(e);
  }
  return absl::InvalidArgumentError(absl::StrCat("format: cannot tell the format of ", path,
                                                 " from its name (", absl::StrJoin(endings, ", "),
                                                 ", a directory of pages); give --format"));
}

absl::StatusOr<std::unique_ptr<SourceReader>> OpenSource(const std::string& path,
                                                         const SourceFormat* format) {
  if (format == nullptr) {
    absl::StatusOr<const SourceFormat*> from_path = FormatFromPath(path);
    if (!from_path.ok()) return from_path.status();
    format = *from_path;
  }
  return format->open(path);
}

}  // namespace hotline::kb::importers
