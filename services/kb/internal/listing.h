// Paging shared by the knowledge base's listings (Search and ListGaps).
#ifndef HOTLINE_SERVICES_KB_INTERNAL_LISTING_H_
#define HOTLINE_SERVICES_KB_INTERNAL_LISTING_H_

#include <algorithm>
#include <string>

#include "absl/status/statusor.h"
#include "common/page_token.h"

namespace hotline::kb::internal {

inline constexpr int kDefaultPageSize = 10;
inline constexpr int kMaxPageSize = 50;

// Deeper than any listing goes, and far from int's limit: a forged token (its checksum is not a
// secret) must not overflow offset + page_size.
inline constexpr int kMaxPageOffset = 1 << 24;

// The fingerprint a page token is bound to: the request without its token.
template <typename Message>
std::string FingerprintWithoutToken(Message m) {
  m.clear_page_token();
  return RequestFingerprint(m);
}

inline absl::StatusOr<int> PageSize(int requested) {
  if (requested < 0) return absl::InvalidArgumentError("page_size: must not be negative");
  return requested == 0 ? kDefaultPageSize : std::min(requested, kMaxPageSize);
}

}  // namespace hotline::kb::internal

#endif  // HOTLINE_SERVICES_KB_INTERNAL_LISTING_H_
