// Page tokens, one format for every listing of every service.
//
// A token carries where the next page starts (an offset, or the sort key and id of the last row
// returned: whatever the listing pages by), a fingerprint of the request it was issued for, and
// its issue time, all under a checksum. Clients treat it as opaque. A token that was mangled,
// has expired, or is replayed with other filters is refused with INVALID_ARGUMENT naming
// `page_token`, so a client starts again instead of reading a page of another listing.
//
// The checksum is not a signature: a token only says where to go on, and every page is
// authorised and filtered like the first, so a forged position can only skip or repeat rows the
// caller may see anyway.
#ifndef HOTLINE_COMMON_PAGE_TOKEN_H_
#define HOTLINE_COMMON_PAGE_TOKEN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"

namespace hotline {

inline constexpr absl::Duration kPageTokenLifetime = absl::Hours(1);

// A fingerprint of a request. Clear the fields that may change from page to page (the token,
// and the page size if a client may change it) in the copy passed here.
std::string RequestFingerprint(const google::protobuf::Message& request);

// The token for the page that starts after `position` (any bytes, any number of fields).
std::string MakePageToken(const std::vector<std::string>& position, absl::string_view fingerprint,
                          absl::Time now);

// The position in `token`, which must have `fields` fields and have been issued for
// `fingerprint` less than `lifetime` before `now`.
absl::StatusOr<std::vector<std::string>> ParsePageToken(
    absl::string_view token, absl::string_view fingerprint, size_t fields, absl::Time now,
    absl::Duration lifetime = kPageTokenLifetime);

// ParsePageToken for a listing that pages by offset: one field, a number in [0, max_offset].
absl::StatusOr<int> ParseOffsetPageToken(absl::string_view token, absl::string_view fingerprint,
                                         int max_offset, absl::Time now);

}  // namespace hotline

#endif  // HOTLINE_COMMON_PAGE_TOKEN_H_
