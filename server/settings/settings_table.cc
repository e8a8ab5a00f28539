#include "server/settings/settings_table.h"

#include <sys/types.h>

#include "absl/strings/str_cat.h"

namespace pprocd {
namespace {

static_assert(std::is_same_v<mode_t, uint32_t>, "--socket-mode is read as a uint32_t");

using Form = Setting::Form;
using S = ServerSettings;
using F = FileSettings;

std::vector<Setting> MakeTable() {
  std::vector<Setting> table;
  table.push_back(
      MakeSetting("--listen", "listen", &S::listen, &F::listen,
                  "Address to serve on, repeatable: unix:PATH or tcp:HOST:PORT (port 0 picks a "
                  "free port). Default: $PPROCD_ADDRESS, else the per-user socket "
                  "$XDG_RUNTIME_DIR/pprocd/pprocd.sock (/tmp/pprocd-UID/pprocd.sock when "
                  "XDG_RUNTIME_DIR is unset), where every client looks")
          .As(Form::kListenAddress));
  table.push_back(MakeSetting("--workers", "workers", &S::workers, &F::workers,
                              "Pooled worker processes (default: CPU count)"));
  table.push_back(MakeSetting("--state-dir", "state_dir", &S::state_dir, &F::state_dir,
                              "Directory for the server's state (default $XDG_STATE_HOME/pprocd, "
                              "else ~/.local/state/pprocd)")
                      .As(Form::kPath));
  table.push_back(
      MakeSetting("--max-queued-items", "max_queued_items", &S::max_queued_items,
                  &F::max_queued_items,
                  "Inputs waiting for a worker, over all calls, before RESOURCE_EXHAUSTED")
          .ShowDefault());
  table.push_back(MakeSetting("--call-window", "call_window", &S::call_window_items,
                              &F::call_window,
                              "Per call: inputs and unsent results held at most (flow control)")
                      .ShowDefault()
                      .Range(16, uint64_t{1} << 30));
  table.push_back(
      MakeSetting("--max-tasks-per-worker", "max_tasks_per_worker", &S::max_tasks_per_worker,
                  &F::max_tasks_per_worker,
                  "Replace a pooled worker after it has run this many items (0 = never)")
          .ShowDefault());
  table.push_back(
      MakeSetting("--grace-ms", "grace_ms", &S::grace_ms, &F::grace_ms,
                  "On SIGTERM/SIGINT: how long running calls may finish before they are cancelled")
          .ShowDefault());
  table.push_back(MakeSetting("--max-message-bytes", "max_message_bytes", &S::max_message_bytes,
                              &F::max_message_bytes, "Largest request or response message")
                      .ShowDefault()
                      .Range(4096, uint64_t{1} << 30));
  table.push_back(
      MakeSetting("--plugin", "plugins", &S::plugins, &F::plugins,
                  "Shared library of callables written with pprocd/callable.h, repeatable; "
                  "loaded at start (a plugin that fails to load stops the server)")
          .As(Form::kPath));
  table.push_back(
      MakeFlagOnlySetting("--socket-mode", &S::socket_mode,
                          "Mode of the UNIX socket files, in octal (default 0600: only the "
                          "server's user; 0666 lets every user connect, each seeing only their "
                          "own jobs)")
          .As(Form::kOctalMode));
  table.push_back(MakeSetting("--keep-jobs-hours", "keep_jobs_hours", &S::keep_jobs_hours,
                              &F::keep_jobs_hours,
                              "Background jobs that ended are deleted after this many hours")
                      .ShowDefault()
                      .Range(1, 24 * 3650));
  table.push_back(MakeSetting("--max-store-mib", "max_store_mib", &S::max_store_mib,
                              &F::max_store_mib,
                              "Cap of the job store (STATE_DIR/jobs.db); a Submit past it is "
                              "RESOURCE_EXHAUSTED")
                      .ShowDefault()
                      .Range(1, 1 << 20));
  table.push_back(
      MakeFlagOnlySetting("--http", &S::http,
                          "Serve /metrics (Prometheus) and a live dashboard over HTTP on "
                          "HOST:PORT, such as 127.0.0.1:9464 (port 0 picks one); off by default. "
                          "Whoever can connect sees every user's calls and jobs")
          .TypeName("HOST:PORT"));
  table.push_back(MakeSetting("--admin-group", "admin_group", &S::admin_group, &F::admin_group,
                              "Group whose members (with root) may see and act on every user's "
                              "jobs"));
  table.push_back(MakeSetting("--log-format", "log_format", &S::log_format, &F::log_format,
                              "The log on stderr: text (logfmt: time level=... msg=... "
                              "key=value) or json (one object per line)")
                      .ShowDefault()
                      .Choices({"text", "json"}));
  table.push_back(MakeSetting("--log-level", "log_level", &S::log_level, &F::log_level,
                              "Lowest level logged: debug, info, warn or error")
                      .ShowDefault()
                      .Choices({"debug", "info", "warn", "error"}));
  return table;
}

}  // namespace

bool Setting::HasNarrowRange() const {
  return std::visit(
      [this](const auto& field) {
        using T = typename std::decay_t<decltype(field)>::Type;
        if constexpr (std::is_integral_v<T>) {
          return min > 0 || max < std::numeric_limits<T>::max();
        } else {
          return false;
        }
      },
      field);
}

std::string Setting::ChoicesText() const {
  std::string text;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) text += i + 1 == choices.size() ? " or " : ", ";
    absl::StrAppend(&text, "\"", choices[i], "\"");
  }
  return text;
}

const std::vector<Setting>& ServerSettingsTable() {
  static const std::vector<Setting>* const table = new std::vector<Setting>(MakeTable());
  return *table;
}

void MergeFileSettings(const FileSettings& file,
                       const std::function<bool(const Setting&)>& given_on_command_line,
                       ServerSettings* settings) {
  for (const Setting& setting : ServerSettingsTable()) {
    std::visit(
        [&](const auto& field) {
          if (field.file == nullptr) return;
          const auto& value = file.*field.file;
          if (value.has_value() && !given_on_command_line(setting)) {
            settings->*field.value = *value;
          }
        },
        setting.field);
  }
}

std::vector<std::string> KeysSet(const FileSettings& file) {
  std::vector<std::string> keys;
  for (const Setting& setting : ServerSettingsTable()) {
    std::visit(
        [&](const auto& field) {
          if (field.file != nullptr && (file.*field.file).has_value()) {
            keys.push_back(setting.key);
          }
        },
        setting.field);
  }
  return keys;
}

}  // namespace pprocd
