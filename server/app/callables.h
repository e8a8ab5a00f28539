// The callables a server serves: the built-ins, the plugins, then the
// config file's command callables and its [limits.NAME] tables. Called at
// start, by --check-config (without the plugins) and on a reload; from one
// thread at a time per registry.
#ifndef PPROCD_SERVER_APP_CALLABLES_H_
#define PPROCD_SERVER_APP_CALLABLES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/config/config.h"
#include "worker/registry.h"

namespace pprocd {

// Adds the config file's command callables to `registry`, after the
// built-ins and plugins, then sets the [limits.NAME] of any callable.
// Returns one error per callable refused (a bad spec, or a name already
// taken) and per limits table naming no callable, each with its line in the
// file at `path`.
std::vector<ConfigError> AddConfigCallables(const std::string& path, const ServerConfig& config,
                                            bool plugins_loaded, Registry* registry);

// The callables of a server with `plugins` and the config file at
// `config_path` (read into `config`). At start (`probe_plugins`) each
// plugin is first loaded in a child process; on a reload the server loads
// them directly, once the new template has.
absl::StatusOr<std::shared_ptr<Registry>> BuildRegistry(const std::vector<std::string>& plugins,
                                                        const std::string& config_path,
                                                        const ServerConfig& config,
                                                        bool probe_plugins);

}  // namespace pprocd

#endif  // PPROCD_SERVER_APP_CALLABLES_H_
