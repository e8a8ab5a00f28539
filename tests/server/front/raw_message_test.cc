#include "server/front/raw_message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "google/protobuf/stubs/logging.h"
#include "pprocd/v1/service.pb.h"
#include "tests/util/status_matchers.h"

namespace pprocd {
namespace {

using google::protobuf::Value;
using ::pprocd::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// Protobuf's log lines that reach the handler in place before the server's.
int logged = 0;
void CountLog(google::protobuf::LogLevel, const char*, int, const std::string&) { ++logged; }

// As in the server: installed before any request is parsed.
const bool kLogsRouted = [] {
  google::protobuf::SetLogHandler(&CountLog);
  CaptureParseLogs();
  return true;
}();

grpc::ByteBuffer Bytes(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// `bytes` cut into slices of `piece` bytes.
grpc::ByteBuffer Sliced(const std::string& bytes, size_t piece) {
  std::vector<grpc::Slice> slices;
  for (size_t at = 0; at < bytes.size(); at += piece) slices.emplace_back(bytes.substr(at, piece));
  return grpc::ByteBuffer(slices.data(), slices.size());
}

std::string Contents(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_OK(buffer.Dump(&slices));
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return bytes;
}

v1::MapRequest Request(int inputs) {
  v1::MapRequest request;
  request.set_callable("square");
  for (int i = 0; i < inputs; ++i) request.add_inputs()->set_string_value(std::string(100, 'x'));
  return request;
}

Value Nested(int depth) {
  Value value;
  value.set_number_value(1);
  for (int i = 0; i < depth; ++i) {
    Value outer;
    *outer.mutable_list_value()->add_values() = std::move(value);
    value = std::move(outer);
  }
  return value;
}

// A MapRequest whose one input is a string that is not UTF-8.
std::string InvalidUtf8Request() {
  v1::MapRequest request;
  request.add_inputs()->set_string_value("@@@@");
  std::string bytes = request.SerializeAsString();
  bytes.replace(bytes.find("@@@@"), 4, "\xff\xfe\xc3\x28");
  return bytes;
}

TEST(RawMessageTest, ParsesOneSliceOrMany) {
  const v1::MapRequest request = Request(100);
  const std::string bytes = request.SerializeAsString();
  for (size_t piece : {bytes.size(), size_t{1}, size_t{7}, size_t{4096}}) {
    v1::MapRequest parsed;
    ASSERT_OK(ParseRequest(Sliced(bytes, piece), &parsed)) << piece;
    EXPECT_EQ(parsed.SerializeAsString(), bytes) << piece;
  }
}

TEST(RawMessageTest, AnEmptyBufferIsTheEmptyMessage) {
  v1::MapRequest parsed;
  parsed.set_callable("left over");
  EXPECT_OK(ParseRequest(grpc::ByteBuffer(), &parsed));
  EXPECT_TRUE(parsed.callable().empty());
}

TEST(RawMessageTest, StringsThatAreNotUtf8AreRefusedWithProtobufsReason) {
  for (size_t piece : {size_t{1000}, size_t{3}}) {
    v1::MapRequest parsed;
    const absl::Status status = ParseRequest(Sliced(InvalidUtf8Request(), piece), &parsed);
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                                 AllOf(HasSubstr("google.protobuf.Value.string_value"),
                                       HasSubstr("UTF-8"))));
  }
}

TEST(RawMessageTest, NestingIsLimited) {
  v1::MapRequest shallow;
  *shallow.add_inputs() = Nested(kMaxRequestDepth / 2 - 5);
  v1::MapRequest parsed;
  EXPECT_OK(ParseRequest(Bytes(shallow.SerializeAsString()), &parsed));

  v1::MapRequest deep;
  *deep.add_inputs() = Nested(kMaxRequestDepth);
  const absl::Status status = ParseRequest(Bytes(deep.SerializeAsString()), &parsed);
  EXPECT_THAT(status,
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nested more than 100")));
}

TEST(RawMessageTest, MalformedBytesAreRefused) {
  v1::MapRequest parsed;
  // A varint of eleven bytes; a length past the end; an end-group tag.
  for (const std::string& bytes :
       {std::string(11, '\xff'), std::string("\x1a\x10\x0a", 3), std::string("\x0c", 1)}) {
    EXPECT_THAT(ParseRequest(Bytes(bytes), &parsed), StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(RawMessageTest, FailuresNameTheRequest) {
  v1::MapRequest map;
  const absl::Status stream = ParseStreamRequest(3, Bytes(std::string(11, '\xff')), &map);
  EXPECT_TRUE(
      absl::StartsWith(stream.message(),
                       "request 3 (counting from 1) could not be parsed as pprocd.v1.MapRequest: "))
      << stream.message();
  v1::GetJobRequest get;
  const absl::Status unary = ParseOnlyRequest("GetJob", Bytes(std::string(11, '\xff')), &get);
  EXPECT_TRUE(absl::StartsWith(
      unary.message(), "GetJob: the request could not be parsed as pprocd.v1.GetJobRequest"))
      << unary.message();
  EXPECT_OK(ParseOnlyRequest("GetJob", Bytes(""), &get));
}

TEST(RawMessageTest, SerializesSmallAndLargeResponses) {
  for (int inputs : {0, 1, 100000}) {
    const v1::MapRequest message = Request(inputs);
    grpc::ByteBuffer buffer = Bytes("old contents");
    ASSERT_OK(SerializeResponse(message, &buffer));
    EXPECT_EQ(Contents(buffer), message.SerializeAsString()) << inputs;
  }
}

TEST(RawMessageTest, ParseLogsAreCapturedAndOthersPassOn) {
  const int before = logged;
  v1::MapRequest parsed;
  EXPECT_FALSE(ParseRequest(Bytes(InvalidUtf8Request()), &parsed).ok());
  EXPECT_EQ(logged, before);
  GOOGLE_LOG(WARNING) << "not while parsing";
  EXPECT_EQ(logged, before + 1);
}

}  // namespace
}  // namespace pprocd
