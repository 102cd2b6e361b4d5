#include "services/kb/text/internal/utf8.h"

#include "absl/strings/str_format.h"

namespace hotline::kb::text_internal {
namespace {

absl::Status InvalidAt(size_t offset, unsigned char byte) {
  return absl::InvalidArgumentError(absl::StrFormat(
      "text is not valid UTF-8: bad or truncated sequence at byte offset %d (byte 0x%02X)", offset,
      byte));
}

inline bool IsContinuation(unsigned char b) { return (b & 0xC0) == 0x80; }

}  // namespace

absl::Status DecodeUtf8(absl::string_view utf8, std::vector<char32_t>* out) {
  const auto* s = reinterpret_cast<const unsigned char*>(utf8.data());
  const size_t n = utf8.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char b0 = s[i];
    if (b0 < 0x80) {  // ASCII: most of the punctuation and all of the Latin text
      out->push_back(b0);
      ++i;
      continue;
    }
    // The ranges of the second byte follow RFC 3629's table; they exclude overlong forms (E0, F0),
    // surrogates (ED) and code points beyond U+10FFFF (F4).
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      if (i + 1 >= n || !IsContinuation(s[i + 1])) return InvalidAt(i, b0);
      out->push_back((char32_t{b0} & 0x1F) << 6 | (s[i + 1] & 0x3F));
      i += 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      if (i + 2 >= n) return InvalidAt(i, b0);
      const unsigned char b1 = s[i + 1];
      const unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;
      const unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;
      if (b1 < lo || b1 > hi || !IsContinuation(s[i + 2])) return InvalidAt(i, b0);
      out->push_back((char32_t{b0} & 0x0F) << 12 | char32_t{b1 & 0x3Fu} << 6 | (s[i + 2] & 0x3F));
      i += 3;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      if (i + 3 >= n) return InvalidAt(i, b0);
      const unsigned char b1 = s[i + 1];
      const unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;
      const unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;
      if (b1 < lo || b1 > hi || !IsContinuation(s[i + 2]) || !IsContinuation(s[i + 3])) {
        return InvalidAt(i, b0);
      }
      out->push_back((char32_t{b0} & 0x07) << 18 | char32_t{b1 & 0x3Fu} << 12 |
                     char32_t{s[i + 2] & 0x3Fu} << 6 | (s[i + 3] & 0x3F));
      i += 4;
    } else {
      return InvalidAt(i, b0);
    }
  }
  return absl::OkStatus();
}

}  // namespace hotline::kb::text_internal
