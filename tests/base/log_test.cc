#include "base/log/log.h"

#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "base/log/log_format.h"
#include "base/log/log_rate_limit.h"
#include "gtest/gtest.h"

namespace pprocd {
namespace {

// 2026-12-07T02:20:07.123Z
constexpr int64_t kTime = 1796610007123;

std::string Text(absl::string_view msg, std::initializer_list<LogField> fields) {
  return FormatLogLine(LogFormat::kText, kTime, LogLevel::kWarn, msg, fields);
}

std::string Json(absl::string_view msg, std::initializer_list<LogField> fields) {
  return FormatLogLine(LogFormat::kJson, kTime, LogLevel::kWarn, msg, fields);
}

TEST(LogFormatTest, TimeIsRfc3339InUtcWithMilliseconds) {
  EXPECT_EQ(FormatLogTime(kTime), "2026-12-07T02:20:07.123Z");
  EXPECT_EQ(FormatLogTime(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatLogTime(-1), "1969-12-31T23:59:59.999Z");
}

TEST(LogFormatTest, TextLineIsLogfmt) {
  EXPECT_EQ(Text("item failed", {{"callable", "fib"},
                                 {"index", 3},
                                 {"kind", "crashed"},
                                 {"signal", "SIGSEGV"},
                                 {"pid", 123}}),
            "2026-12-07T02:20:07.123Z level=warn msg=\"item failed\" callable=fib index=3 "
            "kind=crashed signal=SIGSEGV pid=123\n");
  EXPECT_EQ(Text("stopped", {}), "2026-12-07T02:20:07.123Z level=warn msg=stopped\n");
}

TEST(LogFormatTest, TextQuotesOnlyWhatItMust) {
  const auto value = [](absl::string_view text) {
    std::string out;
    AppendLogfmtValue(text, &out);
    return out;
  };
  EXPECT_EQ(value("plain/path:1.5"), "plain/path:1.5");
  EXPECT_EQ(value("é😀"), "é😀");
  EXPECT_EQ(value(""), "\"\"");
  EXPECT_EQ(value("two words"), "\"two words\"");
  EXPECT_EQ(value("a=b"), "\"a=b\"");
  EXPECT_EQ(value("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(value("back\\slash"), "\"back\\\\slash\"");
  EXPECT_EQ(value("line\nnext\ttab\r"), "\"line\\nnext\\ttab\\r\"");
  EXPECT_EQ(value(std::string("nul\0bell\x07 del\x7f", 14)),
            "\"nul\\u0000bell\\u0007 del\\u007f\"");
  EXPECT_EQ(value("bad\xff\xc3 utf8"), "\"bad\\xff\\xc3 utf8\"");
}

TEST(LogFormatTest, JsonLineHasTimeLevelMsgThenFields) {
  EXPECT_EQ(Json("item failed", {{"callable", "fib"},
                                 {"index", uint64_t{3}},
                                 {"pid", -1},
                                 {"solo", true},
                                 {"seconds", 1.5}}),
            "{\"time\":\"2026-12-07T02:20:07.123Z\",\"level\":\"warn\",\"msg\":\"item failed\","
            "\"callable\":\"fib\",\"index\":3,\"pid\":-1,\"solo\":true,\"seconds\":1.5}\n");
}

TEST(LogFormatTest, JsonEscapesControlsAndReplacesInvalidUtf8) {
  EXPECT_EQ(Json(std::string("a\"\\\n\t\x01\x7f é \xff", 12), {{"k\"ey", "\xc3"}}),
            "{\"time\":\"2026-12-07T02:20:07.123Z\",\"level\":\"warn\",\"msg\":"
            "\"a\\\"\\\\\\n\\t\\u0001\\u007f é \xef\xbf\xbd\",\"k\\\"ey\":\"\xef\xbf\xbd\"}\n");
}

TEST(LogFormatTest, NonFiniteDoublesAreJsonStrings) {
  EXPECT_NE(Json("m", {{"x", 1.0 / 0.0}}).find("\"x\":\"Infinity\""), std::string::npos);
  EXPECT_NE(Text("m", {{"x", -1.0 / 0.0}}).find(" x=-Infinity"), std::string::npos);
}

TEST(LogFormatTest, LevelsAndFormatsParseByName) {
  LogLevel level = LogLevel::kInfo;
  EXPECT_TRUE(ParseLogLevel("debug", &level));
  EXPECT_EQ(level, LogLevel::kDebug);
  EXPECT_TRUE(ParseLogLevel("error", &level));
  EXPECT_EQ(level, LogLevel::kError);
  EXPECT_FALSE(ParseLogLevel("warning", &level));
  LogFormat format = LogFormat::kText;
  EXPECT_TRUE(ParseLogFormat("json", &format));
  EXPECT_EQ(format, LogFormat::kJson);
  EXPECT_FALSE(ParseLogFormat("xml", &format));
}

// Reads what was logged into a pipe.
class CapturedLog {
 public:
  CapturedLog() {
    EXPECT_EQ(pipe(fds_), 0);
    SetLogOutput(fds_[1]);
  }
  ~CapturedLog() {
    SetLogOutput(STDERR_FILENO);
    ConfigureLog(LogFormat::kText, LogLevel::kInfo);
    close(fds_[0]);
  }
  std::vector<std::string> Lines() {
    close(fds_[1]);
    std::string all;
    char buffer[4096];
    ssize_t n;
    while ((n = read(fds_[0], buffer, sizeof(buffer))) > 0) all.append(buffer, n);
    std::vector<std::string> lines = absl::StrSplit(all, '\n', absl::SkipEmpty());
    return lines;
  }

 private:
  int fds_[2];
};

TEST(LogTest, LinesBelowTheLevelAreNotWritten) {
  CapturedLog log;
  ConfigureLog(LogFormat::kText, LogLevel::kWarn);
  EXPECT_FALSE(LogEnabled(LogLevel::kInfo));
  LogDebug("debug line");
  LogInfo("info line");
  LogWarn("warn line", {{"n", 1}});
  LogError("error line");
  const std::vector<std::string> lines = log.Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(" level=warn msg=\"warn line\" n=1"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(" level=error msg=\"error line\""), std::string::npos) << lines[1];
}

TEST(LogTest, LinesFromThreadsNeverInterleave) {
  CapturedLog log;
  ConfigureLog(LogFormat::kJson, LogLevel::kInfo);
  const std::string payload(300, 'x');
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) LogInfo("line", {{"thread", t}, {"i", i}, {"payload", payload}});
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::vector<std::string> lines = log.Lines();
  ASSERT_EQ(lines.size(), 100u);
  for (const std::string& line : lines) {
    EXPECT_EQ(line.front(), '{');
    EXPECT_EQ(line.back(), '}');
    EXPECT_NE(line.find("\"payload\":\"" + payload + "\"}"), std::string::npos);
  }
}

TEST(LogRateLimitTest, AllowsTheCapPerSecondThenCountsTheRest) {
  LogRateLimit limit(3);
  uint64_t ended = 99;
  const uint64_t t0 = 5000000;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limit.Allow(t0 + i, &ended));
    EXPECT_EQ(ended, 0u);
  }
  for (int i = 0; i < 7; ++i) EXPECT_FALSE(limit.Allow(t0 + 10 + i, &ended));
  EXPECT_EQ(limit.FlushDueUs(), t0 + LogRateLimit::kWindowUs);
  EXPECT_EQ(limit.TakeSuppressed(t0 + 999999), 0u) << "the second is not over";
  // The next second's first event reports the 7.
  EXPECT_TRUE(limit.Allow(t0 + LogRateLimit::kWindowUs, &ended));
  EXPECT_EQ(ended, 7u);
  EXPECT_EQ(limit.FlushDueUs(), UINT64_MAX);
}

TEST(LogRateLimitTest, ATimerTakesTheCountOnceTheSecondIsOver) {
  LogRateLimit limit(1);
  uint64_t ended = 0;
  EXPECT_TRUE(limit.Allow(0, &ended));
  EXPECT_FALSE(limit.Allow(1, &ended));
  EXPECT_FALSE(limit.Allow(2, &ended));
  EXPECT_EQ(limit.TakeSuppressed(LogRateLimit::kWindowUs), 2u);
  EXPECT_EQ(limit.TakeSuppressed(LogRateLimit::kWindowUs + 1), 0u);
  // A later event starts a new second, with nothing left to report.
  EXPECT_TRUE(limit.Allow(LogRateLimit::kWindowUs + 5, &ended));
  EXPECT_EQ(ended, 0u);
}

}  // namespace
}  // namespace pprocd
