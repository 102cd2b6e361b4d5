// The Chinese text analysis of the knowledge-base search engine: normalization (normalizer.h),
// jieba-style segmentation with sub-words, bigrams and unigrams (segmenter.h) and stop words, one
// call from a UTF-8 string to the tokens the index stores or a query looks up.
//
// Usage:
//   AnalyzerOptions options;
//   options.extra_dict_paths = {"services/kb/text/data/domain_dict.txt"};
//   options.stopwords_path = "services/kb/text/data/stopwords.txt";
//   ASSIGN_OR_RETURN(std::unique_ptr<Analyzer> analyzer, Analyzer::Create(options));
//   ASSIGN_OR_RETURN(std::vector<Token> tokens, analyzer->Analyze(question, AnalyzeMode::kQuery));
#ifndef HOTLINE_SERVICES_KB_TEXT_ANALYZER_H_
#define HOTLINE_SERVICES_KB_TEXT_ANALYZER_H_

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/kb/text/normalizer.h"
#include "services/kb/text/segmenter.h"

namespace hotline::kb {

// Where Debian's python3-jieba installs its dictionary.
inline constexpr char kDefaultJiebaDictPath[] = "/usr/lib/python3/dist-packages/jieba/dict.txt";

struct Token {
  // The normalized text (NFKC, case-folded, simplified), UTF-8: what the index compares.
  std::string text;
  // Code points [start, end) of the ORIGINAL text the token covers, for highlighting.
  int start;
  int end;
  TokenKind kind;
  // Index of the word in the text's word sequence (see Piece::position), for proximity. Stop words
  // removed in kQuery mode leave their positions unused, so distances stay true to the text.
  int position;

  bool operator==(const Token& other) const {
    return text == other.text && start == other.start && end == other.end && kind == other.kind &&
           position == other.position;
  }
};

// e.g. `word "医保" [3,5) @1`, for test failures and logs.
std::ostream& operator<<(std::ostream& os, const Token& token);

enum class AnalyzeMode {
  kIndex,  // documents: every token
  kQuery,  // questions: the same, minus stop words if AnalyzerOptions::query_drops_stop_words
};

struct AnalyzerOptions {
  std::string jieba_dict_path = kDefaultJiebaDictPath;
  // Domain dictionaries (format in SegmenterOptions), e.g. services/kb/text/data/domain_dict.txt.
  std::vector<std::string> extra_dict_paths;
  // One word per line, blank lines and lines starting with '#' ignored; empty: no stop words.
  std::string stopwords_path;
  // In kQuery mode, drop words, unigrams and sub-words that are stop words. Bigrams stay, since a
  // bigram straddling a stop word ("的医" in 我的医保) is harmless and one made of stop words
  // ("怎么") is rare in documents anyway and so weighs little.
  bool query_drops_stop_words = true;
  // Emit kSubWord tokens (jieba's search mode).
  bool sub_words = true;
  // Emit kBigram tokens.
  bool bigrams = true;
};

// Immutable after Create(); const methods are safe to call from many threads at once.
class Analyzer {
 public:
  // Loads the dictionaries and stop words (about a second: make one per process and share it).
  // Errors: NotFoundError for a missing file, InvalidArgumentError for a malformed one.
  static absl::StatusOr<std::unique_ptr<Analyzer>> Create(const AnalyzerOptions& options);

  // The tokens of `text` in position order (see Segmenter::Segment). Empty or punctuation-only
  // text gives no tokens. Invalid UTF-8 is InvalidArgumentError naming the byte offset.
  absl::StatusOr<std::vector<Token>> Analyze(absl::string_view text, AnalyzeMode mode) const;

  // Whether `word` is a stop word; `word` is normalized first, so "請問" and "请问" agree.
  bool IsStopWord(absl::string_view word) const;

  const Normalizer& normalizer() const { return *normalizer_; }
  const Segmenter& segmenter() const { return *segmenter_; }

 private:
  Analyzer() = default;

  AnalyzerOptions options_;
  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<Segmenter> segmenter_;
  absl::flat_hash_set<std::string> stop_words_;  // normalized
};

}  // namespace hotline::kb

#endif  // HOTLINE_SERVICES_KB_TEXT_ANALYZER_H_
