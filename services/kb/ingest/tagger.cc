#include "services/kb/ingest/tagger.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "services/kb/ingest/internal/unicode.h"
#include "services/kb/ingest/internal/words.h"

namespace hotline::kb::ingest {
namespace {

bool HasDigit(absl::string_view word) {
  return std::any_of(word.begin(), word.end(),
                     [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tagger>> Tagger::Create(const TaggerOptions& options,
                                                       std::shared_ptr<const Analyzer> analyzer) {
  std::unique_ptr<Tagger> tagger(new Tagger());
  tagger->analyzer_ = std::move(analyzer);
  tagger->options_ = options;
  const Normalizer& normalizer = tagger->analyzer_->normalizer();

  ASSIGN_OR_RETURN(const std::string idf_text, ReadFileToString(options.idf_path, "IDF table"));
  std::vector<double> values;
  values.reserve(300000);
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(idf_text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    const size_t space = line.rfind(' ');
    double idf = 0;
    if (space == absl::string_view::npos || !absl::SimpleAtod(line.substr(space + 1), &idf)) {
      return absl::InvalidArgumentError(
          absl::StrCat(options.idf_path, ":", line_number, ": expected 'word idf'"));
    }
    absl::StatusOr<std::string> word =
        normalizer.NormalizeToUtf8(absl::StripAsciiWhitespace(line.substr(0, space)));
    if (!word.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(options.idf_path, ":", line_number, ": ", word.status().message()));
    }
    values.push_back(idf);
    // A traditional and a simplified spelling fold together; the first listed keeps its value.
    tagger->idf_.emplace(*std::move(word), idf);
  }
  if (values.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(options.idf_path, ": the IDF table is empty"));
  }
  // jieba takes the middle element of the sorted values as the median; so do we.
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(values.size() / 2),
                   values.end());
  tagger->median_idf_ = values[values.size() / 2];

  for (const std::string& word : options.excluded_words) {
    absl::StatusOr<std::string> normalized = normalizer.NormalizeToUtf8(word);
    if (normalized.ok()) tagger->excluded_words_.insert(*std::move(normalized));
  }
  for (const std::string& path : options.domain_dict_paths) {
    ASSIGN_OR_RETURN(const std::string dict, ReadFileToString(path, "domain dictionary"));
    for (absl::string_view line : absl::StrSplit(dict, '\n')) {
      line = absl::StripAsciiWhitespace(line);
      if (line.empty() || line[0] == '#') continue;
      const absl::string_view word = line.substr(0, line.find_first_of(" \t"));
      absl::StatusOr<std::string> normalized = normalizer.NormalizeToUtf8(word);
      if (normalized.ok() && !normalized->empty()) {
        tagger->domain_words_.insert(*std::move(normalized));
      }
    }
  }
  return tagger;
}

double Tagger::Idf(absl::string_view word) const {
  absl::StatusOr<std::string> normalized = analyzer_->normalizer().NormalizeToUtf8(word);
  if (!normalized.ok()) return median_idf_;
  const auto it = idf_.find(*normalized);
  return it == idf_.end() ? median_idf_ : it->second;
}

absl::StatusOr<std::vector<Tag>> Tagger::Tags(absl::string_view text, int k) const {
  ASSIGN_OR_RETURN(const std::vector<ingest_internal::Word> words,
                   ingest_internal::SegmentWords(*analyzer_, text, /*sub_words=*/false));
  absl::flat_hash_map<std::string, int> counts;
  int total = 0;
  for (const ingest_internal::Word& word : words) {
    if (word.kind != TokenKind::kWord) continue;
    if (ingest_internal::CodePointCount(word.text) < static_cast<size_t>(options_.min_word_chars) ||
        HasDigit(word.text) || analyzer_->IsStopWord(word.text) ||
        excluded_words_.contains(word.text)) {
      continue;
    }
    ++counts[word.text];
    ++total;
  }
  std::vector<Tag> tags;
  tags.reserve(counts.size());
  for (const auto& [word, count] : counts) {
    const auto it = idf_.find(word);
    double weight = (it == idf_.end() ? median_idf_ : it->second) * count / total;
    if (domain_words_.contains(word)) weight *= options_.domain_boost;
    tags.push_back(Tag{word, weight});
  }
  std::sort(tags.begin(), tags.end(), [](const Tag& a, const Tag& b) {
    return a.weight != b.weight ? a.weight > b.weight : a.word < b.word;
  });
  if (k >= 0 && tags.size() > static_cast<size_t>(k)) tags.resize(static_cast<size_t>(k));
  return tags;
}

}  // namespace hotline::kb::ingest
