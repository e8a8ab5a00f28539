// Shared helpers for the pprocd benchmark programs: a tiny flag parser, the
// channel factory, timing, and a Map/Queue stream driver that streams inputs
// from a writer thread while the calling thread reads and checks results.
//
// Every benchmark checks what it gets back, so a broken server shows up as a
// failed benchmark rather than as a fast one.
#pragma once

#include <dirent.h>
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "pprocd/v1/service.grpc.pb.h"

namespace pprocd_bench {

namespace v1 = ::pprocd::v1;

using Clock = std::chrono::steady_clock;

inline double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// --- Flags -----------------------------------------------------------------

// Accepts "--name value" and "--name=value". Every flag must be declared
// (name -> help text) so a typo is an error, not a silently ignored option.
class Flags {
 public:
  Flags(int argc, char** argv, std::string program, std::string summary,
        std::vector<std::pair<std::string, std::string>> known)
      : program_(std::move(program)), summary_(std::move(summary)), known_(std::move(known)) {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "--help" || arg == "-h") {
        Usage(stdout);
        std::exit(0);
      }
      if (arg.rfind("--", 0) != 0) Fail("unexpected argument '" + arg + "'");
      arg = arg.substr(2);
      std::string value;
      const auto eq = arg.find('=');
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      } else if (IsBoolean(arg)) {
        value = "true";
      } else {
        if (i + 1 >= argc) Fail("flag --" + arg + " needs a value");
        value = argv[++i];
      }
      if (!IsKnown(arg)) Fail("unknown flag --" + arg);
      values_[arg] = value;
    }
  }

  std::string Str(const std::string& name, const std::string& def) const {
    const auto it = values_.find(name);
    return it == values_.end() ? def : it->second;
  }

  uint64_t U64(const std::string& name, uint64_t def) const {
    const auto it = values_.find(name);
    if (it == values_.end()) return def;
    char* end = nullptr;
    // Accept 1e6-style sizes as well as plain integers.
    const double d = std::strtod(it->second.c_str(), &end);
    if (end == it->second.c_str() || *end != '\0' || d < 0) {
      Fail("flag --" + name + " needs a non-negative number, got '" + it->second + "'");
    }
    return static_cast<uint64_t>(d);
  }

  double F64(const std::string& name, double def) const {
    const auto it = values_.find(name);
    if (it == values_.end()) return def;
    char* end = nullptr;
    const double d = std::strtod(it->second.c_str(), &end);
    if (end == it->second.c_str() || *end != '\0') {
      Fail("flag --" + name + " needs a number, got '" + it->second + "'");
    }
    return d;
  }

  bool Bool(const std::string& name) const {
    const std::string v = Str(name, "false");
    return v == "true" || v == "1" || v == "yes";
  }

  [[noreturn]] void Fail(const std::string& why) const {
    std::fprintf(stderr, "%s: %s\n", program_.c_str(), why.c_str());
    Usage(stderr);
    std::exit(2);
  }

 private:
  bool IsKnown(const std::string& name) const {
    for (const auto& k : known_) {
      if (k.first == name || k.first == name + "!") return true;
    }
    return false;
  }
  // Boolean flags are declared with a trailing '!' and take no value.
  bool IsBoolean(const std::string& name) const {
    for (const auto& k : known_) {
      if (k.first == name + "!") return true;
    }
    return false;
  }
  void Usage(FILE* out) const {
    std::fprintf(out, "usage: %s [flags]\n%s\n\nflags:\n", program_.c_str(), summary_.c_str());
    for (const auto& k : known_) {
      std::string name = k.first;
      if (!name.empty() && name.back() == '!') name.pop_back();
      std::fprintf(out, "  --%-18s %s\n", name.c_str(), k.second.c_str());
    }
  }

  std::string program_;
  std::string summary_;
  std::vector<std::pair<std::string, std::string>> known_;
  std::map<std::string, std::string> values_;
};

// --- Channel ---------------------------------------------------------------

// One channel, no message size limits, connected before returning so that
// connection setup is never part of a measurement.
inline std::shared_ptr<grpc::Channel> Connect(const std::string& address, int timeout_s = 10) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                 std::chrono::seconds(timeout_s))) {
    std::fprintf(stderr, "cannot connect to %s within %d s\n", address.c_str(), timeout_s);
    std::exit(1);
  }
  return channel;
}

// --- Result checking -------------------------------------------------------

// Counts results and remembers the first few problems.
struct Checker {
  uint64_t received = 0;
  uint64_t bad = 0;
  std::vector<std::string> problems;

  void Problem(std::string what) {
    ++bad;
    if (problems.size() < 5) problems.push_back(std::move(what));
  }

  void Report(FILE* out) const {
    for (const auto& p : problems) std::fprintf(out, "  problem: %s\n", p.c_str());
    if (bad > problems.size()) {
      std::fprintf(out, "  ... and %llu more\n",
                   static_cast<unsigned long long>(bad - problems.size()));
    }
  }
};

inline std::string Describe(const v1::ItemResult& r) {
  switch (r.outcome_case()) {
    case v1::ItemResult::kValue:
      return "value " + r.value().ShortDebugString();
    case v1::ItemResult::kData:
      return "data (" + std::to_string(r.data().size()) + " bytes)";
    case v1::ItemResult::kError:
      return "error " + r.error().ShortDebugString();
    default:
      return "no outcome";
  }
}

// Checks that `r` carries the number `expected`.
inline void ExpectNumber(Checker& c, const v1::ItemResult& r, double expected) {
  if (r.outcome_case() == v1::ItemResult::kValue &&
      r.value().kind_case() == google::protobuf::Value::kNumberValue &&
      r.value().number_value() == expected) {
    return;
  }
  c.Problem("item " + std::to_string(r.index()) + ": expected " + std::to_string(expected) +
            ", got " + Describe(r));
}

// Reads a JSON array of strings without escapes (what a ResultBlock of
// echoed plain-ASCII payloads holds) into `out` (cleared first; the views
// point into `json`). Returns false, with the byte offset and reason in
// `error`, on anything else, a backslash escape included.
inline bool ParseSimpleStringArray(const std::string& json, std::vector<std::string_view>* out,
                                   std::string* error) {
  out->clear();
  const char* const begin = json.data();
  const char* const end = begin + json.size();
  const char* p = begin;
  auto fail = [&](const char* why) {
    *error = std::string(why) + " at byte " + std::to_string(p - begin);
    return false;
  };
  auto skip_ws = [&] {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) ++p;
  };
  skip_ws();
  if (p == end || *p != '[') return fail("expected '['");
  ++p;
  skip_ws();
  if (p < end && *p == ']') return true;
  while (true) {
    skip_ws();
    if (p == end || *p != '"') return fail("expected a string");
    const char* q = ++p;
    while (q < end && *q != '"' && *q != '\\') ++q;
    if (q == end) return fail("unterminated string");
    if (*q == '\\') {
      p = q;
      return fail("escape (not expected in these payloads)");
    }
    out->emplace_back(p, static_cast<size_t>(q - p));
    p = q + 1;
    skip_ws();
    if (p < end && *p == ',') {
      ++p;
      continue;
    }
    if (p < end && *p == ']') {
      ++p;
      skip_ws();
      return p == end || fail("bytes after the array");
    }
    return fail("expected ',' or ']'");
  }
}

// --- Stream driver ----------------------------------------------------------

struct StreamConfig {
  std::string callable = "echo";
  v1::CallOptions options;
  uint64_t items = 0;
  uint32_t batch = 4096;
  // Fills input i (the Value form).
  std::function<void(uint64_t, google::protobuf::Value*)> input;
  // The packed form (used when options.packed() is set): appends inputs
  // [begin, end) to `out` as the elements of one JSON array (brackets
  // included); `out` arrives empty.
  std::function<void(uint64_t begin, uint64_t end, std::string* out)> packed_input;
};

// Appends the JSON array [begin, begin + 1, ..., end - 1] to `out`.
inline void AppendIntegerArray(uint64_t begin, uint64_t end, std::string* out) {
  char digits[24];
  out->push_back('[');
  for (uint64_t i = begin; i < end; ++i) {
    if (i != begin) out->push_back(',');
    char* p = digits + sizeof digits;
    uint64_t v = i;
    do {
      *--p = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    out->append(p, static_cast<size_t>(digits + sizeof digits - p));
  }
  out->push_back(']');
}

// Reads a JSON array of numbers (what a ResultBlock of echoed numbers holds)
// into `out` (cleared first). Integers without a fraction or exponent are
// read directly; anything else numeric goes through strtod. Returns false,
// with the byte offset and reason in `error`, on anything but an array of
// numbers. `json` must be NUL-terminated past its size (std::string is).
inline bool ParseNumberArray(const std::string& json, std::vector<double>* out,
                             std::string* error) {
  out->clear();
  const char* const begin = json.c_str();
  const char* const end = begin + json.size();
  const char* p = begin;
  auto fail = [&](const char* why) {
    *error = std::string(why) + " at byte " + std::to_string(p - begin);
    return false;
  };
  auto skip_ws = [&] {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) ++p;
  };
  skip_ws();
  if (p == end || *p != '[') return fail("expected '['");
  ++p;
  skip_ws();
  if (p < end && *p == ']') return true;
  while (true) {
    skip_ws();
    const char* q = p;
    uint64_t v = 0;
    while (q < end && *q >= '0' && *q <= '9' && q - p < 16)
      v = v * 10 + static_cast<uint64_t>(*q++ - '0');
    if (q > p && q < end && (*q == ',' || *q == ']' || *q == ' ')) {
      out->push_back(static_cast<double>(v));
      p = q;
    } else {
      char* e = nullptr;
      const double d = std::strtod(p, &e);
      if (e == p || e > end) return fail("expected a number");
      out->push_back(d);
      p = e;
    }
    skip_ws();
    if (p < end && *p == ',') {
      ++p;
      continue;
    }
    if (p < end && *p == ']') {
      ++p;
      skip_ws();
      return p == end || fail("bytes after the array");
    }
    return fail("expected ',' or ']'");
  }
}

struct StreamOutcome {
  grpc::Status status;
  bool writes_ok = true;
  uint64_t responses = 0;
  double seconds = 0;  // first write .. Finish()
};

// Runs one Map (Req = MapRequest) or Queue (Req = QueueRequest) call: a writer
// thread sends the first request (callable + options) and then the inputs in
// batches, then half-closes; this thread reads every response and hands each
// ItemResult to `on_result`, and calls `after_response(results_so_far)` after
// each response (the hook the slow-reader benchmark uses to throttle).
//
// The packed form (cfg.options.packed()): inputs go as `packed_inputs` from
// cfg.packed_input, and each response's ResultBlocks go to `on_block`,
// merged with its ItemResults by index (so a Map's items reach the two
// callbacks in input order).
template <class Req, class Resp, class OpenFn>
StreamOutcome RunStream(const StreamConfig& cfg, OpenFn open,
                        const std::function<void(const v1::ItemResult&)>& on_result,
                        const std::function<void(uint64_t)>& after_response = nullptr,
                        const std::function<void(const v1::ResultBlock&)>& on_block = nullptr) {
  StreamOutcome out;
  grpc::ClientContext ctx;
  const auto t0 = Clock::now();
  auto stream = open(&ctx);

  std::thread writer([&] {
    Req first;
    first.set_callable(cfg.callable);
    *first.mutable_options() = cfg.options;
    bool ok = stream->Write(first);
    Req req;  // reused: cleared repeated fields keep their allocations
    uint64_t i = 0;
    const bool packed = cfg.options.packed();
    while (ok && i < cfg.items) {
      const uint64_t end = std::min<uint64_t>(cfg.items, i + cfg.batch);
      if (packed) {
        req.mutable_packed_inputs()->clear();
        cfg.packed_input(i, end, req.mutable_packed_inputs());
        i = end;
      } else {
        req.clear_inputs();
        for (; i < end; ++i) cfg.input(i, req.add_inputs());
      }
      ok = stream->Write(req);
    }
    out.writes_ok = ok;
    stream->WritesDone();
  });

  Resp resp;
  uint64_t results = 0;
  while (stream->Read(&resp)) {
    ++out.responses;
    if (resp.blocks_size() == 0) {
      for (const auto& r : resp.results()) on_result(r);
    } else {
      // Merge by index: the next result or the next block, lowest first.
      int ri = 0, bi = 0;
      while (ri < resp.results_size() || bi < resp.blocks_size()) {
        if (bi == resp.blocks_size() ||
            (ri < resp.results_size() &&
             resp.results(ri).index() < resp.blocks(bi).first_index())) {
          on_result(resp.results(ri++));
        } else {
          const v1::ResultBlock& block = resp.blocks(bi++);
          results += block.count();
          if (on_block) on_block(block);
        }
      }
    }
    results += static_cast<uint64_t>(resp.results_size());
    if (after_response) after_response(results);
  }
  writer.join();
  out.status = stream->Finish();
  out.seconds = SecondsSince(t0);
  return out;
}

inline const char* StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "?";
  }
}

// Prints the outcome's problems; returns true when the call and every item
// succeeded and exactly `expected_items` results arrived.
inline bool Verdict(const StreamOutcome& o, const Checker& c, uint64_t expected_items) {
  bool good = true;
  if (!o.status.ok()) {
    std::fprintf(stderr, "RPC failed: %s: %s\n", StatusCodeName(o.status.error_code()),
                 o.status.error_message().c_str());
    good = false;
  }
  if (!o.writes_ok) {
    std::fprintf(stderr, "a write failed (the server ended the call early)\n");
    good = false;
  }
  if (c.received != expected_items) {
    std::fprintf(stderr, "expected %llu results, got %llu\n",
                 static_cast<unsigned long long>(expected_items),
                 static_cast<unsigned long long>(c.received));
    good = false;
  }
  if (c.bad != 0) {
    std::fprintf(stderr, "%llu bad results:\n", static_cast<unsigned long long>(c.bad));
    c.Report(stderr);
    good = false;
  }
  return good;
}

// CPU seconds (user + system) used so far by this process, all threads.
inline double SelfCpuSeconds() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Reads /proc/PID/stat: parent pid and CPU seconds (utime + stime) of the
// process itself (not its children). False if unavailable.
inline bool ReadProcStat(long long pid, long long* ppid, double* cpu_s) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return false;
  char buf[1024];
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // Fields after the parenthesised command name: state ppid pgrp session
  // tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return false;
  long long parent = 0;
  unsigned long long utime = 0, stime = 0;
  if (std::sscanf(p + 1, " %*c %lld %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &parent, &utime,
                  &stime) != 3) {
    return false;
  }
  if (ppid != nullptr) *ppid = parent;
  if (cpu_s != nullptr) {
    *cpu_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  return true;
}

// CPU seconds used so far by process `pid` alone; -1 if unavailable.
inline double ProcessCpuSeconds(long long pid) {
  double cpu = -1;
  return ReadProcStat(pid, nullptr, &cpu) ? cpu : -1;
}

// CPU seconds used so far by `pid` and every live descendant (for pprocd:
// the server, its template and its workers); -1 if `pid` is unavailable.
inline double TreeCpuSeconds(long long root) {
  std::map<long long, std::pair<long long, double>> procs;  // pid -> (ppid, cpu)
  DIR* d = opendir("/proc");
  if (d == nullptr) return -1;
  while (const dirent* e = readdir(d)) {
    char* end = nullptr;
    const long long pid = std::strtoll(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0') continue;
    long long ppid = 0;
    double cpu = 0;
    if (ReadProcStat(pid, &ppid, &cpu)) procs[pid] = {ppid, cpu};
  }
  closedir(d);
  if (procs.count(root) == 0) return -1;
  std::map<long long, bool> in_tree{{root, true}};
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& [pid, info] : procs) {
      if (in_tree.count(pid) == 0 && in_tree.count(info.first) != 0) {
        in_tree[pid] = true;
        grew = true;
      }
    }
  }
  double total = 0;
  for (const auto& entry : in_tree) total += procs[entry.first].second;
  return total;
}

// Reads VmRSS (KiB) of `pid` from /proc; -1 if unavailable.
inline long long ReadVmRssKib(long long pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/status";
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return -1;
  char line[256];
  long long kib = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "VmRSS: %lld kB", &kib) == 1) break;
  }
  std::fclose(f);
  return kib;
}

}  // namespace pprocd_bench
