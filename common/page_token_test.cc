#include "common/page_token.h"

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace hotline {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'780'000'000);

void ExpectRefused(const absl::StatusOr<std::vector<std::string>>& parsed) {
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message().substr(0, 11), "page_token:");
}

TEST(PageTokenTest, APositionOfAnyBytesComesBackForTheSameRequest) {
  const std::vector<std::string> position = {std::string("2026-12-01\n:7:x\0y", 17), "", "T-42"};
  std::string token = MakePageToken(position, "fingerprint", kNow);
  absl::StatusOr<std::vector<std::string>> parsed =
      ParsePageToken(token, "fingerprint", 3, kNow + absl::Minutes(59));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, position);
  // Opaque to a client: the ids and dates in it are not readable as they are.
  EXPECT_EQ(token.find("T-42"), std::string::npos);
}

TEST(PageTokenTest, OtherParametersAnExpiredTokenOrAnotherShapeAreRefused) {
  std::string token = MakePageToken({"10"}, "fingerprint", kNow);
  ExpectRefused(ParsePageToken(token, "other", 1, kNow));
  ExpectRefused(
      ParsePageToken(token, "fingerprint", 1, kNow + kPageTokenLifetime + absl::Seconds(1)));
  ExpectRefused(
      ParsePageToken(token, "fingerprint", 1, kNow - kPageTokenLifetime - absl::Seconds(1)));
  ExpectRefused(ParsePageToken(token, "fingerprint", 2, kNow));
  ExpectRefused(
      ParsePageToken(MakePageToken({"10", "11"}, "fingerprint", kNow), "fingerprint", 1, kNow));
  ExpectRefused(ParsePageToken("", "fingerprint", 1, kNow));
  ExpectRefused(ParsePageToken("%%% not base64", "fingerprint", 1, kNow));
  ExpectRefused(ParsePageToken(std::string(100'000, 'A'), "fingerprint", 1, kNow));
}

TEST(PageTokenTest, EveryAlteredByteIsCaught) {
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(MakePageToken({"500", "T-1"}, "f", kNow), &raw));
  for (size_t i = 0; i < raw.size(); ++i) {
    std::string altered = raw;
    altered[i] = static_cast<char>(altered[i] ^ 0x01);
    SCOPED_TRACE(i);
    ExpectRefused(ParsePageToken(absl::WebSafeBase64Escape(altered), "f", 2, kNow));
  }
  ExpectRefused(
      ParsePageToken(absl::WebSafeBase64Escape(raw.substr(0, raw.size() - 1)), "f", 2, kNow));
}

TEST(PageTokenTest, OffsetsAreBounded) {
  EXPECT_EQ(*ParseOffsetPageToken(MakePageToken({"50"}, "f", kNow), "f", 1000, kNow), 50);
  EXPECT_FALSE(ParseOffsetPageToken(MakePageToken({"1001"}, "f", kNow), "f", 1000, kNow).ok());
  EXPECT_FALSE(ParseOffsetPageToken(MakePageToken({"-1"}, "f", kNow), "f", 1000, kNow).ok());
  EXPECT_FALSE(ParseOffsetPageToken(MakePageToken({"x"}, "f", kNow), "f", 1000, kNow).ok());
}

TEST(PageTokenTest, FingerprintsDifferByRequestAndByType) {
  google::protobuf::Duration a, b;
  a.set_seconds(1);
  b.set_seconds(2);
  google::protobuf::Timestamp c;
  c.set_seconds(1);
  EXPECT_EQ(RequestFingerprint(a), RequestFingerprint(a));
  EXPECT_NE(RequestFingerprint(a), RequestFingerprint(b));
  EXPECT_NE(RequestFingerprint(a), RequestFingerprint(c));  // Same bytes, another listing.
}

}  // namespace
}  // namespace hotline
