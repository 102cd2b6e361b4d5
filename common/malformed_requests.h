// A request whose bytes do not parse never reaches a handler: gRPC's callback API answers it
// with UNIMPLEMENTED and an empty message, which tells a client nothing and looks like a
// missing method. This interceptor turns that answer into INVALID_ARGUMENT naming the field
// protobuf refused (a string field holding invalid UTF-8) or, failing that, the request type.
#ifndef HOTLINE_COMMON_MALFORMED_REQUESTS_H_
#define HOTLINE_COMMON_MALFORMED_REQUESTS_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>

namespace hotline {

// Installed by ServiceHost in every server it builds. Also routes protobuf's own log lines
// into glog (once per process), since that is where protobuf names the field it refused.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewMalformedRequestInterceptorFactory();

}  // namespace hotline

#endif  // HOTLINE_COMMON_MALFORMED_REQUESTS_H_
