// bench_rss: server memory under a long Map whose reader is slower than the
// workers.
//
// The writer streams N echo inputs as fast as flow control lets it; the
// reader is throttled (to --reader-rate items/s, or by sleeping --throttle-us
// every --throttle-every results), so a server that buffers inputs or results
// without bound grows its RSS with N. VmRSS of the server's main process
// (--pid; not the template or workers) is sampled from /proc before the call,
// every --sample-ms during it, and --settle-ms after it. GetStatus is polled
// alongside to show how many items the server holds queued.
//
// Machine line:
//   BENCH bench=rss items=... seconds=... items_per_sec=... rss_before_kib=...
//         rss_max_kib=... rss_after_kib=... rss_growth_kib=... samples=...
//         max_items_queued=... ok=1
#include <algorithm>
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.h"

namespace b = pprocd_bench;
namespace v1 = pprocd::v1;

int main(int argc, char** argv) {
  b::Flags flags(argc, argv, "bench_rss",
                 "Server VmRSS during a long Map with a reader slower than the workers.",
                 {{"address", "server address (default unix:/tmp/pprocd.sock)"},
                  {"pid", "pid of the server's main process (required)"},
                  {"items", "number of echo items (default 10000000)"},
                  {"batch", "inputs per request (default 4096)"},
                  {"chunksize", "CallOptions.chunksize (default 0 = automatic)"},
                  {"reader-rate",
                   "pace the reader to this many items/s (default 0 = use "
                   "--throttle-every/--throttle-us)"},
                  {"throttle-every", "sleep after every this many results (default 1000)"},
                  {"throttle-us", "... for this many microseconds (default 1000)"},
                  {"sample-ms", "RSS sampling period (default 100)"},
                  {"settle-ms", "wait before the 'after' sample (default 1000)"},
                  {"trace!", "print every RSS sample"}});

  const std::string address = flags.Str("address", "unix:/tmp/pprocd.sock");
  const long long pid = static_cast<long long>(flags.U64("pid", 0));
  const uint64_t items = flags.U64("items", 10000000);
  const uint64_t batch = flags.U64("batch", 4096);
  const double reader_rate = flags.F64("reader-rate", 0);
  const uint64_t every = flags.U64("throttle-every", 1000);
  const uint64_t sleep_us = flags.U64("throttle-us", 1000);
  const uint64_t sample_ms = std::max<uint64_t>(1, flags.U64("sample-ms", 100));
  const uint64_t settle_ms = flags.U64("settle-ms", 1000);
  const bool trace = flags.Bool("trace");
  if (pid <= 0) flags.Fail("--pid is required");
  if (batch == 0) flags.Fail("--batch must be > 0");
  if (b::ReadVmRssKib(pid) < 0) flags.Fail("cannot read VmRSS of pid " + std::to_string(pid));

  auto channel = b::Connect(address);
  auto stub = v1::ProcessFarmService::NewStub(channel);

  auto queued_now = [&]() -> long long {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    v1::GetStatusResponse st;
    if (!stub->GetStatus(&ctx, v1::GetStatusRequest(), &st).ok()) return -1;
    return static_cast<long long>(st.items_queued());
  };

  const long long before = b::ReadVmRssKib(pid);

  // Sampler thread.
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  long long max_kib = before;
  long long max_queued = -1;
  uint64_t samples = 0;
  const auto t_start = b::Clock::now();
  std::thread sampler([&] {
    std::unique_lock<std::mutex> lock(mu);
    while (!stop) {
      lock.unlock();
      const long long kib = b::ReadVmRssKib(pid);
      const long long q = queued_now();
      lock.lock();
      ++samples;
      if (kib > max_kib) max_kib = kib;
      if (q > max_queued) max_queued = q;
      if (trace) {
        std::fprintf(stderr, "  t=%7.2fs VmRSS %8lld KiB  items_queued %lld\n",
                     b::SecondsSince(t_start), kib, q);
      }
      cv.wait_for(lock, std::chrono::milliseconds(sample_ms), [&] { return stop; });
    }
  });

  b::StreamConfig cfg;
  cfg.callable = "echo";
  cfg.items = items;
  cfg.batch = static_cast<uint32_t>(batch);
  cfg.options.set_chunksize(static_cast<uint32_t>(flags.U64("chunksize", 0)));
  cfg.options.set_expected_inputs(items);
  cfg.input = [](uint64_t i, google::protobuf::Value* v) {
    v->set_number_value(static_cast<double>(i));
  };

  b::Checker checker;
  auto on_result = [&](const v1::ItemResult& r) {
    const uint64_t k = checker.received++;
    if (r.index() != k) {
      checker.Problem("result #" + std::to_string(k) + " has index " + std::to_string(r.index()));
      return;
    }
    b::ExpectNumber(checker, r, static_cast<double>(k));
  };

  const auto t_read = b::Clock::now();
  uint64_t next_pause = every;
  auto throttle = [&](uint64_t results) {
    if (reader_rate > 0) {
      const double due = static_cast<double>(results) / reader_rate;
      const double now = b::SecondsSince(t_read);
      if (due > now) std::this_thread::sleep_for(std::chrono::duration<double>(due - now));
    } else if (every > 0) {
      while (results >= next_pause) {
        std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
        next_pause += every;
      }
    }
  };

  const b::StreamOutcome out = b::RunStream<v1::MapRequest, v1::MapResponse>(
      cfg, [&](grpc::ClientContext* ctx) { return stub->Map(ctx); }, on_result, throttle);

  std::this_thread::sleep_for(std::chrono::milliseconds(settle_ms));
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
  }
  cv.notify_all();
  sampler.join();
  const long long after = b::ReadVmRssKib(pid);
  if (after > max_kib) max_kib = after;

  const bool ok = b::Verdict(out, checker, items);
  const double rate = out.seconds > 0 ? static_cast<double>(checker.received) / out.seconds : 0;
  const long long growth = max_kib - before;
  std::printf("slow-reader Map of %" PRIu64
              " echo items: %.2f s (%.0f items/s read), "
              "server pid %lld VmRSS before %.1f MiB, max %.1f MiB, after %.1f MiB, "
              "growth %.1f MiB (%" PRIu64 " samples, max items_queued %lld)%s\n",
              checker.received, out.seconds, rate, pid, before / 1024.0, max_kib / 1024.0,
              after / 1024.0, growth / 1024.0, samples, max_queued, ok ? "" : "  ** FAILED **");
  std::printf("BENCH bench=rss items=%" PRIu64
              " seconds=%.6f items_per_sec=%.1f "
              "rss_before_kib=%lld rss_max_kib=%lld rss_after_kib=%lld rss_growth_kib=%lld "
              "samples=%" PRIu64 " max_items_queued=%lld ok=%d\n",
              checker.received, out.seconds, rate, before, max_kib, after, growth, samples,
              max_queued, ok ? 1 : 0);
  return ok ? 0 : 1;
}
