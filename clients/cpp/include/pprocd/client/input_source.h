// InputSource: a pull-style stream of call inputs for Client::RunItems, so
// that a call over millions of inputs never holds them all in memory.
//
// Thread-safety: Next() and NextIsReady() are called from one thread at a
// time (RunItems's writer thread). Interrupt() may be called from any thread,
// concurrently with Next().
#ifndef PPROCD_CLIENTS_CPP_INCLUDE_PPROCD_CLIENT_INPUT_SOURCE_H_
#define PPROCD_CLIENTS_CPP_INCLUDE_PPROCD_CLIENT_INPUT_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"

namespace pprocd::client {

class InputSource {
 public:
  virtual ~InputSource() = default;

  // Stores the next input in `*value` and returns true, or returns false
  // when there are no more inputs. An error ends the call: RunItems cancels
  // it and returns that error.
  virtual absl::StatusOr<bool> Next(google::protobuf::Value* value) = 0;

  // Returns true when Next() would return without waiting for I/O. Before a
  // Next() that may wait, RunItems sends the inputs it has batched so far,
  // so slow producers (a pipe fed by hand) still see prompt results.
  virtual bool NextIsReady() { return true; }

  // Asks a Next() that waits on I/O to return soon (with any error). Called
  // when the call ends before the inputs do. Sources that never wait may
  // ignore it.
  virtual void Interrupt() {}

  // Indices of inputs already given whose items the call should cancel
  // (cancel_indices: a running item is killed, its result is CANCELLED).
  // RunItems asks after every Next() and sends them at once, with the inputs
  // batched so far, before the half-close when Next() has just returned
  // false. A source that cancels items blocks in Next() until it knows which.
  virtual std::vector<uint64_t> TakeCancellations() { return {}; }
};

// An InputSource over values held in memory.
class ValueListSource final : public InputSource {
 public:
  explicit ValueListSource(std::vector<google::protobuf::Value> values)
      : values_(std::move(values)) {}

  absl::StatusOr<bool> Next(google::protobuf::Value* value) override {
    if (next_ == values_.size()) return false;
    *value = values_[next_++];
    return true;
  }

 private:
  std::vector<google::protobuf::Value> values_;
  size_t next_ = 0;
};

}  // namespace pprocd::client

#endif  // PPROCD_CLIENTS_CPP_INCLUDE_PPROCD_CLIENT_INPUT_SOURCE_H_
