// Folds text into the one form the search index compares, so that a caller's question and a
// document match whatever width, case or script variant either was typed in:
//   - NFKC with case folding (ICU's nfkc_cf): full-width to half-width ("ＡＢＣ２０２３" ->
//   "abc2023"),
//     compatibility characters expanded ("㈠" -> "(一)", "ﬁ" -> "fi", "①" -> "1"), letters
//     case-folded, default-ignorable characters (zero-width spaces, soft hyphens) removed;
//   - traditional to simplified Chinese, character by character, with ICU's
//   "Traditional-Simplified"
//     transliterator ("醫保" -> "医保").
// Every normalized code point remembers which original code points it came from, so a highlight
// computed on normalized text lands on the right characters of the original.
#ifndef HOTLINE_SERVICES_KB_TEXT_NORMALIZER_H_
#define HOTLINE_SERVICES_KB_TEXT_NORMALIZER_H_

#include <unicode/uversion.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// ICU's own forward-declaration idiom (its namespace is versioned, `icu` is an alias), so that
// users of this header need not include ICU's.
U_NAMESPACE_BEGIN
class Normalizer2;
U_NAMESPACE_END

namespace hotline::kb {

struct NormalizedText {
  // The normalized text, one element per code point.
  std::vector<char32_t> text;
  // text[i] came from the original code points [source_begin[i], source_end[i]) (indices count
  // code points, not bytes). Usually that is one code point; several normalized code points share
  // one source when a character expands ("㈠" -> "(一)"), and one source spans several code points
  // when ICU had to normalize a combining sequence as a whole ("e" + U+0301 -> "é").
  std::vector<int32_t> source_begin;
  std::vector<int32_t> source_end;
  // Number of code points in the original text.
  int32_t original_length = 0;

  // The UTF-8 form of text[begin, end).
  std::string Utf8(int32_t begin, int32_t end) const;
};

// Immutable after Create(); every method is const and safe to call from many threads at once.
// ICU transliterators are not thread-safe, so the traditional-to-simplified mapping is read out of
// the transliterator once, at creation, into plain tables; ICU's Normalizer2 is thread-safe and is
// only consulted for the rare characters outside the precomputed Basic Multilingual Plane table.
class Normalizer {
 public:
  // Fails (InternalError) only when ICU lacks its normalization or transliteration data.
  // Building the tables takes a few tens of milliseconds: make one and share it.
  static absl::StatusOr<std::unique_ptr<Normalizer>> Create();

  // Invalid UTF-8 is an error (InvalidArgumentError naming the byte offset), not replaced: offsets
  // into a text whose bytes we had to guess at would not map back to anything the caller holds,
  // and both the index and the query side would rather reject such text at their edge.
  absl::StatusOr<NormalizedText> Normalize(absl::string_view utf8) const;
  // The same, reusing `out`'s buffers (for callers normalising many texts in a loop).
  absl::Status Normalize(absl::string_view utf8, NormalizedText* out) const;
  // Just the normalized text, as UTF-8 (dictionary and stop-word loading, ad-hoc comparisons).
  absl::StatusOr<std::string> NormalizeToUtf8(absl::string_view utf8) const;

 private:
  Normalizer() = default;
  absl::Status Init();

  // Whether `c` may combine with the code point before it, so that the two must be normalized
  // together rather than one at a time.
  bool CombinesBackward(char32_t c) const;
  // Appends the normalization of the single code point `c`.
  void AppendOne(char32_t c, int32_t source, NormalizedText* out) const;
  // Appends the normalization of the combining sequence original[begin, end).
  void AppendSequence(const char32_t* original, int32_t begin, int32_t end,
                      NormalizedText* out) const;
  char32_t ToSimplified(char32_t c) const;

  // One entry per BMP code point. See kCombinesBackward/kExpansion in normalizer.cc for the layout.
  std::vector<uint32_t> bmp_;
  // Mappings that are not exactly one code point: a length followed by that many code points.
  std::vector<char32_t> expansions_;
  // Traditional -> simplified, per code point, read out of ICU's transliterator.
  absl::flat_hash_map<char32_t, char32_t> simplified_;
  const icu::Normalizer2* nfkc_cf_ = nullptr;  // ICU-owned singleton
};

}  // namespace hotline::kb

#endif  // HOTLINE_SERVICES_KB_TEXT_NORMALIZER_H_
