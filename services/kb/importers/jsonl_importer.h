// JSON Lines sources, plain or gzipped: each non-empty line is one record, either in our entry
// format (it has a `kind`, entry_format.h) or a LawRefBook record (its "source" is LawRefBook,
// lawref_format.h), recognised line by line so that one file may mix them.
#ifndef HOTLINE_SERVICES_KB_IMPORTERS_JSONL_IMPORTER_H_
#define HOTLINE_SERVICES_KB_IMPORTERS_JSONL_IMPORTER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/kb/importers/formats.h"
#include "services/kb/importers/source.h"

namespace hotline::kb::importers {

// The suggested source name is "lawref" when the first record is a LawRefBook one, otherwise
// derived from the file name; the default format is Markdown (both formats' bodies are).
absl::StatusOr<std::unique_ptr<SourceReader>> OpenJsonLines(const std::string& path);

// The format as formats.cc registers it.
SourceFormat JsonLinesFormat();

}  // namespace hotline::kb::importers

#endif  // HOTLINE_SERVICES_KB_IMPORTERS_JSONL_IMPORTER_H_
