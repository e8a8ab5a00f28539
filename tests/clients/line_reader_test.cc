#include "pproc/line_reader.h"

#include <unistd.h>

#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tests/util/status_matchers.h"

namespace pprocd::pproc {
namespace {

using ::pprocd::testing::StatusIs;

TEST(LineReaderTest, SplitsLinesAcrossReads) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::unique_ptr<LineReader> reader = LineReader::Create(fds[0]).value();
  std::thread writer([&] {
    // A line split over two writes, then many short lines, then EOF.
    ASSERT_EQ(::write(fds[1], "hel", 3), 3);
    ASSERT_EQ(::write(fds[1], "lo\n", 3), 3);
    std::string many;
    for (int i = 0; i < 100000; ++i) many += std::to_string(i) + "\n";
    ASSERT_EQ(::write(fds[1], many.data(), many.size()), static_cast<ssize_t>(many.size()));
    ::close(fds[1]);
  });
  std::string line;
  ASSERT_TRUE(reader->ReadLine(&line).value());
  EXPECT_EQ(line, "hello");
  for (int i = 0; i < 100000; ++i) {
    ASSERT_TRUE(reader->ReadLine(&line).value());
    ASSERT_EQ(line, std::to_string(i));
  }
  EXPECT_FALSE(reader->ReadLine(&line).value());
  EXPECT_FALSE(reader->ReadLine(&line).value());
  writer.join();
  ::close(fds[0]);
}

TEST(LineReaderTest, InterruptFromAnotherThreadEndsAWait) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::unique_ptr<LineReader> reader = LineReader::Create(fds[0]).value();
  std::thread interrupter([&] { reader->Interrupt(); });
  std::string line;
  absl::StatusOr<bool> more = reader->ReadLine(&line);  // Nothing written.
  interrupter.join();
  EXPECT_THAT(more, StatusIs(absl::StatusCode::kCancelled));
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace pprocd::pproc
