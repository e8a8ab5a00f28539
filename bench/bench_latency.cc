// bench_latency: round trip of a one-item Map call vs the unary Echo RPC, on
// the same channel.
//
// One Map round trip = open the stream, send the first request (callable +
// one input) and half-close, read the result, read end-of-stream, Finish().
// By default the first request and the half-close go out together
// (WriteLast, initial metadata corked), as a well-behaved client would send
// them; --plain-writes sends Write() then WritesDone() separately.
//
// --form packed (the default, what the clients send) sets CallOptions.packed
// with the input as a one-element JSON array and reads the result from a
// ResultBlock; --form value sends one google.protobuf.Value.
//
// The two kinds of call are interleaved (alternating which goes first) so
// that drift in machine load affects both alike.
//
// Machine line:
//   BENCH bench=latency form=... iters=... map_p50_us=... map_p99_us=... echo_p50_us=...
//         echo_p99_us=... ratio_p50=... ratio_p99=... ok=1
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_common.h"

namespace b = pprocd_bench;
namespace v1 = pprocd::v1;

namespace {

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, min = 0, max = 0, mean = 0;
};

Percentiles Summarize(std::vector<double> us) {
  Percentiles p;
  if (us.empty()) return p;
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    size_t k = static_cast<size_t>(std::ceil(q * static_cast<double>(us.size())));
    if (k == 0) k = 1;
    return us[std::min(k, us.size()) - 1];
  };
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p99 = at(0.99);
  p.min = us.front();
  p.max = us.back();
  double sum = 0;
  for (double x : us) sum += x;
  p.mean = sum / static_cast<double>(us.size());
  return p;
}

double MicrosSince(b::Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(b::Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  b::Flags flags(argc, argv, "bench_latency",
                 "One-item Map round trip vs unary Echo round trip (same channel).",
                 {{"address", "server address (default unix:/tmp/pprocd.sock)"},
                  {"iters", "measured round trips of each kind (default 2000)"},
                  {"warmup", "unmeasured round trips of each kind first (default 200)"},
                  {"callable", "callable for the Map calls (default echo)"},
                  {"plain-writes!", "Write() + WritesDone() instead of WriteLast()"},
                  {"form",
                   "packed (default: CallOptions.packed, the input as a one-element JSON "
                   "array, the result from a ResultBlock) or value"}});

  const std::string address = flags.Str("address", "unix:/tmp/pprocd.sock");
  const uint64_t iters = flags.U64("iters", 2000);
  const uint64_t warmup = flags.U64("warmup", 200);
  const std::string callable = flags.Str("callable", "echo");
  const bool plain = flags.Bool("plain-writes");
  if (iters == 0) flags.Fail("--iters must be > 0");
  const std::string form = flags.Str("form", "packed");
  if (form != "packed" && form != "value") flags.Fail("--form must be packed or value");
  const bool packed = form == "packed";

  auto channel = b::Connect(address);
  auto stub = v1::ProcessFarmService::NewStub(channel);

  b::Checker map_check, echo_check;
  std::string map_rpc_error, echo_rpc_error;

  auto one_map = [&](uint64_t i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!plain) ctx.set_initial_metadata_corked(true);
    auto stream = stub->Map(&ctx);
    v1::MapRequest req;
    req.set_callable(callable);
    if (packed) {
      req.mutable_options()->set_packed(true);
      b::AppendIntegerArray(i, i + 1, req.mutable_packed_inputs());
    } else {
      req.add_inputs()->set_number_value(static_cast<double>(i));
    }
    if (plain) {
      stream->Write(req);
      stream->WritesDone();
    } else {
      stream->WriteLast(req, grpc::WriteOptions());
    }
    v1::MapResponse resp;
    uint64_t got = 0;
    std::vector<double> values;
    std::string error;
    while (stream->Read(&resp)) {
      for (const auto& block : resp.blocks()) {
        got += block.count();
        if (block.first_index() != 0 || block.count() != 1) {
          map_check.Problem("block at " + std::to_string(block.first_index()) + " of " +
                            std::to_string(block.count()));
        } else if (!b::ParseNumberArray(block.values(), &values, &error)) {
          map_check.Problem("block: " + error);
        } else if (callable == "echo" &&
                   (values.size() != 1 || values[0] != static_cast<double>(i))) {
          map_check.Problem("block values " + block.values() + ", want [" + std::to_string(i) +
                            "]");
        }
      }
      for (const auto& r : resp.results()) {
        ++got;
        if (r.index() != 0) map_check.Problem("index " + std::to_string(r.index()));
        if (callable == "echo") b::ExpectNumber(map_check, r, static_cast<double>(i));
      }
    }
    grpc::Status s = stream->Finish();
    if (!s.ok()) {
      map_check.Problem(std::string("Map failed: ") + b::StatusCodeName(s.error_code()) + ": " +
                        s.error_message());
    } else if (got != 1) {
      map_check.Problem("Map returned " + std::to_string(got) + " results, want 1");
    }
    ++map_check.received;
  };

  auto one_echo = [&](uint64_t i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::EchoRequest req;
    req.mutable_value()->set_number_value(static_cast<double>(i));
    v1::EchoResponse resp;
    grpc::Status s = stub->Echo(&ctx, req, &resp);
    if (!s.ok()) {
      echo_check.Problem(std::string("Echo failed: ") + b::StatusCodeName(s.error_code()) + ": " +
                         s.error_message());
    } else if (resp.value().kind_case() != google::protobuf::Value::kNumberValue ||
               resp.value().number_value() != static_cast<double>(i)) {
      echo_check.Problem("Echo returned " + resp.value().ShortDebugString());
    }
    ++echo_check.received;
  };

  for (uint64_t i = 0; i < warmup; ++i) {
    one_map(i);
    one_echo(i);
  }
  // Warm-up failures count too: they are failures all the same.
  std::vector<double> map_us, echo_us;
  map_us.reserve(iters);
  echo_us.reserve(iters);
  const auto t_all = b::Clock::now();
  for (uint64_t i = 0; i < iters; ++i) {
    const uint64_t v = warmup + i;
    for (int k = 0; k < 2; ++k) {
      const bool map_now = (k == 0) == (i % 2 == 0);
      const auto t0 = b::Clock::now();
      if (map_now) {
        one_map(v);
        map_us.push_back(MicrosSince(t0));
      } else {
        one_echo(v);
        echo_us.push_back(MicrosSince(t0));
      }
    }
  }
  const double total_s = b::SecondsSince(t_all);

  const Percentiles m = Summarize(map_us);
  const Percentiles e = Summarize(echo_us);
  const bool ok = map_check.bad == 0 && echo_check.bad == 0;
  if (!ok) {
    std::fprintf(stderr, "Map problems: %llu, Echo problems: %llu\n",
                 static_cast<unsigned long long>(map_check.bad),
                 static_cast<unsigned long long>(echo_check.bad));
    map_check.Report(stderr);
    echo_check.Report(stderr);
  }
  const double r50 = e.p50 > 0 ? m.p50 / e.p50 : 0;
  const double r99 = e.p99 > 0 ? m.p99 / e.p99 : 0;
  std::printf("%" PRIu64 " round trips each (after %" PRIu64 " warm-up), %.2f s, %s, %s form\n",
              iters, warmup, total_s, plain ? "Write+WritesDone" : "WriteLast, corked metadata",
              form.c_str());
  std::printf(
      "  one-item Map(%s): p50 %8.1f us  p90 %8.1f us  p99 %8.1f us  min %7.1f  max %9.1f"
      "  mean %8.1f\n",
      callable.c_str(), m.p50, m.p90, m.p99, m.min, m.max, m.mean);
  std::printf(
      "  unary Echo     : p50 %8.1f us  p90 %8.1f us  p99 %8.1f us  min %7.1f  max %9.1f"
      "  mean %8.1f\n",
      e.p50, e.p90, e.p99, e.min, e.max, e.mean);
  std::printf("  Map / Echo     : p50 %.2fx  p99 %.2fx%s\n", r50, r99, ok ? "" : "  ** FAILED **");
  std::printf("BENCH bench=latency form=%s iters=%" PRIu64
              " map_p50_us=%.1f map_p90_us=%.1f "
              "map_p99_us=%.1f echo_p50_us=%.1f echo_p90_us=%.1f echo_p99_us=%.1f "
              "ratio_p50=%.3f ratio_p99=%.3f ok=%d\n",
              form.c_str(), iters, m.p50, m.p90, m.p99, e.p50, e.p90, e.p99, r50, r99, ok ? 1 : 0);
  return ok ? 0 : 1;
}
