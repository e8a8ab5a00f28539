// Loading plugins: shared libraries written with the SDK (pprocd/callable.h)
// that add callables to a Registry.
#ifndef PPROCD_WORKER_PLUGIN_LOADER_H_
#define PPROCD_WORKER_PLUGIN_LOADER_H_

#include <string>

#include "absl/status/status.h"
#include "worker/registry.h"

namespace pprocd {

// Loads the plugin at `path` and adds its callables to `registry`, with
// origin `path`. The plugin is first loaded in a child process, so that one
// that crashes while loading is reported instead of taking the caller
// down; call it before any thread exists. FailedPrecondition naming the
// plugin and the reason when it cannot be loaded, lacks the registration
// symbol, registers nothing, an invalid callable or a duplicate name, or
// crashes.
absl::Status LoadPlugin(const std::string& path, Registry* registry);

// As LoadPlugin, without the child process: loads the plugin here. For a
// plugin another process has just loaded with LoadPlugin (a reload of the
// callables, once threads exist); loading one already loaded runs its
// registration again into `registry`.
absl::Status LoadPluginInThisProcess(const std::string& path, Registry* registry);

}  // namespace pprocd

#endif  // PPROCD_WORKER_PLUGIN_LOADER_H_
