// Code-point helpers shared by the ingestion units. The cleaner and the metadata extractor work on
// code points rather than bytes because their rules are about characters (a Han character, a
// full-width digit, a Chinese bracket), and they need ICU's character classes to tell letters from
// punctuation in any script.
#ifndef HOTLINE_SERVICES_KB_INGEST_INTERNAL_UNICODE_H_
#define HOTLINE_SERVICES_KB_INGEST_INTERNAL_UNICODE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hotline::kb::ingest_internal {

// The code points of `utf8`; InvalidArgumentError naming the byte offset of the first invalid
// sequence, so an importer can reject the entry with a reason rather than index mojibake.
absl::StatusOr<std::u32string> DecodeUtf8(absl::string_view utf8);

// The code points of `utf8` with each invalid sequence replaced by U+FFFD, for the steps that
// must not fail (HTML conversion, matching in text already validated). If `byte_offsets` is not
// null it receives the byte offset where each code point starts, plus utf8.size() at the end.
std::u32string DecodeUtf8Lenient(absl::string_view utf8,
                                 std::vector<size_t>* byte_offsets = nullptr);

// The UTF-8 form of `text` (which holds Unicode scalar values only).
std::string EncodeUtf8(std::u32string_view text);
void AppendUtf8(char32_t c, std::string* out);

// A Han ideograph (CJK Unified Ideographs and their extensions, compatibility ideographs) or 〇.
bool IsHan(char32_t c);
// ASCII digit or full-width digit (U+FF10..U+FF19).
bool IsDigit(char32_t c);
// The value 0-9 of a digit accepted by IsDigit.
int DigitValue(char32_t c);
// Any whitespace, including U+3000 (ideographic space), U+00A0 and the zero-width characters that
// HTML editors leave behind (U+200B..U+200D, U+FEFF), which ICU does not count as whitespace.
// Chinese punctuation that carries its own spacing, so spaces next to it are noise.
bool IsChinesePunct(char32_t c);
// Characters between which a hard line wrap means nothing: Chinese is written without spaces.
bool IsCjkText(char32_t c);
bool IsSpace(char32_t c);
// A letter or a number in any script (ICU general categories L* and N*).
bool IsAlnum(char32_t c);
// Punctuation (ICU categories P*) or a symbol (S*).
bool IsPunctOrSymbol(char32_t c);

// Full-width ASCII letters and digits to their ASCII forms and U+3000 to a space; everything
// else unchanged. Unicode's Halfwidth and Fullwidth Forms block mirrors ASCII at a fixed offset,
// so this needs no table.
char32_t FoldWidth(char32_t c);

// Number of code points of valid UTF-8 (bytes that do not start a code point are not counted).
size_t CodePointCount(absl::string_view utf8);

}  // namespace hotline::kb::ingest_internal

#endif  // HOTLINE_SERVICES_KB_INGEST_INTERNAL_UNICODE_H_
