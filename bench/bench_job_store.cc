// bench_job_store: the durable job store on its own (no server): how fast
// outputs are appended, by outputs per transaction, and how soon a watcher
// replaying a long job gets its first output.
//
// Append: one job per batch size; `--outputs` payloads of `--payload` bytes,
// appended `batch` per AppendOutputs() call (one transaction each).
// Replay: a job with `--stored` outputs; the store is closed and opened again,
// then the time from calling ReadOutputs() to having the first page is taken
// on the new store's first read (which opens its connection), then as the
// median of `--probes` later reads from random seqs; finally every output is
// read back in pages of 1000 and checked.
//
// Machine lines:
//   BENCH bench=job_store_append batch=... outputs=... payload_bytes=... seconds=...
//         outputs_per_sec=... mib_per_sec=... durability=... ok=1
//   BENCH bench=job_store_replay stored=... first_output_us=... probe_p50_us=...
//         probe_max_us=... replay_outputs_per_sec=... ok=1
#include <stdlib.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench_common.h"
#include "server/jobs/job_store.h"

namespace b = pprocd_bench;

namespace {

std::string Payload(int64_t seq, size_t size) {
  std::string payload = absl::StrCat(seq, ":");
  payload.resize(std::max(size, payload.size()), 'p');
  return payload;
}

std::unique_ptr<pprocd::JobStore> OpenOrExit(const pprocd::JobStoreOptions& options) {
  auto store = pprocd::JobStore::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(store);
}

std::string NewJobOrExit(pprocd::JobStore& store) {
  pprocd::JobRecord job;
  job.request = "bench";
  auto created = store.CreateJob(job);
  if (!created.ok()) {
    std::fprintf(stderr, "%s\n", created.status().ToString().c_str());
    std::exit(1);
  }
  return created->job.id;
}

// Appends `count` outputs in calls of `batch`; returns seconds, or -1 on error.
double Append(pprocd::JobStore& store, const std::string& id, uint64_t count, uint64_t batch,
              size_t size) {
  std::vector<pprocd::NewOutput> outputs;
  const auto t0 = b::Clock::now();
  for (uint64_t done = 0; done < count;) {
    outputs.clear();
    const uint64_t n = std::min(batch, count - done);
    for (uint64_t i = 0; i < n; ++i) {
      outputs.push_back(
          {pprocd::OutputKind::kResult, Payload(static_cast<int64_t>(done + i + 1), size)});
    }
    auto first = store.AppendOutputs(id, outputs);
    if (!first.ok() || *first != static_cast<int64_t>(done + 1)) {
      std::fprintf(stderr, "append failed: %s\n", first.status().ToString().c_str());
      return -1;
    }
    done += n;
  }
  return b::SecondsSince(t0);
}

// Microseconds from calling ReadOutputs(after_seq) to holding its first page.
double FirstOutputMicros(pprocd::JobStore& store, const std::string& id, int64_t after_seq,
                         bool* ok) {
  const auto t0 = b::Clock::now();
  auto page = store.ReadOutputs(id, after_seq, 100);
  const double us = b::SecondsSince(t0) * 1e6;
  if (!page.ok() || page->empty() || page->front().seq != after_seq + 1) *ok = false;
  return us;
}

}  // namespace

int main(int argc, char** argv) {
  b::Flags flags(argc, argv, "bench_job_store",
                 "Append throughput and replay latency of the job store (SQLite).",
                 {{"dir", "directory for the store file (default: a new temporary one)"},
                  {"outputs", "outputs appended per batch size (default 20000)"},
                  {"payload", "payload bytes (default 1024)"},
                  {"stored", "outputs in the replayed job (default 100000)"},
                  {"probes", "replay probes from random seqs (default 200)"},
                  {"durability", "normal (default; survives kill -9) or full (power loss)"}});
  const uint64_t count = flags.U64("outputs", 20000);
  const size_t size = flags.U64("payload", 1024);
  const uint64_t stored = flags.U64("stored", 100000);
  const uint64_t probes = flags.U64("probes", 200);
  const std::string durability = flags.Str("durability", "normal");
  if (durability != "normal" && durability != "full") flags.Fail("--durability: normal or full");

  std::string dir = flags.Str("dir", "");
  const bool own_dir = dir.empty();
  if (own_dir) {
    std::error_code error;
    dir = (std::filesystem::temp_directory_path(error) / "bench-job-store-XXXXXX").string();
    if (mkdtemp(dir.data()) == nullptr) flags.Fail("cannot make a temporary directory");
  }
  pprocd::JobStoreOptions options;
  options.path = dir + "/jobs.db";
  options.durability =
      durability == "full" ? pprocd::Durability::kPowerLoss : pprocd::Durability::kProcessCrash;
  bool ok = true;
  {
    auto store = OpenOrExit(options);
    for (uint64_t batch : {1, 64, 1024}) {
      const std::string id = NewJobOrExit(*store);
      const double seconds = Append(*store, id, count, batch, size);
      ok = ok && seconds > 0;
      const double rate = seconds > 0 ? static_cast<double>(count) / seconds : 0;
      std::printf("append batch=%-5" PRIu64 " %10.0f outputs/s  %7.1f MiB/s\n", batch, rate,
                  rate * static_cast<double>(size) / (1 << 20));
      std::printf("BENCH bench=job_store_append batch=%" PRIu64 " outputs=%" PRIu64
                  " payload_bytes=%zu seconds=%.3f outputs_per_sec=%.0f mib_per_sec=%.1f"
                  " durability=%s ok=%d\n",
                  batch, count, size, seconds, rate, rate * static_cast<double>(size) / (1 << 20),
                  durability.c_str(), seconds > 0 ? 1 : 0);
    }
  }

  std::string id;
  {
    auto store = OpenOrExit(options);
    id = NewJobOrExit(*store);
    ok = ok && Append(*store, id, stored, 1024, size) > 0;
  }
  auto store = OpenOrExit(options);
  const double first_us = FirstOutputMicros(*store, id, 0, &ok);
  std::mt19937_64 random(42);
  std::vector<double> probe_us;
  for (uint64_t i = 0; i < probes; ++i) {
    const int64_t after = static_cast<int64_t>(random() % std::max<uint64_t>(stored, 1));
    probe_us.push_back(FirstOutputMicros(*store, id, after, &ok));
  }
  std::sort(probe_us.begin(), probe_us.end());
  const double p50 = probe_us.empty() ? 0 : probe_us[probe_us.size() / 2];
  const double max = probe_us.empty() ? 0 : probe_us.back();

  const auto t0 = b::Clock::now();
  int64_t next = 1;
  while (true) {
    auto page = store->ReadOutputs(id, next - 1, 1000);
    if (!page.ok()) {
      ok = false;
      break;
    }
    if (page->empty()) break;
    for (const auto& output : *page) {
      if (output.seq != next || output.payload != Payload(next, size)) ok = false;
      ++next;
    }
  }
  const double replay_seconds = b::SecondsSince(t0);
  ok = ok && next - 1 == static_cast<int64_t>(stored);
  const double replay_rate = static_cast<double>(next - 1) / replay_seconds;
  std::printf("replay of %" PRIu64
              " stored: first output %.0f us (fresh store), probes p50 %.0f us"
              " max %.0f us, full replay %.0f outputs/s\n",
              stored, first_us, p50, max, replay_rate);
  std::printf("BENCH bench=job_store_replay stored=%" PRIu64
              " first_output_us=%.0f probe_p50_us=%.0f probe_max_us=%.0f"
              " replay_outputs_per_sec=%.0f ok=%d\n",
              stored, first_us, p50, max, replay_rate, ok ? 1 : 0);
  store.reset();
  if (own_dir) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  return ok ? 0 : 1;
}
