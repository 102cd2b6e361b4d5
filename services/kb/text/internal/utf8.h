// Strict UTF-8 decoding and encoding for the text analyser. Hand-written rather than ICU's
// converters because the analyser decodes every character of the corpus and needs the code point
// index of each one, and because an invalid byte must become an error naming its offset.
#ifndef HOTLINE_SERVICES_KB_TEXT_INTERNAL_UTF8_H_
#define HOTLINE_SERVICES_KB_TEXT_INTERNAL_UTF8_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace hotline::kb::text_internal {

// Appends the code points of `utf8` to `out`. Rejects what RFC 3629 forbids (overlong forms,
// surrogates, code points above U+10FFFF, truncated sequences) with InvalidArgumentError naming the
// byte offset; `out` then holds the code points decoded before the error.
absl::Status DecodeUtf8(absl::string_view utf8, std::vector<char32_t>* out);

// Appends the UTF-8 form of `c`, which must be a Unicode scalar value.
inline void AppendUtf8(char32_t c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

// The UTF-8 form of code points [begin, end).
inline std::string EncodeUtf8(const char32_t* begin, const char32_t* end) {
  std::string out;
  out.reserve(static_cast<size_t>(end - begin) * 3);
  for (const char32_t* p = begin; p != end; ++p) AppendUtf8(*p, &out);
  return out;
}

}  // namespace hotline::kb::text_internal

#endif  // HOTLINE_SERVICES_KB_TEXT_INTERNAL_UTF8_H_
