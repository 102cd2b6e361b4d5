#include "services/kb/ingest/internal/words.h"

#include "common/status_macros.h"

namespace hotline::kb::ingest_internal {

absl::StatusOr<std::vector<Word>> SegmentWords(const Analyzer& analyzer, absl::string_view text,
                                               bool sub_words) {
  NormalizedText normalized;
  RETURN_IF_ERROR(analyzer.normalizer().Normalize(text, &normalized));
  SegmentOptions options;
  options.sub_words = sub_words;
  options.bigrams = false;
  std::vector<Piece> pieces;
  analyzer.segmenter().Segment(std::u32string_view(normalized.text.data(), normalized.text.size()),
                               options, &pieces);
  std::vector<Word> words;
  words.reserve(pieces.size());
  for (const Piece& piece : pieces) {
    words.push_back(Word{normalized.Utf8(piece.begin, piece.end), piece.kind});
  }
  return words;
}

}  // namespace hotline::kb::ingest_internal
