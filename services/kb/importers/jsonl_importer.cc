#include "services/kb/importers/jsonl_importer.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/kb/importers/entry_format.h"
#include "services/kb/importers/lawref_format.h"
#include "services/kb/importers/line_reader.h"

namespace hotline::kb::importers {
namespace {

absl::StatusOr<v1::ImportItem> LineToItem(absl::string_view line, bool* lawref) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return absl::InvalidArgumentError("not a JSON object");
  if (IsEntryObject(j)) return EntryObjectToItem(j);
  if (IsLawrefObject(j)) {
    *lawref = true;
    absl::StatusOr<LawrefRecord> record = LawrefFromObject(j);
    if (!record.ok()) return record.status();
    return LawrefToItem(*record);
  }
  return absl::InvalidArgumentError(
      "neither an entry (no \"kind\" field) nor a LawRefBook record (no \"source\": "
      "\"LawRefBook\")");
}

class JsonLinesReader final : public SourceReader {
 public:
  explicit JsonLinesReader(std::unique_ptr<LineReader> lines) : lines_(std::move(lines)) {}

  // Reads ahead to the first record to suggest the source name from it.
  absl::Status Start() {
    defaults_.default_format = v1::CONTENT_FORMAT_MARKDOWN;
    defaults_.source_name = SourceNameFromPath(lines_->path());
    absl::StatusOr<std::optional<SourceRecord>> first = ReadRecord();
    if (!first.ok()) return first.status();
    pending_ = *std::move(first);
    if (last_was_lawref_) defaults_.source_name = kLawrefSourceName;
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<SourceRecord>> Next() override {
    if (pending_.has_value()) {
      std::optional<SourceRecord> record = std::move(pending_);
      pending_.reset();
      return record;
    }
    return ReadRecord();
  }

  ReadProgress Progress() const override { return {lines_->bytes_read(), lines_->file_size()}; }

 private:
  absl::StatusOr<std::optional<SourceRecord>> ReadRecord() {
    std::string line;
    while (true) {
      absl::StatusOr<bool> more = lines_->Next(&line);
      if (!more.ok()) return more.status();
      if (!*more) return std::nullopt;
      if (lines_->line_number() == 1 && absl::StartsWith(line, "\xEF\xBB\xBF")) line.erase(0, 3);
      if (absl::StripAsciiWhitespace(line).empty()) continue;
      last_was_lawref_ = false;
      return SourceRecord{absl::StrCat(lines_->path(), ":", lines_->line_number()),
                          LineToItem(line, &last_was_lawref_)};
    }
  }

  std::unique_ptr<LineReader> lines_;
  std::optional<SourceRecord> pending_;
  bool last_was_lawref_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SourceReader>> OpenJsonLines(const std::string& path) {
  absl::StatusOr<std::unique_ptr<LineReader>> lines = LineReader::Open(path);
  if (!lines.ok()) return lines.status();
  auto reader = std::make_unique<JsonLinesReader>(*std::move(lines));
  if (absl::Status started = reader->Start(); !started.ok()) return started;
  return reader;
}

SourceFormat JsonLinesFormat() {
  SourceFormat f;
  f.name = "jsonl";
  f.aliases = {"json", "ndjson"};
  f.extensions = {".jsonl", ".json", ".ndjson"};
  f.gzip = true;
  f.summary = "JSON Lines, plain or gzipped: our entry format or the LawRefBook export";
  f.open = OpenJsonLines;
  return f;
}

}  // namespace hotline::kb::importers
