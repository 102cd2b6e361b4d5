// The one conversion between absl::Time and google.protobuf.Timestamp. Instants are kept to
// the microsecond, as the stores keep them, so a time survives a round trip through any of
// them unchanged.
#ifndef HOTLINE_COMMON_PROTO_TIME_H_
#define HOTLINE_COMMON_PROTO_TIME_H_

#include <google/protobuf/timestamp.pb.h>

#include "absl/time/time.h"

namespace hotline {

absl::Time FromProtoTime(const google::protobuf::Timestamp& t);
// Truncated to the microsecond (towards the past, so nanos are never negative).
google::protobuf::Timestamp ToProtoTime(absl::Time t);

}  // namespace hotline

#endif  // HOTLINE_COMMON_PROTO_TIME_H_
