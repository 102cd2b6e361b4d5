// Reads a text file line by line, plain or gzip-compressed (zlib reads both), without holding
// more than one line in memory, and says how far through the file it is so that a progress
// display can estimate the time left.
#ifndef HOTLINE_SERVICES_KB_IMPORTERS_LINE_READER_H_
#define HOTLINE_SERVICES_KB_IMPORTERS_LINE_READER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hotline::kb::importers {

class LineReader {
 public:
  // NOT_FOUND names the path when it cannot be opened.
  static absl::StatusOr<std::unique_ptr<LineReader>> Open(const std::string& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its '\n' (a '\r' before it stays: CSV needs to see it); false at
  // the end of the file. DATA_LOSS for a corrupt or truncated gzip stream.
  absl::StatusOr<bool> Next(std::string* line);

  // 1-based number of the line last returned by Next().
  int64_t line_number() const { return line_number_; }

  // Bytes of the file consumed so far (compressed bytes for a gzip file) and the file's size,
  // so that bytes_read() / file_size() is the fraction done either way.
  int64_t bytes_read() const;
  int64_t file_size() const { return file_size_; }

  const std::string& path() const { return path_; }

 private:
  LineReader(std::string path, void* file, int64_t file_size);

  std::string path_;
  void* file_;  // gzFile; void* keeps zlib.h out of this header.
  int64_t file_size_;
  int64_t line_number_ = 0;
};

// Calls `visit` with each line of a (possibly gzipped) text file, without its '\n'; stops at
// the first error, of reading or of `visit`.
absl::Status ForEachLine(const std::string& path,
                         const std::function<absl::Status(absl::string_view line)>& visit);

}  // namespace hotline::kb::importers

#endif  // HOTLINE_SERVICES_KB_IMPORTERS_LINE_READER_H_
