// The knowledge base's text analysis (services/kb/text) on arbitrary bytes: the normaliser, the
// segmenter and the analyser that combines them. Besides not crashing, every input must get
// what the headers promise:
//   - Normalize fails exactly on invalid UTF-8 (INVALID_ARGUMENT), and otherwise maps every
//     normalised code point to an in-order, non-empty range of original code points; both
//     overloads and NormalizeToUtf8 agree;
//   - Segment's pieces lie inside the text, come in position order, words tile the text
//     without overlapping, sub-words sit inside their word and are dictionary words, bigrams
//     are two characters, and no piece holds a space or punctuation;
//   - Analyze in index mode gives exactly the segmenter's pieces, with original offsets in
//     range; query mode gives the same minus stop words, never a bigram dropped.
// The first byte chooses the segment options; the rest is the text.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "services/kb/text/analyzer.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using hotline::fuzz::DecodeUtf8Strict;
using hotline::fuzz::SourcePath;
using hotline::kb::AnalyzeMode;
using hotline::kb::Analyzer;
using hotline::kb::NormalizedText;
using hotline::kb::Piece;
using hotline::kb::SegmentOptions;
using hotline::kb::Token;
using hotline::kb::TokenKind;

const Analyzer& SharedAnalyzer() {
  // Loading jieba's dictionary takes seconds: once per process.
  static const Analyzer* const analyzer = [] {
    hotline::kb::AnalyzerOptions options;
    options.extra_dict_paths = {SourcePath("services/kb/text/data/domain_dict.txt")};
    options.stopwords_path = SourcePath("services/kb/text/data/stopwords.txt");
    auto created = Analyzer::Create(options);
    if (!created.ok()) hotline::fuzz::SetupFailed(created.status().ToString());
    return created->release();
  }();
  return *analyzer;
}

// Characters the segmenter documents as never part of a token: ASCII other than letters,
// digits and its connectors, and the ideographic space and Chinese full stop/comma marks that
// survive normalisation.
bool NeverInToken(char32_t c) {
  if (c < 0x80) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool connector = c == '.' || c == '-' || c == '_' || c == '&' || c == '+' || c == '#';
    return !alnum && !connector;
  }
  return c == 0x3000 || c == 0x3001 || c == 0x3002;
}

bool IsConnector(char32_t c) {
  return c == '.' || c == '-' || c == '_' || c == '&' || c == '+' || c == '#';
}

bool IsUnifiedIdeograph(char32_t c) { return c >= 0x4E00 && c <= 0x9FFF; }

void CheckNormalized(const std::vector<char32_t>& original, const NormalizedText& n) {
  const size_t size = n.text.size();
  FUZZ_CHECK(n.source_begin.size() == size && n.source_end.size() == size)
      << "text " << size << ", source_begin " << n.source_begin.size() << ", source_end "
      << n.source_end.size();
  FUZZ_CHECK(n.original_length == static_cast<int32_t>(original.size()))
      << "original_length " << n.original_length << " for " << original.size() << " code points";
  for (size_t i = 0; i < size; ++i) {
    const char32_t c = n.text[i];
    FUZZ_CHECK(c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF)) << "U+" << std::hex << c;
    FUZZ_CHECK(0 <= n.source_begin[i] && n.source_begin[i] < n.source_end[i] &&
               n.source_end[i] <= n.original_length)
        << "character " << i << " from [" << n.source_begin[i] << ", " << n.source_end[i] << ") of "
        << n.original_length;
    if (i > 0) {
      // Highlights are computed on normalised text and must land in order on the original.
      FUZZ_CHECK(n.source_begin[i - 1] <= n.source_begin[i] &&
                 n.source_end[i - 1] <= n.source_end[i])
          << "character " << i << " maps before character " << i - 1;
    }
  }
}

void CheckPieces(const hotline::kb::Segmenter& segmenter, const std::u32string_view text,
                 const SegmentOptions& options, const std::vector<Piece>& pieces,
                 int32_t positions) {
  const auto n = static_cast<int32_t>(text.size());
  int32_t words = 0;
  int32_t previous_position = -1;
  int32_t previous_word_end = 0;
  int32_t word_begin = 0, word_end = 0;  // The word of the current position.
  for (const Piece& p : pieces) {
    FUZZ_CHECK(0 <= p.begin && p.begin < p.end && p.end <= n)
        << "piece [" << p.begin << ", " << p.end << ") of " << n;
    FUZZ_CHECK(p.position >= previous_position) << "pieces out of position order";
    FUZZ_CHECK(p.position >= 0 && p.position < positions)
        << "position " << p.position << " of " << positions;
    FUZZ_CHECK(!IsConnector(text[p.begin])) << "piece starts with a connector";
    for (int32_t k = p.begin; k < p.end; ++k) {
      FUZZ_CHECK(!NeverInToken(text[k])) << "piece holds U+" << std::hex << text[k];
    }
    const std::u32string_view s = text.substr(p.begin, p.end - p.begin);
    switch (p.kind) {
      case TokenKind::kWord:
      case TokenKind::kUnigram: {
        FUZZ_CHECK(p.position == words) << "word " << words << " at position " << p.position;
        FUZZ_CHECK(p.begin >= previous_word_end) << "words overlap";
        ++words;
        previous_word_end = p.end;
        word_begin = p.begin;
        word_end = p.end;
        if (p.kind == TokenKind::kUnigram) {
          FUZZ_CHECK(s.size() == 1 && s[0] >= 0x80) << "unigram of " << s.size() << " characters";
        } else {
          bool has_ideograph = false;
          for (char32_t c : s) has_ideograph = has_ideograph || IsUnifiedIdeograph(c);
          if (has_ideograph) {
            // A Chinese character alone is a unigram; together with others only a dictionary
            // word makes one word.
            FUZZ_CHECK(s.size() >= 2 && segmenter.Frequency(s) > 0)
                << "word of " << s.size() << " characters with a Han character, frequency "
                << segmenter.Frequency(s);
          }
        }
        break;
      }
      case TokenKind::kSubWord:
        FUZZ_CHECK(options.sub_words) << "sub-word although sub_words is off";
        FUZZ_CHECK(p.position == words - 1) << "sub-word before its word";
        FUZZ_CHECK((s.size() == 2 || s.size() == 3) && word_begin <= p.begin && p.end <= word_end &&
                   static_cast<int32_t>(s.size()) < word_end - word_begin)
            << "sub-word [" << p.begin << ", " << p.end << ") of word [" << word_begin << ", "
            << word_end << ")";
        FUZZ_CHECK(segmenter.Frequency(s) > 0) << "sub-word not in the dictionary";
        break;
      case TokenKind::kBigram:
        FUZZ_CHECK(options.bigrams) << "bigram although bigrams is off";
        FUZZ_CHECK(p.position == words - 1) << "bigram before its word";
        FUZZ_CHECK(s.size() == 2 && s[0] >= 0x80 && s[1] >= 0x80 && word_begin <= p.begin &&
                   p.begin < word_end)
            << "bigram [" << p.begin << ", " << p.end << ") for word [" << word_begin << ", "
            << word_end << ")";
        break;
    }
    previous_position = p.position;
  }
  FUZZ_CHECK(words == positions) << words << " words but Segment() returned " << positions;
}

void CheckAnalyzed(const Analyzer& analyzer, const NormalizedText& normalized,
                   const std::vector<Piece>& pieces, const std::vector<Token>& index,
                   const std::vector<Token>& query) {
  FUZZ_CHECK(index.size() == pieces.size())
      << index.size() << " index tokens for " << pieces.size() << " pieces";
  for (size_t i = 0; i < index.size(); ++i) {
    const Token& t = index[i];
    const Piece& p = pieces[i];
    FUZZ_CHECK(t.kind == p.kind && t.position == p.position &&
               t.text == normalized.Utf8(p.begin, p.end))
        << "token " << i << " is " << t << ", piece [" << p.begin << ", " << p.end << ")";
    FUZZ_CHECK(0 <= t.start && t.start < t.end && t.end <= normalized.original_length)
        << "token " << t << " outside the original's " << normalized.original_length;
  }
  // Query mode: index mode minus stop words, in the same order; bigrams always stay.
  size_t k = 0;
  for (const Token& t : index) {
    if (k < query.size() && query[k] == t) {
      if (t.kind != TokenKind::kBigram &&
          analyzer.normalizer().NormalizeToUtf8(t.text).value_or("") == t.text) {
        FUZZ_CHECK(!analyzer.IsStopWord(t.text)) << "stop word kept in a query: " << t;
      }
      ++k;
      continue;
    }
    FUZZ_CHECK(t.kind != TokenKind::kBigram) << "bigram dropped from a query: " << t;
    if (analyzer.normalizer().NormalizeToUtf8(t.text).value_or("") == t.text) {
      FUZZ_CHECK(analyzer.IsStopWord(t.text)) << "non-stop word dropped from a query: " << t;
    }
  }
  FUZZ_CHECK(k == query.size()) << "query tokens that index mode does not have";
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  SharedAnalyzer();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Analyzer& analyzer = SharedAnalyzer();
  SegmentOptions options;
  options.sub_words = (data[0] & 1) != 0;
  options.bigrams = (data[0] & 2) != 0;
  const absl::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::vector<char32_t> original;
  const bool valid = DecodeUtf8Strict(text, &original);

  absl::StatusOr<NormalizedText> normalized = analyzer.normalizer().Normalize(text);
  FUZZ_CHECK(normalized.ok() == valid)
      << (valid ? "valid UTF-8 refused: " : "invalid UTF-8 accepted") << normalized.status();
  absl::StatusOr<std::vector<Token>> index = analyzer.Analyze(text, AnalyzeMode::kIndex);
  absl::StatusOr<std::vector<Token>> query = analyzer.Analyze(text, AnalyzeMode::kQuery);
  FUZZ_CHECK(index.ok() == valid && query.ok() == valid) << index.status() << " " << query.status();
  if (!valid) {
    FUZZ_CHECK(absl::IsInvalidArgument(normalized.status()) &&
               absl::IsInvalidArgument(index.status()) && absl::IsInvalidArgument(query.status()))
        << normalized.status() << " / " << index.status() << " / " << query.status();
    return 0;
  }
  CheckNormalized(original, *normalized);

  // The overload that reuses buffers must not carry anything over from the previous input.
  static NormalizedText* reused = new NormalizedText();
  FUZZ_CHECK(analyzer.normalizer().Normalize(text, reused).ok());
  FUZZ_CHECK(reused->text == normalized->text && reused->source_begin == normalized->source_begin &&
             reused->source_end == normalized->source_end &&
             reused->original_length == normalized->original_length)
      << "Normalize(text, out) differs from Normalize(text)";
  absl::StatusOr<std::string> utf8 = analyzer.normalizer().NormalizeToUtf8(text);
  FUZZ_CHECK(utf8.ok() &&
             *utf8 == normalized->Utf8(0, static_cast<int32_t>(normalized->text.size())))
      << "NormalizeToUtf8 differs from Normalize";
  std::vector<char32_t> redecoded;
  FUZZ_CHECK(DecodeUtf8Strict(*utf8, &redecoded) && redecoded == normalized->text)
      << "normalised text is not the UTF-8 of its code points";

  const std::u32string_view chars(normalized->text.data(), normalized->text.size());
  std::vector<Piece> pieces;
  const int32_t positions = analyzer.segmenter().Segment(chars, options, &pieces);
  CheckPieces(analyzer.segmenter(), chars, options, pieces, positions);

  // The analyser always segments with sub-words and bigrams (its default options).
  std::vector<Piece> all;
  analyzer.segmenter().Segment(chars, SegmentOptions(), &all);
  CheckAnalyzed(analyzer, *normalized, all, *index, *query);

  // "Empty or punctuation-only text gives no tokens": checked for ASCII, where "punctuation"
  // needs no Unicode tables to decide.
  bool ascii = true, any_alnum = false;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    ascii = ascii && u < 0x80;
    any_alnum =
        any_alnum || (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z');
  }
  if (ascii && !any_alnum) {
    FUZZ_CHECK(index->empty()) << index->size() << " tokens from text without letters or digits";
  }
  return 0;
}
