// Internal: the one conversion from grpc::Status to absl::Status in the
// client library. Pure; safe from any thread.
#ifndef PPROCD_CLIENTS_CPP_SRC_GRPC_STATUS_H_
#define PPROCD_CLIENTS_CPP_SRC_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace pprocd::client::internal {

// Keeps the code (gRPC and absl codes share numbering) and the message.
inline absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace pprocd::client::internal

#endif  // PPROCD_CLIENTS_CPP_SRC_GRPC_STATUS_H_
