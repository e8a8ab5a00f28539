// The one place where absl::Status becomes grpc::Status.
#ifndef PPROCD_SERVER_FRONT_STATUS_CONVERT_H_
#define PPROCD_SERVER_FRONT_STATUS_CONVERT_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace pprocd {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace pprocd

#endif  // PPROCD_SERVER_FRONT_STATUS_CONVERT_H_
