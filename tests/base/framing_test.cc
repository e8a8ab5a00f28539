#include "base/framing.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/unique_fd.h"
#include "google/protobuf/struct.pb.h"
#include "tests/util/status_matchers.h"

namespace pprocd {
namespace {

using ::pprocd::testing::StatusIs;

google::protobuf::Value Text(const std::string& text) {
  google::protobuf::Value value;
  value.set_string_value(text);
  return value;
}

TEST(FramingTest, FramesSplitAtAnyByteReassembleInOrder) {
  std::string stream;
  for (int i = 0; i < 5; ++i) AppendFrame(Text(std::string(i * 1000, 'a' + i)), &stream);
  FrameReader reader;
  std::vector<std::string> texts;
  // Feed the bytes in awkward pieces of 7.
  for (size_t at = 0; at < stream.size(); at += 7) {
    reader.Append(std::string_view(stream).substr(at, 7));
    std::string_view payload;
    bool got = false;
    while (reader.Next(&payload, &got).ok() && got) {
      google::protobuf::Value value;
      ASSERT_TRUE(value.ParseFromArray(payload.data(), static_cast<int>(payload.size())));
      texts.push_back(value.string_value());
    }
  }
  ASSERT_EQ(texts.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(texts[i], std::string(i * 1000, 'a' + i));
  EXPECT_EQ(reader.pending_bytes(), 0u);
}

TEST(FramingTest, EmptyMessageIsAFrameOfItsOwn) {
  std::string stream;
  AppendFrame(google::protobuf::Value(), &stream);
  EXPECT_EQ(stream.size(), kFrameHeaderBytes);
  FrameReader reader;
  reader.Append(stream);
  std::string_view payload;
  bool got = false;
  ASSERT_OK(reader.Next(&payload, &got));
  EXPECT_TRUE(got);
  EXPECT_TRUE(payload.empty());
}

TEST(FramingTest, OversizeLengthIsAnError) {
  FrameReader reader;
  reader.Append(std::string("\xff\xff\xff\xff", 4));
  std::string_view payload;
  bool got = false;
  EXPECT_THAT(reader.Next(&payload, &got), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_FALSE(got);
}

TEST(FramingTest, BlockingReadOverASocketSeesFramesThenEndOfStream) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  UniqueFd reader_fd(fds[0]);
  UniqueFd writer_fd(fds[1]);
  std::string bytes;
  AppendFrame(Text("one"), &bytes);
  AppendFrame(Text("two"), &bytes);
  ASSERT_OK(WriteAll(writer_fd.get(), bytes));
  writer_fd.Reset();
  FrameReader reader;
  std::string payload;
  google::protobuf::Value value;
  ASSERT_OK(ReadFrameBlocking(reader_fd.get(), &reader, &payload));
  ASSERT_TRUE(value.ParseFromString(payload));
  EXPECT_EQ(value.string_value(), "one");
  ASSERT_OK(ReadFrameBlocking(reader_fd.get(), &reader, &payload));
  ASSERT_TRUE(value.ParseFromString(payload));
  EXPECT_EQ(value.string_value(), "two");
  EXPECT_TRUE(absl::IsNotFound(ReadFrameBlocking(reader_fd.get(), &reader, &payload)));
}

}  // namespace
}  // namespace pprocd
