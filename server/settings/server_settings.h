// The server's settings, as two plain structs: ServerSettings holds the
// values the server runs with (each at its default until the command line
// or the config file sets it); FileSettings holds what a config file's
// [server] table says, each value unset unless the file has its key.
//
// Which field is which flag and which key, with its range and help, is
// written once, in the table of server/settings/settings_table.h: add a
// field here and a row there. Plain data; no thread-safety of its own.
#ifndef PPROCD_SERVER_SETTINGS_SERVER_SETTINGS_H_
#define PPROCD_SERVER_SETTINGS_SERVER_SETTINGS_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pprocd {

struct ServerSettings {
  // Empty until defaulted: DefaultListenAddress(), DefaultStateDir().
  std::vector<std::string> listen;
  std::string state_dir;
  // 0 = one per CPU.
  uint32_t workers = 0;
  uint64_t max_queued_items = 1000000;
  uint64_t call_window_items = 16384;
  uint64_t max_tasks_per_worker = 0;
  uint32_t grace_ms = 5000;
  uint32_t max_message_bytes = 16u << 20;
  // Mode of the server's UNIX socket files (who may connect).
  mode_t socket_mode = 0600;
  std::vector<std::string> plugins;
  uint32_t keep_jobs_hours = 24 * 7;
  uint32_t max_store_mib = 1024;
  std::string admin_group;
  // --http HOST:PORT: metrics and the dashboard ("" = off).
  std::string http;
  // --log-format, --log-level (base/log/log.h).
  std::string log_format = "text";
  std::string log_level = "info";
};

// The [server] table of a config file. unix: listen paths, state_dir and
// plugins are resolved against the file's directory; tcp: addresses are as
// written.
struct FileSettings {
  std::optional<std::vector<std::string>> listen;
  std::optional<uint32_t> workers;
  std::optional<std::string> state_dir;
  std::optional<uint64_t> max_queued_items;
  std::optional<uint64_t> call_window;
  std::optional<uint64_t> max_tasks_per_worker;
  std::optional<uint32_t> grace_ms;
  std::optional<uint32_t> max_message_bytes;
  std::optional<std::vector<std::string>> plugins;
  // Background jobs: how long ended jobs are kept, the job store's cap,
  // and the group whose members may act on every job.
  std::optional<uint32_t> keep_jobs_hours;
  std::optional<uint32_t> max_store_mib;
  std::optional<std::string> admin_group;
  // The log: "text" or "json"; "debug", "info", "warn" or "error".
  std::optional<std::string> log_format;
  std::optional<std::string> log_level;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_SETTINGS_SERVER_SETTINGS_H_
