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
#include "base/framing.h"
#include "pprocd/wire/v1/wire.pb.h"
#include "tests/util/status_matchers.h"
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
  EXPECT_OK(registry.Add(act));

  // Declared not to write, but does when asked to "print".
  CallableDef quiet = act;
  quiet.name = "quiet_act";
  quiet.writes_output = false;
  EXPECT_OK(registry.Add(quiet));

  CallableDef batched = act;
  batched.name = "batched_act";
  batched.batch_body = [](absl::Span<const BoundArgs> batch) {
    std::vector<absl::StatusOr<Value>> outcomes;
    for (const BoundArgs& args : batch) outcomes.push_back(Act(*args[0]));
    return outcomes;
  };
  EXPECT_OK(registry.Add(batched));

  CallableDef bytes;
  bytes.name = "bytes";
  bytes.params = {AnyParam("value")};
  bytes.bytes_result = true;
  bytes.body = [](const BoundArgs& args) { return StringValue(args[0]->string_value()); };
  EXPECT_OK(registry.Add(bytes));

  CallableDef pair;
  pair.name = "pair";
  pair.params = {AnyParam("a"), AnyParam("b")};
  pair.body = [](const BoundArgs& args) -> absl::StatusOr<Value> {
    return NumberValue(args[0]->number_value() + args[1]->number_value());
  };
  EXPECT_OK(registry.Add(pair));

  // Sends 0..n-1, then returns "done".
  CallableDef count_to;
  count_to.name = "count_to";
  count_to.kind = v1::CALLABLE_KIND_CHANNEL;
  count_to.params = {AnyParam("n")};
  count_to.channel_body = [](const BoundArgs& args, Channel& channel) -> absl::StatusOr<Value> {
    for (int i = 0; i < static_cast<int>(args[0]->number_value()); ++i) {
      const absl::Status sent = channel.Send(NumberValue(i));
      if (!sent.ok()) return sent;
    }
    return StringValue("done");
  };
  EXPECT_OK(registry.Add(count_to));
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
    ASSERT_OK(WriteAll(fd_, out));
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

  // Runs `task` (of `items` items) and merges the frames it is answered
  // with, however many flushes there were (a loaded machine makes items
  // slow, and a slow item is sent at once).
  struct Answer {
    // Every frame's results and blocks, in order.
    ResultFrame all;
    // By index: "[values]@first" for a run of blocks that follow one
    // another, "error@index", "value@index" or "data@index" for an
    // ItemResult.
    std::vector<std::string> layout;
  };
  Answer RunAll(const TaskFrame& task, int items) {
    Answer answer;
    uint64_t next = 0;
    bool block_before = false;  // The last entry was a block.
    for (const ResultFrame& frame : Run(task, items)) {
      answer.all.MergeFrom(frame);
      std::vector<std::pair<uint64_t, const v1::ResultBlock*>> entries;
      for (const auto& block : frame.blocks()) entries.emplace_back(block.first_index(), &block);
      for (const auto& result : frame.results()) entries.emplace_back(result.index(), nullptr);
      std::sort(entries.begin(), entries.end());
      bool first_in_frame = true;
      for (const auto& [index, block] : entries) {
        EXPECT_EQ(index, next) << "not consecutive";
        if (block == nullptr) {
          const v1::ItemResult* result = nullptr;
          for (const auto& r : frame.results()) result = r.index() == index ? &r : result;
          const char* kind = result->has_error() ? "error" : result->has_value() ? "value" : "data";
          answer.layout.push_back(absl::StrCat(kind, "@", index));
          next = index + 1;
          block_before = false;
        } else {
          const std::string& values = block->values();
          EXPECT_TRUE(values.size() >= 2 && values.front() == '[' && values.back() == ']');
          const std::string inner = values.substr(1, values.size() - 2);
          if (block_before) {
            EXPECT_TRUE(first_in_frame) << "two blocks in a row in one frame";
            std::string& last = answer.layout.back();
            last.insert(last.find("]@"), absl::StrCat(",", inner));
          } else {
            answer.layout.push_back(absl::StrCat("[", inner, "]@", index));
          }
          next = index + block->count();
          block_before = true;
        }
        first_in_frame = false;
      }
    }
    EXPECT_EQ(next, static_cast<uint64_t>(items));
    return answer;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  FrameReader reader_;
};

TEST_F(WorkerLoopTest, PackedEchoGivesOneBlockOfTheValuesAsJson) {
  const Answer answer =
      RunAll(Task("act", R"([1, "a", {"k": [true, null]}, 2.5, -0.0, "nothing"])"), 6);
  EXPECT_EQ(answer.all.results_size(), 0);
  EXPECT_EQ(answer.layout,
            (std::vector<std::string>{R"([1,"a",{"k":[true,null]},2.5,-0,null]@0)"}));
}

TEST_F(WorkerLoopTest, RaisingItemSplitsTheBlocksAroundItsError) {
  const Answer answer = RunAll(Task("act", R"([1, 2, "raise", 4, 5])"), 5);
  EXPECT_EQ(answer.layout, (std::vector<std::string>{"[1,2]@0", "error@2", "[4,5]@3"}));
  ASSERT_EQ(answer.all.results_size(), 1);
  const v1::ItemResult& failed = answer.all.results(0);
  EXPECT_EQ(failed.error().kind(), v1::ERROR_KIND_RAISED);
  EXPECT_EQ(failed.error().message(), "raised on purpose");
  EXPECT_TRUE(failed.last());
  // Failures carry their stats whatever the mode.
  EXPECT_EQ(failed.stats().worker_pid(), pid_);
}

TEST_F(WorkerLoopTest, BadArgumentsAreAnInvalidArgumentItem) {
  const Answer answer = RunAll(Task("pair", R"([[1, 2], [1, 2, 3], {"a": 1, "b": 2}])"), 3);
  EXPECT_EQ(answer.layout, (std::vector<std::string>{"[3]@0", "error@1", "[3]@2"}));
  ASSERT_EQ(answer.all.results_size(), 1);
  EXPECT_EQ(answer.all.results(0).error().kind(), v1::ERROR_KIND_INVALID_ARGUMENT);
  EXPECT_NE(answer.all.results(0).error().message().find("at most 2 arguments"), std::string::npos);
}

TEST_F(WorkerLoopTest, ItemThatPrintsGoesAsAnItemResultWithItsLogs) {
  const Answer answer = RunAll(Task("act", R"([1, "print", 3])"), 3);
  EXPECT_EQ(answer.layout, (std::vector<std::string>{"[1]@0", "value@1", "[3]@2"}));
  ASSERT_EQ(answer.all.results_size(), 1);
  const v1::ItemResult& printed = answer.all.results(0);
  EXPECT_EQ(printed.value().string_value(), "print");
  ASSERT_EQ(printed.logs_size(), 1);
  EXPECT_EQ(printed.logs(0).stream(), v1::LOG_STREAM_STDOUT);
  EXPECT_EQ(printed.logs(0).data(), "printed\n");
}

// A callable declared not to write is not checked for output after each
// item: output it writes anyway is not lost but goes to the last item
// before the results are sent (the last of the task when nothing was slow).
TEST_F(WorkerLoopTest, OutputOfACallableDeclaredNotToWriteGoesToTheLastItemSent) {
  const Answer answer = RunAll(Task("quiet_act", R"([1, "print", 3, 4])"), 4);
  std::vector<const v1::ItemResult*> with_logs;
  for (const auto& result : answer.all.results()) {
    if (result.logs_size() > 0) with_logs.push_back(&result);
  }
  ASSERT_EQ(with_logs.size(), 1u);
  // Items are sent early only when one was slow (a loaded machine).
  EXPECT_GE(with_logs[0]->index(), 1u);
  ASSERT_EQ(with_logs[0]->logs_size(), 1);
  EXPECT_EQ(with_logs[0]->logs(0).stream(), v1::LOG_STREAM_STDOUT);
  EXPECT_EQ(with_logs[0]->logs(0).data(), "printed\n");
  // Every value arrives, in order, whatever carried the logs.
  std::string values;
  for (const std::string& part : answer.layout) absl::StrAppend(&values, part, ";");
  if (answer.all.results_size() == 1 && with_logs[0]->index() == 3) {
    EXPECT_EQ(values, "[1,\"print\",3]@0;value@3;");
    EXPECT_EQ(with_logs[0]->value().number_value(), 4);
  }
}

TEST_F(WorkerLoopTest, BytesResultsGoAsItemResultData) {
  const Answer answer = RunAll(Task("bytes", R"(["ab", "c"])"), 2);
  EXPECT_EQ(answer.all.blocks_size(), 0);
  ASSERT_EQ(answer.all.results_size(), 2);
  EXPECT_EQ(answer.all.results(0).data(), "ab");
  EXPECT_EQ(answer.all.results(1).data(), "c");
}

TEST_F(WorkerLoopTest, PerItemStatsComeOnePerItemOfTheBlock) {
  for (v1::ItemStatsMode mode : {v1::ITEM_STATS_PER_ITEM, v1::ITEM_STATS_UNSPECIFIED}) {
    const Answer answer = RunAll(Task("act", R"([1, 2, 3])", mode), 3);
    EXPECT_EQ(answer.layout, (std::vector<std::string>{"[1,2,3]@0"}));
    std::vector<uint64_t> starts;
    for (const v1::ResultBlock& block : answer.all.blocks()) {
      EXPECT_FALSE(block.has_stats());
      ASSERT_EQ(block.item_stats_size(), static_cast<int>(block.count()));
      for (const v1::ItemStats& stats : block.item_stats()) {
        EXPECT_EQ(stats.worker_pid(), pid_);
        EXPECT_GT(stats.max_rss_kib(), 0u);
        starts.push_back(stats.start_unix_us());
      }
    }
    ASSERT_EQ(starts.size(), 3u);
    EXPECT_GT(starts[0], 0u);
    EXPECT_TRUE(std::is_sorted(starts.begin(), starts.end()));
  }
}

TEST_F(WorkerLoopTest, PerChunkStatsSumTheBlockAndKeepItemResultsOwn) {
  const Answer answer = RunAll(Task("act", R"([1, 2, "print", 4])", v1::ITEM_STATS_PER_CHUNK), 4);
  EXPECT_EQ(answer.layout, (std::vector<std::string>{"[1,2]@0", "value@2", "[4]@3"}));
  for (const v1::ResultBlock& block : answer.all.blocks()) {
    EXPECT_EQ(block.item_stats_size(), 0);
    ASSERT_TRUE(block.has_stats());
    EXPECT_EQ(block.stats().worker_pid(), pid_);
    EXPECT_GT(block.stats().start_unix_us(), 0u);
    EXPECT_GT(block.stats().max_rss_kib(), 0u);
  }
  EXPECT_LE(answer.all.blocks(0).stats().start_unix_us(),
            answer.all.blocks(answer.all.blocks_size() - 1).stats().start_unix_us());
  ASSERT_EQ(answer.all.results_size(), 1);
  EXPECT_EQ(answer.all.results(0).stats().worker_pid(), pid_);
}

TEST_F(WorkerLoopTest, NoStatsLeavesOnlyFailuresWithStats) {
  const Answer answer = RunAll(Task("act", R"([1, "print", "raise", 4])", v1::ITEM_STATS_NONE), 4);
  EXPECT_EQ(answer.layout, (std::vector<std::string>{"[1]@0", "value@1", "error@2", "[4]@3"}));
  for (const v1::ResultBlock& block : answer.all.blocks()) {
    EXPECT_FALSE(block.has_stats());
    EXPECT_EQ(block.item_stats_size(), 0);
  }
  ASSERT_EQ(answer.all.results_size(), 2);
  EXPECT_FALSE(answer.all.results(0).has_stats());
  EXPECT_EQ(answer.all.results(1).stats().worker_pid(), pid_);
}

TEST_F(WorkerLoopTest, ValueFormGivesAnItemResultWithStatsPerItem) {
  TaskFrame task = Task("act", R"([1, "print", "raise", {"a": "b"}])");
  task.set_packed_results(false);
  const Answer answer = RunAll(task, 4);
  EXPECT_EQ(answer.all.blocks_size(), 0);
  ASSERT_EQ(answer.all.results_size(), 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(answer.all.results(i).index(), static_cast<uint64_t>(i));
    EXPECT_TRUE(answer.all.results(i).last());
    EXPECT_EQ(answer.all.results(i).stats().worker_pid(), pid_);
  }
  EXPECT_EQ(answer.all.results(0).value().number_value(), 1);
  EXPECT_EQ(answer.all.results(1).logs(0).data(), "printed\n");
  EXPECT_EQ(answer.all.results(2).error().message(), "raised on purpose");
  EXPECT_EQ(answer.all.results(3).value().struct_value().fields().at("a").string_value(), "b");
}

TEST_F(WorkerLoopTest, BatchedCallableGetsTheSameEncoding) {
  const Answer answer =
      RunAll(Task("batched_act", R"([1, 2, "raise", [4], 5])", v1::ITEM_STATS_PER_ITEM), 5);
  EXPECT_EQ(answer.layout, (std::vector<std::string>{"[1,2]@0", "error@2", "[[4],5]@3"}));
  for (const v1::ResultBlock& block : answer.all.blocks()) {
    EXPECT_EQ(block.item_stats_size(), static_cast<int>(block.count()));
  }
}

TEST_F(WorkerLoopTest, ReportEachSendsEveryItemAsSoonAsItIsDone) {
  TaskFrame task = Task("act", "[1,2,3]");
  task.set_report_each(true);
  const std::vector<ResultFrame> frames = Run(task, 3);
  ASSERT_EQ(frames.size(), 3u);
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].results_size(), 0);
    ASSERT_EQ(frames[i].blocks_size(), 1);
    EXPECT_EQ(frames[i].blocks(0).first_index(), i);
    EXPECT_EQ(frames[i].blocks(0).values(), absl::StrCat("[", i + 1, "]"));
  }
}

TEST_F(WorkerLoopTest, ChannelMessagesAndTheFinalValueAreItemResults) {
  TaskFrame task = Task("count_to", "[2]");
  const std::vector<ResultFrame> frames = Run(task, 1);
  std::vector<std::string> seen;
  for (const ResultFrame& frame : frames) {
    EXPECT_EQ(frame.blocks_size(), 0);
    for (const v1::ItemResult& result : frame.results()) {
      seen.push_back(absl::StrCat(result.seq(), result.last() ? " last " : " ",
                                  result.value().ShortDebugString()));
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"0 number_value: 0", "1 number_value: 1",
                                            "2 last string_value: \"done\""}));
}

TEST_F(WorkerLoopTest, BlocksOfConsecutiveFramesJoinUpToTheInputs) {
  // Enough bytes for several flushes, in several tasks on the same worker.
  const std::string padding(200, 'x');
  for (int round = 0; round < 3; ++round) {
    std::string inputs = "[";
    for (int i = 0; i < 1000; ++i) {
      absl::StrAppend(&inputs, i == 0 ? "" : ",", "\"", round, padding, i, "\"");
    }
    inputs += "]";
    int items = 0;
    int frames = 0;
    std::string joined;
    for (const ResultFrame& frame : Run(Task("act", inputs), 1000)) {
      ++frames;
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
    EXPECT_GT(frames, 1);
  }
}

TEST_F(WorkerLoopTest, InputsThatAreNotAnArrayAreAProtocolError) {
  Send(Task("act", R"({"a": 1})"));
  EXPECT_EQ(WaitExitCode(), 70);
}

}  // namespace
}  // namespace pprocd
