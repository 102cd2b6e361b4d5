// A streaming reader of CSV as RFC 4180 defines it: fields separated by commas, records by line
// breaks (CRLF or LF); a field in double quotes may hold commas, line breaks and quotes written
// twice (""). A UTF-8 byte-order mark before the first record is skipped (spreadsheet programs
// write one), and so are empty lines. A malformed record (a stray quote, a quoted field never
// closed) is reported with the line it starts on, and reading goes on with the next line.
#ifndef HOTLINE_SERVICES_KB_IMPORTERS_CSV_H_
#define HOTLINE_SERVICES_KB_IMPORTERS_CSV_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/kb/importers/line_reader.h"

namespace hotline::kb::importers {

struct CsvRecord {
  int64_t line = 0;  // 1-based line the record starts on
  // The fields, or INVALID_ARGUMENT saying what is malformed (with the line number).
  absl::StatusOr<std::vector<std::string>> fields;
};

class CsvReader {
 public:
  explicit CsvReader(std::unique_ptr<LineReader> lines) : lines_(std::move(lines)) {}

  // The next record, nullopt at the end; an error only when the file cannot be read.
  absl::StatusOr<std::optional<CsvRecord>> Next();

  const LineReader& lines() const { return *lines_; }

 private:
  std::unique_ptr<LineReader> lines_;
};

}  // namespace hotline::kb::importers

#endif  // HOTLINE_SERVICES_KB_IMPORTERS_CSV_H_
