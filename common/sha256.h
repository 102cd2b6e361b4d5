// SHA-256 as lowercase hex: token hashes, content fingerprints, request digests, data versions.
#ifndef HOTLINE_COMMON_SHA256_H_
#define HOTLINE_COMMON_SHA256_H_

#include <string>

#include "absl/strings/string_view.h"

namespace hotline {

std::string Sha256Hex(absl::string_view data);

}  // namespace hotline

#endif  // HOTLINE_COMMON_SHA256_H_
