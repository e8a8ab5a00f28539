// UnaryCall and ServeUnary(): a unary RPC read and answered as raw bytes
// (a raw callback method), with a typed handler in between.
//
// ServeUnary() parses the request. One that does not parse is answered
// INVALID_ARGUMENT naming the RPC and the request type, the handler is not
// called and nothing is logged. Otherwise the handler gets a UnaryCall that
// owns the parsed request and the response to fill in, and must call
// Finish() exactly once: before it returns, or later from any thread (a
// job thread that answers once the work is done, say). Finish() serializes
// the response (when the status is OK) into gRPC's response buffer and then
// finishes the call; the UnaryCall deletes itself when gRPC is done with
// the call (OnDone), so after Finish() nobody may touch it, its request or
// its response. Until then the request, the response and context() stay
// valid, on whatever thread holds the UnaryCall.
#ifndef PPROCD_SERVER_FRONT_UNARY_CALL_H_
#define PPROCD_SERVER_FRONT_UNARY_CALL_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/status.h"
#include "server/front/raw_message.h"
#include "server/front/status_convert.h"

namespace pprocd {

template <typename Request, typename Response>
class UnaryCall final : public grpc::ServerUnaryReactor {
 public:
  // `context` and `raw_response` belong to gRPC's call: both live until
  // OnDone.
  UnaryCall(grpc::CallbackServerContext* context, grpc::ByteBuffer* raw_response)
      : context_(context), raw_response_(raw_response) {}

  grpc::CallbackServerContext* context() const { return context_; }
  const Request& request() const { return request_; }
  Request* mutable_request() { return &request_; }
  Response* response() { return &response_; }

  // Answers the call: the response with OK, else `status` alone (through
  // ToGrpcStatus, which bounds its message). Exactly once, from any thread.
  void Finish(const absl::Status& status) {
    grpc::Status answer = ToGrpcStatus(status);
    if (answer.ok()) {
      const absl::Status serialized = SerializeResponse(response_, raw_response_);
      if (!serialized.ok()) answer = ToGrpcStatus(serialized);
    }
    grpc::ServerUnaryReactor::Finish(std::move(answer));
  }

  void OnDone() override { delete this; }

 private:
  grpc::CallbackServerContext* const context_;
  grpc::ByteBuffer* const raw_response_;
  Request request_;
  Response response_;
};

// Parses `raw_request` as a Request and hands the call to `handle`, a
// callable taking UnaryCall<Request, Response>* (see above). `rpc` names the
// method in the status of a request that does not parse. Returns the
// reactor for gRPC.
template <typename Request, typename Response, typename Handler>
grpc::ServerUnaryReactor* ServeUnary(const char* rpc, grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* raw_request,
                                     grpc::ByteBuffer* raw_response, Handler&& handle) {
  auto* call = new UnaryCall<Request, Response>(context, raw_response);
  const absl::Status parsed = ParseOnlyRequest(rpc, *raw_request, call->mutable_request());
  if (!parsed.ok()) {
    call->Finish(parsed);
    return call;
  }
  handle(call);
  return call;
}

}  // namespace pprocd

#endif  // PPROCD_SERVER_FRONT_UNARY_CALL_H_
