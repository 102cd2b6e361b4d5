#include "services/kb/ingest/classifier.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "services/kb/ingest/internal/words.h"

namespace hotline::kb::ingest {
namespace {

using ingest_internal::SegmentWords;
using ingest_internal::Word;

// The words of a title or body, counted two ways: every word and sub-word by itself (for
// one-word keywords), and the sequence of words (for keywords the analyser splits).
struct CountedWords {
  absl::flat_hash_map<std::string, int> counts;
  std::vector<std::string> sequence;

  explicit CountedWords(std::vector<Word> words) {
    for (Word& word : words) {
      ++counts[word.text];
      if (word.kind != TokenKind::kSubWord) sequence.push_back(std::move(word.text));
    }
  }

  int Count(const std::vector<std::string>& keyword) const {
    if (keyword.size() == 1) {
      const auto it = counts.find(keyword.front());
      return it == counts.end() ? 0 : it->second;
    }
    int count = 0;
    for (size_t i = 0; i + keyword.size() <= sequence.size(); ++i) {
      if (std::equal(keyword.begin(), keyword.end(),
                     sequence.begin() + static_cast<ptrdiff_t>(i))) {
        ++count;
      }
    }
    return count;
  }
};

}  // namespace

int Classifier::CategoryIndex(const std::string& path) {
  if (const auto it = index_by_path_.find(path); it != index_by_path_.end()) return it->second;
  const size_t slash = path.rfind('/');
  const int parent = slash == std::string::npos ? -1 : CategoryIndex(path.substr(0, slash));
  const int index = static_cast<int>(categories_.size());
  Category category;
  category.path = path;
  category.parent = parent;
  categories_.push_back(std::move(category));
  index_by_path_[path] = index;
  if (parent >= 0) {
    categories_[static_cast<size_t>(parent)].children.push_back(index);
  } else {
    top_level_.push_back(index);
  }
  return index;
}

absl::StatusOr<std::unique_ptr<Classifier>> Classifier::Load(
    const std::string& path, std::shared_ptr<const Analyzer> analyzer, ClassifierOptions options) {
  absl::StatusOr<std::string> contents = ReadFileToString(path, "taxonomy file");
  if (!contents.ok()) return contents.status();
  return Parse(*contents, path, std::move(analyzer), std::move(options));
}

absl::StatusOr<std::unique_ptr<Classifier>> Classifier::Parse(
    absl::string_view contents, absl::string_view name, std::shared_ptr<const Analyzer> analyzer,
    ClassifierOptions options) {
  std::unique_ptr<Classifier> classifier(new Classifier());
  classifier->analyzer_ = std::move(analyzer);
  classifier->options_ = std::move(options);
  const Normalizer& normalizer = classifier->analyzer_->normalizer();
  int current = -1;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    ++line_number;
    auto error = [&](absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat(name, ":", line_number, ": ", what));
    };
    line = absl::StripAsciiWhitespace(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    if (absl::ConsumePrefix(&line, "[")) {
      if (!absl::ConsumeSuffix(&line, "]")) return error("a category line must end with ']'");
      std::vector<std::string> segments;
      for (absl::string_view segment : absl::StrSplit(line, '/')) {
        segment = absl::StripAsciiWhitespace(segment);
        if (segment.empty()) return error("a category path has an empty segment");
        segments.emplace_back(segment);
      }
      current = classifier->CategoryIndex(absl::StrJoin(segments, "/"));
      continue;
    }
    if (current < 0) return error("a keyword or rule comes before any [category] line");
    const std::vector<absl::string_view> parts = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (parts.size() > 2) return error("expected 'term [weight]' (terms contain no spaces)");
    double weight = 1;
    if (parts.size() == 2 && !absl::SimpleAtod(parts[1], &weight)) {
      return error(absl::StrCat("weight '", parts[1], "' is not a number"));
    }
    Category& category = classifier->categories_[static_cast<size_t>(current)];
    absl::string_view term = parts[0];
    const bool title_rule = absl::ConsumePrefix(&term, "title:");
    const bool text_rule = !title_rule && absl::ConsumePrefix(&term, "text:");
    if (term.empty()) return error("empty term");
    if (title_rule || text_rule) {
      absl::StatusOr<std::string> normalized = normalizer.NormalizeToUtf8(term);
      if (!normalized.ok()) return error(normalized.status().message());
      category.rules.push_back(Rule{*std::move(normalized), title_rule, weight});
      continue;
    }
    absl::StatusOr<std::vector<Word>> words =
        SegmentWords(*classifier->analyzer_, term, /*sub_words=*/false);
    if (!words.ok()) return error(words.status().message());
    if (words->empty()) return error(absl::StrCat("keyword '", term, "' has no words"));
    Keyword keyword;
    keyword.weight = weight;
    for (Word& word : *words) keyword.words.push_back(std::move(word.text));
    category.keywords.push_back(std::move(keyword));
  }
  if (classifier->categories_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": the taxonomy has no category"));
  }
  return classifier;
}

absl::StatusOr<Classification> Classifier::Classify(absl::string_view title,
                                                    absl::string_view text) const {
  ASSIGN_OR_RETURN(std::vector<Word> title_words,
                   SegmentWords(*analyzer_, title, /*sub_words=*/true));
  ASSIGN_OR_RETURN(std::vector<Word> body_words,
                   SegmentWords(*analyzer_, text, /*sub_words=*/true));
  const CountedWords in_title(std::move(title_words));
  const CountedWords in_body(std::move(body_words));
  ASSIGN_OR_RETURN(const std::string normalized_title,
                   analyzer_->normalizer().NormalizeToUtf8(title));
  ASSIGN_OR_RETURN(const std::string normalized_body,
                   analyzer_->normalizer().NormalizeToUtf8(text));

  std::vector<double> score(categories_.size(), 0.0);
  for (size_t c = 0; c < categories_.size(); ++c) {
    const Category& category = categories_[c];
    for (const Keyword& keyword : category.keywords) {
      const int title_count = in_title.Count(keyword.words);
      const int body_count = in_body.Count(keyword.words);
      // Sub-linear in the body: a long document repeating a word is not that much more about it.
      const double body = body_count > 0 ? 1.0 + std::log(static_cast<double>(body_count)) : 0.0;
      score[c] += keyword.weight * (options_.title_weight * title_count + body);
    }
    for (const Rule& rule : category.rules) {
      const bool matches = absl::StrContains(normalized_title, rule.text) ||
                           (!rule.title_only && absl::StrContains(normalized_body, rule.text));
      if (matches) score[c] += rule.weight;
    }
  }
  // Parents come before their children, so one backward pass adds every subtree into its root.
  for (size_t c = categories_.size(); c-- > 0;) {
    if (categories_[c].parent >= 0) score[static_cast<size_t>(categories_[c].parent)] += score[c];
  }

  Classification result;
  for (int c : top_level_) {
    if (score[static_cast<size_t>(c)] > 0) {
      result.top_level.emplace_back(categories_[static_cast<size_t>(c)].path,
                                    score[static_cast<size_t>(c)]);
    }
  }
  std::stable_sort(result.top_level.begin(), result.top_level.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });

  // The best of `candidates` reaching min_score, or -1.
  auto best_of = [&](const std::vector<int>& candidates) {
    int best = -1;
    for (int c : candidates) {
      if (score[static_cast<size_t>(c)] < options_.min_score) continue;
      if (best < 0 || score[static_cast<size_t>(c)] > score[static_cast<size_t>(best)]) best = c;
    }
    return best;
  };
  int chosen = best_of(top_level_);
  if (chosen < 0) {
    result.path = options_.fallback;
    return result;
  }
  result.score = score[static_cast<size_t>(chosen)];
  for (int child = best_of(categories_[static_cast<size_t>(chosen)].children); child >= 0;
       child = best_of(categories_[static_cast<size_t>(chosen)].children)) {
    chosen = child;
  }
  result.path = categories_[static_cast<size_t>(chosen)].path;
  return result;
}

std::vector<std::string> Classifier::CategoryPaths() const {
  std::vector<std::string> paths;
  paths.reserve(categories_.size());
  for (const Category& category : categories_) paths.push_back(category.path);
  return paths;
}

}  // namespace hotline::kb::ingest
