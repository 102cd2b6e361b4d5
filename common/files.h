// Reading small configuration and data files whole (token files, dictionaries, synonym lists,
// configuration), with errors that name the file.
#ifndef HOTLINE_COMMON_FILES_H_
#define HOTLINE_COMMON_FILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hotline {

// The file's bytes. NOT_FOUND "cannot open <what> '<path>'" when it cannot be opened,
// DATA_LOSS when reading fails part-way.
absl::StatusOr<std::string> ReadFileToString(const std::string& path,
                                             absl::string_view what = "file");

// Whether `path` names a directory.
bool IsDirectory(const std::string& path);

}  // namespace hotline

#endif  // HOTLINE_COMMON_FILES_H_
