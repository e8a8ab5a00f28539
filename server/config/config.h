// The server's configuration file: a TOML file with a [server] table (the
// values of the command-line flags), any number of [[callable]] tables
// (command callables) and [limits.NAME] tables (resource limits). `pprocd --config FILE` serves
// with it; `pprocd --check-config FILE` only validates it.
//
// Relative paths in the file (state_dir, plugins, a callable's working_dir,
// a unix: listen path) are resolved against the directory of the file.
// Unknown keys, at any level, are errors. Pure functions of their input
// (and the file they read); safe from any thread.
#ifndef PPROCD_SERVER_CONFIG_CONFIG_H_
#define PPROCD_SERVER_CONFIG_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pprocd/v1/callable.pb.h"
#include "server/settings/server_settings.h"
#include "worker/command_callable.h"

namespace pprocd {

// What a config file says: its [server] table (FileSettings, whose keys
// are the rows of server/settings/settings_table.h; a key that is absent
// stays unset, so that the server's defaults and its command-line flags
// decide), its [[callable]] and its [limits.NAME] tables.
struct ServerConfig : FileSettings {
  // One per [[callable]], in file order.
  std::vector<CommandSpec> commands;
  // The line of each [[callable]] in the file (parallel to `commands`), so
  // that a callable refused later can still be reported where it is.
  std::vector<int> command_lines;
  // [limits.NAME] tables: resource limits of any callable (built-in,
  // plugin or command), by name, in file order, each with its line.
  struct NamedLimits {
    std::string callable;
    v1::CallableLimits limits;
    int line = 0;
  };
  std::vector<NamedLimits> limits;
};

// One problem in a config file.
struct ConfigError {
  std::string file;
  // 1-based; 0 when the error has no position (e.g. an unreadable file).
  int line = 0;
  int column = 0;
  std::string message;

  // "FILE:LINE:COLUMN: message", or "FILE:LINE: message" without a
  // column, or "FILE: message" without a position.
  std::string ToString() const;
};

// Parses the TOML document `text`; `file` names it in errors, and relative
// paths are resolved against `base_dir` (empty: left relative). Returns
// every error found, in file order; when there is none, `*config` holds the
// result (it is unspecified otherwise). A TOML syntax error stops parsing,
// so it is the only one reported.
std::vector<ConfigError> ParseConfig(std::string_view text, const std::string& file,
                                     const std::string& base_dir, ServerConfig* config);

// Reads and parses the file at `path` (relative paths in it resolve against
// its directory). Every error, as ParseConfig; an unreadable file is one
// error without a position.
std::vector<ConfigError> CheckConfigFile(const std::string& path, ServerConfig* config);

// As CheckConfigFile. InvalidArgument when the file has errors, its message
// every error (ConfigError::ToString()), one per line.
absl::StatusOr<ServerConfig> LoadConfig(const std::string& path);

}  // namespace pprocd

#endif  // PPROCD_SERVER_CONFIG_CONFIG_H_
