#include "pproc/result_printer.h"

#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "pproc/progress.h"
#include "pprocd/client/json.h"

namespace pprocd::pproc {
namespace {

void AppendMember(absl::string_view name, absl::string_view json_value, std::string* out) {
  if (out->back() != '{') out->push_back(',');
  client::AppendJsonString(name, out);
  out->push_back(':');
  out->append(json_value.data(), json_value.size());
}

void AppendStringMember(absl::string_view name, absl::string_view text, std::string* out) {
  std::string quoted;
  client::AppendJsonString(text, &quoted);
  AppendMember(name, quoted, out);
}

std::string ErrorKindName(v1::ErrorKind kind) {
  absl::string_view name = v1::ErrorKind_Name(kind);
  if (name.empty()) return absl::StrCat("UNKNOWN_", static_cast<int>(kind));
  absl::ConsumePrefix(&name, "ERROR_KIND_");
  return std::string(name);
}

// Appends the outcome member ("value", "error" or "data") to an object.
void AppendOutcome(const v1::ItemResult& result, std::string* out) {
  switch (result.outcome_case()) {
    case v1::ItemResult::kError:
      AppendMember("error", FormatItemError(result.error()), out);
      return;
    case v1::ItemResult::kData:
      AppendStringMember("data", absl::Base64Escape(result.data()), out);
      return;
    case v1::ItemResult::kValue:
    case v1::ItemResult::OUTCOME_NOT_SET:
      AppendMember("value", client::ValueToJson(result.value()), out);
      return;
  }
}

std::string FormatStats(const v1::ItemStats& stats) {
  return absl::StrCat("{\"wall_us\":", stats.wall_us(), ",\"cpu_us\":", stats.cpu_us(),
                      ",\"max_rss_kib\":", stats.max_rss_kib(),
                      ",\"worker_pid\":", stats.worker_pid(), "}");
}

}  // namespace

std::string FormatItemError(const v1::ItemError& error) {
  std::string out = "{";
  AppendStringMember("kind", ErrorKindName(error.kind()), &out);
  if (!error.signal().empty()) AppendStringMember("signal", error.signal(), &out);
  const bool crashed_by_exit = error.kind() == v1::ERROR_KIND_CRASHED && error.signal().empty();
  if (error.exit_code() != 0 || crashed_by_exit) {
    AppendMember("exit_code", absl::StrCat(error.exit_code()), &out);
  }
  if (!error.message().empty()) {
    AppendStringMember("message", error.message(), &out);
  }
  if (!error.stderr_tail().empty()) {
    AppendStringMember("stderr_tail", error.stderr_tail(), &out);
  }
  out.push_back('}');
  return out;
}

std::string FormatResult(const v1::ItemResult& result, ResultFormat format) {
  if (!format.envelope && !format.stats) {
    if (result.outcome_case() == v1::ItemResult::kValue ||
        result.outcome_case() == v1::ItemResult::OUTCOME_NOT_SET) {
      return client::ValueToJson(result.value());
    }
    std::string out = "{";
    AppendOutcome(result, &out);
    out.push_back('}');
    return out;
  }
  std::string out = "{";
  AppendMember("index", absl::StrCat(result.index()), &out);
  AppendOutcome(result, &out);
  if (format.stats) AppendMember("stats", FormatStats(result.stats()), &out);
  out.push_back('}');
  return out;
}

std::string FormatJobResult(absl::string_view job, const v1::ItemResult& result,
                            ResultFormat format) {
  format.envelope = true;
  std::string out = "{";
  AppendStringMember("job", job, &out);
  std::string line = FormatResult(result, format);
  // `line` is an object: "{" then its members.
  out.push_back(',');
  out.append(line, 1, std::string::npos);
  return out;
}

namespace {

bool IsRegularFile(FILE* out) {
  struct stat info;
  return ::fstat(::fileno(out), &info) == 0 && S_ISREG(info.st_mode);
}

}  // namespace

LineWriter::LineWriter(FILE* out) : out_(out), flush_each_line_(!IsRegularFile(out)) {}

absl::Status LineWriter::WriteLine(absl::string_view line) {
  if (std::fwrite(line.data(), 1, line.size(), out_) != line.size() ||
      std::fputc('\n', out_) == EOF) {
    return WriteFailed(errno);
  }
  if (flush_each_line_) return Flush();
  return absl::OkStatus();
}

absl::Status LineWriter::Flush() {
  if (std::fflush(out_) != 0) return WriteFailed(errno);
  return absl::OkStatus();
}

absl::Status LineWriter::WriteFailed(int error_number) {
  if (error_number == EPIPE) broken_pipe_ = true;
  return ErrnoStatus(error_number, "write stdout");
}

std::string FormatItemLogs(const v1::ItemResult& result, absl::string_view job) {
  std::string out;
  for (const v1::LogRecord& record : result.logs()) {
    const std::string mark =
        absl::StrCat("[", job, job.empty() ? "" : " ", "item ", result.index(), " ",
                     record.stream() == v1::LOG_STREAM_STDERR ? "stderr" : "stdout", "] ");
    absl::string_view data = record.data();
    while (!data.empty()) {
      const size_t end = data.find('\n');
      absl::StrAppend(&out, mark, data.substr(0, end), "\n");
      if (end == absl::string_view::npos) break;
      data.remove_prefix(end + 1);
    }
    if (record.dropped_bytes() > 0) {
      absl::StrAppend(&out, mark, "... ", record.dropped_bytes(), " bytes left out ...\n");
    }
  }
  return out;
}

std::string FormatRunSummary(uint64_t succeeded, uint64_t failed, absl::Duration elapsed) {
  const uint64_t total = succeeded + failed;
  const double seconds = absl::ToDoubleSeconds(elapsed);
  return absl::StrCat("pproc: ", total, total == 1 ? " item" : " items", " in ",
                      absl::StrFormat("%.1fs", seconds), " (",
                      ProgressBar::FormatRate(seconds > 0 ? total / seconds : 0), "): ", succeeded,
                      " succeeded, ", failed, " failed");
}

}  // namespace pprocd::pproc
