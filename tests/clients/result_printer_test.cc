#include "pproc/result_printer.h"

#include "gtest/gtest.h"

namespace pprocd::pproc {
namespace {

v1::ItemResult ValueResult(uint64_t index, double number) {
  v1::ItemResult result;
  result.set_index(index);
  result.mutable_value()->set_number_value(number);
  return result;
}

v1::ItemResult CrashResult(uint64_t index) {
  v1::ItemResult result;
  result.set_index(index);
  v1::ItemError* error = result.mutable_error();
  error->set_kind(v1::ERROR_KIND_CRASHED);
  error->set_signal("SIGSEGV");
  error->set_message("worker died");
  error->set_stderr_tail("oops\n");
  return result;
}

TEST(FormatResultTest, MapPrintsBareValuesWithIntegersAsIntegers) {
  EXPECT_EQ(FormatResult(ValueResult(0, 832040), {}), "832040");
  EXPECT_EQ(FormatResult(ValueResult(0, 1e15), {}), "1000000000000000");
}

TEST(FormatResultTest, MapPrintsFailuresAsErrorObjects) {
  EXPECT_EQ(FormatResult(CrashResult(3), {}),
            R"({"error":{"kind":"CRASHED","signal":"SIGSEGV",)"
            R"("message":"worker died","stderr_tail":"oops\n"}})");
}

TEST(FormatResultTest, QueuePrefixesTheIndex) {
  ResultFormat queue{/*envelope=*/true, /*stats=*/false};
  EXPECT_EQ(FormatResult(ValueResult(3, 2), queue), R"({"index":3,"value":2})");
  EXPECT_EQ(FormatResult(CrashResult(4), queue).substr(0, 28), R"({"index":4,"error":{"kind":")");
}

TEST(FormatResultTest, StatsAddsAStatsObject) {
  v1::ItemResult result = ValueResult(1, 5);
  result.mutable_stats()->set_wall_us(10);
  result.mutable_stats()->set_cpu_us(9);
  result.mutable_stats()->set_max_rss_kib(2048);
  result.mutable_stats()->set_worker_pid(42);
  EXPECT_EQ(FormatResult(result, {/*envelope=*/false, /*stats=*/true}),
            R"({"index":1,"value":5,"stats":{"wall_us":10,"cpu_us":9,)"
            R"("max_rss_kib":2048,"worker_pid":42}})");
}

TEST(FormatResultTest, BytesPrintAsBase64Data) {
  v1::ItemResult result;
  result.set_data("hi");
  EXPECT_EQ(FormatResult(result, {}), R"({"data":"aGk="})");
}

TEST(FormatJobResultTest, PutsTheJobFirstInTheEnvelope) {
  EXPECT_EQ(FormatJobResult("nightly", ValueResult(3, 9), ResultFormat{}),
            R"({"job":"nightly","index":3,"value":9})");
  EXPECT_EQ(FormatJobResult("a\"b", CrashResult(0), ResultFormat{/*envelope=*/true}),
            R"({"job":"a\"b","index":0,"error":{"kind":"CRASHED","signal":"SIGSEGV",)"
            R"("message":"worker died","stderr_tail":"oops\n"}})");
}

TEST(FormatItemErrorTest, OmitsEmptyMembers) {
  v1::ItemError error;
  error.set_kind(v1::ERROR_KIND_TIMED_OUT);
  EXPECT_EQ(FormatItemError(error), R"({"kind":"TIMED_OUT"})");
}

TEST(FormatItemErrorTest, CrashByExitKeepsExitCodeEvenWhenZero) {
  v1::ItemError error;
  error.set_kind(v1::ERROR_KIND_CRASHED);
  EXPECT_EQ(FormatItemError(error), R"({"kind":"CRASHED","exit_code":0})");
  error.set_exit_code(3);
  EXPECT_EQ(FormatItemError(error), R"({"kind":"CRASHED","exit_code":3})");
}

TEST(FormatItemLogsTest, MarksEachLineWithItemAndStream) {
  v1::ItemResult result;
  result.set_index(3);
  v1::LogRecord* out = result.add_logs();
  out->set_stream(v1::LOG_STREAM_STDOUT);
  out->set_data("one\ntwo\n");
  v1::LogRecord* err = result.add_logs();
  err->set_stream(v1::LOG_STREAM_STDERR);
  err->set_data("no newline");
  err->set_dropped_bytes(10);
  EXPECT_EQ(FormatItemLogs(result),
            "[item 3 stdout] one\n[item 3 stdout] two\n[item 3 stderr] no newline\n"
            "[item 3 stderr] ... 10 bytes left out ...\n");
  EXPECT_EQ(FormatItemLogs(result, "nightly").substr(0, 30), "[nightly item 3 stdout] one\n[n");
  EXPECT_EQ(FormatItemLogs(v1::ItemResult()), "");
}

TEST(FormatRunSummaryTest, CountsTimeRateAndOutcomes) {
  EXPECT_EQ(FormatRunSummary(29, 1, absl::Milliseconds(1200)),
            "pproc: 30 items in 1.2s (25/s): 29 succeeded, 1 failed");
  EXPECT_EQ(FormatRunSummary(1, 0, absl::Seconds(2)),
            "pproc: 1 item in 2.0s (0.5/s): 1 succeeded, 0 failed");
}

}  // namespace
}  // namespace pprocd::pproc
