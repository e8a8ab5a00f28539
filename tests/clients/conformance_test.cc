// The C++ client's conformance runner: every scenario of
// tests/conformance/scenarios.json (the format is in
// tests/conformance/README.md) against a real pprocd, through the public API
// of pprocd::client. One gtest test per scenario, in file order.
//
// Every scenario runs in both forms of items: with the packed form (the
// library's default) on one server, then with the Value form
// (ClientOptions::packed = false) on a second server that has seen the same
// scenarios, so job names and counters start alike. Each run must meet the
// file's expectations, and the two must give the same outcome: statuses
// and messages, results (values, error kinds, messages, logs, whether
// stats are there), messages of Start, jobs' results and final states.
//
// Usage: conformance_test SCENARIOS_JSON [gtest flags]
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "pprocd/client/client.h"
#include "pprocd/client/input_source.h"
#include "pprocd/client/json.h"
#include "tests/util/server_process.h"

namespace pprocd::client {
namespace {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;

// How long the runner waits for an event that comes unless the server hangs.
constexpr absl::Duration kEventLimit = absl::Seconds(60);

// ---------------------------------------------------------------------------
// The file's format, checked strictly: every object's keys must be known, so
// a misspelt expectation fails instead of passing unchecked.

// The member `key` of `object`, or null.
const Value* Member(const Value& object, const std::string& key) {
  if (!object.has_struct_value()) return nullptr;
  const auto& fields = object.struct_value().fields();
  auto it = fields.find(key);
  return it == fields.end() ? nullptr : &it->second;
}

std::string StringOr(const Value& object, const std::string& key, std::string fallback = "") {
  const Value* v = Member(object, key);
  return v != nullptr && v->has_string_value() ? v->string_value() : fallback;
}

bool BoolOr(const Value& object, const std::string& key) {
  const Value* v = Member(object, key);
  return v != nullptr && v->bool_value();
}

double NumberOr(const Value& object, const std::string& key, double fallback = 0) {
  const Value* v = Member(object, key);
  return v != nullptr && v->has_number_value() ? v->number_value() : fallback;
}

// Collects the problems of the file's structure, each with its path.
class Validator {
 public:
  std::vector<std::string> problems;

  // `value` must be an object whose keys are all in `allowed`.
  bool Object(const Value& value, const std::string& path, const std::set<std::string>& allowed) {
    if (!value.has_struct_value()) {
      problems.push_back(absl::StrCat(path, ": not an object"));
      return false;
    }
    for (const auto& [key, unused] : value.struct_value().fields()) {
      if (allowed.count(key) == 0)
        problems.push_back(absl::StrCat(path, ": unknown key \"", key, "\""));
    }
    return true;
  }

  void Kind(const Value* value, Value::KindCase kind, const std::string& path) {
    if (value != nullptr && value->kind_case() != kind) {
      problems.push_back(absl::StrCat(path, ": wrong type"));
    }
  }

  void Number(const Value* value, const std::string& path) {
    Kind(value, Value::kNumberValue, path);
  }
  void String(const Value* value, const std::string& path) {
    Kind(value, Value::kStringValue, path);
  }
  void Bool(const Value* value, const std::string& path) { Kind(value, Value::kBoolValue, path); }

  // A list whose elements `each` checks.
  template <typename Each>
  void List(const Value* value, const std::string& path, Each each) {
    if (value == nullptr) return;
    if (!value->has_list_value()) {
      problems.push_back(absl::StrCat(path, ": not a list"));
      return;
    }
    for (int i = 0; i < value->list_value().values_size(); ++i) {
      each(value->list_value().values(i), absl::StrCat(path, "[", i, "]"));
    }
  }

  void Options(const Value* value, const std::string& path) {
    if (value == nullptr ||
        !Object(*value, path,
                {"limit", "chunksize", "timeout_ms", "isolation", "expected_inputs"})) {
      return;
    }
    for (const char* key : {"limit", "chunksize", "timeout_ms", "expected_inputs"}) {
      Number(Member(*value, key), path + "." + key);
    }
    const std::string isolation = StringOr(*value, "isolation", "POOLED");
    if (isolation != "POOLED" && isolation != "FRESH") {
      problems.push_back(absl::StrCat(path, ".isolation: unknown \"", isolation, "\""));
    }
  }

  void Status(const Value* value, const std::string& path) {
    if (value == nullptr || !Object(*value, path, {"code", "message_contains"})) return;
    String(Member(*value, "code"), path + ".code");
    String(Member(*value, "message_contains"), path + ".message_contains");
  }

  void Result(const Value& value, const std::string& path) {
    if (!Object(value, path,
                {"index", "seq", "last", "value", "error", "stats", "stdout", "stderr"})) {
      return;
    }
    Number(Member(value, "index"), path + ".index");
    Number(Member(value, "seq"), path + ".seq");
    Bool(Member(value, "last"), path + ".last");
    Bool(Member(value, "stats"), path + ".stats");
    String(Member(value, "stdout"), path + ".stdout");
    String(Member(value, "stderr"), path + ".stderr");
    if (const Value* error = Member(value, "error"); error != nullptr) {
      const std::string at = path + ".error";
      if (Object(*error, at,
                 {"kind", "signal", "exit_code", "message_contains", "stderr_contains"})) {
        for (const char* key : {"kind", "signal", "message_contains", "stderr_contains"}) {
          String(Member(*error, key), at + "." + key);
        }
        Number(Member(*error, "exit_code"), at + ".exit_code");
      }
    }
  }

  void Job(const Value* value, const std::string& path) {
    if (value == nullptr ||
        !Object(*value, path,
                {"name", "state", "callable", "items_done", "items_total", "attempts", "error"})) {
      return;
    }
    for (const char* key : {"name", "state", "callable", "error"}) {
      String(Member(*value, key), path + "." + key);
    }
    for (const char* key : {"items_done", "items_total", "attempts"}) {
      Number(Member(*value, key), path + "." + key);
    }
  }

  void Order(const Value* value, const std::string& path) {
    if (value == nullptr) return;
    const std::string order = value->string_value();
    if (order != "input" && order != "per_input" && order != "any") {
      problems.push_back(absl::StrCat(path, ": unknown order \"", order, "\""));
    }
  }

  // An object of number patterns, any keys: a number, or {"min", "max"}.
  void NumberPatterns(const Value* value, const std::string& path) {
    if (value == nullptr) return;
    if (!value->has_struct_value()) {
      problems.push_back(absl::StrCat(path, ": not an object"));
      return;
    }
    for (const auto& [name, pattern] : value->struct_value().fields()) {
      const std::string at = absl::StrCat(path, ".", name);
      if (pattern.has_number_value()) continue;
      if (Object(pattern, at, {"min", "max"})) {
        Number(Member(pattern, "min"), at + ".min");
        Number(Member(pattern, "max"), at + ".max");
      }
    }
  }

  void Expect(const Value& value, const std::string& rpc, const std::string& path) {
    if (!Object(value, path,
                {"status", "order", "results", "messages", "result", "job", "jobs", "first_seq",
                 "includes", "fields", "delta", "value"})) {
      return;
    }
    Status(Member(value, "status"), path + ".status");
    Order(Member(value, "order"), path + ".order");
    List(Member(value, "results"), path + ".results",
         [this](const Value& v, const std::string& at) { Result(v, at); });
    List(Member(value, "messages"), path + ".messages", [](const Value&, const std::string&) {});
    if (const Value* result = Member(value, "result"); result != nullptr) {
      Result(*result, path + ".result");
    }
    Job(Member(value, "job"), path + ".job");
    Number(Member(value, "first_seq"), path + ".first_seq");
    if (const Value* jobs = Member(value, "jobs"); jobs != nullptr) {
      if (rpc == "ListJobs") {
        List(jobs, path + ".jobs", [this](const Value& v, const std::string& at) { Job(&v, at); });
      } else if (jobs->has_struct_value()) {
        for (const auto& [name, stream] : jobs->struct_value().fields()) {
          const std::string at = absl::StrCat(path, ".jobs.", name);
          if (!Object(stream, at, {"order", "results", "final"})) continue;
          Order(Member(stream, "order"), at + ".order");
          List(Member(stream, "results"), at + ".results",
               [this](const Value& v, const std::string& p) { Result(v, p); });
          Job(Member(stream, "final"), at + ".final");
        }
      } else {
        problems.push_back(path + ".jobs: not an object");
      }
    }
    List(Member(value, "includes"), path + ".includes",
         [this](const Value& v, const std::string& at) {
           if (!Object(v, at, {"name", "kind", "origin", "parameters"})) return;
           String(Member(v, "name"), at + ".name");
           String(Member(v, "kind"), at + ".kind");
           String(Member(v, "origin"), at + ".origin");
           List(Member(v, "parameters"), at + ".parameters",
                [this](const Value& p, const std::string& pat) {
                  if (!Object(p, pat, {"name", "type", "required", "default"})) return;
                  String(Member(p, "name"), pat + ".name");
                  String(Member(p, "type"), pat + ".type");
                  Bool(Member(p, "required"), pat + ".required");
                });
         });
    NumberPatterns(Member(value, "fields"), path + ".fields");
    NumberPatterns(Member(value, "delta"), path + ".delta");
  }

  void Step(const Value& value, const std::string& path) {
    if (!Object(
            value, path,
            {"rpc", "client", "callable", "inputs", "arguments", "options", "cancel", "exchange",
             "name", "ordered", "jobs", "after_seq", "job", "state", "value", "until", "expect"})) {
      return;
    }
    static const std::set<std::string> kRpcs = {
        "Map",       "Queue",     "Start",    "Submit",        "Reconnect", "GetJob",
        "CancelJob", "DeleteJob", "ListJobs", "ListCallables", "GetStatus", "Echo"};
    const std::string rpc = StringOr(value, "rpc");
    if (kRpcs.count(rpc) == 0)
      problems.push_back(absl::StrCat(path, ": unknown rpc \"", rpc, "\""));
    const std::string client = StringOr(value, "client");
    if (!client.empty() && client != "own") {
      problems.push_back(absl::StrCat(path, ": unknown client \"", client, "\""));
    }
    for (const char* key : {"callable", "name", "job", "state", "client"}) {
      String(Member(value, key), path + "." + key);
    }
    for (const char* key : {"ordered", "until"}) Bool(Member(value, key), path + "." + key);
    Number(Member(value, "after_seq"), path + ".after_seq");
    List(Member(value, "inputs"), path + ".inputs", [](const Value&, const std::string&) {});
    List(Member(value, "jobs"), path + ".jobs",
         [this](const Value& v, const std::string& at) { String(&v, at); });
    Options(Member(value, "options"), path + ".options");
    if (const Value* cancel = Member(value, "cancel"); cancel != nullptr) {
      if (Object(*cancel, path + ".cancel", {"indices", "when_running"})) {
        List(Member(*cancel, "indices"), path + ".cancel.indices",
             [this](const Value& v, const std::string& at) { Number(&v, at); });
        Number(Member(*cancel, "when_running"), path + ".cancel.when_running");
      }
    }
    List(Member(value, "exchange"), path + ".exchange",
         [this](const Value& v, const std::string& at) {
           if (!Object(v, at, {"send", "receive", "close", "cancel"})) return;
           Bool(Member(v, "close"), at + ".close");
           Bool(Member(v, "cancel"), at + ".cancel");
           if (v.struct_value().fields_size() != 1) {
             problems.push_back(absl::StrCat(at, ": exactly one of send, receive, close, cancel"));
           }
         });
    const Value* expect = Member(value, "expect");
    if (expect == nullptr) {
      problems.push_back(path + ": no expect");
    } else {
      Expect(*expect, rpc, path + ".expect");
    }
  }

  void File(const Value& root) {
    if (!Object(root, "file", {"format", "server", "scenarios"})) return;
    if (NumberOr(root, "format") != 1) {
      problems.push_back("format is not 1; this runner reads format 1");
    }
    if (const Value* server = Member(root, "server"); server != nullptr) {
      if (Object(*server, "server", {"workers"}))
        Number(Member(*server, "workers"), "server.workers");
    }
    std::set<std::string> names;
    List(Member(root, "scenarios"), "scenarios", [&](const Value& s, const std::string& at) {
      if (!Object(s, at, {"name", "description", "steps"})) return;
      const std::string name = StringOr(s, "name");
      if (name.empty() || !names.insert(name).second) {
        problems.push_back(absl::StrCat(at, ": name \"", name, "\" is empty or repeated"));
      }
      List(Member(s, "steps"), at + ".steps",
           [this](const Value& st, const std::string& p) { Step(st, p); });
    });
  }
};

// ---------------------------------------------------------------------------
// Comparisons.

// JSON equality: numbers by value, objects regardless of key order; an unset
// Value is null.
bool SameJson(const Value& a, const Value& b) {
  auto kind = [](const Value& v) {
    return v.kind_case() == Value::KIND_NOT_SET ? Value::kNullValue : v.kind_case();
  };
  if (kind(a) != kind(b)) return false;
  switch (kind(a)) {
    case Value::kNullValue:
      return true;
    case Value::kNumberValue:
      return a.number_value() == b.number_value();
    case Value::kStringValue:
      return a.string_value() == b.string_value();
    case Value::kBoolValue:
      return a.bool_value() == b.bool_value();
    case Value::kListValue: {
      const ListValue& x = a.list_value();
      const ListValue& y = b.list_value();
      if (x.values_size() != y.values_size()) return false;
      for (int i = 0; i < x.values_size(); ++i) {
        if (!SameJson(x.values(i), y.values(i))) return false;
      }
      return true;
    }
    case Value::kStructValue: {
      const auto& x = a.struct_value().fields();
      const auto& y = b.struct_value().fields();
      if (x.size() != y.size()) return false;
      for (const auto& [key, value] : x) {
        auto it = y.find(key);
        if (it == y.end() || !SameJson(value, it->second)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

std::string Json(const Value& value) { return ValueToJson(value); }

// An enum value's name without its prefix (JOB_STATE_FAILED -> FAILED).
std::string Trim(const std::string& name, absl::string_view prefix) {
  return absl::StartsWith(name, prefix) ? name.substr(prefix.size()) : name;
}

std::optional<absl::StatusCode> CodeNamed(const std::string& name) {
  for (int code = 0; code <= 16; ++code) {
    if (absl::StatusCodeToString(static_cast<absl::StatusCode>(code)) == name) {
      return static_cast<absl::StatusCode>(code);
    }
  }
  return std::nullopt;
}

std::string Describe(const v1::ItemResult& result) {
  std::string outcome;
  if (result.has_error()) {
    outcome = absl::StrCat("error ", v1::ErrorKind_Name(result.error().kind()), " ",
                           result.error().message());
  } else {
    outcome = absl::StrCat("value ", Json(result.value()));
  }
  return absl::StrCat("{index ", result.index(), " seq ", result.seq(), " last ",
                      result.last() ? "true" : "false", " ", outcome, "}");
}

std::string Describe(const std::vector<v1::ItemResult>& results) {
  std::vector<std::string> parts;
  for (const v1::ItemResult& result : results) parts.push_back(Describe(result));
  return absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
}

// What `result` does not match of `pattern` (a result pattern).
// `chunk_stats`: the result's figures came in its chunk's totals (the
// packed form's default), with the worker's pid.
std::vector<std::string> ResultMismatches(const Value& pattern, const v1::ItemResult& result,
                                          bool chunk_stats = false) {
  std::vector<std::string> out;
  if (const Value* index = Member(pattern, "index");
      index != nullptr && static_cast<double>(result.index()) != index->number_value()) {
    out.push_back(absl::StrCat("index ", result.index(), ", want ", index->number_value()));
  }
  if (const Value* seq = Member(pattern, "seq");
      seq != nullptr && static_cast<double>(result.seq()) != seq->number_value()) {
    out.push_back(absl::StrCat("seq ", result.seq(), ", want ", seq->number_value()));
  }
  if (const Value* last = Member(pattern, "last");
      last != nullptr && result.last() != last->bool_value()) {
    out.push_back(absl::StrCat("last ", result.last(), ", want ", last->bool_value()));
  }
  if (const Value* value = Member(pattern, "value"); value != nullptr) {
    if (result.has_error()) {
      out.push_back(absl::StrCat("error ", v1::ErrorKind_Name(result.error().kind()), " (",
                                 result.error().message(), "), want value ", Json(*value)));
    } else if (!result.has_value()) {
      out.push_back(absl::StrCat("no value, want ", Json(*value)));
    } else if (!SameJson(*value, result.value())) {
      out.push_back(absl::StrCat("value ", Json(result.value()), ", want ", Json(*value)));
    }
  }
  if (const Value* error = Member(pattern, "error"); error != nullptr) {
    if (!result.has_error()) {
      out.push_back(absl::StrCat("value ", Json(result.value()), ", want an error ",
                                 StringOr(*error, "kind")));
    } else {
      const v1::ItemError& e = result.error();
      const std::string kind = StringOr(*error, "kind");
      const std::string got_kind = Trim(v1::ErrorKind_Name(e.kind()), "ERROR_KIND_");
      if (!kind.empty() && got_kind != kind) {
        out.push_back(
            absl::StrCat("error kind ", got_kind, ", want ", kind, " (", e.message(), ")"));
      }
      const std::string signal = StringOr(*error, "signal");
      if (!signal.empty() && e.signal() != signal) {
        out.push_back(absl::StrCat("signal \"", e.signal(), "\", want \"", signal, "\""));
      }
      if (const Value* code = Member(*error, "exit_code");
          code != nullptr && static_cast<double>(e.exit_code()) != code->number_value()) {
        out.push_back(absl::StrCat("exit code ", e.exit_code(), ", want ", code->number_value()));
      }
      const std::string message = StringOr(*error, "message_contains");
      if (!absl::StrContains(e.message(), message)) {
        out.push_back(
            absl::StrCat("message \"", e.message(), "\" does not contain \"", message, "\""));
      }
      const std::string tail = StringOr(*error, "stderr_contains");
      if (!absl::StrContains(e.stderr_tail(), tail)) {
        out.push_back(
            absl::StrCat("stderr tail \"", e.stderr_tail(), "\" does not contain \"", tail, "\""));
      }
    }
  }
  if (BoolOr(pattern, "stats") && !chunk_stats &&
      (!result.has_stats() || result.stats().worker_pid() <= 0)) {
    out.push_back("no stats (with the worker's pid)");
  }
  for (const auto& [name, stream] :
       {std::pair<const char*, v1::LogStream>{"stdout", v1::LOG_STREAM_STDOUT},
        std::pair<const char*, v1::LogStream>{"stderr", v1::LOG_STREAM_STDERR}}) {
    const Value* want = Member(pattern, name);
    if (want == nullptr) continue;
    std::string got;
    for (const v1::LogRecord& record : result.logs()) {
      if (record.stream() == stream) got += record.data();
    }
    if (got != want->string_value()) {
      out.push_back(absl::StrCat(name, " \"", got, "\", want \"", want->string_value(), "\""));
    }
  }
  return out;
}

std::vector<std::string> JobMismatches(const Value& pattern, const v1::Job& job) {
  std::vector<std::string> out;
  auto text = [&](const char* key, const std::string& got) {
    if (const Value* want = Member(pattern, key); want != nullptr && got != want->string_value()) {
      out.push_back(absl::StrCat(key, " \"", got, "\", want \"", want->string_value(), "\""));
    }
  };
  auto number = [&](const char* key, double got) {
    if (const Value* want = Member(pattern, key); want != nullptr && got != want->number_value()) {
      out.push_back(absl::StrCat(key, " ", got, ", want ", want->number_value()));
    }
  };
  text("name", job.name());
  text("state", Trim(v1::JobState_Name(job.state()), "JOB_STATE_"));
  text("callable", job.callable());
  text("error", job.error());
  number("items_done", static_cast<double>(job.items_done()));
  number("items_total", static_cast<double>(job.items_total()));
  number("attempts", job.attempts());
  return out;
}

bool NumberMatches(const Value& pattern, double got) {
  if (pattern.has_number_value()) return got == pattern.number_value();
  if (const Value* min = Member(pattern, "min"); min != nullptr && got < min->number_value()) {
    return false;
  }
  if (const Value* max = Member(pattern, "max"); max != nullptr && got > max->number_value()) {
    return false;
  }
  return true;
}

// A GetStatusResponse field by its name in the contract, or nullopt.
std::optional<double> StatusField(const v1::GetStatusResponse& status, const std::string& name) {
  const google::protobuf::FieldDescriptor* field =
      v1::GetStatusResponse::descriptor()->FindFieldByName(name);
  if (field == nullptr) return std::nullopt;
  const google::protobuf::Reflection* reflection = status.GetReflection();
  switch (field->cpp_type()) {
    case google::protobuf::FieldDescriptor::CPPTYPE_UINT32:
      return reflection->GetUInt32(status, field);
    case google::protobuf::FieldDescriptor::CPPTYPE_UINT64:
      return static_cast<double>(reflection->GetUInt64(status, field));
    case google::protobuf::FieldDescriptor::CPPTYPE_INT32:
      return reflection->GetInt32(status, field);
    case google::protobuf::FieldDescriptor::CPPTYPE_INT64:
      return static_cast<double>(reflection->GetInt64(status, field));
    default:
      return std::nullopt;
  }
}

std::vector<Value> ListOf(const Value* list) {
  std::vector<Value> out;
  if (list != nullptr) {
    for (const Value& v : list->list_value().values()) out.push_back(v);
  }
  return out;
}

bool FinalState(v1::JobState state) {
  return state == v1::JOB_STATE_SUCCEEDED || state == v1::JOB_STATE_FAILED ||
         state == v1::JOB_STATE_CANCELLED || state == v1::JOB_STATE_INTERRUPTED;
}

// ---------------------------------------------------------------------------
// The runner.

// The two forms of items a scenario runs in.
enum Form { kPacked = 0, kValueForm = 1 };
constexpr Form kForms[] = {kPacked, kValueForm};

const char* FormName(Form form) { return form == kPacked ? "packed form" : "Value form"; }

ClientOptions OptionsFor(Form form) {
  ClientOptions options;
  options.packed = form == kPacked;
  return options;
}

// The scenario file and the server of each form, on which every scenario
// runs in that form.
struct Shared {
  Value file;
  std::string load_error;
  std::vector<std::string> problems;
  std::unique_ptr<testing::ServerProcess> server[2];
  std::string server_error[2];
  std::unique_ptr<Client> client[2];
};

Shared& State() {
  static Shared* shared = new Shared();
  return *shared;
}

// After the last scenario: each form's client, then its server (which
// takes its temporary directory with it).
void StopServers() {
  Shared& shared = State();
  for (int form = 0; form < 2; ++form) {
    shared.client[form].reset();
    shared.server[form].reset();
  }
}

// The inputs of a Map or Queue step with "cancel": gives every input, then
// waits in Next() until Cancel() names the inputs to cancel, hands them over
// and ends (RunItems then sends them and half-closes).
class CancellingSource final : public InputSource {
 public:
  explicit CancellingSource(std::vector<Value> values) : values_(std::move(values)) {}

  absl::StatusOr<bool> Next(Value* value) override {
    if (next_ < values_.size()) {
      *value = values_[next_++];
      return true;
    }
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&released_));
    return false;
  }
  bool NextIsReady() override { return next_ < values_.size(); }
  void Interrupt() override { Cancel({}); }
  std::vector<uint64_t> TakeCancellations() override {
    absl::MutexLock lock(&mu_);
    return std::exchange(cancel_, {});
  }

  // Releases the waiting Next() with `indices` to cancel.
  void Cancel(std::vector<uint64_t> indices) {
    absl::MutexLock lock(&mu_);
    if (released_) return;
    cancel_ = std::move(indices);
    released_ = true;
  }

 private:
  const std::vector<Value> values_;
  size_t next_ = 0;  // Writer thread only.
  absl::Mutex mu_;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<uint64_t> cancel_ ABSL_GUARDED_BY(mu_);
};

// Runs one scenario's steps in one form, recording failures with the form
// and the step's name, and what each step gave in a transcript.
class Runner {
 public:
  Runner(const Client& client, const std::string& target, Form form)
      : client_(client), target_(target), form_(form) {}

  void Run(const Value& scenario) {
    before_ = WaitIdle();
    const std::vector<Value> steps = ListOf(Member(scenario, "steps"));
    for (size_t i = 0; i < steps.size(); ++i) {
      const Value& st = steps[i];
      step_ = absl::StrCat("step ", i, " (", StringOr(st, "rpc"), ")");
      Note("");
      Step(st);
      if (failed_) break;
    }
  }

  // What the steps gave, one line per fact, in a form both forms of items
  // must agree on: job ids replaced by the jobs' names, worker pids (in
  // error messages) by "<pid>".
  std::vector<std::string> Transcript() const {
    static const std::regex kWorkerPid("worker [0-9]+");
    std::vector<std::string> out;
    for (std::string line : transcript_) {
      for (const auto& [name, id] : job_ids_) absl::StrReplaceAll({{id, "<" + name + ">"}}, &line);
      out.push_back(std::regex_replace(line, kWorkerPid, "worker <pid>"));
    }
    return out;
  }

 private:
  void Errorf(const std::string& message) {
    failed_ = true;
    ADD_FAILURE() << FormName(form_) << ": " << step_ << ": " << message;
  }

  // Adds `fact` about the current step to the transcript.
  void Note(const std::string& fact) {
    transcript_.push_back(fact.empty() ? step_ : absl::StrCat("  ", fact));
  }

  // One result as the transcript holds it: everything the user sees but
  // the figures, of which only whether they are there.
  void NoteResult(const v1::ItemResult& result, bool chunk_stats, bool with_stats = true) {
    std::string line = absl::StrCat("index ", result.index(), " seq ", result.seq(), " last ",
                                    result.last() ? "true" : "false");
    if (result.has_error()) {
      const v1::ItemError& e = result.error();
      absl::StrAppend(&line, " error ", v1::ErrorKind_Name(e.kind()), " signal \"", e.signal(),
                      "\" exit ", e.exit_code(), " message \"", e.message(), "\" stderr \"",
                      e.stderr_tail(), "\"");
    } else if (result.outcome_case() == v1::ItemResult::kData) {
      absl::StrAppend(&line, " data ", result.data().size(), " bytes");
    } else {
      absl::StrAppend(&line, " value ", Json(result.value()));
    }
    for (const v1::LogRecord& record : result.logs()) {
      absl::StrAppend(&line, " log ", v1::LogStream_Name(record.stream()), " \"", record.data(),
                      "\"");
    }
    const bool stats = chunk_stats || (result.has_stats() && result.stats().worker_pid() > 0);
    if (with_stats) absl::StrAppend(&line, stats ? " stats" : " no stats");
    Note(line);
  }

  // Notes `results` in an order that does not depend on timing: as they
  // came ("input"), else by index (and seq).
  static std::vector<v1::ItemResult> SortedForNotes(const std::string& order,
                                                    std::vector<v1::ItemResult> results) {
    if (order != "input") {
      std::stable_sort(results.begin(), results.end(),
                       [](const v1::ItemResult& a, const v1::ItemResult& b) {
                         return a.index() != b.index() ? a.index() < b.index() : a.seq() < b.seq();
                       });
    }
    return results;
  }

  void NoteResults(const std::string& order, std::vector<v1::ItemResult> results,
                   const std::set<uint64_t>& chunk_stats) {
    for (const v1::ItemResult& result : SortedForNotes(order, std::move(results))) {
      NoteResult(result, chunk_stats.count(result.index()) > 0 && !result.has_error());
    }
  }

  void NoteStatus(const absl::Status& status) {
    Note(absl::StrCat("status ", absl::StatusCodeToString(status.code()), " \"", status.message(),
                      "\""));
  }

  void NoteJob(const v1::Job& job) {
    Note(absl::StrCat("job name \"", job.name(), "\" state ", v1::JobState_Name(job.state()),
                      " items ", job.items_done(), "/", job.items_total(), " callable ",
                      job.callable(), " error \"", job.error(), "\""));
  }

  // Waits until `holds` is true of the server's status, up to kEventLimit.
  template <typename Holds>
  v1::GetStatusResponse WaitStatus(Holds holds, const std::string& what) {
    const absl::Time deadline = absl::Now() + kEventLimit;
    while (true) {
      absl::StatusOr<v1::GetStatusResponse> status = client_.GetStatus();
      if (status.ok() && holds(*status)) return *status;
      if (absl::Now() > deadline) {
        Errorf(absl::StrCat("gave up waiting for ", what, ": ",
                            status.ok() ? status->ShortDebugString() : status.status().ToString()));
        return status.ok() ? *status : v1::GetStatusResponse();
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  v1::GetStatusResponse WaitIdle() {
    return WaitStatus(
        [](const v1::GetStatusResponse& s) {
          return s.items_running() == 0 && s.items_queued() == 0 && s.calls_active() == 0;
        },
        "an idle server");
  }

  // The shared client, or for "client": "own" one of its own in `own`.
  const Client& ClientFor(const Value& st, std::unique_ptr<Client>* own) {
    if (StringOr(st, "client") != "own") return client_;
    *own = std::make_unique<Client>(target_, OptionsFor(form_));
    return **own;
  }

  // Compares a step's outcome with its expected status (none: OK); false
  // when the step failed, expectedly or not.
  bool CheckStatus(const Value& st, const absl::Status& status) {
    NoteStatus(status);
    const Value* want = Member(*Member(st, "expect"), "status");
    absl::StatusCode want_code = absl::StatusCode::kOk;
    if (want != nullptr) {
      std::optional<absl::StatusCode> code = CodeNamed(StringOr(*want, "code"));
      if (!code) {
        Errorf(absl::StrCat("bad expected status code \"", StringOr(*want, "code"), "\""));
        return false;
      }
      want_code = *code;
    }
    if (status.code() != want_code) {
      Errorf(absl::StrCat("status ", absl::StatusCodeToString(status.code()), " (\"",
                          status.message(), "\"), want ", absl::StatusCodeToString(want_code)));
      return false;
    }
    if (want != nullptr) {
      const std::string contains = StringOr(*want, "message_contains");
      if (!absl::StrContains(status.message(), contains)) {
        Errorf(absl::StrCat("status message \"", status.message(), "\" does not contain \"",
                            contains, "\""));
      }
    }
    return status.ok();
  }

  static v1::CallOptions Options(const Value& st) {
    v1::CallOptions options;
    const Value* o = Member(st, "options");
    if (o == nullptr) return options;
    options.set_limit(static_cast<uint32_t>(NumberOr(*o, "limit")));
    options.set_chunksize(static_cast<uint32_t>(NumberOr(*o, "chunksize")));
    options.set_timeout_ms(static_cast<uint32_t>(NumberOr(*o, "timeout_ms")));
    options.set_expected_inputs(static_cast<uint64_t>(NumberOr(*o, "expected_inputs")));
    const std::string isolation = StringOr(*o, "isolation");
    if (isolation == "FRESH") options.set_isolation(v1::ISOLATION_FRESH);
    if (isolation == "POOLED") options.set_isolation(v1::ISOLATION_POOLED);
    return options;
  }

  void Step(const Value& st) {
    const std::string rpc = StringOr(st, "rpc");
    if (rpc == "Map" || rpc == "Queue") return RunCall(st);
    if (rpc == "Start") return RunStart(st);
    if (rpc == "Submit") return RunSubmit(st);
    if (rpc == "Reconnect") return RunReconnect(st);
    if (rpc == "GetJob" || rpc == "CancelJob" || rpc == "DeleteJob") return RunJobRpc(st);
    if (rpc == "ListJobs") return RunListJobs(st);
    if (rpc == "ListCallables") return RunListCallables(st);
    if (rpc == "GetStatus") return RunGetStatus(st);
    if (rpc == "Echo") return RunEcho(st);
    Errorf(absl::StrCat("unknown rpc \"", rpc, "\""));
  }

  void RunCall(const Value& st) {
    std::unique_ptr<Client> own;
    const Client& client = ClientFor(st, &own);
    const CallKind kind = StringOr(st, "rpc") == "Map" ? CallKind::kMap : CallKind::kQueue;
    std::vector<v1::ItemResult> results;
    const ResultSink collect = [&](const v1::ItemResult& result) {
      results.push_back(result);
      return absl::OkStatus();
    };
    // Inputs whose figures came in their chunk's totals (the packed form's
    // default), with the worker's pid.
    std::set<uint64_t> chunk_stats;
    const ChunkStatsSink chunks = [&](uint64_t first, uint32_t count, const v1::ItemStats& stats) {
      if (stats.worker_pid() <= 0) return;
      for (uint64_t i = first; i < first + count; ++i) chunk_stats.insert(i);
    };
    absl::Status status;
    if (const Value* cancel = Member(st, "cancel"); cancel == nullptr) {
      ValueListSource inputs(ListOf(Member(st, "inputs")));
      status = client.RunItems(kind, StringOr(st, "callable"), Options(st), inputs, collect,
                               nullptr, chunks);
    } else {
      // The call runs on a thread of its own while this one waits for the
      // items to run, then cancels them.
      CancellingSource inputs(ListOf(Member(st, "inputs")));
      std::thread call([&] {
        status = client.RunItems(kind, StringOr(st, "callable"), Options(st), inputs, collect,
                                 nullptr, chunks);
      });
      const double when_running = NumberOr(*cancel, "when_running");
      WaitStatus(
          [&](const v1::GetStatusResponse& s) {
            return static_cast<double>(s.items_running()) >= when_running;
          },
          absl::StrCat(when_running, " items running"));
      std::vector<uint64_t> indices;
      for (const Value& index : ListOf(Member(*cancel, "indices"))) {
        indices.push_back(static_cast<uint64_t>(index.number_value()));
      }
      inputs.Cancel(std::move(indices));
      call.join();
    }
    if (!CheckStatus(st, status)) return;
    const Value& expect = *Member(st, "expect");
    const std::string order = StringOr(expect, "order", "input");
    CheckResults("results", order, ListOf(Member(expect, "results")), results, chunk_stats);
    NoteResults(order, std::move(results), chunk_stats);
  }

  // Compares results with patterns: in the same order ("input"), in order
  // within each input ("per_input"), or as a set ("any").
  void CheckResults(const std::string& what, const std::string& order,
                    const std::vector<Value>& patterns, const std::vector<v1::ItemResult>& results,
                    const std::set<uint64_t>& chunk_stats = {}) {
    const auto mismatches = [&](const Value& pattern, const v1::ItemResult& result) {
      return ResultMismatches(pattern, result,
                              !result.has_error() && chunk_stats.count(result.index()) > 0);
    };
    if (results.size() != patterns.size()) {
      Errorf(absl::StrCat(what, ": ", results.size(), " results, want ", patterns.size(), ": ",
                          Describe(results)));
      return;
    }
    if (order == "input") {
      for (size_t i = 0; i < results.size(); ++i) {
        std::vector<std::string> problems = mismatches(patterns[i], results[i]);
        if (!problems.empty()) {
          Errorf(absl::StrCat(what, "[", i, "]: ", absl::StrJoin(problems, "; ")));
        }
      }
    } else if (order == "per_input") {
      std::map<uint64_t, std::vector<v1::ItemResult>> by_index;
      for (const v1::ItemResult& result : results) by_index[result.index()].push_back(result);
      std::map<uint64_t, std::vector<Value>> wanted;
      for (const Value& pattern : patterns) {
        const Value* index = Member(pattern, "index");
        if (index == nullptr) {
          Errorf(what + ": order per_input needs an index in every pattern");
          return;
        }
        wanted[static_cast<uint64_t>(index->number_value())].push_back(pattern);
      }
      for (const auto& [index, want] : wanted) {
        const std::vector<v1::ItemResult>& got = by_index[index];
        if (got.size() != want.size()) {
          Errorf(absl::StrCat(what, ": input ", index, ": ", got.size(), " results, want ",
                              want.size(), ": ", Describe(got)));
          continue;
        }
        for (size_t i = 0; i < got.size(); ++i) {
          std::vector<std::string> problems = mismatches(want[i], got[i]);
          if (!problems.empty()) {
            Errorf(absl::StrCat(what, ": input ", index, ", result ", i, ": ",
                                absl::StrJoin(problems, "; ")));
          }
        }
      }
    } else if (order == "any") {
      std::vector<bool> used(patterns.size(), false);
      for (const v1::ItemResult& result : results) {
        bool matched = false;
        for (size_t i = 0; i < patterns.size() && !matched; ++i) {
          if (!used[i] && mismatches(patterns[i], result).empty()) {
            used[i] = true;
            matched = true;
          }
        }
        if (!matched) Errorf(absl::StrCat(what, ": no expected result matches ", Describe(result)));
      }
    } else {
      Errorf(absl::StrCat("unknown order \"", order, "\""));
    }
  }

  void RunStart(const Value& st) {
    std::unique_ptr<Client> own;
    const Client& client = ClientFor(st, &own);
    const Value* arguments = Member(st, "arguments");
    Value null_value;
    null_value.set_null_value(google::protobuf::NULL_VALUE);
    absl::StatusOr<std::unique_ptr<StartCall>> started = client.Start(
        StringOr(st, "callable"), arguments != nullptr ? *arguments : null_value, Options(st));
    if (!started.ok()) {
      CheckStatus(st, started.status());
      return;
    }
    StartCall& call = **started;
    bool closed = false;
    const std::vector<Value> exchange = ListOf(Member(st, "exchange"));
    for (size_t i = 0; i < exchange.size(); ++i) {
      const Value& x = exchange[i];
      if (const Value* send = Member(x, "send"); send != nullptr) {
        if (!call.Send(*send)) {
          Errorf(absl::StrCat("exchange ", i, ": Send failed: the call has ended"));
          return;
        }
      } else if (const Value* receive = Member(x, "receive"); receive != nullptr) {
        absl::StatusOr<std::optional<Value>> got = call.Receive();
        if (!got.ok() || !got->has_value()) {
          Errorf(absl::StrCat("exchange ", i, ": Receive: ",
                              got.ok() ? "the invocation ended" : got.status().ToString(),
                              ", want ", Json(*receive)));
          return;
        }
        Note("received " + Json(**got));
        if (!SameJson(*receive, **got)) {
          Errorf(
              absl::StrCat("exchange ", i, ": received ", Json(**got), ", want ", Json(*receive)));
        }
      } else if (BoolOr(x, "close")) {
        call.CloseSend();
        closed = true;
      } else if (BoolOr(x, "cancel")) {
        call.Cancel();
        closed = true;
      } else {
        Errorf(absl::StrCat("exchange ", i, ": nothing to do"));
      }
    }
    if (!closed) call.CloseSend();
    std::vector<Value> messages;
    absl::Status end;
    while (true) {
      absl::StatusOr<std::optional<Value>> got = call.Receive();
      if (!got.ok()) {
        end = got.status();
        break;
      }
      if (!got->has_value()) break;
      messages.push_back(**got);
    }
    if (!CheckStatus(st, end)) return;
    for (const Value& message : messages) Note("message " + Json(message));
    NoteResult(call.result(), false);
    const Value& expect = *Member(st, "expect");
    const std::vector<Value> want = ListOf(Member(expect, "messages"));
    bool same = want.size() == messages.size();
    for (size_t i = 0; same && i < want.size(); ++i) same = SameJson(want[i], messages[i]);
    if (!same) {
      std::vector<std::string> got_text, want_text;
      for (const Value& m : messages) got_text.push_back(Json(m));
      for (const Value& m : want) want_text.push_back(Json(m));
      Errorf(absl::StrCat("messages [", absl::StrJoin(got_text, ","), "], want [",
                          absl::StrJoin(want_text, ","), "]"));
    }
    if (const Value* result = Member(expect, "result"); result != nullptr) {
      std::vector<std::string> problems = ResultMismatches(*result, call.result());
      if (!problems.empty()) Errorf("result: " + absl::StrJoin(problems, "; "));
    }
  }

  // Submit; for "client": "own" from a connection of its own, closed (the
  // client destroyed) before the next step.
  void RunSubmit(const Value& st) {
    v1::SubmitRequest request;
    request.set_callable(StringOr(st, "callable"));
    for (const Value& input : ListOf(Member(st, "inputs"))) *request.add_inputs() = input;
    *request.mutable_options() = Options(st);
    request.set_name(StringOr(st, "name"));
    request.set_ordered(BoolOr(st, "ordered"));
    absl::StatusOr<v1::Job> job;
    {
      std::unique_ptr<Client> own;
      job = ClientFor(st, &own).Submit(request);
    }
    if (!CheckStatus(st, job.status())) return;
    NoteJob(*job);
    if (!request.name().empty()) job_ids_[request.name()] = job->id();
    if (const Value* want = Member(*Member(st, "expect"), "job"); want != nullptr) {
      CheckJob("job", *want, *job);
    }
  }

  void CheckJob(const std::string& what, const Value& want, const v1::Job& job) {
    std::vector<std::string> problems = JobMismatches(want, job);
    if (!problems.empty()) {
      Errorf(absl::StrCat(what, " ", job.id(), ": ", absl::StrJoin(problems, "; ")));
    }
  }

  void RunReconnect(const Value& st) {
    std::unique_ptr<Client> own;
    const Client& client = ClientFor(st, &own);
    const Value& expect = *Member(st, "expect");
    const Value* wanted = Member(expect, "jobs");
    std::vector<std::string> names;
    for (const Value& v : ListOf(Member(st, "jobs"))) names.push_back(v.string_value());
    // Outputs name jobs by id: find each named job's.
    std::map<std::string, std::string> name_of;
    v1::ReconnectRequest request;
    for (const std::string& name : names) {
      std::string id;
      if (auto it = job_ids_.find(name); it != job_ids_.end()) {
        id = it->second;
      } else {
        absl::StatusOr<v1::Job> job = client.GetJob(name);
        if (!job.ok()) {
          Errorf(absl::StrCat("GetJob \"", name, "\": ", job.status().ToString()));
          return;
        }
        id = job->id();
      }
      name_of[id] = name;
      request.add_jobs(name);
    }
    const uint64_t after_seq = static_cast<uint64_t>(NumberOr(st, "after_seq"));
    request.set_after_seq(after_seq);
    std::map<std::string, std::vector<v1::ReconnectResponse>> outputs;
    absl::Status status = client.Reconnect(request, [&](const v1::ReconnectResponse& output) {
      auto it = name_of.find(output.job_id());
      if (it == name_of.end()) {
        Errorf(absl::StrCat("an output of job \"", output.job_id(), "\", which was not asked for"));
      } else {
        outputs[it->second].push_back(output);
      }
      return absl::OkStatus();
    });
    if (!CheckStatus(st, status)) return;
    for (const std::string& name : names) {
      const std::vector<v1::ReconnectResponse>& got = outputs[name];
      // Structure: seqs run on from after_seq without gap or repeat, the last
      // output is the job in a final state.
      for (size_t i = 0; i < got.size(); ++i) {
        if (got[i].seq() != after_seq + i + 1) {
          Errorf(absl::StrCat("job ", name, ": output ", i, " has seq ", got[i].seq(), ", want ",
                              after_seq + i + 1));
          break;
        }
        if (got[i].has_result() == got[i].has_job()) {
          Errorf(absl::StrCat("job ", name, ": output ", i, " is neither a result nor a job"));
        }
      }
      if (got.empty()) {
        Errorf(absl::StrCat("job ", name, ": no outputs"));
        continue;
      }
      if (const Value* first = Member(expect, "first_seq");
          first != nullptr && static_cast<double>(got[0].seq()) != first->number_value()) {
        Errorf(absl::StrCat("job ", name, ": first seq ", got[0].seq(), ", want ",
                            first->number_value()));
      }
      const v1::ReconnectResponse& last = got.back();
      if (!last.has_job() || !FinalState(last.job().state()) || last.progress()) {
        Errorf(absl::StrCat("job ", name, ": the last output is not the job in a final state"));
        continue;
      }
      const Value* want = wanted != nullptr ? Member(*wanted, name) : nullptr;
      if (want == nullptr) continue;
      std::vector<v1::ItemResult> results;
      for (const v1::ReconnectResponse& output : got) {
        if (output.has_result()) results.push_back(output.result());
      }
      // Stats are left out: a job's successes carry their own only when
      // asked for in the packed form (ITEM_STATS_PER_ITEM).
      Note("job " + name);
      for (const v1::ItemResult& result :
           SortedForNotes(StringOr(*want, "order", "input"), results)) {
        NoteResult(result, false, /*with_stats=*/false);
      }
      NoteJob(last.job());
      if (Member(*want, "results") != nullptr) {
        CheckResults("job " + name, StringOr(*want, "order", "input"),
                     ListOf(Member(*want, "results")), results);
      }
      if (const Value* final_job = Member(*want, "final"); final_job != nullptr) {
        CheckJob("job " + name + " final", *final_job, last.job());
      }
    }
    if (wanted != nullptr) {
      for (const auto& [name, unused] : wanted->struct_value().fields()) {
        if (std::find(names.begin(), names.end(), name) == names.end()) {
          Errorf(absl::StrCat("expect.jobs names \"", name,
                              "\", which the step does not reconnect to"));
        }
      }
    }
  }

  void RunJobRpc(const Value& st) {
    std::unique_ptr<Client> own;
    const Client& client = ClientFor(st, &own);
    const std::string rpc = StringOr(st, "rpc");
    const std::string job_name = StringOr(st, "job");
    absl::StatusOr<v1::Job> job = absl::UnknownError("not called");
    if (rpc == "GetJob") {
      job = client.GetJob(job_name);
    } else if (rpc == "CancelJob") {
      job = client.CancelJob(job_name);
    } else {
      absl::Status deleted = client.DeleteJob(job_name);
      if (deleted.ok()) {
        job = v1::Job();
      } else {
        job = deleted;
      }
    }
    if (!CheckStatus(st, job.status())) return;
    NoteJob(*job);
    if (const Value* want = Member(*Member(st, "expect"), "job"); want != nullptr) {
      if (rpc == "DeleteJob") {
        Errorf("expect.job: DeleteJob returns no job");
        return;
      }
      CheckJob(rpc, *want, *job);
    }
  }

  void RunListJobs(const Value& st) {
    v1::ListJobsRequest request;
    request.set_name(StringOr(st, "name"));
    if (const std::string state = StringOr(st, "state"); !state.empty()) {
      v1::JobState value;
      if (!v1::JobState_Parse("JOB_STATE_" + state, &value) || value == v1::JOB_STATE_UNSPECIFIED) {
        Errorf(absl::StrCat("unknown state \"", state, "\""));
        return;
      }
      request.set_state(value);
    }
    std::vector<v1::Job> jobs;
    absl::Status status = client_.ForEachJob(request, [&](const v1::Job& job) {
      jobs.push_back(job);
      return absl::OkStatus();
    });
    if (!CheckStatus(st, status)) return;
    for (const v1::Job& job : jobs) NoteJob(job);
    const std::vector<Value> want = ListOf(Member(*Member(st, "expect"), "jobs"));
    if (jobs.size() != want.size()) {
      Errorf(absl::StrCat(jobs.size(), " jobs, want ", want.size()));
      return;
    }
    for (size_t i = 0; i < jobs.size(); ++i) {
      CheckJob(absl::StrCat("jobs[", i, "]"), want[i], jobs[i]);
    }
  }

  void RunListCallables(const Value& st) {
    absl::StatusOr<v1::ListCallablesResponse> listed = client_.ListCallables();
    if (!CheckStatus(st, listed.status())) return;
    std::map<std::string, v1::Callable> by_name;
    for (const v1::Callable& c : listed->callables()) by_name[c.name()] = c;
    for (const Value& want : ListOf(Member(*Member(st, "expect"), "includes"))) {
      const std::string name = StringOr(want, "name");
      auto it = by_name.find(name);
      if (it == by_name.end()) {
        std::vector<std::string> names;
        for (const auto& [n, unused] : by_name) names.push_back(n);
        Errorf(absl::StrCat("no callable \"", name, "\" among ", absl::StrJoin(names, ", ")));
        continue;
      }
      const v1::Callable& got = it->second;
      const std::string kind = Trim(v1::CallableKind_Name(got.kind()), "CALLABLE_KIND_");
      if (const std::string want_kind = StringOr(want, "kind");
          !want_kind.empty() && kind != want_kind) {
        Errorf(absl::StrCat(name, ": kind ", kind, ", want ", want_kind));
      }
      if (const Value* origin = Member(want, "origin");
          origin != nullptr && got.origin() != origin->string_value()) {
        Errorf(absl::StrCat(name, ": origin \"", got.origin(), "\", want \"",
                            origin->string_value(), "\""));
      }
      if (Member(want, "parameters") == nullptr) continue;
      const std::vector<Value> params = ListOf(Member(want, "parameters"));
      if (static_cast<size_t>(got.parameters_size()) != params.size()) {
        Errorf(
            absl::StrCat(name, ": ", got.parameters_size(), " parameters, want ", params.size()));
        continue;
      }
      for (size_t i = 0; i < params.size(); ++i) {
        const Value& p = params[i];
        const v1::Parameter& g = got.parameters(static_cast<int>(i));
        const std::string param = StringOr(p, "name");
        if (g.name() != param) {
          Errorf(absl::StrCat(name, ": parameter ", i, " is \"", g.name(), "\", want \"", param,
                              "\""));
        }
        const std::string type = Trim(v1::ParameterType_Name(g.type()), "PARAMETER_TYPE_");
        if (const std::string want_type = StringOr(p, "type");
            !want_type.empty() && type != want_type) {
          Errorf(absl::StrCat(name, ".", param, ": type ", type, ", want ", want_type));
        }
        if (const Value* required = Member(p, "required");
            required != nullptr && g.required() != required->bool_value()) {
          Errorf(absl::StrCat(name, ".", param, ": required ", g.required(), ", want ",
                              required->bool_value()));
        }
        if (const Value* def = Member(p, "default");
            def != nullptr && !SameJson(*def, g.default_value())) {
          Errorf(absl::StrCat(name, ".", param, ": default ", Json(g.default_value()), ", want ",
                              Json(*def)));
        }
      }
    }
  }

  // The fields and changes since the scenario began that `status` does not
  // match.
  std::vector<std::string> StatusMismatches(const Value& expect,
                                            const v1::GetStatusResponse& status) {
    std::vector<std::string> out;
    for (const char* kind : {"fields", "delta"}) {
      const Value* want = Member(expect, kind);
      if (want == nullptr) continue;
      std::map<std::string, Value> sorted(want->struct_value().fields().begin(),
                                          want->struct_value().fields().end());
      for (const auto& [name, pattern] : sorted) {
        std::optional<double> now = StatusField(status, name);
        if (!now) {
          out.push_back(absl::StrCat("no status field \"", name, "\""));
          continue;
        }
        double got = *now;
        if (std::string(kind) == "delta") got -= StatusField(before_, name).value_or(0);
        if (!NumberMatches(pattern, got)) {
          out.push_back(absl::StrCat(std::string(kind) == "delta" ? "change of " : "field ", name,
                                     " is ", got, ", want ", Json(pattern)));
        }
      }
    }
    return out;
  }

  // GetStatus: its fields now, and their change since the scenario began;
  // with "until", polled until they hold.
  void RunGetStatus(const Value& st) {
    const Value& expect = *Member(st, "expect");
    const absl::Time deadline = absl::Now() + kEventLimit;
    // Only the last poll goes into the transcript: how many polls it took
    // depends on timing, and both forms must give the same transcript.
    while (true) {
      absl::StatusOr<v1::GetStatusResponse> status = client_.GetStatus();
      std::vector<std::string> problems;
      if (status.ok()) problems = StatusMismatches(expect, *status);
      const bool again =
          status.ok() && !problems.empty() && BoolOr(st, "until") && absl::Now() <= deadline;
      if (again) {
        absl::SleepFor(absl::Milliseconds(20));
        continue;
      }
      if (!CheckStatus(st, status.status())) return;
      if (!problems.empty()) Errorf(absl::StrJoin(problems, "; "));
      return;
    }
  }

  void RunEcho(const Value& st) {
    Value value;
    if (const Value* v = Member(st, "value"); v != nullptr) value = *v;
    absl::StatusOr<Value> echoed = client_.Echo(value);
    if (!CheckStatus(st, echoed.status())) return;
    Note("echoed " + Json(*echoed));
    if (const Value* want = Member(*Member(st, "expect"), "value");
        want != nullptr && !SameJson(*want, *echoed)) {
      Errorf(absl::StrCat("echoed ", Json(*echoed), ", want ", Json(*want)));
    }
  }

  const Client& client_;
  const std::string target_;
  const Form form_;
  bool failed_ = false;
  std::vector<std::string> transcript_;
  std::string step_;
  v1::GetStatusResponse before_;
  std::map<std::string, std::string> job_ids_;
};

// Runs the scenario in `form` on that form's server; returns its transcript.
std::vector<std::string> RunScenarioIn(Form form, const Value& scenario) {
  Shared& shared = State();
  std::unique_ptr<testing::ServerProcess>& server = shared.server[form];
  if (!server && shared.server_error[form].empty()) {
    testing::ServerProcess::Options options;
    options.workers = static_cast<int>(NumberOr(*Member(shared.file, "server"), "workers", 4));
    server = testing::ServerProcess::Start(options, &shared.server_error[form]);
    if (server) {
      shared.client[form] =
          std::make_unique<Client>("unix:" + server->socket_path(), OptionsFor(form));
    }
  }
  if (!server) {
    ADD_FAILURE() << "starting pprocd: " << shared.server_error[form];
    return {};
  }
  if (!testing::ProcessAlive(server->pid())) {
    ADD_FAILURE() << "pprocd is not running; stderr:\n" << server->Stderr();
    return {};
  }
  Runner runner(*shared.client[form], shared.client[form]->target(), form);
  runner.Run(scenario);
  EXPECT_TRUE(testing::ProcessAlive(server->pid()))
      << "pprocd died during this scenario (" << FormName(form) << "); stderr:\n"
      << server->Stderr();
  return runner.Transcript();
}

void RunScenario(int index) {
  const Value& scenario = Member(State().file, "scenarios")->list_value().values(index);
  std::vector<std::string> transcripts[2];
  for (Form form : kForms) transcripts[form] = RunScenarioIn(form, scenario);
  // Both forms must give the user the same: compare line by line.
  const std::vector<std::string>& packed = transcripts[kPacked];
  const std::vector<std::string>& values = transcripts[kValueForm];
  for (size_t i = 0; i < std::max(packed.size(), values.size()); ++i) {
    const std::string a = i < packed.size() ? packed[i] : "(nothing)";
    const std::string b = i < values.size() ? values[i] : "(nothing)";
    if (a != b) {
      ADD_FAILURE() << "the forms differ at line " << i << ":\n  packed form: " << a
                    << "\n  Value form:  " << b << "\nwhole packed transcript:\n"
                    << absl::StrJoin(packed, "\n");
      break;
    }
  }
}

class ScenarioTest : public ::testing::Test {
 public:
  explicit ScenarioTest(int index) : index_(index) {}
  void TestBody() override { RunScenario(index_); }

 private:
  int index_;
};

// Needs no server: the list parses, every object's keys are known, every
// step names a known RPC.
TEST(ConformanceFile, IsWellFormed) {
  const Shared& shared = State();
  ASSERT_TRUE(shared.load_error.empty()) << shared.load_error;
  EXPECT_TRUE(shared.problems.empty()) << absl::StrJoin(shared.problems, "\n");
  ASSERT_NE(Member(shared.file, "scenarios"), nullptr);
  EXPECT_GT(Member(shared.file, "scenarios")->list_value().values_size(), 0);
}

// Reads and checks the file; registers one test per scenario when it is
// well formed (otherwise IsWellFormed fails and names the problems).
void LoadScenarios(const std::string& path) {
  Shared& shared = State();
  std::ifstream in(path);
  if (!in) {
    shared.load_error = absl::StrCat("cannot read ", path);
    return;
  }
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<Value> parsed = ParseJsonValue(text.str());
  if (!parsed.ok()) {
    shared.load_error = absl::StrCat(path, ": ", parsed.status().ToString());
    return;
  }
  shared.file = *std::move(parsed);
  Validator validator;
  validator.File(shared.file);
  shared.problems = std::move(validator.problems);
  if (!shared.problems.empty()) return;
  const ListValue& scenarios = Member(shared.file, "scenarios")->list_value();
  for (int i = 0; i < scenarios.values_size(); ++i) {
    const std::string name = StringOr(scenarios.values(i), "name");
    ::testing::RegisterTest("Conformance", name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                            [i]() -> ::testing::Test* { return new ScenarioTest(i); });
  }
}

}  // namespace
}  // namespace pprocd::client

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s SCENARIOS_JSON [gtest flags]\n", argv[0]);
    return 2;
  }
  pprocd::client::LoadScenarios(argv[1]);
  const int result = RUN_ALL_TESTS();
  pprocd::client::StopServers();
  return result;
}
