#include "services/kb/importers/line_reader.h"

#include <sys/stat.h>
#include <zlib.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace hotline::kb::importers {

absl::StatusOr<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  if (S_ISDIR(info.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is a directory, not a file"));
  }
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  gzbuffer(file, 1 << 20);
  return std::unique_ptr<LineReader>(new LineReader(path, file, info.st_size));
}

LineReader::LineReader(std::string path, void* file, int64_t file_size)
    : path_(std::move(path)), file_(file), file_size_(file_size) {}

LineReader::~LineReader() { gzclose(static_cast<gzFile>(file_)); }

absl::StatusOr<bool> LineReader::Next(std::string* line) {
  gzFile file = static_cast<gzFile>(file_);
  line->clear();
  char buffer[1 << 16];
  bool got_any = false;
  while (gzgets(file, buffer, sizeof(buffer)) != nullptr) {
    got_any = true;
    size_t n = strlen(buffer);
    line->append(buffer, n);
    if (n > 0 && buffer[n - 1] == '\n') {
      line->pop_back();
      break;
    }
  }
  int error = Z_OK;
  const char* message = gzerror(file, &error);
  if (error != Z_OK && error != Z_STREAM_END) {
    return absl::DataLossError(absl::StrCat(path_, ": ", message));
  }
  if (!got_any) return false;
  ++line_number_;
  return true;
}

int64_t LineReader::bytes_read() const {
  // gzoffset is the position in the file itself, i.e. compressed bytes for a gzip file.
  return gzoffset(static_cast<gzFile>(file_));
}

absl::Status ForEachLine(const std::string& path,
                         const std::function<absl::Status(absl::string_view)>& visit) {
  absl::StatusOr<std::unique_ptr<LineReader>> reader = LineReader::Open(path);
  if (!reader.ok()) return reader.status();
  std::string line;
  while (true) {
    absl::StatusOr<bool> more = (*reader)->Next(&line);
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
    if (absl::Status status = visit(line); !status.ok()) return status;
  }
}

}  // namespace hotline::kb::importers
