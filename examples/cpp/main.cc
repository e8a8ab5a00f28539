// pprocd_example: the C++ client library from an installed pprocd
// (find_package(pprocd)). Squares 1..5 with a Map call, then submits the same
// work as a background job and follows it to the end with Reconnect.
//
// Usage: pprocd_example [ADDRESS]   (default: $PPROCD_ADDRESS, else
// the per-user socket). Exit status 0 when every result is right.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"
#include "pprocd/client/address.h"
#include "pprocd/client/client.h"
#include "pprocd/client/input_source.h"
#include "pprocd/client/json.h"

namespace {

using google::protobuf::Value;

std::vector<Value> Numbers(int first, int last) {
  std::vector<Value> values;
  for (int i = first; i <= last; ++i) {
    values.emplace_back().set_number_value(i);
  }
  return values;
}

int Fail(const char* what, const absl::Status& status) {
  std::fprintf(stderr, "pprocd_example: %s: %s\n", what, status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<std::string> target = pprocd::client::ResolveAddress(argc > 1 ? argv[1] : "");
  if (!target.ok()) return Fail("address", target.status());
  pprocd::client::Client client(*target);

  // Map: results arrive in input order, one per input.
  pprocd::client::ValueListSource inputs(Numbers(1, 5));
  double sum = 0;
  absl::Status mapped =
      client.RunItems(pprocd::client::CallKind::kMap, "square", pprocd::v1::CallOptions(), inputs,
                      [&](const pprocd::v1::ItemResult& result) {
                        if (result.has_error())
                          return absl::InternalError(result.error().message());
                        std::printf("square(%d) = %s\n", static_cast<int>(result.index()) + 1,
                                    pprocd::client::ValueToJson(result.value()).c_str());
                        sum += result.value().number_value();
                        return absl::OkStatus();
                      });
  if (!mapped.ok()) return Fail("Map", mapped);

  // Submit: a job that runs on the server whether or not this client stays.
  pprocd::v1::SubmitRequest submit;
  submit.set_callable("square");
  submit.set_ordered(true);
  for (Value& input : Numbers(1, 5)) *submit.add_inputs() = input;
  absl::StatusOr<pprocd::v1::Job> job = client.Submit(submit);
  if (!job.ok()) return Fail("Submit", job.status());
  std::printf("submitted job %s\n", job->id().c_str());

  // Reconnect: the job's stored results, then the live ones, until it ends.
  pprocd::v1::ReconnectRequest reconnect;
  reconnect.add_jobs(job->id());
  double job_sum = 0;
  pprocd::v1::JobState final_state = pprocd::v1::JOB_STATE_UNSPECIFIED;
  absl::Status followed =
      client.Reconnect(reconnect, [&](const pprocd::v1::ReconnectResponse& output) {
        if (output.has_result()) job_sum += output.result().value().number_value();
        if (output.has_job()) final_state = output.job().state();
        return absl::OkStatus();
      });
  if (!followed.ok()) return Fail("Reconnect", followed);
  std::printf("job %s: %s, sum %g (Map: %g)\n", job->id().c_str(),
              pprocd::v1::JobState_Name(final_state).c_str(), job_sum, sum);
  return final_state == pprocd::v1::JOB_STATE_SUCCEEDED && sum == 55 && job_sum == 55 ? 0 : 1;
}
