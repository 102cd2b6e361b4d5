#include "services/kb/importers/csv_importer.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/utf8.h"
#include "services/kb/importers/csv.h"
#include "services/kb/importers/entry_format.h"

namespace hotline::kb::importers {
namespace {

// Columns whose cells hold several values separated by '|' ('|' because the Chinese text of the
// other cells is full of commas, 、 and ；).
const absl::flat_hash_set<std::string>& ListColumns() {
  static const auto* columns = new absl::flat_hash_set<std::string>{"tags",
                                                                    "keywords",
                                                                    "co_issuing_agencies",
                                                                    "supersedes",
                                                                    "alternative_questions",
                                                                    "audiences",
                                                                    "materials",
                                                                    "channels",
                                                                    "policy_ids",
                                                                    "sample_questions",
                                                                    "related_ids"};
  return *columns;
}

// Kind names a spreadsheet may use besides ours.
std::string CanonicalKind(absl::string_view kind) {
  static const std::pair<absl::string_view, absl::string_view> kAliases[] = {
      {"政策", "policy"},        {"政策文件", "policy"}, {"问答", "qa"},
      {"热点问答", "qa"},        {"办事指南", "guide"},  {"热点", "hot_topic"},
      {"hot-topic", "hot_topic"}};
  for (const auto& [alias, canonical] : kAliases) {
    if (kind == alias) return std::string(canonical);
  }
  return absl::AsciiStrToLower(kind);
}

class CsvSourceReader final : public SourceReader {
 public:
  explicit CsvSourceReader(std::unique_ptr<LineReader> lines) : csv_(std::move(lines)) {}

  absl::Status ReadHeader() {
    const std::string& path = csv_.lines().path();
    defaults_.source_name = SourceNameFromPath(path);
    defaults_.default_format = v1::CONTENT_FORMAT_PLAIN_TEXT;
    absl::StatusOr<std::optional<CsvRecord>> header = csv_.Next();
    if (!header.ok()) return header.status();
    if (!header->has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": empty, the header row is missing"));
    }
    if (!(*header)->fields.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": header row: ", (*header)->fields.status().message()));
    }
    const std::vector<std::string>& known = KnownCsvColumns();
    std::vector<std::string> unknown, repeated;
    absl::flat_hash_set<std::string> seen;
    for (const std::string& raw : *(*header)->fields) {
      std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(raw));
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        unknown.push_back(name.empty() ? "(empty)" : name);
      } else if (!seen.insert(name).second) {
        repeated.push_back(name);
      }
      columns_.push_back(std::move(name));
    }
    if (!unknown.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": header row: unknown column", unknown.size() > 1 ? "s " : " ",
          absl::StrJoin(unknown, ", "), " (known columns: ", absl::StrJoin(known, ", "), ")"));
    }
    if (!repeated.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": header row: column",
                                                     repeated.size() > 1 ? "s " : " ",
                                                     absl::StrJoin(repeated, ", "), " repeated"));
    }
    if (!seen.contains("id") && !seen.contains("source_id")) {
      return absl::InvalidArgumentError(
          absl::StrCat(path,
                       ": header row: needs an id or source_id column, by which a "
                       "re-import recognises the entries it already brought"));
    }
    if (seen.contains("question") && seen.contains("answer")) {
      inferred_kind_ = "qa";
    } else if (seen.contains("matter")) {
      inferred_kind_ = "guide";
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<SourceRecord>> Next() override {
    absl::StatusOr<std::optional<CsvRecord>> row = csv_.Next();
    if (!row.ok()) return row.status();
    if (!row->has_value()) return std::nullopt;
    const CsvRecord& record = **row;
    SourceRecord out{absl::StrCat(csv_.lines().path(), ":", record.line),
                     absl::InvalidArgumentError("")};
    if (!record.fields.ok()) {
      out.item = record.fields.status();
    } else if (record.fields->size() != columns_.size()) {
      out.item =
          absl::InvalidArgumentError(absl::StrCat("line ", record.line, ": ", record.fields->size(),
                                                  " fields, but the header "
                                                  "names ",
                                                  columns_.size(), " columns"));
    } else {
      out.item = RowToItem(*record.fields);
      if (!out.item.ok()) {
        out.item = absl::InvalidArgumentError(
            absl::StrCat("line ", record.line, ": ", out.item.status().message()));
      }
    }
    return std::optional<SourceRecord>(std::move(out));
  }

  ReadProgress Progress() const override {
    return {csv_.lines().bytes_read(), csv_.lines().file_size()};
  }

 private:
  // The row as an entry object, then the entry format's one mapping to an item.
  absl::StatusOr<v1::ImportItem> RowToItem(const std::vector<std::string>& fields) const {
    nlohmann::json object = nlohmann::json::object();
    for (size_t i = 0; i < fields.size(); ++i) {
      const std::string& name = columns_[i];
      if (fields[i].empty()) continue;
      if (!IsValidUtf8(fields[i])) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, ": not valid UTF-8 (a file saved as GBK? save it as UTF-8)"));
      }
      if (ListColumns().contains(name)) {
        nlohmann::json values = nlohmann::json::array();
        for (absl::string_view v : absl::StrSplit(fields[i], '|')) {
          v = absl::StripAsciiWhitespace(v);
          if (!v.empty()) values.push_back(std::string(v));
        }
        object[name] = std::move(values);
      } else {
        object[name] = fields[i];
      }
    }
    std::string kind =
        object.contains("kind") ? CanonicalKind(object["kind"].get<std::string>()) : inferred_kind_;
    object["kind"] = kind;
    // A spreadsheet cell holds plain text unless the row says otherwise.
    if (!object.contains("body_format")) object["body_format"] = "plain";
    return EntryObjectToItem(object);
  }

  CsvReader csv_;
  std::vector<std::string> columns_;
  std::string inferred_kind_ = "policy";
};

}  // namespace

const std::vector<std::string>& KnownCsvColumns() {
  static const auto* columns = new std::vector<std::string>{
      // Every kind.
      "kind", "id", "source_id", "url", "title", "region", "category_path", "tags", "keywords",
      // Policy documents.
      "doc_number", "issuing_agency", "co_issuing_agencies", "level", "short_title", "publish_date",
      "effective_date", "expiry_date", "status", "superseded_by", "supersedes", "body",
      "body_format",
      // Q&A pairs.
      "question", "alternative_questions", "answer", "source_entry_id", "source_passage",
      // Service guides.
      "matter", "department", "audiences", "conditions", "materials", "how", "time_limit",
      "promised_working_days", "fees", "channels", "online_url", "consultation_phone", "policy_ids",
      // Hot topics (the reply script is `body`).
      "sample_questions", "issuing_department", "valid_from", "valid_until", "related_ids"};
  return *columns;
}

absl::StatusOr<std::unique_ptr<SourceReader>> OpenCsv(const std::string& path) {
  absl::StatusOr<std::unique_ptr<LineReader>> lines = LineReader::Open(path);
  if (!lines.ok()) return lines.status();
  auto reader = std::make_unique<CsvSourceReader>(*std::move(lines));
  if (absl::Status header = reader->ReadHeader(); !header.ok()) return header;
  return reader;
}

SourceFormat CsvFormat() {
  SourceFormat f;
  f.name = "csv";
  f.extensions = {".csv"};
  f.gzip = true;
  f.summary = "CSV (RFC 4180) with a header row naming the columns";
  f.open = OpenCsv;
  return f;
}

}  // namespace hotline::kb::importers
