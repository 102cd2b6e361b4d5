#include "services/kb/text/normalizer.h"

#include <unicode/normalizer2.h>
#include <unicode/translit.h>
#include <unicode/uchar.h>
#include <unicode/uniset.h>
#include <unicode/unistr.h>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "services/kb/text/internal/utf8.h"

namespace hotline::kb {
namespace {

// Layout of a Normalizer::bmp_ entry. A flag rather than a second table keeps the per-character
// work of Normalize() to one load.
constexpr uint32_t kCombinesBackward = 1u << 31;  // no normalization boundary before this character
constexpr uint32_t kExpansion = 1u << 30;         // low bits index expansions_, else they are the
constexpr uint32_t kValueMask = kExpansion - 1;   // single code point this character maps to

constexpr char32_t kBmpEnd = 0x10000;

bool IsSurrogate(char32_t c) { return c >= 0xD800 && c <= 0xDFFF; }

template <typename Visit>
void ForEachCodePoint(const icu::UnicodeString& s, Visit visit) {
  for (int32_t i = 0; i < s.length();) {
    const UChar32 c = s.char32At(i);
    visit(static_cast<char32_t>(c));
    i += U16_LENGTH(c);
  }
}

}  // namespace

std::string NormalizedText::Utf8(int32_t begin, int32_t end) const {
  return text_internal::EncodeUtf8(text.data() + begin, text.data() + end);
}

absl::StatusOr<std::unique_ptr<Normalizer>> Normalizer::Create() {
  std::unique_ptr<Normalizer> normalizer(new Normalizer());
  RETURN_IF_ERROR(normalizer->Init());
  return normalizer;
}

absl::Status Normalizer::Init() {
  UErrorCode status = U_ZERO_ERROR;
  nfkc_cf_ = icu::Normalizer2::getNFKCCasefoldInstance(status);
  if (U_FAILURE(status)) {
    return absl::InternalError(
        absl::StrCat("ICU has no NFKC_Casefold normalization data: ", u_errorName(status)));
  }
  std::unique_ptr<icu::Transliterator> to_simplified(
      icu::Transliterator::createInstance("Traditional-Simplified", UTRANS_FORWARD, status));
  if (U_FAILURE(status) || to_simplified == nullptr) {
    return absl::InternalError(absl::StrCat(
        "ICU cannot create the Traditional-Simplified transliterator: ", u_errorName(status)));
  }

  // The transliterator's source set is every character it may change (a few thousand), so asking
  // it about each of them once captures the whole mapping without touching the other 1.1 million.
  icu::UnicodeSet source;
  to_simplified->getSourceSet(source);
  for (int32_t r = 0; r < source.getRangeCount(); ++r) {
    for (UChar32 c = source.getRangeStart(r); c <= source.getRangeEnd(r); ++c) {
      // Only Han characters: the transform's other rules (normalization steps) are ours to decide.
      if (!u_hasBinaryProperty(c, UCHAR_IDEOGRAPHIC)) continue;
      icu::UnicodeString converted(c);
      to_simplified->transliterate(converted);
      // ICU 72 maps each character to exactly one; anything else could not be applied per
      // character and is left alone.
      if (converted.countChar32() != 1) continue;
      const char32_t simplified = static_cast<char32_t>(converted.char32At(0));
      if (simplified != static_cast<char32_t>(c))
        simplified_[static_cast<char32_t>(c)] = simplified;
    }
  }

  // Precompute the whole folding for the BMP, where nearly all text lives.
  bmp_.resize(kBmpEnd);
  std::vector<char32_t> mapped;
  for (char32_t c = 0; c < kBmpEnd; ++c) {
    if (IsSurrogate(c)) {  // never produced by the UTF-8 decoder
      bmp_[c] = c;
      continue;
    }
    const uint32_t flags =
        nfkc_cf_->hasBoundaryBefore(static_cast<UChar32>(c)) ? 0 : kCombinesBackward;
    mapped.clear();
    if (nfkc_cf_->isInert(static_cast<UChar32>(c))) {
      mapped.push_back(ToSimplified(c));
    } else {
      const icu::UnicodeString folded =
          nfkc_cf_->normalize(icu::UnicodeString(static_cast<UChar32>(c)), status);
      if (U_FAILURE(status)) {
        return absl::InternalError(
            absl::StrCat("ICU failed to normalize U+", absl::Hex(c), ": ", u_errorName(status)));
      }
      ForEachCodePoint(folded, [&](char32_t f) { mapped.push_back(ToSimplified(f)); });
    }
    if (mapped.size() == 1) {
      bmp_[c] = flags | mapped[0];
    } else {  // removed (ignorable) or expanded
      bmp_[c] = flags | kExpansion | static_cast<uint32_t>(expansions_.size());
      expansions_.push_back(static_cast<char32_t>(mapped.size()));
      expansions_.insert(expansions_.end(), mapped.begin(), mapped.end());
    }
  }
  return absl::OkStatus();
}

char32_t Normalizer::ToSimplified(char32_t c) const {
  auto it = simplified_.find(c);
  return it == simplified_.end() ? c : it->second;
}

bool Normalizer::CombinesBackward(char32_t c) const {
  if (c < kBmpEnd) return (bmp_[c] & kCombinesBackward) != 0;
  return !nfkc_cf_->hasBoundaryBefore(static_cast<UChar32>(c));
}

void Normalizer::AppendOne(char32_t c, int32_t source, NormalizedText* out) const {
  auto push = [out, source](char32_t m) {
    out->text.push_back(m);
    out->source_begin.push_back(source);
    out->source_end.push_back(source + 1);
  };
  if (c < kBmpEnd) {
    const uint32_t entry = bmp_[c];
    if ((entry & kExpansion) == 0) {
      push(entry & kValueMask);
      return;
    }
    const uint32_t index = entry & kValueMask;
    const uint32_t length = expansions_[index];
    for (uint32_t k = 1; k <= length; ++k) push(expansions_[index + k]);
    return;
  }
  // Supplementary planes (CJK extensions B-H, emoji): rare enough to ask ICU each time.
  if (nfkc_cf_->isInert(static_cast<UChar32>(c))) {
    push(ToSimplified(c));
    return;
  }
  UErrorCode status = U_ZERO_ERROR;
  const icu::UnicodeString folded =
      nfkc_cf_->normalize(icu::UnicodeString(static_cast<UChar32>(c)), status);
  if (U_FAILURE(status)) {  // cannot happen for a valid scalar value; keep the character
    push(c);
    return;
  }
  ForEachCodePoint(folded, [&](char32_t f) { push(ToSimplified(f)); });
}

void Normalizer::AppendSequence(const char32_t* original, int32_t begin, int32_t end,
                                NormalizedText* out) const {
  icu::UnicodeString sequence;
  for (int32_t k = begin; k < end; ++k) sequence.append(static_cast<UChar32>(original[k]));
  UErrorCode status = U_ZERO_ERROR;
  const icu::UnicodeString folded = nfkc_cf_->normalize(sequence, status);
  if (U_FAILURE(status)) {  // cannot happen for valid scalar values; fall back to one at a time
    for (int32_t k = begin; k < end; ++k) AppendOne(original[k], k, out);
    return;
  }
  // The sequence was normalized as a whole, so each result character comes from all of it.
  ForEachCodePoint(folded, [&](char32_t f) {
    out->text.push_back(ToSimplified(f));
    out->source_begin.push_back(begin);
    out->source_end.push_back(end);
  });
}

absl::Status Normalizer::Normalize(absl::string_view utf8, NormalizedText* out) const {
  out->text.clear();
  out->source_begin.clear();
  out->source_end.clear();
  std::vector<char32_t> original;
  original.reserve(utf8.size());
  RETURN_IF_ERROR(text_internal::DecodeUtf8(utf8, &original));
  const auto n = static_cast<int32_t>(original.size());
  out->original_length = n;
  out->text.reserve(n);
  out->source_begin.reserve(n);
  out->source_end.reserve(n);
  // Normalization is applied per character except where a character can combine with the one
  // before it (combining marks, conjoining jamo): ICU guarantees that text may be cut before any
  // character with a normalization boundary and the pieces normalized independently.
  for (int32_t i = 0; i < n;) {
    int32_t j = i + 1;
    while (j < n && CombinesBackward(original[j])) ++j;
    if (j == i + 1) {
      AppendOne(original[i], i, out);
    } else {
      AppendSequence(original.data(), i, j, out);
    }
    i = j;
  }
  return absl::OkStatus();
}

absl::StatusOr<NormalizedText> Normalizer::Normalize(absl::string_view utf8) const {
  NormalizedText out;
  RETURN_IF_ERROR(Normalize(utf8, &out));
  return out;
}

absl::StatusOr<std::string> Normalizer::NormalizeToUtf8(absl::string_view utf8) const {
  ASSIGN_OR_RETURN(NormalizedText normalized, Normalize(utf8));
  return normalized.Utf8(0, static_cast<int32_t>(normalized.text.size()));
}

}  // namespace hotline::kb
