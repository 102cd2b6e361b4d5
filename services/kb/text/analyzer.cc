#include "services/kb/text/analyzer.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/files.h"
#include "common/status_macros.h"

namespace hotline::kb {
namespace {

absl::Status LoadStopWords(const std::string& path, const Normalizer& normalizer,
                           absl::flat_hash_set<std::string>* stop_words) {
  absl::StatusOr<std::string> contents = ReadFileToString(path, "stop-word file");
  if (!contents.ok()) return contents.status();
  const std::string& text = *contents;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    absl::StatusOr<std::string> word = normalizer.NormalizeToUtf8(line);
    if (!word.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number, ": ", word.status().message()));
    }
    if (!word->empty()) stop_words->insert(*std::move(word));
  }
  return absl::OkStatus();
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Token& token) {
  return os << TokenKindName(token.kind) << " \"" << token.text << "\" [" << token.start << ","
            << token.end << ") @" << token.position;
}

absl::StatusOr<std::unique_ptr<Analyzer>> Analyzer::Create(const AnalyzerOptions& options) {
  std::unique_ptr<Analyzer> analyzer(new Analyzer());
  analyzer->options_ = options;
  ASSIGN_OR_RETURN(analyzer->normalizer_, Normalizer::Create());
  SegmenterOptions segmenter_options;
  segmenter_options.main_dict_path = options.jieba_dict_path;
  segmenter_options.extra_dict_paths = options.extra_dict_paths;
  ASSIGN_OR_RETURN(analyzer->segmenter_,
                   Segmenter::Create(segmenter_options, *analyzer->normalizer_));
  if (!options.stopwords_path.empty()) {
    RETURN_IF_ERROR(
        LoadStopWords(options.stopwords_path, *analyzer->normalizer_, &analyzer->stop_words_));
  }
  return analyzer;
}

absl::StatusOr<std::vector<Token>> Analyzer::Analyze(absl::string_view text,
                                                     AnalyzeMode mode) const {
  NormalizedText normalized;
  RETURN_IF_ERROR(normalizer_->Normalize(text, &normalized));
  SegmentOptions segment_options;
  segment_options.sub_words = options_.sub_words;
  segment_options.bigrams = options_.bigrams;
  std::vector<Piece> pieces;
  pieces.reserve(normalized.text.size() * 2);
  segmenter_->Segment(std::u32string_view(normalized.text.data(), normalized.text.size()),
                      segment_options, &pieces);

  const bool drop_stop_words =
      mode == AnalyzeMode::kQuery && options_.query_drops_stop_words && !stop_words_.empty();
  std::vector<Token> tokens;
  tokens.reserve(pieces.size());
  for (const Piece& piece : pieces) {
    std::string token_text = normalized.Utf8(piece.begin, piece.end);
    if (drop_stop_words && piece.kind != TokenKind::kBigram && stop_words_.contains(token_text)) {
      continue;
    }
    // A token's original extent runs from where its first character came from to where its last
    // one did, so expansions ("㈠" -> "(一)") and contractions (combining sequences) map exactly.
    tokens.push_back(Token{std::move(token_text), normalized.source_begin[piece.begin],
                           normalized.source_end[piece.end - 1], piece.kind, piece.position});
  }
  return tokens;
}

bool Analyzer::IsStopWord(absl::string_view word) const {
  if (stop_words_.empty()) return false;
  absl::StatusOr<std::string> normalized = normalizer_->NormalizeToUtf8(word);
  return normalized.ok() && stop_words_.contains(*normalized);
}

}  // namespace hotline::kb
