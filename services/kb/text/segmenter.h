// Word segmentation of normalized text with jieba's dictionary algorithm (its default mode
// without the HMM): build the DAG of dictionary words over a run of characters with a prefix
// dictionary, and take the path of maximum log-probability,
//   route[i] = max over words w = text[i..j] of  log(freq(w)) - log(total) + route[j+1]
// (freq 1 for a single character missing from the dictionary; ties go to the larger j, as in
// jieba). On top of the words it emits what retrieval needs so that a query written differently
// from a document still meets it: dictionary sub-words of long words (jieba's cut_for_search),
// every pair of adjacent CJK characters, and the single characters the segmentation left alone.
#ifndef HOTLINE_SERVICES_KB_TEXT_SEGMENTER_H_
#define HOTLINE_SERVICES_KB_TEXT_SEGMENTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>  // std::u32string_view
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/kb/text/normalizer.h"

namespace hotline::kb {

enum class TokenKind : uint8_t {
  // A word of the maximum-probability segmentation: a multi-character dictionary word, or a run of
  // letters/digits (with '.', '-', '_', '&', '+' or '#' inside it: "3.5", "covid-19", "c++").
  kWord,
  // A 2- or 3-character dictionary word inside a word longer than 2 (resp. 3) characters, as
  // jieba's search mode emits it: 住房公积金 -> 住房, 公积金.
  kSubWord,
  // Two adjacent CJK characters, whether or not they form a word: 起付线 -> 起付, 付线. Lets an
  // out-of-vocabulary word (a name, a new policy term) match by its character pairs.
  kBigram,
  // A CJK character that the segmentation left on its own (not part of any multi-character word
  // on the chosen path). It takes a word position like kWord; only its kind differs, because a
  // lone character says less about a text than a word does.
  kUnigram,
};

// "word", "subword", "bigram", "unigram".
absl::string_view TokenKindName(TokenKind kind);

// A token of normalized text: code points [begin, end) of the normalized text.
struct Piece {
  int32_t begin;
  int32_t end;
  TokenKind kind;
  // Index of the word (kWord or kUnigram) in the text's word sequence. Sub-words and bigrams take
  // the position of the word they start in.
  int32_t position;
};

struct SegmenterOptions {
  // jieba's dict.txt: one `word freq pos` per line. Its frequencies and total define the model.
  std::string main_dict_path;
  // Our own dictionaries, applied in order after the main one: one `word [freq] [pos]` per line,
  // blank lines and lines starting with '#' ignored. A word listed here replaces the main
  // dictionary's entry. A missing freq means "high enough to win": like jieba's suggest_freq, the
  // frequency that makes the word 20 times as probable as its best split into other words (kept
  // if the main dictionary already has more, capped at the main dictionary's highest frequency);
  // strong enough to win in context, too weak to steal characters from a likelier neighbour.
  // Freq 0 removes the word (like jieba's del_word). Unlike jieba's add_word, these frequencies
  // do not add to the total, so adding domain words leaves every other word's probability - and
  // so the segmentation of text without them - unchanged.
  std::vector<std::string> extra_dict_paths;
};

struct SegmentOptions {
  bool sub_words = true;
  bool bigrams = true;
};

// Immutable after Create(); Segment() is const and thread-safe.
class Segmenter {
 public:
  // Dictionary words are normalized with `normalizer` (so the traditional and simplified entries
  // of jieba's dictionary fold together; where both exist, the entry already in normal form keeps
  // its frequency). Words containing characters that can never be inside a token (punctuation,
  // spaces) are skipped. Errors: NotFoundError for an unreadable file, InvalidArgumentError naming
  // the file and line of a malformed entry.
  static absl::StatusOr<std::unique_ptr<Segmenter>> Create(const SegmenterOptions& options,
                                                           const Normalizer& normalizer);

  // Appends the tokens of `text`, which must be normalized (Normalizer output), to `out` in
  // position order; within a position: the word, its sub-words, then the bigrams starting in it.
  // Whitespace, punctuation and symbols produce no tokens and separate runs: no word or bigram
  // spans them. Returns the number of word positions used.
  int32_t Segment(std::u32string_view text, const SegmentOptions& options,
                  std::vector<Piece>* out) const;

  // The frequency of a normalized word in the merged dictionary; 0 when it is not a word.
  int64_t Frequency(std::u32string_view word) const;
  // Sum of the main dictionary's frequencies (jieba's `total`).
  int64_t total_frequency() const { return total_; }
  // Number of distinct normalized words.
  size_t word_count() const { return word_count_; }

 private:
  Segmenter() = default;
  absl::Status Load(const SegmenterOptions& options, const Normalizer& normalizer);

  // The child of trie node `node` labelled `c`, or 0 (the root is never a child).
  uint32_t Child(uint32_t node, char32_t c) const;
  bool IsWord(const char32_t* begin, const char32_t* end) const;
  // Segments one run of tokenizable characters text[begin, end) whose unit starts are marked in
  // `unit_end` (see segmenter.cc).
  void SegmentRun(std::u32string_view text, const std::vector<uint8_t>& classes,
                  const std::vector<int32_t>& unit_end, int32_t begin, int32_t end,
                  const SegmentOptions& options, int32_t* position, std::vector<Piece>* out) const;

  // The prefix dictionary as a trie in breadth-first order: the children of node k are the nodes
  // [first_child_[k], first_child_[k] + child_count_[k]), sorted by label_ for binary search.
  std::vector<char32_t> label_;
  std::vector<uint32_t> first_child_;
  std::vector<uint32_t> child_count_;
  std::vector<int64_t> freq_;     // 0: a prefix of words, not a word
  std::vector<double> log_freq_;  // log(freq_), precomputed for the route
  // The root's children indexed directly by BMP code point: the first step of every walk.
  std::vector<uint32_t> root_bmp_;
  int64_t total_ = 0;
  double log_total_ = 0;
  size_t word_count_ = 0;
};

}  // namespace hotline::kb

#endif  // HOTLINE_SERVICES_KB_TEXT_SEGMENTER_H_
