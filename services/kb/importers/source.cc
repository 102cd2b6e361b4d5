#include "services/kb/importers/source.h"

#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/kb/importers/csv_importer.h"
#include "services/kb/importers/html_importer.h"
#include "services/kb/importers/jsonl_importer.h"

namespace hotline::kb::importers {

absl::StatusOr<SourceFormat> ParseSourceFormat(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(name);
  if (lower == "auto" || lower.empty()) return SourceFormat::kAuto;
  if (lower == "jsonl" || lower == "json" || lower == "ndjson") return SourceFormat::kJsonLines;
  if (lower == "csv") return SourceFormat::kCsv;
  if (lower == "html" || lower == "htm") return SourceFormat::kHtml;
  return absl::InvalidArgumentError(
      absl::StrCat("format: unknown format '", name, "' (jsonl, csv, html or auto)"));
}

absl::StatusOr<SourceFormat> FormatFromPath(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) return SourceFormat::kHtml;
  std::string name = absl::AsciiStrToLower(std::filesystem::path(path).filename().string());
  if (absl::EndsWith(name, ".gz")) name.resize(name.size() - 3);
  for (absl::string_view ext : {".jsonl", ".json", ".ndjson"}) {
    if (absl::EndsWith(name, ext)) return SourceFormat::kJsonLines;
  }
  if (absl::EndsWith(name, ".csv")) return SourceFormat::kCsv;
  if (absl::EndsWith(name, ".html") || absl::EndsWith(name, ".htm")) return SourceFormat::kHtml;
  return absl::InvalidArgumentError(absl::StrCat(
      "format: cannot tell the format of ", path,
      " from its name (.jsonl, .csv, .html, a directory of pages); give --format"));
}

absl::StatusOr<std::unique_ptr<SourceReader>> OpenSource(const std::string& path,
                                                         SourceFormat format) {
  if (format == SourceFormat::kAuto) {
    absl::StatusOr<SourceFormat> from_path = FormatFromPath(path);
    if (!from_path.ok()) return from_path.status();
    format = *from_path;
  }
  switch (format) {
    case SourceFormat::kJsonLines: return OpenJsonLines(path);
    case SourceFormat::kCsv: return OpenCsv(path);
    case SourceFormat::kHtml: return OpenHtml(path);
    case SourceFormat::kAuto: break;
  }
  return absl::InternalError("unreachable source format");
}

std::string SourceNameFromPath(absl::string_view path) {
  std::filesystem::path p{std::string(path)};
  if (!p.has_filename()) p = p.parent_path();  // "pages/" names the directory "pages".
  std::string name = p.filename().string();
  // Every extension: policies.csv.gz -> policies.
  if (size_t dot = name.find('.', 1); dot != std::string::npos) name.resize(dot);
  std::string out;
  for (char c : absl::AsciiStrToLower(name)) {
    bool allowed = absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
    if (allowed) {
      out += c;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > 64) out.resize(64);
  return out.empty() ? "import" : out;
}

}  // namespace hotline::kb::importers
