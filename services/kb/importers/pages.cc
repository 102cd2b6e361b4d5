#include "services/kb/importers/pages.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"

namespace hotline::kb::importers {
namespace {

namespace fs = std::filesystem;

class PageSourceReader final : public SourceReader {
 public:
  PageSourceReader(std::string root, std::vector<std::string> files, bool root_is_directory,
                   v1::ContentFormat default_format, PageToItem page_to_item)
      : root_(std::move(root)),
        files_(std::move(files)),
        root_is_directory_(root_is_directory),
        page_to_item_(std::move(page_to_item)) {
    defaults_.source_name = SourceNameFromPath(root_);
    defaults_.default_format = default_format;
  }

  absl::StatusOr<std::optional<SourceRecord>> Next() override {
    if (next_ >= files_.size()) return std::nullopt;
    const std::string& path = files_[next_++];
    std::string source_id = root_is_directory_
                                ? fs::path(path).lexically_relative(root_).generic_string()
                                : fs::path(path).filename().string();
    SourceRecord record{path, absl::InvalidArgumentError("")};
    absl::StatusOr<std::string> page = ReadFileToString(path, "page");
    if (!page.ok()) {
      record.item = page.status();
    } else {
      record.item = page_to_item_(*page, source_id);
    }
    return std::optional<SourceRecord>(std::move(record));
  }

  ReadProgress Progress() const override {
    return {static_cast<int64_t>(next_), static_cast<int64_t>(files_.size())};
  }

 private:
  std::string root_;
  std::vector<std::string> files_;
  bool root_is_directory_;
  PageToItem page_to_item_;
  size_t next_ = 0;
};

}  // namespace

bool HasExtension(const std::string& path, const std::vector<std::string>& extensions) {
  std::string extension = absl::AsciiStrToLower(fs::path(path).extension().string());
  return std::find(extensions.begin(), extensions.end(), extension) != extensions.end();
}

absl::StatusOr<std::unique_ptr<SourceReader>> OpenPages(const std::string& file_or_directory,
                                                        std::vector<std::string> extensions,
                                                        v1::ContentFormat default_format,
                                                        PageToItem page_to_item) {
  std::error_code error;
  fs::file_status status = fs::status(file_or_directory, error);
  if (error || !fs::exists(status)) {
    return absl::NotFoundError(absl::StrCat("cannot open ", file_or_directory, ": ",
                                            error ? error.message() : "no such file"));
  }
  std::vector<std::string> files;
  bool is_directory = fs::is_directory(status);
  if (is_directory) {
    for (fs::recursive_directory_iterator it(file_or_directory, error), end; !error && it != end;
         it.increment(error)) {
      if (it->is_regular_file() && HasExtension(it->path().string(), extensions)) {
        files.push_back(it->path().string());
      }
    }
    if (error) {
      return absl::UnavailableError(
          absl::StrCat("cannot list ", file_or_directory, ": ", error.message()));
    }
    // Path order, so that two runs over the same directory send the same stream.
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(file_or_directory);
  }
  return std::make_unique<PageSourceReader>(file_or_directory, std::move(files), is_directory,
                                            default_format, std::move(page_to_item));
}

}  // namespace hotline::kb::importers
