// bench_fib: wall time of one Map of fib(n) over M identical inputs, a
// CPU-bound job. bench/run runs it against a server with W workers and one
// with 1 worker; speedup = t(1 worker) / t(W workers).
//
// Every result is checked against fib(n) computed here (fib(n) = 1 for
// n <= 1, else fib(n-1) + fib(n-2), as the built-in defines it).
//
// --calibrate-ms MS first raises n from --n (with one-item Maps) until one
// item takes at least MS milliseconds, then runs the measured Map with that
// n. The built-in fib is compiled C++ and an optimizing compiler makes
// fib(27) a matter of microseconds, far too little work to measure a
// speedup; calibration gives items of a known, CPU-bound size instead.
//
// --repeat R times the Map R times and reports the shortest run.
//
// Machine line:
//   BENCH bench=fib n=... items=... seconds=... runs=t1,t2,... distinct_workers=...
//         item_wall_us_mean=... ok=1
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <set>
#include <string>

#include "bench_common.h"

namespace b = pprocd_bench;
namespace v1 = pprocd::v1;

namespace {

double FibExpected(uint64_t n) {
  double a = 1, c = 1;  // fib(0), fib(1)
  for (uint64_t k = 2; k <= n; ++k) {
    const double next = a + c;
    a = c;
    c = next;
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  b::Flags flags(argc, argv, "bench_fib",
                 "Wall time of one Map of fib(n) over M identical inputs (CPU-bound).",
                 {{"address", "server address (default unix:/tmp/pprocd.sock)"},
                  {"n", "fib argument (default 27)"},
                  {"items", "number of items M (default 64)"},
                  {"chunksize", "CallOptions.chunksize (default 0 = automatic)"},
                  {"calibrate-ms", "raise n until one item takes this long (default 0 = off)"},
                  {"max-n", "upper bound for calibration (default 70, at most 76)"},
                  {"repeat", "timed runs; the shortest is reported (default 1)"},
                  {"warmup",
                   "untimed runs of the same Map first (default 1; a fresh server's "
                   "first call is slower)"},
                  {"workers-note", "free text echoed in the output (e.g. the worker count)"}});

  const std::string address = flags.Str("address", "unix:/tmp/pprocd.sock");
  uint64_t n = flags.U64("n", 27);
  const uint64_t items = flags.U64("items", 64);
  const std::string note = flags.Str("workers-note", "");
  const double calibrate_ms = flags.F64("calibrate-ms", 0);
  const uint64_t max_n = std::min<uint64_t>(flags.U64("max-n", 70), 76);
  if (n > max_n) flags.Fail("--n above --max-n");

  auto channel = b::Connect(address);
  auto stub = v1::ProcessFarmService::NewStub(channel);

  // Calibration: one-item Maps of fib(n) for growing n.
  double probe_ms = 0;
  if (calibrate_ms > 0) {
    for (;;) {
      b::StreamConfig probe;
      probe.callable = "fib";
      probe.items = 1;
      probe.input = [n](uint64_t, google::protobuf::Value* v) {
        v->set_number_value(static_cast<double>(n));
      };
      b::Checker pc;
      uint64_t item_us = 0;
      const b::StreamOutcome po = b::RunStream<v1::MapRequest, v1::MapResponse>(
          probe, [&](grpc::ClientContext* ctx) { return stub->Map(ctx); },
          [&](const v1::ItemResult& r) {
            ++pc.received;
            b::ExpectNumber(pc, r, FibExpected(n));
            item_us = r.stats().wall_us();
          });
      if (!b::Verdict(po, pc, 1)) {
        std::fprintf(stderr, "calibration probe fib(%" PRIu64 ") failed\n", n);
        return 1;
      }
      // Prefer the server's own measure of the item; fall back to ours.
      probe_ms = item_us > 0 ? static_cast<double>(item_us) / 1e3 : po.seconds * 1e3;
      std::printf("  calibration: fib(%" PRIu64 ") takes %.3f ms\n", n, probe_ms);
      if (probe_ms >= calibrate_ms || n >= max_n) break;
      n += probe_ms < calibrate_ms / 10 ? 4 : 1;
      if (n > max_n) n = max_n;
    }
  }

  b::StreamConfig cfg;
  cfg.callable = "fib";
  cfg.items = items;
  cfg.batch = 4096;
  cfg.options.set_chunksize(static_cast<uint32_t>(flags.U64("chunksize", 0)));
  cfg.options.set_expected_inputs(items);
  cfg.input = [n](uint64_t, google::protobuf::Value* v) {
    v->set_number_value(static_cast<double>(n));
  };
  const double want = FibExpected(n);

  for (uint64_t w = flags.U64("warmup", 1); w > 0; --w) {
    b::Checker wc;
    const b::StreamOutcome wo = b::RunStream<v1::MapRequest, v1::MapResponse>(
        cfg, [&](grpc::ClientContext* ctx) { return stub->Map(ctx); },
        [&](const v1::ItemResult& r) {
          ++wc.received;
          b::ExpectNumber(wc, r, want);
        });
    if (!b::Verdict(wo, wc, items)) {
      std::fprintf(stderr, "warm-up run failed\n");
      return 1;
    }
  }

  // Timed runs; the best (shortest) one is reported, as the least disturbed
  // by anything else on the machine.
  const uint64_t repeat = std::max<uint64_t>(1, flags.U64("repeat", 1));
  bool ok = true;
  double best = 0, best_mean_us = 0;
  size_t best_pids = 0;
  std::string all;
  for (uint64_t run = 0; run < repeat; ++run) {
    b::Checker checker;
    std::set<int32_t> pids;
    uint64_t wall_us_sum = 0;
    auto on_result = [&](const v1::ItemResult& r) {
      const uint64_t k = checker.received++;
      if (r.index() != k) {
        checker.Problem("result #" + std::to_string(k) + " has index " + std::to_string(r.index()));
        return;
      }
      b::ExpectNumber(checker, r, want);
      if (r.has_stats()) {
        if (r.stats().worker_pid() != 0) pids.insert(r.stats().worker_pid());
        wall_us_sum += r.stats().wall_us();
      }
    };
    const b::StreamOutcome out = b::RunStream<v1::MapRequest, v1::MapResponse>(
        cfg, [&](grpc::ClientContext* ctx) { return stub->Map(ctx); }, on_result);
    ok = b::Verdict(out, checker, items) && ok;
    const double mean_us =
        checker.received ? static_cast<double>(wall_us_sum) / static_cast<double>(checker.received)
                         : 0;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%.3f", all.empty() ? "" : ",", out.seconds);
    all += buf;
    if (run == 0 || out.seconds < best) {
      best = out.seconds;
      best_mean_us = mean_us;
      best_pids = pids.size();
    }
  }
  std::printf("fib(%" PRIu64 ") x %" PRIu64
              ": %.3f s%s%s%s, %zu distinct worker pids, "
              "mean item wall %.0f us%s%s%s\n",
              n, items, best, repeat > 1 ? " (best of " : "", repeat > 1 ? all.c_str() : "",
              repeat > 1 ? ")" : "", best_pids, best_mean_us, note.empty() ? "" : " (",
              note.c_str(), note.empty() ? "" : ")");
  if (!ok) std::printf("  ** FAILED **\n");
  std::printf("BENCH bench=fib n=%" PRIu64 " items=%" PRIu64
              " seconds=%.6f runs=%s "
              "distinct_workers=%zu item_wall_us_mean=%.1f ok=%d\n",
              n, items, best, all.c_str(), best_pids, best_mean_us, ok ? 1 : 0);
  return ok ? 0 : 1;
}
