#include "server/jobs/result_size.h"

#include <gtest/gtest.h>

#include "pprocd/v1/service.pb.h"
#include "server/jobs/job_store.h"

namespace pprocd {
namespace {

TEST(ResultSizeTest, ASendableResultAndItsReconnectMessageFitTheLimit) {
  constexpr uint64_t kLimit = 4096;
  v1::ItemResult result;
  result.set_index(UINT64_MAX);
  result.set_seq(UINT64_MAX);
  result.set_last(true);
  // Grown to the largest sendable size.
  std::string value;
  while (true) {
    value.push_back('x');
    result.mutable_value()->set_string_value(value);
    if (result.ByteSizeLong() > MaxSendableResultBytes(kLimit)) break;
  }
  value.pop_back();
  result.mutable_value()->set_string_value(value);
  ASSERT_GE(result.ByteSizeLong() + 3, MaxSendableResultBytes(kLimit));
  v1::ReconnectResponse response;
  response.set_job_id(std::string(16, 'f'));
  response.set_seq(UINT64_MAX);
  *response.mutable_result() = result;
  EXPECT_LE(response.ByteSizeLong(), kLimit);
  EXPECT_EQ(MaxSendableResultBytes(1u << 30), kMaxOutputBytes) << "what the store takes";
}

TEST(ResultSizeTest, ATooLargeResultBecomesAFailedResultOfTheSameItemThatFits) {
  constexpr uint64_t kLimit = 4096;
  v1::ItemResult result;
  result.set_index(41);
  result.set_seq(2);
  result.set_last(true);
  result.mutable_stats()->set_worker_pid(1234);
  result.set_data(std::string(100000, 'd'));
  for (v1::LogStream stream : {v1::LOG_STREAM_STDOUT, v1::LOG_STREAM_STDERR}) {
    v1::LogRecord* log = result.add_logs();
    log->set_stream(stream);
    log->set_data(std::string(32768, 'a') + std::string(32768, 'z'));
    log->set_dropped_bytes(5);
  }
  const uint64_t size = result.ByteSizeLong();
  const v1::ItemResult failed = TooLargeResult(result, size, kLimit);
  EXPECT_LE(failed.ByteSizeLong(), MaxSendableResultBytes(kLimit));
  EXPECT_EQ(failed.index(), 41u);
  EXPECT_EQ(failed.seq(), 2u);
  EXPECT_TRUE(failed.last());
  EXPECT_EQ(failed.stats().worker_pid(), 1234);
  ASSERT_TRUE(failed.has_error());
  EXPECT_EQ(failed.error().kind(), v1::ERROR_KIND_RAISED);
  EXPECT_EQ(failed.error().message(),
            "result of " + std::to_string(size) +
                " bytes exceeds the largest message the server sends (4096 bytes)");
  ASSERT_EQ(failed.logs_size(), 2);
  for (const v1::LogRecord& log : failed.logs()) {
    EXPECT_EQ(log.data().front(), 'a') << "its start";
    EXPECT_EQ(log.data().back(), 'z') << "and its end";
    EXPECT_EQ(log.data().size() + log.dropped_bytes(), 65536u + 5u) << "the rest counted";
  }
  EXPECT_EQ(failed.logs(1).stream(), v1::LOG_STREAM_STDERR);
}

}  // namespace
}  // namespace pprocd
