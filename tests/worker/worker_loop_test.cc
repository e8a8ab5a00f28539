// A real worker process (RunWorker in a forked child, its stdout and stderr
// memory files as in production) driven over its socket with TaskFrames:
// the packed data path and the Value form.
#include "worker/worker_loop.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "pprocd/wire/v1/wire.pb.h"
#include "worker/framing.h"
#include "worker/output_capture.h"
#include "worker/registry.h"

namespace pprocd {
namespace {

using google::protobuf::Value;
using wire::v1::ResultFrame;
using wire::v1::TaskFrame;

ParamSpec AnyParam(const char* name) { return ParamSpec{name, v1::PARAMETER_TYPE_ANY, {}, ""}; }

// "act": returns its input, except for the strings "raise" (fails),
// "print" (writes a line to stdout first) and "nothing" (returns no value).
absl::StatusOr<Value> Act(const Value& input) {
  if (input.string_value() == "raise") return absl::InternalError("raised on purpose");
  if (input.string_value() == "print") std::printf("printed\n");
  if (input.string_value() == "nothing") return Value();
  return input;
}

Registry TestRegistry() {
  Registry registry;
  CallableDef act;
  act.name = "act";
  act.params = {AnyParam("value")};
  act.body = [](const BoundArgs& args) { return Act(*args[0]); };
  EXPECT_TRUE(registry.Add(act).ok());

  CallableDef batched = act;
  batched.name = "batched_act";
  batched.batch_body = [](absl::Span<const BoundArgs> batch) {
    std::vector<absl::StatusOr<Value>> outcomes;
    for (const BoundArgs& args : batch) outcomes.push_back(Act(*args[0]));
    return outcomes;
  };
  EXPECT_TRUE(registry.Add(batched).ok());

  CallableDef bytes;
  bytes.name = "bytes";
  bytes.params = {AnyParam("value")};
  bytes.bytes_result = true;
  bytes.body = [](const BoundArgs& args) { return StringValue(args[0]->string_value()); };
  EXPECT_TRUE(registry.Add(bytes).ok());

  CallableDef pair;
  pair.name = "pair";
  pair.params = {AnyParam("a"), AnyParam("b")};
  pair.body = [](const BoundArgs& args) -> absl::StatusOr<Value> {
    return NumberValue(args[0]->number_value() + args[1]->number_value());
  };
  EXPECT_TRUE(registry.Add(pair).ok());
  return registry;
}

class WorkerLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    const Registry registry = TestRegistry();
    const pid_t parent = getpid();
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) std::_Exit(1);
      ::close(fds[0]);
      const int out = CreateOutputFile("stdout");
      const int err = CreateOutputFile("stderr");
      if (out < 0 || err < 0) std::_Exit(1);
      ::dup2(out, STDOUT_FILENO);
      ::dup2(err, STDERR_FILENO);
      RunWorker(fds[1], registry);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }

  // The worker exits with status 0 when its socket closes.
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
    if (pid_ > 0) {
      EXPECT_EQ(WaitExitCode(), 0);
    }
  }

  // Waits for the worker to exit; its exit status (-1 when killed).
  int WaitExitCode() {
    int status = 0;
    EXPECT_EQ(waitpid(pid_, &status, 0), pid_);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  static TaskFrame Task(const std::string& callable, const std::string& packed_inputs,
                        v1::ItemStatsMode stats = v1::ITEM_STATS_UNSPECIFIED) {
    TaskFrame task;
    task.set_task_id(7);
    task.set_callable(callable);
    task.set_packed_inputs(packed_inputs);
    task.set_packed_results(true);
    task.set_item_stats(stats);
    return task;
  }

  void Send(const TaskFrame& task) {
    std::string out;
    AppendFrame(task, &out);
    ASSERT_TRUE(WriteAll(fd_, out).ok());
  }

  // Sends `task` and reads result frames until its `items` items are
  // answered.
  std::vector<ResultFrame> Run(const TaskFrame& task, int items) {
    Send(task);
    std::vector<ResultFrame> frames;
    int answered = 0;
    while (answered < items) {
      std::string payload;
      if (!ReadFrameBlocking(fd_, &reader_, &payload).ok()) {
        ADD_FAILURE() << "the worker closed its socket";
        break;
      }
      ResultFrame& frame = frames.emplace_back();
      EXPECT_TRUE(frame.ParseFromString(payload));
      EXPECT_EQ(frame.task_id(), task.task_id());
      for (const auto& result : frame.results()) answered += result.last() ? 1 : 0;
      for (const auto& block : frame.blocks()) answered += static_cast<int>(block.count());
    }
    return frames;
  }

  // The one frame `task` is answered with.
  ResultFrame RunOneFrame(const TaskFrame& task, int items) {
    std::vector<ResultFrame> frames = Run(task, items);
    EXPECT_EQ(frames.size(), 1u);
    return frames.empty() ? ResultFrame() : frames[0];
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  FrameReader reader_;
};

// What a frame holds, merged by index: "[values]@first" for a block,
// "error@index", "value@index" or "data@index" for an ItemResult.
std::vector<std::string> Layout(const ResultFrame& frame) {
  std::vector<std::pair<uint64_t, std::string>> entries;
  for (const auto& block : frame.blocks()) {
    entries.emplace_back(block.first_index(),
                         absl::StrCat(block.values(), "@", block.first_index()));
  }
  for (const auto& result : frame.results()) {
    const char* kind = result.has_error() ? "error" : result.has_value() ? "value" : "data";
    entries.emplace_back(result.index(), absl::StrCat(kind, "@", result.index()));
  }
  std::sort(entries.begin(), entries.end());
  std::vector<std::string> layout;
  for (const auto& entry : entries) layout.push_back(entry.second);
  return layout;
}

TEST_F(WorkerLoopTest, PackedEchoGivesOneBlockOfTheValuesAsJson) {
  const ResultFrame frame =
      RunOneFrame(Task("act", R"([1, "a", {"k": [true, null]}, 2.5, -0.0, "nothing"])"), 6);
  EXPECT_EQ(frame.results_size(), 0);
  ASSERT_EQ(frame.blocks_size(), 1);
  EXPECT_EQ(frame.blocks(0).first_index(), 0u);
  EXPECT_EQ(frame.blocks(0).count(), 6u);
  EXPECT_EQ(frame.blocks(0).values(), R"([1,"a",{"k":[true,null]},2.5,-0,null])");
}

TEST_F(WorkerLoopTest, RaisingItemSplitsTheBlocksAroundItsError) {
  const ResultFrame frame = RunOneFrame(Task("act", R"([1, 2, "raise", 4, 5])"), 5);
  EXPECT_EQ(Layout(frame), (std::vector<std::string>{"[1,2]@0", "error@2", "[4,5]@3"}));
  ASSERT_EQ(frame.results_size(), 1);
  const v1::ItemResult& failed = frame.results(0);
  EXPECT_EQ(failed.error().kind(), v1::ERROR_KIND_RAISED);
  EXPECT_EQ(failed.error().message(), "raised on purpose");
  EXPECT_TRUE(failed.last());
  // Failures carry their stats whatever the mode.
  EXPECT_EQ(failed.stats().worker_pid(), pid_);
}

TEST_F(WorkerLoopTest, BadArgumentsAreAnInvalidArgumentItem) {
  const ResultFrame frame =
      RunOneFrame(Task("pair", R"([[1, 2], [1, 2, 3], {"a": 1, "b": 2}])"), 3);
  EXPECT_EQ(Layout(frame), (std::vector<std::string>{"[3]@0", "error@1", "[3]@2"}));
  ASSERT_EQ(frame.results_size(), 1);
  EXPECT_EQ(frame.results(0).error().kind(), v1::ERROR_KIND_INVALID_ARGUMENT);
  EXPECT_NE(frame.results(0).error().message().find("at most 2 arguments"), std::string::npos);
}

TEST_F(WorkerLoopTest, ItemThatPrintsGoesAsAnItemResultWithItsLogs) {
  const ResultFrame frame = RunOneFrame(Task("act", R"([1, "print", 3])"), 3);
  EXPECT_EQ(Layout(frame), (std::vector<std::string>{"[1]@0", "value@1", "[3]@2"}));
  ASSERT_EQ(frame.results_size(), 1);
  const v1::ItemResult& printed = frame.results(0);
  EXPECT_EQ(printed.value().string_value(), "print");
  ASSERT_EQ(printed.logs_size(), 1);
  EXPECT_EQ(printed.logs(0).stream(), v1::LOG_STREAM_STDOUT);
  EXPECT_EQ(printed.logs(0).data(), "printed\n");
}

TEST_F(WorkerLoopTest, BytesResultsGoAsItemResultData) {
  const ResultFrame frame = RunOneFrame(Task("bytes", R"(["ab", "c"])"), 2);
  EXPECT_EQ(frame.blocks_size(), 0);
  ASSERT_EQ(frame.results_size(), 2);
  EXPECT_EQ(frame.results(0).data(), "ab");
  EXPECT_EQ(frame.results(1).data(), "c");
}

TEST_F(WorkerLoopTest, PerItemStatsComeOnePerItemOfTheBlock) {
  for (v1::ItemStatsMode mode : {v1::ITEM_STATS_PER_ITEM, v1::ITEM_STATS_UNSPECIFIED}) {
    const ResultFrame frame = RunOneFrame(Task("act", R"([1, 2, 3])", mode), 3);
    ASSERT_EQ(frame.blocks_size(), 1);
    const v1::ResultBlock& block = frame.blocks(0);
    EXPECT_FALSE(block.has_stats());
    ASSERT_EQ(block.item_stats_size(), 3);
    for (const v1::ItemStats& stats : block.item_stats()) {
      EXPECT_EQ(stats.worker_pid(), pid_);
      EXPECT_GT(stats.start_unix_us(), 0u);
      EXPECT_GT(stats.max_rss_kib(), 0u);
    }
    EXPECT_LE(block.item_stats(0).start_unix_us(), block.item_stats(2).start_unix_us());
  }
}

TEST_F(WorkerLoopTest, PerChunkStatsSumTheBlockAndKeepItemResultsOwn) {
  const ResultFrame frame =
      RunOneFrame(Task("act", R"([1, 2, "print", 4])", v1::ITEM_STATS_PER_CHUNK), 4);
  EXPECT_EQ(Layout(frame), (std::vector<std::string>{"[1,2]@0", "value@2", "[4]@3"}));
  for (const v1::ResultBlock& block : frame.blocks()) {
    EXPECT_EQ(block.item_stats_size(), 0);
    ASSERT_TRUE(block.has_stats());
    EXPECT_EQ(block.stats().worker_pid(), pid_);
    EXPECT_GT(block.stats().start_unix_us(), 0u);
    EXPECT_GT(block.stats().max_rss_kib(), 0u);
  }
  EXPECT_LE(frame.blocks(0).stats().start_unix_us(), frame.blocks(1).stats().start_unix_us());
  ASSERT_EQ(frame.results_size(), 1);
  EXPECT_EQ(frame.results(0).stats().worker_pid(), pid_);
}

TEST_F(WorkerLoopTest, NoStatsLeavesOnlyFailuresWithStats) {
  const ResultFrame frame =
      RunOneFrame(Task("act", R"([1, "print", "raise", 4])", v1::ITEM_STATS_NONE), 4);
  EXPECT_EQ(Layout(frame), (std::vector<std::string>{"[1]@0", "value@1", "error@2", "[4]@3"}));
  for (const v1::ResultBlock& block : frame.blocks()) {
    EXPECT_FALSE(block.has_stats());
    EXPECT_EQ(block.item_stats_size(), 0);
  }
  ASSERT_EQ(frame.results_size(), 2);
  EXPECT_FALSE(frame.results(0).has_stats());
  EXPECT_EQ(frame.results(1).stats().worker_pid(), pid_);
}

TEST_F(WorkerLoopTest, ValueFormGivesAnItemResultWithStatsPerItem) {
  TaskFrame task = Task("act", R"([1, "print", "raise", {"a": "b"}])");
  task.set_packed_results(false);
  const ResultFrame frame = RunOneFrame(task, 4);
  EXPECT_EQ(frame.blocks_size(), 0);
  ASSERT_EQ(frame.results_size(), 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(frame.results(i).index(), static_cast<uint64_t>(i));
    EXPECT_TRUE(frame.results(i).last());
    EXPECT_EQ(frame.results(i).stats().worker_pid(), pid_);
  }
  EXPECT_EQ(frame.results(0).value().number_value(), 1);
  EXPECT_EQ(frame.results(1).logs(0).data(), "printed\n");
  EXPECT_EQ(frame.results(2).error().message(), "raised on purpose");
  EXPECT_EQ(frame.results(3).value().struct_value().fields().at("a").string_value(), "b");
}

TEST_F(WorkerLoopTest, BatchedCallableGetsTheSameEncoding) {
  const ResultFrame frame =
      RunOneFrame(Task("batched_act", R"([1, 2, "raise", [4], 5])", v1::ITEM_STATS_PER_ITEM), 5);
  EXPECT_EQ(Layout(frame), (std::vector<std::string>{"[1,2]@0", "error@2", "[[4],5]@3"}));
  for (const v1::ResultBlock& block : frame.blocks()) {
    EXPECT_EQ(block.item_stats_size(), static_cast<int>(block.count()));
  }
}

TEST_F(WorkerLoopTest, ReportEachSendsEveryItemAsSoonAsItIsDone) {
  TaskFrame task = Task("act", "[1,2,3]");
  task.set_report_each(true);
  const std::vector<ResultFrame> frames = Run(task, 3);
  ASSERT_EQ(frames.size(), 3u);
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(Layout(frames[i]), (std::vector<std::string>{absl::StrCat("[", i + 1, "]@", i)}));
  }
}

TEST_F(WorkerLoopTest, TasksFollowOneAnother) {
  for (int round = 0; round < 3; ++round) {
    std::string inputs = "[";
    for (int i = 0; i < 1000; ++i) absl::StrAppend(&inputs, i == 0 ? "" : ",", "\"s", i, "\"");
    inputs += "]";
    // The blocks, however many flushes made them, join up to the inputs.
    int items = 0;
    std::string joined;
    for (const ResultFrame& frame : Run(Task("act", inputs), 1000)) {
      EXPECT_EQ(frame.results_size(), 0);
      for (const v1::ResultBlock& block : frame.blocks()) {
        EXPECT_EQ(block.first_index(), static_cast<uint64_t>(items));
        items += static_cast<int>(block.count());
        ASSERT_GE(block.values().size(), 2u);
        absl::StrAppend(&joined, joined.empty() ? "" : ",",
                        block.values().substr(1, block.values().size() - 2));
      }
    }
    EXPECT_EQ(items, 1000);
    EXPECT_EQ(absl::StrCat("[", joined, "]"), inputs);
  }
}

TEST_F(WorkerLoopTest, InputsThatAreNotAnArrayAreAProtocolError) {
  Send(Task("act", R"({"a": 1})"));
  EXPECT_EQ(WaitExitCode(), 70);
}

}  // namespace
}  // namespace pprocd
