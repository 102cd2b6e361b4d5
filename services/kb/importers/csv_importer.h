// CSV sources: a header row naming the columns, then one entry per row (README.md in this
// folder lists the columns). Columns carry the fields of our entry format (entry_format.h) under
// the same names; list fields hold their values separated by '|'. A `kind` column (policy, qa,
// guide, hot_topic) lets one file mix kinds; without it the kind follows from the columns:
// question and answer make Q&A pairs, matter makes service guides, anything else policies.
#ifndef HOTLINE_SERVICES_KB_IMPORTERS_CSV_IMPORTER_H_
#define HOTLINE_SERVICES_KB_IMPORTERS_CSV_IMPORTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/kb/importers/formats.h"
#include "services/kb/importers/source.h"

namespace hotline::kb::importers {

// Every column name the CSV importer knows, in the order README.md documents them.
const std::vector<std::string>& KnownCsvColumns();

// Reads the header row at once: INVALID_ARGUMENT when it names unknown or repeated columns (the
// message names them), or has neither an id nor a source_id column (re-imports are recognised
// by it). The default content format is plain text; a body_format column may say otherwise.
absl::StatusOr<std::unique_ptr<SourceReader>> OpenCsv(const std::string& path);

// The format as formats.cc registers it.
SourceFormat CsvFormat();

}  // namespace hotline::kb::importers

#endif  // HOTLINE_SERVICES_KB_IMPORTERS_CSV_IMPORTER_H_
