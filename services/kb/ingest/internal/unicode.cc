#include "services/kb/ingest/internal/unicode.h"

#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/utf8.h>

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace hotline::kb::ingest_internal {

absl::StatusOr<std::u32string> DecodeUtf8(absl::string_view utf8) {
  std::u32string out;
  out.reserve(utf8.size());
  const auto* bytes = reinterpret_cast<const uint8_t*>(utf8.data());
  const int32_t length = static_cast<int32_t>(utf8.size());
  int32_t i = 0;
  while (i < length) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (c < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("text is not valid UTF-8 at byte offset ", start));
    }
    out.push_back(static_cast<char32_t>(c));
  }
  return out;
}

std::u32string DecodeUtf8Lenient(absl::string_view utf8, std::vector<size_t>* byte_offsets) {
  std::u32string out;
  out.reserve(utf8.size());
  const auto* bytes = reinterpret_cast<const uint8_t*>(utf8.data());
  const int32_t length = static_cast<int32_t>(utf8.size());
  int32_t i = 0;
  while (i < length) {
    if (byte_offsets != nullptr) byte_offsets->push_back(static_cast<size_t>(i));
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    out.push_back(c < 0 ? U'\uFFFD' : static_cast<char32_t>(c));
  }
  if (byte_offsets != nullptr) byte_offsets->push_back(utf8.size());
  return out;
}

void AppendUtf8(char32_t c, std::string* out) {
  uint8_t buffer[U8_MAX_LENGTH];
  int32_t length = 0;
  U8_APPEND_UNSAFE(buffer, length, static_cast<UChar32>(c));
  out->append(reinterpret_cast<const char*>(buffer), static_cast<size_t>(length));
}

std::string EncodeUtf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size() * 3);
  for (char32_t c : text) AppendUtf8(c, &out);
  return out;
}

bool IsHan(char32_t c) {
  if (c == U'〇') return true;
  UErrorCode error = U_ZERO_ERROR;
  return uscript_getScript(static_cast<UChar32>(c), &error) == USCRIPT_HAN && U_SUCCESS(error) &&
         u_isalpha(static_cast<UChar32>(c));
}

bool IsDigit(char32_t c) { return (c >= '0' && c <= '9') || (c >= U'０' && c <= U'９'); }

int DigitValue(char32_t c) {
  return c >= U'０' ? static_cast<int>(c - U'０') : static_cast<int>(c - '0');
}

// Chinese punctuation that carries its own spacing, so spaces next to it are noise.
bool IsChinesePunct(char32_t c) {
  // U+3001-3003 、。〃 and the brackets U+3008-3011 and U+3014-301F; not 々, 〆 or 〇 between them.
  return (c >= 0x3001 && c <= 0x3003) || (c >= 0x3008 && c <= 0x3011) ||
         (c >= 0x3014 && c <= 0x301F) || c == U'！' || c == U'（' || c == U'）' || c == U'，' ||
         c == U'：' || c == U'；' || c == U'？' || c == U'…' || c == U'—';
}

// Characters between which a hard line wrap in an HTML source or a Markdown paragraph means
// nothing, because Chinese is written without spaces.
bool IsCjkText(char32_t c) { return IsHan(c) || IsChinesePunct(c); }

bool IsSpace(char32_t c) {
  return c == 0x200B || c == 0x200C || c == 0x200D || c == 0xFEFF || c == 0x00A0 ||
         u_isUWhiteSpace(static_cast<UChar32>(c));
}

bool IsAlnum(char32_t c) {
  const uint32_t mask = U_GET_GC_MASK(static_cast<UChar32>(c));
  return (mask & (U_GC_L_MASK | U_GC_N_MASK)) != 0;
}

bool IsPunctOrSymbol(char32_t c) {
  const uint32_t mask = U_GET_GC_MASK(static_cast<UChar32>(c));
  return (mask & (U_GC_P_MASK | U_GC_S_MASK)) != 0;
}

char32_t FoldWidth(char32_t c) {
  constexpr char32_t kFullWidthOffset = U'！' - U'!';  // 0xFEE0
  if ((c >= U'０' && c <= U'９') || (c >= U'Ａ' && c <= U'Ｚ') || (c >= U'ａ' && c <= U'ｚ')) {
    return c - kFullWidthOffset;
  }
  if (c == 0x3000) return ' ';
  return c;
}

size_t CodePointCount(absl::string_view utf8) {
  size_t count = 0;
  for (char ch : utf8) {
    if ((static_cast<uint8_t>(ch) & 0xC0) != 0x80) ++count;
  }
  return count;
}

}  // namespace hotline::kb::ingest_internal
