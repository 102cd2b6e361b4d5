// The single conversion between absl::Status and grpc::Status. Both use the canonical codes,
// so the numeric values map one to one.
#ifndef HOTLINE_COMMON_GRPC_STATUS_H_
#define HOTLINE_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace hotline {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace hotline

#endif  // HOTLINE_COMMON_GRPC_STATUS_H_
