// Whether bytes are UTF-8 that a proto3 string field accepts, checked before such bytes are put
// in one: protobuf refuses to parse a message holding anything else, so a record copied from a
// file in another encoding would otherwise fail far from where it came in.
#ifndef HOTLINE_COMMON_UTF8_H_
#define HOTLINE_COMMON_UTF8_H_

#include "absl/strings/string_view.h"

namespace hotline {

// Shortest forms only, no UTF-16 surrogates, nothing above U+10FFFF.
bool IsValidUtf8(absl::string_view bytes);

// Unicode code points in valid UTF-8 (how the APIs count lengths): "第六十条" is 4.
int CodePointCount(absl::string_view utf8);

}  // namespace hotline

#endif  // HOTLINE_COMMON_UTF8_H_
