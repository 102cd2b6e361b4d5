// Classification, the fourth step of ingestion: gives every entry a category path of the public-
// service taxonomy (社会保障/养老保险, 住房保障/住房公积金...), which agents filter by and editors
// browse. The taxonomy is data, not code (data/taxonomy.txt), so editors can add a category or a
// keyword without a release.
//
// Taxonomy file format (UTF-8, one item per line, '#' starts a comment):
//   [社会保障/养老保险]      a category path; its parents exist implicitly
//   养老保险 4               a keyword and its weight (default 1; negative weights count against)
//   title:退休 3             a rule: the title contains the text
//   text:灵活就业人员 2      a rule: the text (title or body) contains the text
// Keywords are matched against the analyser's words (and sub-words: 公积金 inside 住房公积金); a
// keyword the analyser splits into several words matches those words in sequence. Rules match
// normalised substrings, for phrases the analyser would not keep together.
#ifndef HOTLINE_SERVICES_KB_INGEST_CLASSIFIER_H_
#define HOTLINE_SERVICES_KB_INGEST_CLASSIFIER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/kb/text/analyzer.h"

namespace hotline::kb::ingest {

struct ClassifierOptions {
  // A keyword in the title counts this many times a body occurrence: a title says what a document
  // is about, a body mentions much besides.
  double title_weight = 3.0;
  // Below this score a top-level category is not chosen, and the result is `fallback`; a
  // sub-category below it is not descended into.
  double min_score = 2.0;
  std::string fallback = "其他";
};

struct Classification {
  std::string path;  // "住房保障/住房公积金", or the fallback
  // The evidence for the chosen top-level category (its own score plus its sub-categories');
  // 0 for the fallback.
  double score = 0;
  // The top-level categories that scored, best first, for editors reviewing a doubtful case.
  std::vector<std::pair<std::string, double>> top_level;
};

// Immutable after creation; Classify() is safe to call from many threads at once.
class Classifier {
 public:
  // Reads a taxonomy file. Errors: NotFoundError for an unreadable file, InvalidArgumentError
  // naming the line of a malformed one.
  static absl::StatusOr<std::unique_ptr<Classifier>> Load(const std::string& path,
                                                          std::shared_ptr<const Analyzer> analyzer,
                                                          ClassifierOptions options = {});
  // The same from the file's contents; `name` is used in error messages.
  static absl::StatusOr<std::unique_ptr<Classifier>> Parse(absl::string_view contents,
                                                           absl::string_view name,
                                                           std::shared_ptr<const Analyzer> analyzer,
                                                           ClassifierOptions options = {});

  // Scores every category, each keyword as weight x (title_weight x title occurrences +
  // 1 + ln(body occurrences)), each rule as its weight once; a category's score includes its
  // sub-categories'. Chooses the best top-level category, then, level by level, its best
  // sub-category while one reaches min_score. Ties go to the category listed first.
  absl::StatusOr<Classification> Classify(absl::string_view title, absl::string_view text) const;

  // Every category path, parents before children, in file order.
  std::vector<std::string> CategoryPaths() const;

 private:
  struct Keyword {
    std::vector<std::string> words;  // the analyser's words of the keyword
    double weight = 1;
  };
  struct Rule {
    std::string text;  // normalised
    bool title_only = false;
    double weight = 1;
  };
  struct Category {
    std::string path;
    int parent = -1;
    std::vector<int> children;
    std::vector<Keyword> keywords;
    std::vector<Rule> rules;
  };

  Classifier() = default;
  int CategoryIndex(const std::string& path);  // creates it and its parents if needed

  std::shared_ptr<const Analyzer> analyzer_;
  ClassifierOptions options_;
  std::vector<Category> categories_;
  std::vector<int> top_level_;
  absl::flat_hash_map<std::string, int> index_by_path_;
};

}  // namespace hotline::kb::ingest

#endif  // HOTLINE_SERVICES_KB_INGEST_CLASSIFIER_H_
