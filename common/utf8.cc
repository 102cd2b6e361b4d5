#include "common/utf8.h"

#include <cstdint>

namespace hotline {

bool IsValidUtf8(absl::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const uint8_t* const end = p + bytes.size();
  while (p < end) {
    const uint8_t lead = *p++;
    if (lead < 0x80) continue;
    int continuation;
    uint32_t min;
    uint32_t code;
    if ((lead & 0xE0) == 0xC0) {
      continuation = 1, min = 0x80, code = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      continuation = 2, min = 0x800, code = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      continuation = 3, min = 0x10000, code = lead & 0x07;
    } else {
      return false;  // a continuation byte with no lead, or 0xF8..0xFF
    }
    if (end - p < continuation) return false;
    for (int i = 0; i < continuation; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      code = (code << 6) | (p[i] & 0x3F);
    }
    p += continuation;
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
  }
  return true;
}

int CodePointCount(absl::string_view utf8) {
  int count = 0;
  for (char c : utf8) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

}  // namespace hotline
