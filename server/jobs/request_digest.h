// What identifies the request that created a job, so that a Submit reusing
// an idempotency key can be told from the same request sent again without
// reading the stored request back.
//
// A request is taken in its canonical form: deterministic serialization
// (map entries in key order), without the fields that do not define the
// job: idempotency_key (the same by construction) and
// options.expected_inputs (a hint the server sets itself). Of that form,
// two SHA-256 digests, so that a difference can be named: of the inputs
// (`inputs`, or `packed_inputs` in the packed form), and of everything
// else (callable, options, ordered, name, retries, retry_backoff_ms,
// socket_path, and any field added later). The digests are stored with
// the job: they must stay the same across releases.
//
// Pure functions; any thread.
#ifndef PPROCD_SERVER_JOBS_REQUEST_DIGEST_H_
#define PPROCD_SERVER_JOBS_REQUEST_DIGEST_H_

#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/message_lite.h"
#include "pprocd/v1/service.pb.h"

namespace pprocd {

struct RequestDigest {
  std::string inputs;    // 32 bytes
  std::string settings;  // 32 bytes
};

// `message` serialized deterministically (what the job store keeps of a
// request, and what DigestRequest reads).
std::string SerializeDeterministic(const google::protobuf::MessageLite& message);

// SerializeDeterministic() of `request` with `packed_inputs` set in it,
// made without copying the request: `request` must have no packed_inputs
// of its own. (packed_inputs is SubmitRequest's last field: its bytes go
// last, after any unknown fields, which changes neither digest.)
std::string SerializeWithPackedInputs(const v1::SubmitRequest& request,
                                      absl::string_view packed_inputs);

// SerializeWithPackedInputs(request, packed_inputs) but for the bytes of
// packed_inputs, `packed_inputs_size` of them, which follow it: a large
// block of inputs is then stored without being copied.
std::string SerializeWithPackedInputsHead(const v1::SubmitRequest& request,
                                          size_t packed_inputs_size);

// The digests of a SubmitRequest given as SerializeDeterministic() made it.
RequestDigest DigestRequest(absl::string_view serialized_request);

}  // namespace pprocd

#endif  // PPROCD_SERVER_JOBS_REQUEST_DIGEST_H_
