// RpcMetricsInterceptor: counts every RPC the server ends, by method and
// status code, in ServerMetrics (pprocd_rpcs_total). A gRPC server
// interceptor: install with MakeRpcMetricsInterceptors() on the builder.
// RPCs that end without a status sent (the client went away) are not
// counted.
#ifndef PPROCD_SERVER_FRONT_RPC_METRICS_H_
#define PPROCD_SERVER_FRONT_RPC_METRICS_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <vector>

namespace pprocd {

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
MakeRpcMetricsInterceptors();

// "OK", "CANCELLED", ... for a gRPC status code; "UNKNOWN" outside the
// range.
const char* StatusCodeName(int code);

}  // namespace pprocd

#endif  // PPROCD_SERVER_FRONT_RPC_METRICS_H_
