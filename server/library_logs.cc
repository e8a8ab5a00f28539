#include "server/library_logs.h"

#include <grpc/support/log.h>

#include <string>

#include "base/log/log.h"
#include "google/protobuf/stubs/logging.h"

namespace pprocd {
namespace {

void LogFromGrpc(gpr_log_func_args* args) {
  LogLevel level = LogLevel::kDebug;
  if (args->severity == GPR_LOG_SEVERITY_ERROR) {
    level = LogLevel::kError;
  } else if (args->severity == GPR_LOG_SEVERITY_INFO) {
    level = LogLevel::kInfo;
  }
  Log(level, args->message, {{"source", "grpc"}, {"file", args->file}, {"line", args->line}});
}

void LogFromProtobuf(google::protobuf::LogLevel level, const char* filename, int line,
                     const std::string& message) {
  LogLevel ours = LogLevel::kInfo;
  if (level == google::protobuf::LOGLEVEL_WARNING) {
    ours = LogLevel::kWarn;
  } else if (level >= google::protobuf::LOGLEVEL_ERROR) {
    ours = LogLevel::kError;
  }
  Log(ours, message, {{"source", "protobuf"}, {"file", filename}, {"line", line}});
}

}  // namespace

void RouteLibraryLogs() {
  gpr_set_log_function(&LogFromGrpc);
  google::protobuf::SetLogHandler(&LogFromProtobuf);
}

}  // namespace pprocd
