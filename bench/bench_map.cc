// bench_map: throughput of one Map (or Queue) call over N integer items.
//
// Inputs are streamed from a writer thread in batches while this thread reads
// every result. Every result is checked (count, order, value == input for
// echo, value == x*x for square), so a failing server cannot look fast.
//
// --form packed (the default, what the clients send): CallOptions.packed,
// each request's inputs as one JSON array in `packed_inputs`, successful
// results read from ResultBlocks (their JSON arrays parsed and every value
// checked). --form value: one google.protobuf.Value per input and one
// ItemResult per result.
//
// Prints a human line and a machine line:
//   BENCH bench=map form=packed items=... seconds=... items_per_sec=...
//         client_cpu_s=... server_cpu_s=... server_tree_cpu_s=... ok=1
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_common.h"

namespace b = pprocd_bench;
namespace v1 = pprocd::v1;

int main(int argc, char** argv) {
  b::Flags flags(argc, argv, "bench_map",
                 "Throughput of one Map (or Queue) call over N integer inputs 0..N-1.",
                 {{"address", "server address (default unix:/tmp/pprocd.sock)"},
                  {"items", "number of items (default 1000000)"},
                  {"batch", "inputs per request (default 4096)"},
                  {"chunksize", "CallOptions.chunksize (default 0 = automatic)"},
                  {"limit", "CallOptions.limit (default 0)"},
                  {"callable",
                   "callable to run: echo (default) or square check values; "
                   "others are only checked for success"},
                  {"rpc", "map (default) or queue"},
                  {"no-hint!", "do not send CallOptions.expected_inputs"},
                  {"form", "packed (default: JSON arrays in, ResultBlocks out) or value"},
                  {"item-stats",
                   "CallOptions.item_stats: default (the form's own), per-item, per-chunk or none"},
                  {"server-pid", "if given, also report the CPU time of this process"},
                  {"workers-note", "free text echoed in the output (e.g. the worker count)"}});

  const std::string address = flags.Str("address", "unix:/tmp/pprocd.sock");
  const uint64_t items = flags.U64("items", 1000000);
  const uint64_t batch = flags.U64("batch", 4096);
  const std::string callable = flags.Str("callable", "echo");
  const std::string rpc = flags.Str("rpc", "map");
  const std::string note = flags.Str("workers-note", "");
  if (batch == 0) flags.Fail("--batch must be > 0");
  if (rpc != "map" && rpc != "queue") flags.Fail("--rpc must be map or queue");
  const std::string form = flags.Str("form", "packed");
  if (form != "packed" && form != "value") flags.Fail("--form must be packed or value");
  const std::string item_stats = flags.Str("item-stats", "default");
  v1::ItemStatsMode stats_mode = v1::ITEM_STATS_UNSPECIFIED;
  if (item_stats == "per-item") {
    stats_mode = v1::ITEM_STATS_PER_ITEM;
  } else if (item_stats == "per-chunk") {
    stats_mode = v1::ITEM_STATS_PER_CHUNK;
  } else if (item_stats == "none") {
    stats_mode = v1::ITEM_STATS_NONE;
  } else if (item_stats != "default") {
    flags.Fail("--item-stats must be default, per-item, per-chunk or none");
  }
  if (items > (uint64_t{1} << 53)) flags.Fail("--items too large to round-trip as a double");

  b::StreamConfig cfg;
  cfg.callable = callable;
  cfg.items = items;
  cfg.batch = static_cast<uint32_t>(batch);
  cfg.options.set_chunksize(static_cast<uint32_t>(flags.U64("chunksize", 0)));
  cfg.options.set_limit(static_cast<uint32_t>(flags.U64("limit", 0)));
  if (!flags.Bool("no-hint")) cfg.options.set_expected_inputs(items);
  cfg.options.set_packed(form == "packed");
  cfg.options.set_item_stats(stats_mode);
  cfg.input = [](uint64_t i, google::protobuf::Value* v) {
    v->set_number_value(static_cast<double>(i));
  };
  cfg.packed_input = b::AppendIntegerArray;

  const bool check_values = callable == "echo" || callable == "square";
  auto expected = [&](uint64_t i) {
    const double x = static_cast<double>(i);
    return callable == "square" ? x * x : x;
  };

  auto channel = b::Connect(address);
  auto stub = v1::ProcessFarmService::NewStub(channel);

  b::Checker checker;
  std::vector<bool> seen;  // Queue: results arrive in completion order
  if (rpc == "queue") seen.assign(items, false);

  // Wire size of one result, from the first one (what the server sends per
  // item: index, value, stats, ...).
  size_t result_bytes = 0;
  bool result_has_stats = false;
  uint64_t item_results = 0;
  auto on_result = [&](const v1::ItemResult& r) {
    ++item_results;
    const uint64_t n = checker.received++;
    if (n == 0) {
      result_bytes = r.ByteSizeLong();
      result_has_stats = r.has_stats();
    }
    if (rpc == "map") {
      if (r.index() != n) {
        checker.Problem("result #" + std::to_string(n) + " has index " + std::to_string(r.index()) +
                        " (Map must answer in input order)");
        return;
      }
    } else {
      if (r.index() >= items || seen[r.index()]) {
        checker.Problem("unexpected or repeated index " + std::to_string(r.index()));
        return;
      }
      seen[r.index()] = true;
    }
    if (check_values) {
      b::ExpectNumber(checker, r, expected(r.index()));
    } else if (r.outcome_case() == v1::ItemResult::kError ||
               r.outcome_case() == v1::ItemResult::OUTCOME_NOT_SET) {
      checker.Problem("item " + std::to_string(r.index()) + ": " + b::Describe(r));
    }
  };

  // The packed form's successful results: a block of consecutive items.
  size_t blocks = 0, block_bytes = 0;
  uint64_t block_items = 0;
  bool block_has_stats = false;
  std::vector<double> values;  // reused: keeps its allocation
  std::string parse_error;
  auto on_block = [&](const v1::ResultBlock& block) {
    if (blocks++ == 0) block_has_stats = block.has_stats() || block.item_stats_size() > 0;
    block_bytes += block.ByteSizeLong();
    block_items += block.count();
    const uint64_t first = block.first_index();
    if (!b::ParseNumberArray(block.values(), &values, &parse_error)) {
      checker.Problem("block at " + std::to_string(first) + ": " + parse_error);
      checker.received += block.count();
      return;
    }
    if (values.size() != block.count()) {
      checker.Problem("block at " + std::to_string(first) + ": count " +
                      std::to_string(block.count()) + " but " + std::to_string(values.size()) +
                      " values");
    }
    if (rpc == "map" && first != checker.received) {
      checker.Problem("block starts at index " + std::to_string(first) + " after " +
                      std::to_string(checker.received) + " results (Map answers in input order)");
    }
    for (size_t k = 0; k < values.size(); ++k) {
      const uint64_t index = first + k;
      if (rpc == "queue") {
        if (index >= items || seen[index]) {
          checker.Problem("unexpected or repeated index " + std::to_string(index));
          continue;
        }
        seen[index] = true;
      }
      if (check_values && values[k] != expected(index)) {
        checker.Problem("item " + std::to_string(index) + ": expected " +
                        std::to_string(expected(index)) + ", got " + std::to_string(values[k]));
      }
    }
    checker.received += block.count();
  };

  const long long server_pid = static_cast<long long>(flags.U64("server-pid", 0));
  const double server_cpu0 = server_pid > 0 ? b::ProcessCpuSeconds(server_pid) : -1;
  const double tree_cpu0 = server_pid > 0 ? b::TreeCpuSeconds(server_pid) : -1;
  const double cpu0 = b::SelfCpuSeconds();
  b::StreamOutcome out;
  if (rpc == "map") {
    out = b::RunStream<v1::MapRequest, v1::MapResponse>(
        cfg, [&](grpc::ClientContext* ctx) { return stub->Map(ctx); }, on_result, nullptr,
        on_block);
  } else {
    out = b::RunStream<v1::QueueRequest, v1::QueueResponse>(
        cfg, [&](grpc::ClientContext* ctx) { return stub->Queue(ctx); }, on_result, nullptr,
        on_block);
  }

  const double client_cpu = b::SelfCpuSeconds() - cpu0;
  const double server_cpu = server_cpu0 >= 0 ? b::ProcessCpuSeconds(server_pid) - server_cpu0 : -1;
  const double tree_cpu = tree_cpu0 >= 0 ? b::TreeCpuSeconds(server_pid) - tree_cpu0 : -1;
  const bool ok = b::Verdict(out, checker, items);
  const double rate = out.seconds > 0 ? static_cast<double>(checker.received) / out.seconds : 0;
  std::printf("%s %s (%s form): %" PRIu64 " items in %.3f s = %.0f items/s (%" PRIu64
              " responses, batch %" PRIu64 ", chunksize %u%s%s)%s\n",
              rpc.c_str(), callable.c_str(), form.c_str(), checker.received, out.seconds, rate,
              out.responses, batch, cfg.options.chunksize(), note.empty() ? "" : ", ", note.c_str(),
              ok ? "" : "  ** FAILED **");
  std::printf("  CPU: client %.2f s", client_cpu);
  if (server_cpu >= 0) std::printf(", server main process %.2f s", server_cpu);
  if (tree_cpu >= 0) std::printf(", server + template + workers %.2f s", tree_cpu);
  std::printf(" (wall %.2f s)\n", out.seconds);
  if (blocks > 0) {
    std::printf("  %zu result blocks, %.1f items and %.0f bytes each on average, stats %s; %" PRIu64
                " ItemResults beside them\n",
                blocks, static_cast<double>(block_items) / static_cast<double>(blocks),
                static_cast<double>(block_bytes) / static_cast<double>(blocks),
                block_has_stats ? "present" : "absent", item_results);
  }
  if (result_bytes > 0) {
    std::printf("  first ItemResult: %zu bytes encoded, stats %s\n", result_bytes,
                result_has_stats ? "present" : "absent");
  }
  const double per_item = checker.received > 0 ? 1e6 / static_cast<double>(checker.received) : 0;
  std::printf("BENCH bench=%s form=%s callable=%s items=%" PRIu64
              " seconds=%.6f items_per_sec=%.1f "
              "responses=%" PRIu64
              " blocks=%zu"
              " client_cpu_s=%.3f server_cpu_s=%.3f server_tree_cpu_s=%.3f"
              " client_us_per_item=%.4f server_us_per_item=%.4f server_tree_us_per_item=%.4f"
              " ok=%d\n",
              rpc.c_str(), form.c_str(), callable.c_str(), checker.received, out.seconds, rate,
              out.responses, blocks, client_cpu, server_cpu, tree_cpu, client_cpu * per_item,
              server_cpu >= 0 ? server_cpu * per_item : -1.0,
              tree_cpu >= 0 ? tree_cpu * per_item : -1.0, ok ? 1 : 0);
  return ok ? 0 : 1;
}
