// Tagging, the fifth step of ingestion: the keywords an entry is tagged with, which agents see on
// a hit and search boosts (the index's tags field). TF-IDF over the analyser's words, with the IDF
// table of jieba's keyword extractor as Debian's python3-jieba ships it, read at run time (never
// copied into the repository), and a boost for the words of our domain dictionary, which name
// exactly what a hotline entry is about (住房公积金, 起付线, 居住证).
#ifndef HOTLINE_SERVICES_KB_INGEST_TAGGER_H_
#define HOTLINE_SERVICES_KB_INGEST_TAGGER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/kb/text/analyzer.h"

namespace hotline::kb::ingest {

// Where Debian's python3-jieba installs the IDF table of jieba.analyse.
inline constexpr char kDefaultJiebaIdfPath[] =
    "/usr/lib/python3/dist-packages/jieba/analyse/idf.txt";

struct TaggerOptions {
  // Lines "word idf", as in jieba's idf.txt.
  std::string idf_path = kDefaultJiebaIdfPath;
  // Dictionaries in the analyser's domain-dictionary format (first field of each line is a word;
  // '#' comments), e.g. services/kb/text/data/domain_dict.txt. Their words' scores are multiplied
  // by `domain_boost`.
  std::vector<std::string> domain_dict_paths;
  double domain_boost = 2.0;
  // Words shorter than this (in code points) are not tags; jieba's extractor uses 2 as well,
  // since a single character rarely names a topic.
  int min_word_chars = 2;
  // Words that name the kind of document or the act of issuing it rather than what it is about:
  // every notice says 通知 and 如下, and the analyser's stop words are about questions, not these.
  std::vector<std::string> excluded_words = {"通知", "办法", "规定",   "意见", "决定",
                                             "实施", "有关", "事项",   "如下", "同意",
                                             "印发", "本市", "进一步", "调整", "执行"};
};

struct Tag {
  std::string word;  // normalised
  double weight = 0;
  bool operator==(const Tag& other) const { return word == other.word && weight == other.weight; }
};

// Immutable after Create(); Tags() is safe to call from many threads at once.
class Tagger {
 public:
  // Loads the IDF table (a quarter of a second for jieba's) and the domain dictionaries.
  // Errors: NotFoundError for an unreadable file, InvalidArgumentError naming the file and line of
  // a malformed IDF entry.
  static absl::StatusOr<std::unique_ptr<Tagger>> Create(const TaggerOptions& options,
                                                        std::shared_ptr<const Analyzer> analyzer);

  // The `k` words of `text` with the highest tf x idf (x domain_boost for domain words), best
  // first, ties by word. Terms are the analyser's words (no sub-words, bigrams or single
  // characters), without stop words, `excluded_words` and words containing digits (years, amounts,
  // article numbers). A word missing from the IDF table gets the table's median IDF, as in jieba:
  // rare enough to count, not so rare that every typo becomes a tag.
  absl::StatusOr<std::vector<Tag>> Tags(absl::string_view text, int k) const;

  // The IDF of a word (normalised first), the median for unknown words.
  double Idf(absl::string_view word) const;
  double median_idf() const { return median_idf_; }

 private:
  Tagger() = default;

  std::shared_ptr<const Analyzer> analyzer_;
  TaggerOptions options_;
  absl::flat_hash_map<std::string, double> idf_;
  double median_idf_ = 0;
  absl::flat_hash_set<std::string> domain_words_;
  absl::flat_hash_set<std::string> excluded_words_;  // normalised
};

}  // namespace hotline::kb::ingest

#endif  // HOTLINE_SERVICES_KB_INGEST_TAGGER_H_
