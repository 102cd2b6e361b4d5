#include "common/proto_time.h"

namespace hotline {

absl::Time FromProtoTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  google::protobuf::Timestamp out;
  int64_t micros = absl::ToUnixMicros(t);
  int64_t seconds = micros >= 0 ? micros / 1000000 : -((-micros + 999999) / 1000000);
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>((micros - seconds * 1000000) * 1000));
  return out;
}

}  // namespace hotline
