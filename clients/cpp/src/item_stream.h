// Internal: drives one bidirectional Map or Queue stream for
// Client::RunItems with the sync API. The calling thread reads results and
// runs the sink; a writer thread pulls inputs and writes them in batches.
// Flow control needs nothing special: when the server stops reading, the
// writer blocks in Write() until the window opens again.
//
// Thread-safety: Run() is called once, from one thread.
#ifndef PPROCD_CLIENTS_CPP_SRC_ITEM_STREAM_H_
#define PPROCD_CLIENTS_CPP_SRC_ITEM_STREAM_H_

#include <atomic>
#include <cstddef>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/sync_stream.h"
#include "pprocd/client/client.h"
#include "pprocd/client/input_source.h"
#include "src/packed.h"

namespace pprocd::client::internal {

struct BatchLimits {
  int max_inputs;
  size_t max_bytes;
  // Send inputs in the packed form (one JSON array per request) rather than
  // as Values. The header must say the same (CallOptions.packed).
  bool packed = false;
};

// How a stream ended.
struct StreamOutcome {
  // The sink's or the input source's error, if one ended the call.
  absl::Status local_error;
  // The status the server (or the channel) ended the RPC with.
  grpc::Status rpc_status;
  // Whether any response arrived, i.e. the server was reached.
  bool received_response = false;
};

// Request is MapRequest or QueueRequest, Response MapResponse or
// QueueResponse: the pairs have the same fields.
template <typename Request, typename Response>
class ItemStream {
 public:
  // `context` and `stream` belong to one started call and must outlive Run().
  ItemStream(grpc::ClientContext* context, grpc::ClientReaderWriter<Request, Response>* stream,
             BatchLimits limits)
      : context_(context), stream_(stream), limits_(limits) {}

  // Sends `header` (callable and options), then every input, then
  // half-closes, while passing every result to `sink` (a response's results
  // and blocks merged by index, see ForEachResult) and block totals to
  // `chunk_stats`. Returns once the RPC has finished.
  StreamOutcome Run(const Request& header, InputSource& inputs, const ResultSink& sink,
                    const ChunkStatsSink& chunk_stats) {
    std::thread writer([&] {
      if (!stream_->Write(header)) return;
      if (limits_.packed) {
        WritePacked(inputs);
      } else {
        WriteValues(inputs);
      }
    });
    StreamOutcome outcome;
    Response response;
    while (outcome.local_error.ok() && stream_->Read(&response)) {
      outcome.received_response = true;
      outcome.local_error = ForEachResult(response.results(), response.blocks(), chunk_stats, sink);
    }
    if (!outcome.local_error.ok()) context_->TryCancel();
    // The server has finished (or we cancelled): a writer blocked in Write()
    // fails at once, one blocked waiting for input needs a nudge.
    stop_writing_.store(true);
    inputs.Interrupt();
    writer.join();
    // Joining orders the writer's write of input_error_ before this read.
    if (outcome.local_error.ok()) outcome.local_error = input_error_;
    outcome.rpc_status = stream_->Finish();
    return outcome;
  }

 private:
  // The header goes alone (before either of these) so the server can check
  // the callable (and we learn of a dead server) before the first input is
  // produced.

  // The Value form: one google.protobuf.Value per input in `inputs`.
  void WriteValues(InputSource& inputs) {
    Request request;
    size_t batch_bytes = 0;
    while (!stop_writing_.load()) {
      if (request.inputs_size() > 0 && !inputs.NextIsReady()) {
        if (!Flush(&request, &batch_bytes)) return;
      }
      google::protobuf::Value* value = request.add_inputs();
      absl::StatusOr<bool> more = inputs.Next(value);
      if (!more.ok()) {
        if (!stop_writing_.load()) {
          input_error_ = more.status();
          context_->TryCancel();
        }
        return;
      }
      const bool cancelling = AddCancellations(inputs, &request);
      if (!*more) {
        request.mutable_inputs()->RemoveLast();
        if ((request.inputs_size() > 0 || cancelling) && !Flush(&request, &batch_bytes)) {
          return;
        }
        stream_->WritesDone();
        return;
      }
      // Tag and length prefix of the repeated field: at most 6 bytes.
      const size_t size = value->ByteSizeLong() + 6;
      if (request.inputs_size() > 1 && batch_bytes + size > limits_.max_bytes) {
        // This input would push the batch over the limit: send the batch
        // without it, then start the next batch with it.
        google::protobuf::Value last = std::move(*value);
        request.mutable_inputs()->RemoveLast();
        if (!Flush(&request, &batch_bytes)) return;
        *request.add_inputs() = std::move(last);
      }
      batch_bytes += size;
      if (cancelling || request.inputs_size() >= limits_.max_inputs ||
          batch_bytes >= limits_.max_bytes) {
        if (!Flush(&request, &batch_bytes)) return;
      }
    }
  }

  // The packed form: each request's inputs printed once, straight into one
  // JSON array (`packed_inputs`); the same batching as WriteValues.
  void WritePacked(InputSource& inputs) {
    Request request;
    PackedInputs batch;
    google::protobuf::Value value;
    while (!stop_writing_.load()) {
      if (batch.count() > 0 && !inputs.NextIsReady()) {
        if (!FlushPacked(&request, &batch)) return;
      }
      value.Clear();
      absl::StatusOr<bool> more = inputs.Next(&value);
      if (!more.ok()) {
        if (!stop_writing_.load()) {
          input_error_ = more.status();
          context_->TryCancel();
        }
        return;
      }
      const bool cancelling = AddCancellations(inputs, &request);
      if (!*more) {
        if ((batch.count() > 0 || cancelling) && !FlushPacked(&request, &batch)) return;
        stream_->WritesDone();
        return;
      }
      batch.Add(value);
      if (batch.count() > 1 && batch.bytes() > limits_.max_bytes) {
        // This input pushed the batch over the limit: send the batch without
        // it, then start the next batch with it.
        std::string last = batch.TakeLast();
        if (!FlushPacked(&request, &batch)) return;
        batch.AddJson(last);
      }
      if (cancelling || batch.count() >= limits_.max_inputs || batch.bytes() >= limits_.max_bytes) {
        if (!FlushPacked(&request, &batch)) return;
      }
    }
  }

  // Writes `request` with the batch's inputs (if any); false when the call
  // is over.
  bool FlushPacked(Request* request, PackedInputs* batch) {
    if (batch->count() > 0) request->set_packed_inputs(batch->Take());
    bool ok = stream_->Write(*request);
    request->Clear();
    return ok;
  }

  // Adds the source's pending cancellations to `request`; true if any.
  static bool AddCancellations(InputSource& inputs, Request* request) {
    std::vector<uint64_t> indices = inputs.TakeCancellations();
    for (uint64_t index : indices) request->add_cancel_indices(index);
    return !indices.empty();
  }

  // Writes the batch; false when the call is over.
  bool Flush(Request* request, size_t* batch_bytes) {
    bool ok = stream_->Write(*request);
    request->Clear();
    *batch_bytes = 0;
    return ok;
  }

  grpc::ClientContext* const context_;
  grpc::ClientReaderWriter<Request, Response>* const stream_;
  const BatchLimits limits_;
  std::atomic<bool> stop_writing_{false};
  // Written by the writer thread only; read by Run() after joining it.
  absl::Status input_error_;
};

}  // namespace pprocd::client::internal

#endif  // PPROCD_CLIENTS_CPP_SRC_ITEM_STREAM_H_
