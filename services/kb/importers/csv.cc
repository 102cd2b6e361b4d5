#include "services/kb/importers/csv.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace hotline::kb::importers {

absl::StatusOr<std::optional<CsvRecord>> CsvReader::Next() {
  std::string line;
  // Skip empty lines between records.
  while (true) {
    absl::StatusOr<bool> more = lines_->Next(&line);
    if (!more.ok()) return more.status();
    if (!*more) return std::nullopt;
    if (lines_->line_number() == 1 && absl::StartsWith(line, "\xEF\xBB\xBF")) line.erase(0, 3);
    if (!line.empty() && line != "\r") break;
  }
  CsvRecord record;
  record.line = lines_->line_number();
  auto malformed = [&](absl::string_view what) {
    record.fields = absl::InvalidArgumentError(absl::StrCat("line ", record.line, ": ", what));
    return std::optional<CsvRecord>(std::move(record));
  };

  enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted };
  State state = State::kFieldStart;
  std::vector<std::string> fields;
  std::string field;
  while (true) {
    // A CR ends the line with the LF (CRLF); inside a quoted field the line break is kept as LF.
    size_t end = line.size();
    if (end > 0 && line[end - 1] == '\r') --end;
    for (size_t i = 0; i < end; ++i) {
      char c = line[i];
      switch (state) {
        case State::kFieldStart:
          if (c == '"') {
            state = State::kQuoted;
          } else if (c == ',') {
            fields.push_back(std::move(field));
            field.clear();
          } else {
            field += c;
            state = State::kUnquoted;
          }
          break;
        case State::kUnquoted:
          if (c == ',') {
            fields.push_back(std::move(field));
            field.clear();
            state = State::kFieldStart;
          } else if (c == '"') {
            return malformed(absl::StrCat("field ", fields.size() + 1,
                                          " has a quote but does not start with one; quote the "
                                          "whole field and write the quote twice (\"\")"));
          } else {
            field += c;
          }
          break;
        case State::kQuoted:
          if (c == '"') {
            state = State::kQuoteInQuoted;
          } else {
            field += c;
          }
          break;
        case State::kQuoteInQuoted:
          if (c == '"') {  // "" is a quote inside the field.
            field += '"';
            state = State::kQuoted;
          } else if (c == ',') {
            fields.push_back(std::move(field));
            field.clear();
            state = State::kFieldStart;
          } else {
            return malformed(
                absl::StrCat("field ", fields.size() + 1, " has text after its closing quote"));
          }
          break;
      }
    }
    if (state != State::kQuoted) break;
    // The quoted field goes on over the line break.
    field += '\n';
    absl::StatusOr<bool> more = lines_->Next(&line);
    if (!more.ok()) return more.status();
    if (!*more) {
      return malformed(absl::StrCat("the quoted field ", fields.size() + 1,
                                    " is not closed before the end of the file"));
    }
  }
  fields.push_back(std::move(field));
  record.fields = std::move(fields);
  return std::optional<CsvRecord>(std::move(record));
}

}  // namespace hotline::kb::importers
