// bench_jobs: background jobs against the same work done in memory, on a
// pprocd this program starts itself (a fresh --state-dir in a temp dir).
//
// 1. Stored outputs per second. Side A: one Queue call of N `echo` items,
//    each a string of --payload bytes, timed from the first request to the
//    last result read. Side B: Submit a job of the same N inputs
//    (ordered=false) and Reconnect to it, timed from the Submit call to the
//    job's final-state output (every output is stored in SQLite before it is
//    sent). Both check every value. A and B alternate, A B A B ..., for
//    --repeat rounds; the medians count, and the ratio is B ÷ A in items/s.
// 2. Replay. A job of --stored `square` items (0..stored-1) runs to its end;
//    then, many times, the time from starting a Reconnect call (a new
//    ClientContext on the connected channel) to its first output: from the
//    start (after_seq 0) and resuming near the end (--resume-after),
//    alternately. Last, full replays of the whole job (outputs/s), checked.
//
// --form packed (the default, what the clients send): every call in the
// packed form: Queue and Submit inputs as JSON arrays (CallOptions.packed),
// Queue results and Reconnect outputs (ReconnectRequest.packed) as
// ResultBlocks, every value parsed and checked. A block of k items counts as
// k outputs (they have k sequence numbers). --form value: the Value form.
//
// Machine lines (medians; runs= lists every round):
//   BENCH bench=job_outputs side=queue items=... payload_bytes=... workers=...
//         seconds=... items_per_sec=... runs=... server_cpu_s=... ok=1
//   BENCH bench=job_outputs side=job ... submit_ms=... job_seconds=... ratio=... ok=1
//   BENCH bench=job_replay side=first stored=... probes=... p50_us=... p99_us=... ok=1
//   BENCH bench=job_replay side=resume after_seq=... p50_us=... p99_us=... ok=1
//   BENCH bench=job_replay side=full outputs=... seconds=... outputs_per_sec=... ok=1
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "bench_common.h"

namespace b = pprocd_bench;
namespace v1 = pprocd::v1;

namespace {

double Median(std::vector<double> xs) {
  if (xs.empty()) return 0;
  std::sort(xs.begin(), xs.end());
  const size_t n = xs.size();
  return n % 2 == 1 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

// The value at quantile q (nearest rank).
double Quantile(std::vector<double> xs, double q) {
  if (xs.empty()) return 0;
  std::sort(xs.begin(), xs.end());
  size_t k = static_cast<size_t>(std::ceil(q * static_cast<double>(xs.size())));
  if (k == 0) k = 1;
  return xs[std::min(k, xs.size()) - 1];
}

std::string Join(const std::vector<double>& xs, const char* format) {
  std::string out;
  char buf[64];
  for (double x : xs) {
    std::snprintf(buf, sizeof buf, format, x);
    if (!out.empty()) out += ',';
    out += buf;
  }
  return out;
}

// Input i of the throughput sides: "i:" padded to `size` bytes, so every
// result can be checked against its index.
std::string Payload(uint64_t i, size_t size) {
  std::string s = std::to_string(i) + ":";
  if (s.size() < size) s.resize(size, static_cast<char>('a' + i % 26));
  return s;
}

double ToSeconds(const google::protobuf::Timestamp& t) {
  return static_cast<double>(t.seconds()) + static_cast<double>(t.nanos()) / 1e9;
}

// --- The server --------------------------------------------------------------

class Server {
 public:
  // Starts `binary` on a UNIX socket in a new temp dir, with a fresh state
  // dir there; exits the program if it is not ready within 30 s.
  Server(const std::string& binary, uint32_t workers, uint64_t max_message_bytes) {
    std::string tmpl = (std::getenv("TMPDIR") != nullptr ? std::string(std::getenv("TMPDIR"))
                                                         : std::string("/tmp")) +
                       "/bench-jobs.XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      std::exit(1);
    }
    dir_ = tmpl;
    const std::string state = dir_ + "/state";
    mkdir(state.c_str(), 0700);
    address_ = "unix:" + dir_ + "/pprocd.sock";
    log_ = dir_ + "/pprocd.log";
    std::vector<std::string> args = {binary,
                                     "--listen",
                                     address_,
                                     "--state-dir",
                                     state,
                                     "--workers",
                                     std::to_string(workers),
                                     "--max-message-bytes",
                                     std::to_string(max_message_bytes)};
    pid_ = fork();
    if (pid_ < 0) {
      std::perror("fork");
      std::exit(1);
    }
    if (pid_ == 0) {
      // The server goes when this program does, even if it is killed; in a
      // process group of its own, so that Stop() also ends what a --pprocd
      // wrapper (a script, a tracer) started under it.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      setpgid(0, 0);
      const int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
      }
      const int null = open("/dev/null", O_RDONLY);
      if (null >= 0) dup2(null, STDIN_FILENO);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    setpgid(pid_, 0);  // As the child does: whichever runs first.
    const auto deadline = b::Clock::now() + std::chrono::seconds(30);
    while (b::Clock::now() < deadline) {
      if (Log().find("pprocd ready on") != std::string::npos) return;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        Die("the server exited before it was ready");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    Die("the server was not ready within 30 s");
  }

  ~Server() { Stop(); }

  // SIGTERM, up to 15 s, then SIGKILL; removes the temp dir unless `keep`.
  void Stop(bool keep = false) {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      bool gone = false;
      for (int i = 0; i < 1500 && !gone; ++i) {
        gone = waitpid(pid_, &status, WNOHANG) == pid_;
        if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (!gone) {
        std::fprintf(stderr, "server %d ignored SIGTERM for 15 s; SIGKILL\n", pid_);
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
      // Whatever the command left in its group (the server under a wrapper).
      kill(-pid_, SIGKILL);
      pid_ = -1;
    }
    if (!dir_.empty()) {
      if (keep) {
        std::fprintf(stderr, "kept %s\n", dir_.c_str());
      } else {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
      }
      dir_.clear();
    }
  }

  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }

 private:
  std::string Log() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  [[noreturn]] void Die(const std::string& why) {
    std::fprintf(stderr, "%s; its log:\n%s\n", why.c_str(), Log().c_str());
    Stop();
    std::exit(1);
  }

  std::string dir_;
  std::string address_;
  std::string log_;
  pid_t pid_ = -1;
};

// ReconnectRequest.max_outputs_per_message of every Reconnect (--outputs-per-message).
uint32_t outputs_per_message = 256;
// --form packed: every call in the packed form.
bool packed_form = true;
// ResultBlocks and result ItemResults read by ReadJob, over all its calls:
// what the packed form really brought.
uint64_t reconnect_blocks = 0;
uint64_t reconnect_item_results = 0;

// The JSON array of the payloads of items [begin, end).
void AppendPayloadArray(uint64_t begin, uint64_t end, size_t size, std::string* out) {
  out->push_back('[');
  for (uint64_t i = begin; i < end; ++i) {
    if (i != begin) out->push_back(',');
    out->push_back('"');
    out->append(Payload(i, size));  // digits, ':' and letters: nothing to escape
    out->push_back('"');
  }
  out->push_back(']');
}

// Checks a block of echoed payloads: every item's value, and `seen`.
void CheckPayloadBlock(const v1::ResultBlock& block, uint64_t items, size_t payload,
                       std::vector<bool>* seen, b::Checker* checker) {
  std::vector<std::string_view> values;
  std::string error;
  checker->received += block.count();
  if (!b::ParseSimpleStringArray(block.values(), &values, &error)) {
    checker->Problem("block at " + std::to_string(block.first_index()) + ": " + error);
    return;
  }
  if (values.size() != block.count()) {
    checker->Problem("block at " + std::to_string(block.first_index()) + ": count " +
                     std::to_string(block.count()) + ", " + std::to_string(values.size()) +
                     " values");
  }
  for (size_t k = 0; k < values.size(); ++k) {
    const uint64_t index = block.first_index() + k;
    if (index >= items || (*seen)[index]) {
      checker->Problem("unexpected or repeated index " + std::to_string(index));
      continue;
    }
    (*seen)[index] = true;
    if (values[k] != Payload(index, payload)) {
      checker->Problem("item " + std::to_string(index) + ": wrong result in a block");
    }
  }
}

// Checks a block of `square` results: item i is i * i.
void CheckSquareBlock(const v1::ResultBlock& block, b::Checker* checker) {
  std::vector<double> values;
  std::string error;
  checker->received += block.count();
  if (!b::ParseNumberArray(block.values(), &values, &error)) {
    checker->Problem("block at " + std::to_string(block.first_index()) + ": " + error);
    return;
  }
  if (values.size() != block.count()) {
    checker->Problem("block at " + std::to_string(block.first_index()) + ": count " +
                     std::to_string(block.count()) + ", " + std::to_string(values.size()) +
                     " values");
  }
  for (size_t k = 0; k < values.size(); ++k) {
    const double x = static_cast<double>(block.first_index() + k);
    if (values[k] != x * x) {
      checker->Problem("item " + std::to_string(block.first_index() + k) + ": expected " +
                       std::to_string(x * x) + ", got " + std::to_string(values[k]));
    }
  }
}

// A Submit request of `callable` over inputs [0, items) made by `value`
// (the Value form) or `json` (appends the packed form's array).
v1::SubmitRequest MakeSubmit(const std::string& callable, bool ordered, uint64_t items,
                             const std::function<void(uint64_t, google::protobuf::Value*)>& value,
                             const std::function<void(uint64_t, uint64_t, std::string*)>& json) {
  v1::SubmitRequest request;
  request.set_callable(callable);
  request.set_ordered(ordered);
  if (packed_form) {
    request.mutable_options()->set_packed(true);
    json(0, items, request.mutable_packed_inputs());
  } else {
    for (uint64_t i = 0; i < items; ++i) value(i, request.add_inputs());
  }
  return request;
}

// --- Side A: Queue ---------------------------------------------------------

struct SideResult {
  bool ok = false;
  double seconds = 0;
  double server_cpu_s = 0;
  // Side B only.
  double submit_ms = 0;
  double job_seconds = 0;  // the job's own end_time - create_time
  uint64_t outputs = 0;
};

SideResult RunQueue(v1::ProcessFarmService::Stub* stub, uint64_t items, size_t payload,
                    uint32_t batch, pid_t server) {
  b::StreamConfig cfg;
  cfg.callable = "echo";
  cfg.items = items;
  cfg.batch = batch;
  cfg.options.set_expected_inputs(items);
  cfg.input = [payload](uint64_t i, google::protobuf::Value* v) {
    v->set_string_value(Payload(i, payload));
  };
  cfg.options.set_packed(packed_form);
  cfg.packed_input = [payload](uint64_t begin, uint64_t end, std::string* out) {
    AppendPayloadArray(begin, end, payload, out);
  };
  b::Checker checker;
  std::vector<bool> seen(items, false);
  b::Clock::time_point last_result;
  auto on_result = [&](const v1::ItemResult& r) {
    ++checker.received;
    last_result = b::Clock::now();
    if (r.index() >= items || seen[r.index()]) {
      checker.Problem("unexpected or repeated index " + std::to_string(r.index()));
      return;
    }
    seen[r.index()] = true;
    if (r.outcome_case() != v1::ItemResult::kValue ||
        r.value().string_value() != Payload(r.index(), payload)) {
      checker.Problem("item " + std::to_string(r.index()) + ": wrong result, " + b::Describe(r));
    }
  };
  const double cpu0 = b::TreeCpuSeconds(server);
  const auto t0 = b::Clock::now();
  auto on_block = [&](const v1::ResultBlock& block) {
    last_result = b::Clock::now();
    CheckPayloadBlock(block, items, payload, &seen, &checker);
  };
  const b::StreamOutcome out = b::RunStream<v1::QueueRequest, v1::QueueResponse>(
      cfg, [&](grpc::ClientContext* ctx) { return stub->Queue(ctx); }, on_result, nullptr,
      on_block);
  SideResult result;
  result.server_cpu_s = b::TreeCpuSeconds(server) - cpu0;
  result.seconds = std::chrono::duration<double>(last_result - t0).count();
  result.ok = b::Verdict(out, checker, items);
  return result;
}

// --- Side B: Submit + Reconnect ---------------------------------------------

bool DeleteJob(v1::ProcessFarmService::Stub* stub, const std::string& id) {
  grpc::ClientContext ctx;
  v1::DeleteJobRequest request;
  request.set_job(id);
  v1::DeleteJobResponse response;
  const grpc::Status status = stub->DeleteJob(&ctx, request, &response);
  if (!status.ok()) std::fprintf(stderr, "DeleteJob: %s\n", status.error_message().c_str());
  return status.ok();
}

// Reads a whole Reconnect stream of job `id` from `after_seq`, checking that
// seqs run on without a gap and that the last output is the job in a final
// state. `on_result` sees every result, `on_block` every block (packed
// form). Returns the outputs read (0 on error, which it reports).
struct Replay {
  bool ok = false;
  uint64_t outputs = 0;
  uint64_t results = 0;
  v1::Job final_job;
};

Replay ReadJob(v1::ProcessFarmService::Stub* stub, const std::string& id, uint64_t after_seq,
               const std::function<void(const v1::ItemResult&)>& on_result,
               const std::function<void(const v1::ResultBlock&)>& on_block) {
  Replay replay;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  v1::ReconnectRequest request;
  request.add_jobs(id);
  request.set_after_seq(after_seq);
  request.set_max_outputs_per_message(outputs_per_message);
  request.set_packed(packed_form);
  auto reader = stub->Reconnect(&ctx, request);
  v1::ReconnectResponse message;
  uint64_t expected_seq = after_seq + 1;
  bool seq_ok = true;
  bool last_is_final = false;
  google::protobuf::RepeatedPtrField<v1::ReconnectResponse> outputs;
  while (reader->Read(&message)) {
    outputs.Clear();
    outputs.Swap(message.mutable_more());
    for (int i = -1; i < outputs.size(); ++i) {
      const v1::ReconnectResponse& response = i < 0 ? message : outputs.Get(i);
      const uint64_t span = response.has_block() ? response.block().count() : 1;
      replay.outputs += span;
      if (response.seq() != expected_seq && seq_ok) {
        std::fprintf(stderr, "job %s: output seq %" PRIu64 ", expected %" PRIu64 "\n", id.c_str(),
                     static_cast<uint64_t>(response.seq()), expected_seq);
        seq_ok = false;
      }
      expected_seq = response.seq() + span;
      last_is_final = false;
      if (response.has_block()) {
        ++reconnect_blocks;
        replay.results += span;
        if (on_block) on_block(response.block());
      } else if (response.has_result()) {
        ++reconnect_item_results;
        ++replay.results;
        if (on_result) on_result(response.result());
      } else if (response.has_job() && !response.progress()) {
        const auto state = response.job().state();
        last_is_final = state == v1::JOB_STATE_SUCCEEDED || state == v1::JOB_STATE_FAILED ||
                        state == v1::JOB_STATE_CANCELLED || state == v1::JOB_STATE_INTERRUPTED;
        if (last_is_final) replay.final_job = response.job();
      }
    }
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) {
    std::fprintf(stderr, "Reconnect %s: %s: %s\n", id.c_str(),
                 b::StatusCodeName(status.error_code()), status.error_message().c_str());
  }
  if (!last_is_final)
    std::fprintf(stderr, "job %s: the stream did not end with a final state\n", id.c_str());
  replay.ok = status.ok() && seq_ok && last_is_final;
  return replay;
}

SideResult RunJob(v1::ProcessFarmService::Stub* stub, const v1::SubmitRequest& request,
                  uint64_t items, size_t payload, pid_t server) {
  SideResult result;
  b::Checker checker;
  std::vector<bool> seen(items, false);
  auto on_result = [&](const v1::ItemResult& r) {
    ++checker.received;
    if (r.index() >= items || seen[r.index()]) {
      checker.Problem("unexpected or repeated index " + std::to_string(r.index()));
      return;
    }
    seen[r.index()] = true;
    if (r.outcome_case() != v1::ItemResult::kValue ||
        r.value().string_value() != Payload(r.index(), payload)) {
      checker.Problem("item " + std::to_string(r.index()) + ": wrong result, " + b::Describe(r));
    }
  };
  const double cpu0 = b::TreeCpuSeconds(server);
  const auto t0 = b::Clock::now();
  grpc::ClientContext ctx;
  v1::SubmitResponse submitted;
  const grpc::Status status = stub->Submit(&ctx, request, &submitted);
  result.submit_ms = b::SecondsSince(t0) * 1e3;
  if (!status.ok()) {
    std::fprintf(stderr, "Submit: %s: %s\n", b::StatusCodeName(status.error_code()),
                 status.error_message().c_str());
    return result;
  }
  const std::string id = submitted.job().id();
  auto on_block = [&](const v1::ResultBlock& block) {
    CheckPayloadBlock(block, items, payload, &seen, &checker);
  };
  const Replay replay = ReadJob(stub, id, 0, on_result, on_block);
  result.seconds = b::SecondsSince(t0);
  result.server_cpu_s = b::TreeCpuSeconds(server) - cpu0;
  result.outputs = replay.outputs;
  const v1::Job& job = replay.final_job;
  result.job_seconds = ToSeconds(job.end_time()) - ToSeconds(job.create_time());
  bool good = replay.ok;
  if (good && (job.state() != v1::JOB_STATE_SUCCEEDED || job.items_done() != items)) {
    std::fprintf(stderr, "job %s ended %s with %" PRIu64 " of %" PRIu64 " items: %s\n", id.c_str(),
                 v1::JobState_Name(job.state()).c_str(), static_cast<uint64_t>(job.items_done()),
                 items, job.error().c_str());
    good = false;
  }
  if (checker.received != items) {
    std::fprintf(stderr, "job %s: expected %" PRIu64 " results, got %" PRIu64 "\n", id.c_str(),
                 items, checker.received);
    good = false;
  }
  if (checker.bad != 0) {
    std::fprintf(stderr, "job %s: %" PRIu64 " bad results:\n", id.c_str(), checker.bad);
    checker.Report(stderr);
    good = false;
  }
  // Not timed: keep the store the same size for every round.
  good = DeleteJob(stub, id) && good;
  result.ok = good;
  return result;
}

// --- Replay probes -----------------------------------------------------------

// Microseconds from starting a Reconnect of `id` after `after_seq` to its
// first output (-1 on error). With `drain`, reads the rest of the stream
// and checks it ends with the final state; otherwise cancels the call.
double FirstOutputUs(v1::ProcessFarmService::Stub* stub, const std::string& id, uint64_t after_seq,
                     bool drain, uint64_t* rest) {
  grpc::ClientContext ctx;
  v1::ReconnectRequest request;
  request.add_jobs(id);
  request.set_after_seq(after_seq);
  request.set_max_outputs_per_message(outputs_per_message);
  request.set_packed(packed_form);
  const auto t0 = b::Clock::now();
  auto reader = stub->Reconnect(&ctx, request);
  v1::ReconnectResponse response;
  if (!reader->Read(&response)) {
    const grpc::Status status = reader->Finish();
    std::fprintf(stderr, "Reconnect after %" PRIu64 ": no output (%s: %s)\n", after_seq,
                 b::StatusCodeName(status.error_code()), status.error_message().c_str());
    return -1;
  }
  const double us = b::SecondsSince(t0) * 1e6;
  if (response.seq() != after_seq + 1) {
    std::fprintf(stderr, "Reconnect after %" PRIu64 ": first seq %" PRIu64 "\n", after_seq,
                 static_cast<uint64_t>(response.seq()));
    ctx.TryCancel();
    reader->Finish();
    return -1;
  }
  if (!drain) {
    ctx.TryCancel();
    while (reader->Read(&response)) {
    }
    reader->Finish();
    return us;
  }
  // Outputs in one message: a block of k items counts k.
  const auto span = [](const v1::ReconnectResponse& message) {
    uint64_t k = message.has_block() ? message.block().count() : 1;
    for (const auto& more : message.more()) k += more.has_block() ? more.block().count() : 1;
    return k;
  };
  uint64_t n = 0;
  bool final_state = false;
  // Whether the last output of `message` is the job's final state.
  const auto ends = [](const v1::ReconnectResponse& message) {
    const v1::ReconnectResponse& last =
        message.more_size() > 0 ? message.more(message.more_size() - 1) : message;
    return last.has_job() && last.job().state() == v1::JOB_STATE_SUCCEEDED;
  };
  n += span(response);
  final_state = ends(response);
  while (reader->Read(&response)) {
    n += span(response);
    final_state = ends(response);
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok() || !final_state) {
    std::fprintf(stderr, "Reconnect after %" PRIu64 ": %s, ended %s\n", after_seq,
                 b::StatusCodeName(status.error_code()),
                 final_state ? "with the final state" : "without the final state");
    return -1;
  }
  if (rest != nullptr) *rest = n;
  return us;
}

}  // namespace

int main(int argc, char** argv) {
  b::Flags flags(
      argc, argv, "bench_jobs",
      "Background jobs: stored outputs per second against the same work through an in-memory\n"
      "Queue call, and the time to the first replayed output of a long job. Starts its own\n"
      "pprocd (a fresh --state-dir in a temp dir).",
      {{"pprocd", "server binary (default: ../server/pprocd next to this program)"},
       {"workers", "pool size of the server (default: nproc)"},
       {"items", "N, items per side of the throughput rounds (default 20000)"},
       {"payload", "bytes per echo input and result (default 1024)"},
       {"batch", "inputs per QueueRequest (default 1024)"},
       {"repeat", "alternating rounds A, B (default 3)"},
       {"stored", "items of the replayed job, `square` over 0..stored-1 (default 100000)"},
       {"probes", "first-output probes of each kind (default 100)"},
       {"resume-after", "after_seq of the resume probes (default 99990)"},
       {"full-replays", "full replays of the stored job (default 3)"},
       {"outputs-per-message", "ReconnectRequest.max_outputs_per_message (default 256)"},
       {"skip-throughput!", "only the replay part"},
       {"skip-replay!", "only the throughput part"},
       {"keep-tmp!", "keep the server's temp dir (log, job store)"},
       {"form", "packed (default: every call in the packed form) or value"}});

  std::string binary = flags.Str("pprocd", "");
  if (binary.empty()) {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    binary = (self.parent_path().parent_path() / "server" / "pprocd").string();
  }
  if (access(binary.c_str(), X_OK) != 0) flags.Fail("no server binary at " + binary);
  const uint32_t workers = static_cast<uint32_t>(
      flags.U64("workers", static_cast<uint64_t>(sysconf(_SC_NPROCESSORS_ONLN))));
  const uint64_t items = flags.U64("items", 20000);
  const size_t payload = static_cast<size_t>(flags.U64("payload", 1024));
  const uint32_t batch = static_cast<uint32_t>(flags.U64("batch", 1024));
  const uint64_t repeat = std::max<uint64_t>(1, flags.U64("repeat", 3));
  const uint64_t stored = flags.U64("stored", 100000);
  const uint64_t probes = std::max<uint64_t>(1, flags.U64("probes", 100));
  const uint64_t resume_after = flags.U64("resume-after", 99990);
  const uint64_t full_replays = std::max<uint64_t>(1, flags.U64("full-replays", 3));
  if (items == 0 || batch == 0 || stored == 0) flags.Fail("--items, --batch, --stored must be > 0");
  if (workers == 0) flags.Fail("--workers must be > 0");
  outputs_per_message = static_cast<uint32_t>(flags.U64("outputs-per-message", 256));
  const std::string form = flags.Str("form", "packed");
  if (form != "packed" && form != "value") flags.Fail("--form must be packed or value");
  packed_form = form == "packed";

  // The Submit request carries every input at once: let it through.
  const uint64_t request_bytes = items * (payload + 16) + (1 << 20);
  const uint64_t max_message = std::max<uint64_t>(16u << 20, request_bytes * 2);
  if (max_message > (uint64_t{1} << 30)) flags.Fail("--items x --payload too large for one Submit");

  Server server(binary, workers, max_message);
  auto channel = b::Connect(server.address());
  auto stub = v1::ProcessFarmService::NewStub(channel);
  bool all_ok = true;
  std::printf("server %s: pid %d, %u workers, --max-message-bytes %" PRIu64 "\n", binary.c_str(),
              server.pid(), workers, max_message);

  if (!flags.Bool("skip-throughput")) {
    const auto value = [payload](uint64_t i, google::protobuf::Value* v) {
      v->set_string_value(Payload(i, payload));
    };
    const auto json = [payload](uint64_t begin, uint64_t end, std::string* out) {
      AppendPayloadArray(begin, end, payload, out);
    };
    const v1::SubmitRequest request = MakeSubmit("echo", false, items, value, json);
    std::printf(
        "throughput: %" PRIu64 " echo items of %zu bytes, Submit request %.1f MiB, %s form\n",
        items, payload, static_cast<double>(request.ByteSizeLong()) / (1 << 20), form.c_str());

    // Warm-up (untimed): a small call and a small job, so neither side pays
    // for a fresh server's first call or the store's first write.
    {
      const SideResult wq = RunQueue(stub.get(), 1000, payload, batch, server.pid());
      const v1::SubmitRequest small =
          MakeSubmit("echo", false, std::min<uint64_t>(items, 1000), value, json);
      const SideResult wj =
          RunJob(stub.get(), small, std::min<uint64_t>(items, 1000), payload, server.pid());
      if (!wq.ok || !wj.ok) {
        std::fprintf(stderr, "warm-up failed\n");
        all_ok = false;
      }
    }

    std::vector<double> qs, js, qcpu, jcpu, submit_ms, job_s;
    bool q_ok = true, j_ok = true;
    uint64_t outputs = 0;
    for (uint64_t round = 0; round < repeat; ++round) {
      const SideResult a = RunQueue(stub.get(), items, payload, batch, server.pid());
      const SideResult bb = RunJob(stub.get(), request, items, payload, server.pid());
      q_ok = q_ok && a.ok;
      j_ok = j_ok && bb.ok;
      qs.push_back(a.seconds);
      js.push_back(bb.seconds);
      qcpu.push_back(a.server_cpu_s);
      jcpu.push_back(bb.server_cpu_s);
      submit_ms.push_back(bb.submit_ms);
      job_s.push_back(bb.job_seconds);
      outputs = bb.outputs;
      std::printf("round %" PRIu64
                  ": queue %.3f s (%.0f items/s, server CPU %.2f s)%s; job %.3f s "
                  "(%.0f items/s, Submit %.1f ms, job ran %.3f s, %" PRIu64
                  " outputs, server CPU %.2f s)%s\n",
                  round + 1, a.seconds, static_cast<double>(items) / a.seconds, a.server_cpu_s,
                  a.ok ? "" : " FAILED", bb.seconds, static_cast<double>(items) / bb.seconds,
                  bb.submit_ms, bb.job_seconds, bb.outputs, bb.server_cpu_s,
                  bb.ok ? "" : " FAILED");
      std::fflush(stdout);
    }
    std::printf("Reconnect (%s form) brought %" PRIu64 " ResultBlocks and %" PRIu64
                " result ItemResults in all\n",
                form.c_str(), reconnect_blocks, reconnect_item_results);
    const double q_s = Median(qs), j_s = Median(js);
    const double q_rate = static_cast<double>(items) / q_s;
    const double j_rate = static_cast<double>(items) / j_s;
    std::printf(
        "queue: median %.3f s = %.0f items/s; job: median %.3f s = %.0f items/s; "
        "job ÷ queue = %.2f×\n",
        q_s, q_rate, j_s, j_rate, j_rate / q_rate);
    std::printf("BENCH bench=job_outputs side=queue form=%s items=%" PRIu64
                " payload_bytes=%zu workers=%u seconds=%.6f items_per_sec=%.1f runs=%s "
                "server_cpu_s=%.3f ok=%d\n",
                form.c_str(), items, payload, workers, q_s, q_rate, Join(qs, "%.3f").c_str(),
                Median(qcpu), q_ok ? 1 : 0);
    std::printf(
        "BENCH bench=job_outputs side=job form=%s items=%" PRIu64
        " payload_bytes=%zu workers=%u seconds=%.6f items_per_sec=%.1f runs=%s "
        "server_cpu_s=%.3f submit_ms=%.1f job_seconds=%.3f outputs=%" PRIu64 " ratio=%.3f ok=%d\n",
        form.c_str(), items, payload, workers, j_s, j_rate, Join(js, "%.3f").c_str(), Median(jcpu),
        Median(submit_ms), Median(job_s), outputs, j_rate / q_rate, j_ok ? 1 : 0);
    std::fflush(stdout);
    all_ok = all_ok && q_ok && j_ok;
  }

  if (!flags.Bool("skip-replay")) {
    const v1::SubmitRequest request = MakeSubmit(
        "square", true, stored,
        [](uint64_t i, google::protobuf::Value* v) { v->set_number_value(static_cast<double>(i)); },
        b::AppendIntegerArray);
    bool ok = true;
    grpc::ClientContext ctx;
    v1::SubmitResponse submitted;
    const auto t0 = b::Clock::now();
    const grpc::Status status = stub->Submit(&ctx, request, &submitted);
    if (!status.ok()) {
      std::fprintf(stderr, "Submit: %s\n", status.error_message().c_str());
      return 1;
    }
    const std::string id = submitted.job().id();
    // Wait for the end by following it live; check every value.
    b::Checker checker;
    auto check_square = [&](const v1::ItemResult& r) {
      ++checker.received;
      const double x = static_cast<double>(r.index());
      b::ExpectNumber(checker, r, x * x);
    };
    const Replay live = ReadJob(stub.get(), id, 0, check_square, [&](const v1::ResultBlock& block) {
      CheckSquareBlock(block, &checker);
    });
    const double run_s = b::SecondsSince(t0);
    ok = live.ok && checker.received == stored && checker.bad == 0 &&
         live.final_job.state() == v1::JOB_STATE_SUCCEEDED;
    if (!ok) {
      std::fprintf(stderr,
                   "the %" PRIu64 "-item job failed (%" PRIu64 " results, %" PRIu64 " bad)\n",
                   stored, checker.received, checker.bad);
      checker.Report(stderr);
    }
    const uint64_t last_seq = live.final_job.last_seq();
    std::printf("replay: job of %" PRIu64 " square items ran in %.3f s; %" PRIu64
                " stored outputs (last seq %" PRIu64 ")\n",
                stored, run_s, live.outputs, last_seq);
    if (resume_after >= last_seq) flags.Fail("--resume-after must be below the job's last seq");

    // Probes: from the start and near the end, alternately.
    std::vector<double> first_us, resume_us;
    uint64_t resume_outputs = 0;
    for (uint64_t i = 0; i < probes && ok; ++i) {
      const double f = FirstOutputUs(stub.get(), id, 0, /*drain=*/false, nullptr);
      const double r = FirstOutputUs(stub.get(), id, resume_after, /*drain=*/true, &resume_outputs);
      if (f < 0 || r < 0) ok = false;
      first_us.push_back(f);
      resume_us.push_back(r);
    }
    if (ok && resume_outputs != last_seq - resume_after) {
      std::fprintf(stderr, "resume: %" PRIu64 " outputs after %" PRIu64 ", expected %" PRIu64 "\n",
                   resume_outputs, resume_after, last_seq - resume_after);
      ok = false;
    }
    // Full replays.
    std::vector<double> full_s;
    for (uint64_t i = 0; i < full_replays && ok; ++i) {
      b::Checker again;
      auto count = [&](const v1::ItemResult& r) {
        ++again.received;
        const double x = static_cast<double>(r.index());
        b::ExpectNumber(again, r, x * x);
      };
      const auto t1 = b::Clock::now();
      const Replay full = ReadJob(stub.get(), id, 0, count, [&](const v1::ResultBlock& block) {
        CheckSquareBlock(block, &again);
      });
      full_s.push_back(b::SecondsSince(t1));
      if (!full.ok || full.outputs != last_seq || again.received != stored || again.bad != 0) {
        std::fprintf(stderr,
                     "full replay: %" PRIu64 " outputs, %" PRIu64 " results, %" PRIu64 " bad\n",
                     full.outputs, again.received, again.bad);
        ok = false;
      }
    }
    const double full_med = Median(full_s);
    std::printf("first output from seq 0: p50 %.0f µs, p99 %.0f µs, max %.0f µs (%" PRIu64
                " probes); resuming after %" PRIu64
                ": p50 %.0f µs, p99 %.0f µs, max %.0f µs; "
                "full replay %.3f s = %.0f outputs/s%s\n",
                Quantile(first_us, 0.5), Quantile(first_us, 0.99), Quantile(first_us, 1.0), probes,
                resume_after, Quantile(resume_us, 0.5), Quantile(resume_us, 0.99),
                Quantile(resume_us, 1.0), full_med,
                full_med > 0 ? static_cast<double>(last_seq) / full_med : 0,
                ok ? "" : "  ** FAILED **");
    std::printf("BENCH bench=job_replay side=first stored=%" PRIu64 " outputs=%" PRIu64
                " probes=%" PRIu64 " p50_us=%.1f p99_us=%.1f max_us=%.1f ok=%d\n",
                stored, last_seq, probes, Quantile(first_us, 0.5), Quantile(first_us, 0.99),
                Quantile(first_us, 1.0), ok ? 1 : 0);
    std::printf("BENCH bench=job_replay side=resume stored=%" PRIu64 " after_seq=%" PRIu64
                " probes=%" PRIu64 " p50_us=%.1f p99_us=%.1f max_us=%.1f ok=%d\n",
                stored, resume_after, probes, Quantile(resume_us, 0.5), Quantile(resume_us, 0.99),
                Quantile(resume_us, 1.0), ok ? 1 : 0);
    std::printf("BENCH bench=job_replay side=full stored=%" PRIu64 " outputs=%" PRIu64
                " seconds=%.6f outputs_per_sec=%.1f runs=%s job_run_seconds=%.3f ok=%d\n",
                stored, last_seq, full_med,
                full_med > 0 ? static_cast<double>(last_seq) / full_med : 0,
                Join(full_s, "%.3f").c_str(), run_s, ok ? 1 : 0);
    all_ok = all_ok && ok;
  }

  server.Stop(flags.Bool("keep-tmp"));
  return all_ok ? 0 : 1;
}
