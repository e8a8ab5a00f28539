// Linked into every fuzz target: protobuf logs each string field of invalid
// UTF-8 it refuses to parse, which fuzzed inputs do all the time; the
// refusal is what the targets look at, the log line would only slow them.
#include "google/protobuf/stubs/logging.h"

namespace {

[[maybe_unused]] const bool kProtobufQuiet = [] {
  google::protobuf::SetLogHandler(nullptr);
  return true;
}();

}  // namespace
