#include "server/jobs/request_digest.h"

#include <gtest/gtest.h>

namespace pprocd {
namespace {

v1::SubmitRequest Request() {
  v1::SubmitRequest request;
  request.set_callable("square");
  request.add_inputs()->set_number_value(3);
  google::protobuf::Struct* args = request.add_inputs()->mutable_struct_value();
  for (const char* key : {"b", "a", "d", "c", "f", "e"}) {
    (*args->mutable_fields())[key].set_string_value(key);
  }
  request.mutable_options()->set_limit(2);
  request.set_idempotency_key("k");
  return request;
}

RequestDigest Digest(const v1::SubmitRequest& request) {
  return DigestRequest(SerializeDeterministic(request));
}

TEST(RequestDigestTest, TheSameRequestHasTheSameDigestsWhateverItsKeyAndMapOrder) {
  const RequestDigest digest = Digest(Request());
  EXPECT_EQ(digest.inputs.size(), 32u);
  EXPECT_EQ(digest.settings.size(), 32u);
  v1::SubmitRequest again = Request();
  again.set_idempotency_key("another key");
  // The same fields, entered in the other order.
  google::protobuf::Struct* args = again.mutable_inputs(1)->mutable_struct_value();
  args->clear_fields();
  for (const char* key : {"e", "f", "c", "d", "a", "b"}) {
    (*args->mutable_fields())[key].set_string_value(key);
  }
  // A hint the server sets itself.
  again.mutable_options()->set_expected_inputs(2);
  const RequestDigest same = Digest(again);
  EXPECT_EQ(same.inputs, digest.inputs);
  EXPECT_EQ(same.settings, digest.settings);
}

TEST(RequestDigestTest, OtherInputsOrSettingsChangeOnlyTheirDigest) {
  const RequestDigest digest = Digest(Request());
  v1::SubmitRequest other_inputs = Request();
  other_inputs.mutable_inputs(0)->set_number_value(4);
  EXPECT_NE(Digest(other_inputs).inputs, digest.inputs);
  EXPECT_EQ(Digest(other_inputs).settings, digest.settings);
  v1::SubmitRequest more_inputs = Request();
  more_inputs.add_inputs()->set_number_value(5);
  EXPECT_NE(Digest(more_inputs).inputs, digest.inputs);

  for (auto change : std::vector<void (*)(v1::SubmitRequest*)>{
           [](v1::SubmitRequest* r) { r->set_callable("fib"); },
           [](v1::SubmitRequest* r) { r->mutable_options()->set_limit(3); },
           [](v1::SubmitRequest* r) { r->mutable_options()->set_timeout_ms(10); },
           [](v1::SubmitRequest* r) { r->set_ordered(true); },
           [](v1::SubmitRequest* r) { r->set_retries(1); },
           [](v1::SubmitRequest* r) { r->set_name("nightly"); },
       }) {
    v1::SubmitRequest other = Request();
    change(&other);
    EXPECT_EQ(Digest(other).inputs, digest.inputs);
    EXPECT_NE(Digest(other).settings, digest.settings) << other.ShortDebugString();
  }
}

// The packed form's inputs are the job's inputs: another array changes the
// inputs' digest only.
TEST(RequestDigestTest, PackedInputsCountAsTheInputs) {
  v1::SubmitRequest packed;
  packed.set_callable("square");
  packed.mutable_options()->set_packed(true);
  packed.set_packed_inputs("[1,2,3]");
  packed.set_idempotency_key("k");
  const RequestDigest digest = Digest(packed);
  v1::SubmitRequest other = packed;
  other.set_packed_inputs("[1,2,4]");
  EXPECT_NE(Digest(other).inputs, digest.inputs);
  EXPECT_EQ(Digest(other).settings, digest.settings);
  other.set_packed_inputs("[1,2,3]");
  other.set_idempotency_key("another key");
  EXPECT_EQ(Digest(other).inputs, digest.inputs);
  EXPECT_EQ(Digest(other).settings, digest.settings);
}

TEST(RequestDigestTest, PackedInputsAppendedSerializeAsTheWholeRequest) {
  v1::SubmitRequest packed;
  packed.set_callable("square");
  packed.mutable_options()->set_packed(true);
  packed.set_retry_backoff_ms(5);
  packed.set_idempotency_key("k");
  const std::string inputs = "[1,2," + std::string(300, ' ') + "3]";
  v1::SubmitRequest whole = packed;
  whole.set_packed_inputs(inputs);
  EXPECT_EQ(SerializeWithPackedInputs(packed, inputs), SerializeDeterministic(whole));
  EXPECT_EQ(SerializeWithPackedInputs(packed, ""), SerializeDeterministic(packed));
}

}  // namespace
}  // namespace pprocd
