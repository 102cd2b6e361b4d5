#include "services/kb/importers/source.h"

#include <filesystem>

#include "absl/strings/ascii.h"

namespace hotline::kb::importers {

std::string SourceNameFromPath(absl::string_view path) {
  std::filesystem::path p{std::string(path)};
  if (!p.has_filename()) p = p.parent_path();  // "pages/" names the directory "pages".
  std::string name = p.filename().string();
  // Every extension: policies.csv.gz -> policies.
  if (size_t dot = name.find('.', 1); dot != std::string::npos) name.resize(dot);
  std::string out;
  for (char c : absl::AsciiStrToLower(name)) {
    bool allowed = absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
    if (allowed) {
      out += c;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > 64) out.resize(64);
  return out.empty() ? "import" : out;
}

}  // namespace hotline::kb::importers
