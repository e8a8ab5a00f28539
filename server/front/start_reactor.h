// StartReactor: one Start call on the gRPC side (pprocess's start(): one
// invocation and its two-way channel). The first request names the callable
// and its arguments; later requests carry channel input, read one at a time
// when the scheduler has room; half-close ends the input. Each value the
// callable sends becomes a `message` response, its end the `result`.
#ifndef PPROCD_SERVER_FRONT_START_REACTOR_H_
#define PPROCD_SERVER_FRONT_START_REACTOR_H_

#include <memory>
#include <vector>

#include "pprocd/v1/service.pb.h"
#include "server/front/call_reactor.h"
#include "server/peer/caller_identity.h"
#include "worker/registry.h"

namespace pprocd {

class StartReactor : public CallReactor<v1::StartRequest, v1::StartResponse> {
 public:
  StartReactor(grpc::CallbackServerContext* context, Scheduler* scheduler,
               std::shared_ptr<const Registry> registry, CallerIdentity caller);

  void OnReadDone(bool ok) ABSL_LOCKS_EXCLUDED(sink_->mu) override;

 private:
  absl::Status Open() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink_->mu);
  absl::Status CheckLaterRequest() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink_->mu);
  void DeliverLocked(std::vector<ResultPiece> results)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink_->mu) override;
  // The channel input of a later request, each a serialized Value.
  absl::StatusOr<std::vector<std::string>> LaterMessages() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink_->mu);

  grpc::CallbackServerContext* const context_;
  // The call's form (CallOptions.packed of its first request).
  bool packed_ ABSL_GUARDED_BY(sink_->mu) = false;
  const std::shared_ptr<const Registry> registry_;
  const CallerIdentity caller_;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_FRONT_START_REACTOR_H_
