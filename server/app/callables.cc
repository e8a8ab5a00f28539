#include "server/app/callables.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "worker/builtins.h"
#include "worker/command_callable.h"
#include "worker/plugin_loader.h"

namespace pprocd {

std::vector<ConfigError> AddConfigCallables(const std::string& path, const ServerConfig& config,
                                            bool plugins_loaded, Registry* registry) {
  std::vector<ConfigError> errors;
  for (size_t i = 0; i < config.commands.size(); ++i) {
    const std::string& name = config.commands[i].name;
    absl::StatusOr<CallableDef> def = MakeCommandCallable(config.commands[i]);
    absl::Status added = def.ok() ? absl::OkStatus() : def.status();
    if (const CallableDef* taken = registry->Find(name); added.ok() && taken != nullptr) {
      added = absl::AlreadyExistsError(
          absl::StrCat("the name is already taken (origin: ", taken->origin, ")"));
    }
    if (added.ok()) added = registry->Add(*std::move(def));
    if (!added.ok()) {
      errors.push_back({path, config.command_lines[i], 0,
                        absl::StrCat("callable ", name, ": ", added.message())});
    }
  }
  for (const ServerConfig::NamedLimits& named : config.limits) {
    // Without the plugins (--check-config), a name may be one of theirs.
    if (!plugins_loaded && config.plugins.has_value() &&
        registry->Find(named.callable) == nullptr) {
      continue;
    }
    if (absl::Status set = registry->SetLimits(named.callable, named.limits); !set.ok()) {
      errors.push_back({path, named.line, 0, std::string(set.message())});
    }
  }
  return errors;
}

absl::StatusOr<std::shared_ptr<Registry>> BuildRegistry(const std::vector<std::string>& plugins,
                                                        const std::string& config_path,
                                                        const ServerConfig& config,
                                                        bool probe_plugins) {
  auto registry = std::make_shared<Registry>();
  PPROCD_RETURN_IF_ERROR(RegisterBuiltins(registry.get()));
  for (const std::string& plugin : plugins) {
    PPROCD_RETURN_IF_ERROR(probe_plugins ? LoadPlugin(plugin, registry.get())
                                         : LoadPluginInThisProcess(plugin, registry.get()));
  }
  // Command callables come last: a name taken by a built-in or a plugin is
  // refused.
  if (std::vector<ConfigError> refused =
          AddConfigCallables(config_path, config, /*plugins_loaded=*/true, registry.get());
      !refused.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("config ", config_path, ": ", refused.front().message));
  }
  return registry;
}

}  // namespace pprocd
