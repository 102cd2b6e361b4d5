#include "common/page_token.h"

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace hotline {
namespace {

constexpr absl::string_view kVersion = "pt1";
constexpr size_t kChecksumLength = 16;  // Hex digits of SHA-256 kept.
constexpr size_t kMaxFieldLength = 4096;

absl::Status Invalid() {
  return absl::InvalidArgumentError(
      "page_token: invalid, expired or issued for a different request; start again from the "
      "first page");
}

// Fields are length-prefixed ("<length>:<bytes>"), so a sort key may hold any byte.
void AppendField(std::string* out, absl::string_view field) {
  absl::StrAppend(out, field.size(), ":", field);
}

bool ReadField(absl::string_view* in, std::string* field) {
  size_t colon = in->find(':');
  size_t length = 0;
  if (colon == absl::string_view::npos || colon == 0 || colon > 5 ||
      !absl::SimpleAtoi(in->substr(0, colon), &length) || length > kMaxFieldLength ||
      in->size() - colon - 1 < length) {
    return false;
  }
  *field = std::string(in->substr(colon + 1, length));
  in->remove_prefix(colon + 1 + length);
  return true;
}

}  // namespace

std::string RequestFingerprint(const google::protobuf::Message& request) {
  // The type name keeps a token of one listing from passing in another with the same bytes.
  return Sha256Hex(absl::StrCat(request.GetTypeName(), "\n", request.SerializeAsString()))
      .substr(0, 16);
}

std::string MakePageToken(const std::vector<std::string>& position, absl::string_view fingerprint,
                          absl::Time now) {
  std::string payload;
  AppendField(&payload, kVersion);
  AppendField(&payload, fingerprint);
  AppendField(&payload, absl::StrCat(absl::ToUnixSeconds(now)));
  for (const std::string& field : position) AppendField(&payload, field);
  std::string checksum = Sha256Hex(payload).substr(0, kChecksumLength);
  return absl::WebSafeBase64Escape(absl::StrCat(payload, checksum));
}

absl::StatusOr<std::vector<std::string>> ParsePageToken(absl::string_view token,
                                                        absl::string_view fingerprint,
                                                        size_t fields, absl::Time now,
                                                        absl::Duration lifetime) {
  std::string raw;
  if (token.size() > 4 * kMaxFieldLength || !absl::WebSafeBase64Unescape(token, &raw) ||
      raw.size() < kChecksumLength) {
    return Invalid();
  }
  absl::string_view payload(raw.data(), raw.size() - kChecksumLength);
  if (Sha256Hex(payload).substr(0, kChecksumLength) != raw.substr(payload.size())) {
    return Invalid();
  }
  std::string version, issued_for, issued;
  int64_t issued_seconds = 0;
  if (!ReadField(&payload, &version) || version != kVersion || !ReadField(&payload, &issued_for) ||
      issued_for != fingerprint || !ReadField(&payload, &issued) ||
      !absl::SimpleAtoi(issued, &issued_seconds)) {
    return Invalid();
  }
  const absl::Time issued_at = absl::FromUnixSeconds(issued_seconds);
  // A token from the future is as wrong as an old one (a clock set back is the only honest
  // cause, and the lifetime still bounds it).
  if (now - issued_at > lifetime || issued_at - now > lifetime) return Invalid();
  std::vector<std::string> position;
  while (!payload.empty()) {
    std::string field;
    if (position.size() == fields || !ReadField(&payload, &field)) return Invalid();
    position.push_back(std::move(field));
  }
  if (position.size() != fields) return Invalid();
  return position;
}

absl::StatusOr<int> ParseOffsetPageToken(absl::string_view token, absl::string_view fingerprint,
                                         int max_offset, absl::Time now) {
  absl::StatusOr<std::vector<std::string>> position = ParsePageToken(token, fingerprint, 1, now);
  if (!position.ok()) return position.status();
  int offset = 0;
  if (!absl::SimpleAtoi((*position)[0], &offset) || offset < 0 || offset > max_offset) {
    return Invalid();
  }
  return offset;
}

}  // namespace hotline
