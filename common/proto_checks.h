// Checks every request gets before anything in it is used or stored: the well-known time types
// inside their documented ranges, and enum fields holding values the contract defines.
//
// Why generic: a Timestamp with negative nanos, stored as sent, later makes every proto-to-JSON
// conversion of the ticket fail, and a hand-written check per field is one more place to
// forget when a field is added. Walking the message by reflection covers every field of every
// request, nested or repeated, and names the offending one by its path.
#ifndef HOTLINE_COMMON_PROTO_CHECKS_H_
#define HOTLINE_COMMON_PROTO_CHECKS_H_

#include <google/protobuf/message.h>

#include "absl/status/status.h"

namespace hotline {

// OK, or INVALID_ARGUMENT naming the first bad field by its path, for example
// "lead.time_limit.deadline: nanos must be 0 to 999999999, got -5". Rejected:
//  - google.protobuf.Timestamp outside 0001-01-01 to 9999-12-31 or with nanos outside
//    [0, 999999999] (the range RFC 3339 and the JSON mapping can express);
//  - google.protobuf.Duration beyond ±10,000 years, nanos beyond ±999999999, or seconds and
//    nanos of opposite signs;
//  - an enum value the contract does not define (proto3 keeps unknown numbers as they come);
//  - the zero ("..._UNSPECIFIED") value inside a repeated enum field, where it can only mean a
//    mistake: a filter listing "unspecified" states matches nothing.
absl::Status CheckWellFormed(const google::protobuf::Message& message);

}  // namespace hotline

#endif  // HOTLINE_COMMON_PROTO_CHECKS_H_
