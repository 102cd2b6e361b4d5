// Importers turn source files into the ImportItem messages of the knowledge base's Import rpc,
// one record at a time, so that a corpus of any size streams through a client without being
// held in memory. The formats are registered in formats.cc (README.md in this folder lists
// their fields and columns).
// A record that cannot be turned into an item (a malformed CSV row, a line that is not JSON) is
// returned with its origin and the reason, and reading goes on with the next one.
#ifndef HOTLINE_SERVICES_KB_IMPORTERS_SOURCE_H_
#define HOTLINE_SERVICES_KB_IMPORTERS_SOURCE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hotline/kb/v1/kb.pb.h"

namespace hotline::kb::importers {

// One record of a source.
struct SourceRecord {
  // Where the record is, for messages a person can find it by: "policies.csv:12" (the line
  // the record starts on), "pages/notice.html".
  std::string origin;
  // The item, or why this record cannot be imported (INVALID_ARGUMENT with the reason).
  absl::StatusOr<v1::ImportItem> item;
};

// How far through its source a reader is, in the source's own units (bytes of a file, files of
// a directory). total is 0 when unknown.
struct ReadProgress {
  int64_t done = 0;
  int64_t total = 0;
};

// What a reader suggests for the ImportHeader.
struct SourceDefaults {
  // A valid ImportHeader.source_name ([a-z0-9._-], at most 64): "lawref" for a LawRefBook
  // export, otherwise derived from the file or directory name.
  std::string source_name;
  // Format of items' content when they do not say.
  v1::ContentFormat default_format = v1::CONTENT_FORMAT_UNSPECIFIED;
};

class SourceReader {
 public:
  virtual ~SourceReader() = default;

  // The next record, or nullopt at the end. An error means the source cannot be read any
  // further (an I/O error, a CSV header with unknown columns); records returned before stand.
  virtual absl::StatusOr<std::optional<SourceRecord>> Next() = 0;

  virtual ReadProgress Progress() const = 0;

  const SourceDefaults& defaults() const { return defaults_; }

 protected:
  SourceDefaults defaults_;
};

// A source name from a path: the file or directory name without its extensions, lowercased,
// with every run of characters outside [a-z0-9._-] turned into one '-'; "import" if nothing is
// left (a name in Chinese only).
std::string SourceNameFromPath(absl::string_view path);

}  // namespace hotline::kb::importers

#endif  // HOTLINE_SERVICES_KB_IMPORTERS_SOURCE_H_
