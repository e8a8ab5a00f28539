// Writes the seed corpora of the fuzz targets (corpus/<target>/) from real
// messages: the frames a server and its workers exchange, the requests of
// each RPC, JSON lines of the command protocol, config files and job rows.
// Run once after a change of the messages; the output is checked in.
//
//   fuzz_make_seeds tests/fuzz/corpus
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "base/framing.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/text_format.h"
#include "pprocd/v1/service.pb.h"
#include "pprocd/wire/v1/wire.pb.h"

namespace pprocd {
namespace {

std::string root;

void Write(const std::string& target, const std::string& name, const std::string& bytes) {
  const std::string dir = root + "/" + target;
  ::mkdir(dir.c_str(), 0755);
  std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out) {
    std::fprintf(stderr, "cannot write %s/%s\n", dir.c_str(), name.c_str());
    std::exit(1);
  }
}

// The message `text` (protobuf text format) describes.
template <typename Message>
Message Parse(const std::string& text) {
  Message message;
  if (!google::protobuf::TextFormat::ParseFromString(text, &message)) {
    std::fprintf(stderr, "bad text: %s\n", text.c_str());
    std::exit(1);
  }
  return message;
}

template <typename Message>
std::string Bytes(const std::string& text) {
  return Parse<Message>(text).SerializeAsString();
}

// fuzz_frame_decoder: a stream of frames, then 4 bytes that choose the cuts.
void FrameSeeds() {
  using wire::v1::ChannelInput;
  using wire::v1::ResultFrame;
  using wire::v1::TaskFrame;
  using wire::v1::TemplateEvent;
  using wire::v1::TemplateRequest;
  const auto stream = [](std::vector<std::string> frames, const std::string& seed) {
    std::string out;
    for (const std::string& frame : frames) {
      out.push_back(static_cast<char>(frame.size() & 0xff));
      out.push_back(static_cast<char>((frame.size() >> 8) & 0xff));
      out.push_back(static_cast<char>((frame.size() >> 16) & 0xff));
      out.push_back(static_cast<char>((frame.size() >> 24) & 0xff));
      out += frame;
    }
    return out + seed;
  };
  const std::string task =
      Bytes<TaskFrame>(R"(task_id: 1 callable: "square" packed_inputs: "[3, 4.5]"
                          packed_results: true item_stats: ITEM_STATS_PER_CHUNK)");
  const std::string task_struct = Bytes<TaskFrame>(
      R"(task_id: 7 callable: "ackermann" report_each: true
         packed_inputs: "[{\"m\": 2, \"n\": 3}]")");
  const std::string channel = Bytes<TaskFrame>(
      R"(task_id: 9 callable: "accumulate" channel_open: true packed_inputs: "[null]")");
  const std::string channel_input = Bytes<TaskFrame>(
      R"(task_id: 9 channel_input { messages { number_value: 1 } messages { number_value: 2 } })");
  const std::string channel_end = Bytes<ChannelInput>(R"(end: true)");
  const std::string result = Bytes<ResultFrame>(
      R"(task_id: 1 results { index: 0 value { number_value: 9 } last: true
                              stats { wall_us: 12 cpu_us: 10 max_rss_kib: 4000 worker_pid: 77 } }
         results { index: 1 value { number_value: 20.25 } last: true }
         blocks { first_index: 2 count: 3 values: "[1,\"a\",{\"k\":null}]"
                  stats { wall_us: 30 cpu_us: 25 max_rss_kib: 4000 worker_pid: 77 } })");
  const std::string failed = Bytes<ResultFrame>(
      R"(task_id: 3 results { index: 0 last: true
           error { message: "chaos: raised on request" stderr_tail: "trace" }
           logs { stream: LOG_STREAM_STDERR data: "boom\n" } })");
  const std::string spawn = Bytes<TemplateRequest>(R"(spawn { worker_id: 4 })");
  const std::string spawned = Bytes<TemplateEvent>(R"(spawned { worker_id: 4 pid: 1234 })");
  const std::string exited = Bytes<TemplateEvent>(R"(exited { worker_id: 4 pid: 1234 signal: 9 })");
  Write("frame_decoder", "task", stream({task}, "\x01\x00\x00\x00"));
  Write("frame_decoder", "task_struct_args", stream({task_struct}, "\x33\x12\x00\x07"));
  Write("frame_decoder", "channel", stream({channel, channel_input}, "\x05\x00\x00\x00"));
  Write("frame_decoder", "channel_end", stream({channel_end}, "\x00\x00\x00\x00"));
  Write("frame_decoder", "results", stream({result, failed}, "\xff\x10\x00\x02"));
  Write("frame_decoder", "template", stream({spawn, spawned, exited}, "\x02\x00\x00\x00"));
  Write("frame_decoder", "empty_frame", stream({""}, "\x01\x01\x01\x01"));
  Write("frame_decoder", "partial", stream({task}, "").substr(0, 9) + "\x03\x00\x00\x00");
  Write("frame_decoder", "too_large", std::string("\x01\x00\x00\x20", 4) + "\x01\x00\x00\x00");
}

// fuzz_json_codec: JSON text, as commands read and write it.
void JsonSeeds() {
  const std::vector<std::pair<std::string, std::string>> texts = {
      {"null", "null"},
      {"numbers", "[0, -0.5e-3, 123456789012345678, 1.7976931348623157e308, 1e-320]"},
      {"strings", R"("tab\tquote\" backslash\\ slash\/ \b\f\n\r \u00e9\u4e2d\ud83d\ude00 é中😀")"},
      {"lone_surrogate", R"(["\ud800", "\udc00x", "\ud800\u0041"])"},
      {"nested", R"([1, [2, [3, {"a": []}]], "x", null, true, false])"},
      {"request_line",
       R"({"id": 7, "args": {"i": 3, "j": [1.5, -2]}, "nested": {"k": {"l": null}}})"},
      {"result_line", R"({"id": 7, "result": {"word": "été", "length": 3}})"},
      {"error_line", R"({"id": 8, "error": "division by zero"})"},
      {"batch_offer", R"({"batch": true})"},
      {"batch", R"({"batch": [{"id": 1, "args": {"x": 2}}, {"id": 2, "args": {"x": 3}}]})"},
      {"batch_answer", R"({"batch": [{"id": 1, "result": 4}, {"id": 2, "error": "no"}]})"},
      {"whitespace", " \t\r\n{ \"a\" : [ 1 , 2 ] }\n"},
      {"repeated_key", R"({"a": 1, "a": 2})"},
      {"deep", std::string(60, '[') + std::string(60, ']')},
      {"overflow", "[1e400, -1e400]"},
  };
  for (const auto& [name, text] : texts) Write("json_codec", name, text);
  // A client's value, as serialized protobuf.
  Write("json_codec", "binary_value",
        Bytes<google::protobuf::Value>(
            R"(struct_value { fields { key: "x" value { list_value { values { number_value: 1 }
                                                                     values { string_value: "é" }
                                                                     values { bool_value: true }
                                                                     values { null_value: NULL_VALUE } } } } })"));
}

// fuzz_request_validation: one request of each RPC.
void RequestSeeds() {
  const auto write = [](const std::string& name, const std::string& bytes) {
    Write("request_validation", name, bytes);
  };
  write("map_square",
        Bytes<v1::MapRequest>(
            R"(callable: "square" inputs { number_value: 3 } inputs { number_value: 4 }
                             options { chunksize: 2 limit: 4 })"));
  std::string long_name;
  for (int i = 0; i < 300; ++i) long_name += "\u00e9";
  write("map_long_name",
        Bytes<v1::MapRequest>("callable: \"" + long_name + "\" inputs { number_value: 1 }"));
  write("map_later",
        Bytes<v1::MapRequest>(R"(inputs { number_value: 5 } cancel_indices: 0 cancel_indices: 1)"));
  write("map_calculate_list",
        Bytes<v1::MapRequest>(
            R"(callable: "calculate" inputs { list_value { values { number_value: 1 }
                                                           values { number_value: 2 } } }
               inputs { struct_value { fields { key: "i" value { number_value: 1 } }
                                       fields { key: "j" value { number_value: 2 } }
                                       fields { key: "n" value { number_value: 100 } } } })"));
  write("queue_fib", Bytes<v1::QueueRequest>(
                         R"(callable: "fib" inputs { number_value: 30 } options {
                              timeout_ms: 1000 isolation: ISOLATION_FRESH expected_inputs: 1 })"));
  write("queue_write_output", Bytes<v1::QueueRequest>(
                                  R"(callable: "write_output" inputs { struct_value {
                 fields { key: "text" value { string_value: "hello" } }
                 fields { key: "stream" value { string_value: "stderr" } }
                 fields { key: "count" value { number_value: 2 } } } })"));
  write("start_accumulate", Bytes<v1::StartRequest>(R"(callable: "accumulate")"));
  write("start_calculate_row",
        Bytes<v1::StartRequest>(R"(callable: "calculate_row" arguments { list_value {
                                     values { number_value: 3 } values { number_value: 4 } } }
                                   options { timeout_ms: 5000 })"));
  write("start_message", Bytes<v1::StartRequest>(R"(message { number_value: 2 })"));
  write("submit_ackermann",
        Bytes<v1::SubmitRequest>(
            R"(callable: "ackermann" name: "nightly" idempotency_key: "k-1" retries: 2
               ordered: true retry_backoff_ms: 100 socket_path: "/tmp/job.sock"
               inputs { list_value { values { number_value: 2 } values { number_value: 3 } } })"));
  write("submit_echo",
        Bytes<v1::SubmitRequest>(R"(callable: "echo" inputs { string_value: "été" } inputs {})"));
  write("submit_chaos", Bytes<v1::SubmitRequest>(R"(callable: "chaos" inputs { string_value: "ok" }
                                                   options { isolation: ISOLATION_POOLED })"));
  write("reconnect", Bytes<v1::ReconnectRequest>(
                         R"(jobs: "0123456789abcdef" jobs: "nightly" after_seq: 5
                            after_seq_by_job { key: "nightly" value: 9 }
                            max_outputs_per_message: 100)"));
  write("get_job", Bytes<v1::GetJobRequest>(R"(job: "0123456789abcdef")"));
  write("list_jobs", Bytes<v1::ListJobsRequest>(
                         R"(state: JOB_STATE_RUNNING name: "nightly" page_size: 10
                            page_token: "j1.42")"));
  write("echo", Bytes<v1::EchoRequest>(R"(value { struct_value { fields { key: "a"
                                           value { number_value: 1 } } } })"));
}

// fuzz_config_toml: config files.
void ConfigSeeds() {
  const auto write = [](const std::string& name, const std::string& text) {
    Write("config_toml", name, text);
  };
  write("every_server_key", R"toml(# every key
[server]
listen = ["unix:run/pprocd.sock", "tcp:127.0.0.1:0"]
workers = 4
state_dir = "var"
max_queued_items = 1000000
call_window = 16384
max_tasks_per_worker = 0
grace_ms = 5000
max_message_bytes = 16777216
keep_jobs_hours = 168
max_store_mib = 1024
admin_group = "pprocd"
plugins = ["plugins/libmine.so"]
)toml");
  write("callables", R"toml([[callable]]
name = "wc"
description = "Counts lines."
argv = ["wc", "-l"]
working_dir = "."
env = { LANG = "C" }
mode = "per-invocation"
output = "json"
params = [ { name = "path", type = "string", description = "file" },
           { name = "n", type = "integer", default = 10 } ]

[[callable]]
name = "tool"
argv = ["/usr/bin/tool"]
mode = "persistent"
)toml");
  write("placeholders", R"toml([[callable]]
name = "word_count"
description = "Counts the words of text (wc -w)"
argv = ["sh", "-c", "printf '%s' \"$1\" | wc -w", "sh", "{text}"]
params = [{ name = "text", type = "string" }]

[[callable]]
name = "shout"
argv = ["sh", "-c", "printf '%s' \"$1\" | tr '[:lower:]' '[:upper:]'", "sh", "{text}"]
output = "bytes"
params = [{ name = "text", type = "string" }]
)toml");
  write("defaults_of_every_type", R"toml([[callable]]
name = "typed"
argv = ["./typed"]
params = [
  { name = "a", type = "any", default = { x = [1, 2.5, "s", true] } },
  { name = "b", type = "boolean", default = false },
  { name = "f", type = "number", default = 0.25 },
  { name = "l", type = "list", default = [] },
  { name = "s", type = "struct", default = { k = "v" } },
  { name = "t", type = "string", default = """multi
line""" },
]
)toml");
  write("limits", R"toml([limits.square]
max_memory_mib = 512
cpu_seconds = 10
max_open_files = 64
timeout_ms = 1000
max_concurrent = 2

[limits.missing]
timeout_ms = 5
)toml");
  write("errors", R"toml([server]
workers = "four"
call_window = 1
unknown = 1
[[callable]]
argv = []
params = [{ name = "x", type = "integer", default = 1.5 }]
)toml");
  write("strings",
        "[[callable]]\nname = 'lit'\nargv = ['''a\nb''', \"\\u00e9\\t\"]\n"
        "description = \"\"\"\\\n   line \\\n   continued\"\"\"\n");
  write("dates", "[server]\nworkers = 1979-05-27T07:32:00Z\ngrace_ms = 0x10\n");
}

// fuzz_job_store: bytes for its data provider, with real requests and
// results inside for the blobs it takes.
void JobStoreSeeds() {
  const std::string request =
      Bytes<v1::SubmitRequest>(R"(callable: "square" name: "n" inputs { number_value: 3 })");
  const std::string result =
      Bytes<v1::ItemResult>(R"(index: 2 value { number_value: 9 } last: true)");
  const std::string job = Bytes<v1::Job>(
      R"(id: "0123456789abcdef" state: JOB_STATE_SUCCEEDED items_done: 1 items_total: 1
         last_seq: 2)");
  std::string all = request + result + job;
  for (int i = 0; i < 6; ++i) {
    std::string bytes;
    for (size_t k = 0; k < 64u << i; ++k) {
      bytes.push_back(static_cast<char>(all[(k * 7 + static_cast<size_t>(i)) % all.size()] ^
                                        static_cast<char>(k * 13 + static_cast<size_t>(i))));
    }
    Write("job_store", "mixed_" + std::to_string(64 << i), bytes);
  }
  Write("job_store", "request_result_job", all + all);
}

}  // namespace
}  // namespace pprocd

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  pprocd::root = argv[1];
  ::mkdir(pprocd::root.c_str(), 0755);
  pprocd::FrameSeeds();
  pprocd::JsonSeeds();
  pprocd::RequestSeeds();
  pprocd::ConfigSeeds();
  pprocd::JobStoreSeeds();
  return 0;
}
