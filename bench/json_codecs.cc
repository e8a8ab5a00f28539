// bench_json_codecs: the JSON work of the hot path, done by pprocd's codec
// (base/json) and by the two JSON libraries Debian ships, side by side.
//
// Three arrays of `--elements` elements (default 1,000,000): integers
// (12345), short strings ("s12345") and small objects ({"a":12345,"b":"x12"}).
// For each, the best of `--reps` runs (default 5) of:
//   split: validate the whole array and give each element's byte range
//          (what the server does with packed inputs);
//   parse: build the elements as google.protobuf.Values in an arena
//          (what a worker does with a chunk);
//   print: print the Values back as one compact JSON array.
// Each row says how much of pprocd's contract it covers: "full" checks
// everything base/json checks (depth, repeated keys, UTF-8, escapes, numbers)
// and gives the ranges; "partial" rows leave some of that out, as a lower
// bound for a codec built on that library.
//
// Machine lines:
//   BENCH bench=json op=split|parse|print data=ints|strings|objects codec=...
//         contract=full|partial ns_per_element=... mib_per_sec=... ok=1
#include <simdjson.h>
#include <time.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/json/json.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "rapidjson/error/en.h"
#include "rapidjson/reader.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace {

using google::protobuf::Arena;
using google::protobuf::ListValue;
using google::protobuf::RepeatedPtrField;
using google::protobuf::Value;

constexpr int kMaxDepth = 100;

struct Dataset {
  std::string name;
  std::string json;
  size_t elements;
};

std::vector<Dataset> MakeDatasets(size_t n) {
  std::vector<Dataset> sets = {{"ints", "[", n}, {"strings", "[", n}, {"objects", "[", n}};
  for (size_t i = 0; i < n; ++i) {
    const char* comma = i + 1 < n ? "," : "";
    const uint64_t number = 10000 + (i * 7919) % 90000;
    absl::StrAppend(&sets[0].json, number, comma);
    absl::StrAppend(&sets[1].json, "\"s", number, "\"", comma);
    absl::StrAppend(&sets[2].json, "{\"a\":", number, ",\"b\":\"x", number % 100, "\"}", comma);
  }
  for (Dataset& set : sets) set.json += "]";
  return sets;
}

double ThreadSeconds() {
  timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// The least CPU time of `reps` runs (CPU time: the machine may be shared).
double BestSeconds(int reps, const std::function<void()>& run) {
  double best = 1e300;
  for (int i = 0; i < reps; ++i) {
    const double start = ThreadSeconds();
    run();
    best = std::min(best, ThreadSeconds() - start);
  }
  return best;
}

void Report(const char* op, const Dataset& set, const char* codec, const char* contract,
            double seconds, bool ok) {
  std::printf(
      "BENCH bench=json op=%s data=%s codec=%s contract=%s ns_per_element=%.1f "
      "mib_per_sec=%.0f ok=%d\n",
      op, set.name.c_str(), codec, contract, seconds * 1e9 / static_cast<double>(set.elements),
      static_cast<double>(set.json.size()) / seconds / (1 << 20), ok ? 1 : 0);
  std::fflush(stdout);
}

bool SameRanges(const std::vector<pprocd::JsonElement>& a,
                const std::vector<pprocd::JsonElement>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].begin != b[i].begin || a[i].end != b[i].end) return false;
  }
  return true;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// ---- simdjson -------------------------------------------------------------

// DOM parse (full validation, runtime-dispatched kernels), then the element
// ranges from stage 1's structural index. Repeated keys and lone surrogates
// would need more (partial).
bool SimdjsonDomSplit(simdjson::dom::parser& parser, const simdjson::padded_string& text,
                      std::vector<pprocd::JsonElement>* elements) {
  simdjson::dom::element root;
  if (parser.parse(text).get(root) != simdjson::SUCCESS) return false;
  if (!root.is_array()) return false;
  const uint32_t* index = parser.implementation->structural_indexes.get();
  const uint32_t count = parser.implementation->n_structural_indexes;
  const char* data = text.data();
  int depth = 0;
  uint32_t begin = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t at = index[i];
    switch (data[at]) {
      case '[':
      case '{':
        if (depth++ == 0) begin = i + 1 < count ? index[i + 1] : at + 1;
        break;
      case ']':
      case '}':
      case ',':
        if (data[at] != ',') --depth;
        if (depth == 0 || (depth == 1 && data[at] == ',')) {
          uint32_t end = at;
          while (end > begin && IsSpace(data[end - 1])) --end;
          if (end > begin) elements->push_back({begin, end});
          if (i + 1 < count) begin = index[i + 1];
        }
        break;
      default:
        break;
    }
  }
  return true;
}

void ToValue(simdjson::dom::element element, Value* value) {
  switch (element.type()) {
    case simdjson::dom::element_type::ARRAY: {
      auto* list = value->mutable_list_value();
      simdjson::dom::array array;
      if (element.get_array().get(array) != simdjson::SUCCESS) return;
      for (simdjson::dom::element child : array) {
        ToValue(child, list->add_values());
      }
      return;
    }
    case simdjson::dom::element_type::OBJECT: {
      auto* fields = value->mutable_struct_value()->mutable_fields();
      simdjson::dom::object object;
      if (element.get_object().get(object) != simdjson::SUCCESS) return;
      for (simdjson::dom::key_value_pair field : object) {
        ToValue(field.value, &(*fields)[std::string(field.key)]);
      }
      return;
    }
    case simdjson::dom::element_type::INT64:
      value->set_number_value(static_cast<double>(element.get_int64().value_unsafe()));
      return;
    case simdjson::dom::element_type::UINT64:
      value->set_number_value(static_cast<double>(element.get_uint64().value_unsafe()));
      return;
    case simdjson::dom::element_type::DOUBLE:
      value->set_number_value(element.get_double().value_unsafe());
      return;
    case simdjson::dom::element_type::STRING:
      value->set_string_value(std::string(element.get_string().value_unsafe()));
      return;
    case simdjson::dom::element_type::BOOL:
      value->set_bool_value(element.get_bool().value_unsafe());
      return;
    case simdjson::dom::element_type::NULL_VALUE:
      value->set_null_value({});
      return;
  }
}

bool SimdjsonDomParse(simdjson::dom::parser& parser, const simdjson::padded_string& text,
                      RepeatedPtrField<Value>* out) {
  simdjson::dom::array array;
  if (parser.parse(text).get_array().get(array) != simdjson::SUCCESS) return false;
  for (simdjson::dom::element element : array) ToValue(element, out->Add());
  return true;
}

// On Demand: walks the array and takes each element's raw text. On Demand
// checks only what it reads: skipped contents are not validated (partial).
bool SimdjsonOnDemandSplit(simdjson::ondemand::parser& parser, const simdjson::padded_string& text,
                           std::vector<pprocd::JsonElement>* elements) {
  simdjson::ondemand::document doc;
  if (parser.iterate(text).get(doc) != simdjson::SUCCESS) return false;
  simdjson::ondemand::array array;
  if (doc.get_array().get(array) != simdjson::SUCCESS) return false;
  for (auto element : array) {
    simdjson::ondemand::json_type type;
    if (element.type().get(type) != simdjson::SUCCESS) return false;
    std::string_view raw;
    simdjson::error_code error = simdjson::SUCCESS;
    if (type == simdjson::ondemand::json_type::array) {
      simdjson::ondemand::array inner;
      error = element.get_array().get(inner);
      if (error == simdjson::SUCCESS) error = inner.raw_json().get(raw);
    } else if (type == simdjson::ondemand::json_type::object) {
      simdjson::ondemand::object inner;
      error = element.get_object().get(inner);
      if (error == simdjson::SUCCESS) error = inner.raw_json().get(raw);
    } else {
      raw = element.raw_json_token();
    }
    if (error != simdjson::SUCCESS) return false;
    while (!raw.empty() && IsSpace(raw.back())) raw.remove_suffix(1);
    const auto begin = static_cast<uint32_t>(raw.data() - text.data());
    elements->push_back({begin, begin + static_cast<uint32_t>(raw.size())});
  }
  return true;
}

// ---- RapidJSON ------------------------------------------------------------

// A StringStream that the reader advances in place (RapidJSON works on a
// local copy of a StringStream during a value, so its Tell() in a handler
// would lag behind).
struct PositionStream : rapidjson::StringStream {
  using rapidjson::StringStream::StringStream;
};

// A SAX handler with pprocd's rules: depth, repeated keys (per open object,
// reusing its buffers), and the top-level elements' ranges.
class SplitHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, SplitHandler> {
 public:
  SplitHandler(const PositionStream& stream, std::vector<pprocd::JsonElement>* elements)
      : stream_(stream), elements_(elements), keys_(kMaxDepth + 1) {}

  bool Default() { return Scalar(); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return Scalar(); }
  bool String(const char*, rapidjson::SizeType, bool) { return Scalar(); }
  bool StartObject() {
    if (!Open()) return false;
    keys_[depth_].clear();
    return true;
  }
  bool Key(const char* text, rapidjson::SizeType length, bool) {
    std::vector<std::string>& keys = keys_[depth_];
    const std::string_view key(text, length);
    for (const std::string& seen : keys) {
      if (seen == key) return false;
    }
    keys.emplace_back(key);
    return true;
  }
  bool EndObject(rapidjson::SizeType) { return Close(); }
  bool StartArray() {
    if (depth_ == 0) last_ = stream_.Tell();
    return Open();
  }
  bool EndArray(rapidjson::SizeType) { return Close(); }

 private:
  bool Open() {
    if (++depth_ > kMaxDepth) return false;
    return true;
  }
  bool Close() {
    --depth_;
    return Scalar();
  }
  bool Scalar() {
    if (depth_ != 1) return true;
    const char* data = stream_.head_;
    size_t begin = last_;
    while (IsSpace(data[begin]) || data[begin] == ',') ++begin;
    last_ = stream_.Tell();
    elements_->push_back({static_cast<uint32_t>(begin), static_cast<uint32_t>(last_)});
    return true;
  }

  const PositionStream& stream_;
  std::vector<pprocd::JsonElement>* elements_;
  std::vector<std::vector<std::string>> keys_;
  int depth_ = 0;
  size_t last_ = 0;
};

// Recursive (not kParseIterativeFlag): the handlers bound the depth, and
// the stream's position is then right after the value each event ends.
constexpr unsigned kRapidFlags =
    rapidjson::kParseValidateEncodingFlag | rapidjson::kParseStopWhenDoneFlag;

bool RapidSplit(const std::string& json, std::vector<pprocd::JsonElement>* elements) {
  rapidjson::Reader reader;
  PositionStream stream(json.c_str());
  SplitHandler handler(stream, elements);
  if (reader.Parse<kRapidFlags | rapidjson::kParseNumbersAsStringsFlag>(stream, handler)
          .IsError()) {
    return false;
  }
  while (IsSpace(json[stream.Tell()])) stream.Take();
  return stream.Tell() == json.size();
}

// Builds Values: a stack of the open arrays and objects.
class BuildHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, BuildHandler> {
 public:
  explicit BuildHandler(RepeatedPtrField<Value>* out) : out_(out) {}

  bool Null() {
    Next()->set_null_value({});
    return true;
  }
  bool Bool(bool b) {
    Next()->set_bool_value(b);
    return true;
  }
  bool Int(int i) { return Double(i); }
  bool Uint(unsigned u) { return Double(u); }
  bool Int64(int64_t i) { return Double(static_cast<double>(i)); }
  bool Uint64(uint64_t u) { return Double(static_cast<double>(u)); }
  bool Double(double d) {
    Next()->set_number_value(d);
    return true;
  }
  bool String(const char* text, rapidjson::SizeType length, bool) {
    Next()->set_string_value(text, length);
    return true;
  }
  bool StartObject() {
    Value* value = Next();
    value->mutable_struct_value();
    return Push(value);
  }
  bool Key(const char* text, rapidjson::SizeType length, bool) {
    auto* fields = stack_.back()->mutable_struct_value()->mutable_fields();
    const std::string key(text, length);
    if (fields->count(key) != 0) return false;
    key_ = &(*fields)[key];
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    stack_.pop_back();
    return true;
  }
  bool StartArray() {
    if (!top_seen_) {
      top_seen_ = true;
      stack_.push_back(nullptr);
      return true;
    }
    Value* value = Next();
    value->mutable_list_value();
    return Push(value);
  }
  bool EndArray(rapidjson::SizeType) {
    stack_.pop_back();
    return true;
  }

 private:
  bool Push(Value* value) {
    if (stack_.size() >= kMaxDepth) return false;
    stack_.push_back(value);
    return true;
  }
  Value* Next() {
    Value* top = stack_.back();
    if (top == nullptr) return out_->Add();
    if (top->has_list_value()) return top->mutable_list_value()->add_values();
    return key_;
  }

  RepeatedPtrField<Value>* out_;
  std::vector<Value*> stack_;
  Value* key_ = nullptr;
  bool top_seen_ = false;
};

bool RapidParse(const std::string& json, RepeatedPtrField<Value>* out) {
  rapidjson::Reader reader;
  rapidjson::StringStream stream(json.c_str());
  BuildHandler handler(out);
  return !reader.Parse<kRapidFlags | rapidjson::kParseFullPrecisionFlag>(stream, handler).IsError();
}

// protobuf's number format (%.15g, or %.17g when that does not read back).
int FormatNumber(double number, char* buffer) {
  if (std::trunc(number) == number && std::fabs(number) < 1e15) {
    return static_cast<int>(std::to_chars(buffer, buffer + 32, static_cast<int64_t>(number)).ptr -
                            buffer);
  }
  int length = std::snprintf(buffer, 32, "%.15g", number);
  if (std::strtod(buffer, nullptr) != number) length = std::snprintf(buffer, 32, "%.17g", number);
  return length;
}

template <bool kProtobufNumbers>
void RapidWrite(const Value& value, rapidjson::Writer<rapidjson::StringBuffer>* writer) {
  switch (value.kind_case()) {
    case Value::kNumberValue:
      if (kProtobufNumbers) {
        char buffer[32];
        writer->RawValue(buffer, static_cast<size_t>(FormatNumber(value.number_value(), buffer)),
                         rapidjson::kNumberType);
      } else {
        writer->Double(value.number_value());
      }
      return;
    case Value::kStringValue:
      writer->String(value.string_value().data(),
                     static_cast<rapidjson::SizeType>(value.string_value().size()));
      return;
    case Value::kBoolValue:
      writer->Bool(value.bool_value());
      return;
    case Value::kStructValue:
      writer->StartObject();
      for (const auto& [key, field] : value.struct_value().fields()) {
        writer->Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
        RapidWrite<kProtobufNumbers>(field, writer);
      }
      writer->EndObject();
      return;
    case Value::kListValue:
      writer->StartArray();
      for (const Value& element : value.list_value().values()) {
        RapidWrite<kProtobufNumbers>(element, writer);
      }
      writer->EndArray();
      return;
    default:
      writer->Null();
  }
}

template <bool kProtobufNumbers>
size_t RapidPrint(const RepeatedPtrField<Value>& values) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartArray();
  for (const Value& value : values) RapidWrite<kProtobufNumbers>(value, &writer);
  writer.EndArray();
  return buffer.GetSize();
}

int IntFlag(int argc, char** argv, const char* name, int fallback) {
  const std::string prefix = absl::StrCat("--", name, "=");
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]).rfind(prefix, 0) == 0) return std::atoi(argv[i] + prefix.size());
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int elements = IntFlag(argc, argv, "elements", 1000000);
  const int reps = IntFlag(argc, argv, "reps", 5);
  std::printf("# simdjson %d.%d.%d (DOM kernel: %s; On Demand: %s), RapidJSON %d.%d.%d\n",
              simdjson::SIMDJSON_VERSION_MAJOR, simdjson::SIMDJSON_VERSION_MINOR,
              simdjson::SIMDJSON_VERSION_REVISION,
              simdjson::get_active_implementation()->name().c_str(),
              simdjson::builtin_implementation()->name().c_str(), RAPIDJSON_MAJOR_VERSION,
              RAPIDJSON_MINOR_VERSION, RAPIDJSON_PATCH_VERSION);
  for (const Dataset& set : MakeDatasets(static_cast<size_t>(elements))) {
    std::vector<pprocd::JsonElement> want;
    if (!pprocd::SplitJsonArray(set.json, &want).ok() || want.size() != set.elements) {
      std::fprintf(stderr, "SplitJsonArray failed on %s\n", set.name.c_str());
      return 1;
    }
    std::vector<pprocd::JsonElement> got;
    got.reserve(set.elements);
    bool ok = true;

    // split
    double s = BestSeconds(reps, [&] {
      got.clear();
      ok = pprocd::SplitJsonArray(set.json, &got).ok();
    });
    Report("split", set, "pprocd", "full", s, ok && SameRanges(got, want));

    simdjson::dom::parser dom;
    const simdjson::padded_string padded(set.json);
    s = BestSeconds(reps, [&] {
      simdjson::dom::element root;
      ok = dom.parse(padded).get(root) == simdjson::SUCCESS;
    });
    Report("split", set, "simdjson-dom-validate-only", "partial", s, ok);
    s = BestSeconds(reps, [&] {
      // The copy a server makes: the request's bytes have no padding.
      const simdjson::padded_string copy(set.json);
      simdjson::dom::element root;
      ok = dom.parse(copy).get(root) == simdjson::SUCCESS;
    });
    Report("split", set, "simdjson-dom-validate-only+copy", "partial", s, ok);
    s = BestSeconds(reps, [&] {
      got.clear();
      ok = SimdjsonDomSplit(dom, padded, &got);
    });
    Report("split", set, "simdjson-dom+ranges", "partial", s, ok && SameRanges(got, want));

    simdjson::ondemand::parser ondemand;
    s = BestSeconds(reps, [&] {
      got.clear();
      ok = SimdjsonOnDemandSplit(ondemand, padded, &got);
    });
    Report("split", set, "simdjson-ondemand-raw", "partial", s, ok && SameRanges(got, want));

    s = BestSeconds(reps, [&] {
      got.clear();
      ok = RapidSplit(set.json, &got);
    });
    Report("split", set, "rapidjson-sax", "full", s, ok && SameRanges(got, want));

    // parse
    Arena arena;
    size_t parsed = 0;
    s = BestSeconds(reps, [&] {
      arena.Reset();
      auto* list = Arena::CreateMessage<ListValue>(&arena);
      ok = pprocd::ParseJsonArray(set.json, list->mutable_values()).ok();
      parsed = static_cast<size_t>(list->values_size());
    });
    Report("parse", set, "pprocd", "full", s, ok && parsed == set.elements);
    s = BestSeconds(reps, [&] {
      arena.Reset();
      auto* list = Arena::CreateMessage<ListValue>(&arena);
      ok = SimdjsonDomParse(dom, padded, list->mutable_values());
      parsed = static_cast<size_t>(list->values_size());
    });
    Report("parse", set, "simdjson-dom", "partial", s, ok && parsed == set.elements);
    s = BestSeconds(reps, [&] {
      arena.Reset();
      auto* list = Arena::CreateMessage<ListValue>(&arena);
      ok = RapidParse(set.json, list->mutable_values());
      parsed = static_cast<size_t>(list->values_size());
    });
    Report("parse", set, "rapidjson-sax", "full", s, ok && parsed == set.elements);
    s = BestSeconds(reps, [&] {
      arena.Reset();
      auto* list = Arena::CreateMessage<ListValue>(&arena);
      ok = google::protobuf::util::JsonStringToMessage(set.json, list).ok();
      parsed = static_cast<size_t>(list->values_size());
    });
    Report("parse", set, "protobuf-json-util", "full", s, ok && parsed == set.elements);

    // print
    arena.Reset();
    auto* list = Arena::CreateMessage<ListValue>(&arena);
    if (!pprocd::ParseJsonArray(set.json, list->mutable_values()).ok()) return 1;
    std::string printed;
    s = BestSeconds(reps, [&] {
      printed.clear();
      pprocd::AppendJsonArray(list->values(), &printed);
    });
    Report("print", set, "pprocd", "full", s, set.name == "objects" || printed == set.json);
    size_t size = 0;
    s = BestSeconds(reps, [&] { size = RapidPrint<true>(list->values()); });
    Report("print", set, "rapidjson-writer+protobuf-numbers", "full", s, size == printed.size());
    s = BestSeconds(reps, [&] { size = RapidPrint<false>(list->values()); });
    Report("print", set, "rapidjson-writer-shortest-doubles", "partial", s, size > 0);
    s = BestSeconds(reps, [&] {
      std::string theirs;
      ok = google::protobuf::util::MessageToJsonString(*list, &theirs).ok();
    });
    Report("print", set, "protobuf-json-util", "full", s, ok);
  }
  return 0;
}
