// bench_worker_loop: the worker's own cost per item, without a server. Forks
// one worker (RunWorker over a socketpair, its stdout and stderr memory
// files as in production), sends it `--rounds` tasks of `--items` echo
// inputs each, reads every result, and reports the worker's CPU time (from
// wait4) per item.
//
// Usage: bench_worker_loop [--items N] [--rounds R] [--value-form]
//                          [--stats per-item|per-chunk|none]
//                          [--check-output-each-item]
// --check-output-each-item: echo as a callable that may write (the worker
// looks for its output after every item, as for any plugin function not
// declared FunctionTraits{writes_no_output}).
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/framing.h"
#include "pprocd/wire/v1/wire.pb.h"
#include "worker/builtins.h"
#include "worker/output_capture.h"
#include "worker/worker_loop.h"

namespace {

using pprocd::wire::v1::ResultFrame;
using pprocd::wire::v1::TaskFrame;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "bench_worker_loop: %s\n", what.c_str());
  std::exit(1);
}

struct Options {
  int items = 100000;
  int rounds = 10;
  bool value_form = false;
  bool check_output_each_item = false;
  pprocd::v1::ItemStatsMode stats = pprocd::v1::ITEM_STATS_PER_CHUNK;
};

Options Parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&] {
      if (i + 1 == argc) Fail(arg + " needs a value");
      return std::string(argv[++i]);
    };
    if (arg == "--items") {
      options.items = std::atoi(value().c_str());
    } else if (arg == "--rounds") {
      options.rounds = std::atoi(value().c_str());
    } else if (arg == "--value-form") {
      options.value_form = true;
    } else if (arg == "--check-output-each-item") {
      options.check_output_each_item = true;
    } else if (arg == "--stats") {
      const std::string mode = value();
      if (mode == "per-item") {
        options.stats = pprocd::v1::ITEM_STATS_PER_ITEM;
      } else if (mode == "per-chunk") {
        options.stats = pprocd::v1::ITEM_STATS_PER_CHUNK;
      } else if (mode == "none") {
        options.stats = pprocd::v1::ITEM_STATS_NONE;
      } else {
        Fail("unknown --stats " + mode);
      }
    } else {
      Fail("unknown argument " + arg);
    }
  }
  if (options.items < 1 || options.rounds < 1) Fail("--items and --rounds must be positive");
  return options;
}

std::string TaskBytes(const Options& options) {
  TaskFrame task;
  task.set_task_id(1);
  task.set_callable("echo");
  std::string* inputs = task.mutable_packed_inputs();
  inputs->push_back('[');
  for (int i = 0; i < options.items; ++i) {
    if (i > 0) inputs->push_back(',');
    absl::StrAppend(inputs, i);
  }
  inputs->push_back(']');
  task.set_packed_results(!options.value_form);
  task.set_item_stats(options.value_form ? pprocd::v1::ITEM_STATS_PER_ITEM : options.stats);
  std::string out;
  pprocd::AppendFrame(task, &out);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = Parse(argc, argv);
  pprocd::Registry registry;
  if (options.check_output_each_item) {
    pprocd::Registry builtins;
    if (!pprocd::RegisterBuiltins(&builtins).ok()) Fail("cannot register the built-ins");
    pprocd::CallableDef echo = *builtins.Find("echo");
    echo.writes_output = true;
    if (!registry.Add(std::move(echo)).ok()) Fail("cannot register echo");
  } else if (!pprocd::RegisterBuiltins(&registry).ok()) {
    Fail("cannot register the built-ins");
  }
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) Fail("socketpair");
  const pid_t pid = fork();
  if (pid < 0) Fail("fork");
  if (pid == 0) {
    ::close(fds[0]);
    const int out = pprocd::CreateOutputFile("stdout");
    const int err = pprocd::CreateOutputFile("stderr");
    if (out < 0 || err < 0) std::_Exit(1);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    pprocd::RunWorker(fds[1], registry);
  }
  ::close(fds[1]);
  const std::string task = TaskBytes(options);
  pprocd::FrameReader reader;
  std::string payload;
  ResultFrame frame;
  size_t result_bytes = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int round = 0; round < options.rounds; ++round) {
    if (!pprocd::WriteAll(fds[0], task).ok()) Fail("cannot send the task");
    int64_t done = 0;
    while (done < options.items) {
      if (!pprocd::ReadFrameBlocking(fds[0], &reader, &payload).ok()) Fail("worker gone");
      result_bytes += payload.size();
      if (!frame.ParseFromString(payload)) Fail("malformed result frame");
      for (const auto& result : frame.results()) {
        if (result.has_error()) Fail("item failed: " + result.error().message());
        if (result.last()) ++done;
      }
      for (const auto& block : frame.blocks()) done += block.count();
    }
  }
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::close(fds[0]);
  int status = 0;
  rusage usage{};
  if (wait4(pid, &status, 0, &usage) != pid) Fail("wait4");
  const auto us = [](const timeval& tv) {
    return tv.tv_sec * 1e6 + static_cast<double>(tv.tv_usec);
  };
  const double items = static_cast<double>(options.items) * options.rounds;
  std::printf(
      "items %.0f  worker cpu/item %.3f us (user %.3f, sys %.3f)  wall/item %.3f us  "
      "result bytes/item %.2f\n",
      items, (us(usage.ru_utime) + us(usage.ru_stime)) / items, us(usage.ru_utime) / items,
      us(usage.ru_stime) / items, wall_s * 1e6 / items, static_cast<double>(result_bytes) / items);
  return 0;
}
