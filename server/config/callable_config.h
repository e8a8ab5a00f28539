// The [[callable]] tables of a config file, read into CommandSpecs.
// Internal to the config module; single-threaded.
#ifndef PPROCD_SERVER_CONFIG_CALLABLE_CONFIG_H_
#define PPROCD_SERVER_CONFIG_CALLABLE_CONFIG_H_

#include <string>

#include "server/config/config.h"
#include "server/config/toml_reader.h"

namespace pprocd::config_internal {

// `path` joined to `base_dir` when it is relative and base_dir is not empty;
// otherwise `path` as it is.
std::string ResolvePath(const std::string& base_dir, const std::string& path);

// Reads the top-level `callable` value (an array of tables) into
// config->commands and config->command_lines, reporting every error.
void ReadCallables(const toml::node& callables, const std::string& base_dir, ErrorList* errors,
                   ServerConfig* config);

}  // namespace pprocd::config_internal

#endif  // PPROCD_SERVER_CONFIG_CALLABLE_CONFIG_H_
