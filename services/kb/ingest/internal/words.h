// The analyser's words of a text, for the ingestion units that count words rather than index them
// (SimHash shingles, keyword scoring, TF-IDF). Same normaliser and segmenter as search, so a word
// here is a word the index has; bigrams are not needed and are never produced.
#ifndef HOTLINE_SERVICES_KB_INGEST_INTERNAL_WORDS_H_
#define HOTLINE_SERVICES_KB_INGEST_INTERNAL_WORDS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/kb/text/analyzer.h"

namespace hotline::kb::ingest_internal {

struct Word {
  std::string text;  // normalised (NFKC, case-folded, simplified)
  TokenKind kind;    // kWord, kUnigram, or kSubWord when asked for
};

// The kWord and kUnigram pieces of `text` in order and, if `sub_words`, each word's kSubWord
// pieces right after it. Errors: InvalidArgumentError for invalid UTF-8.
absl::StatusOr<std::vector<Word>> SegmentWords(const Analyzer& analyzer, absl::string_view text,
                                               bool sub_words);

}  // namespace hotline::kb::ingest_internal

#endif  // HOTLINE_SERVICES_KB_INGEST_INTERNAL_WORDS_H_
