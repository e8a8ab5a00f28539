// Plugins that must stop the server at start, one per build of this file
// (BAD_PLUGIN_KIND selects which).
#include <csignal>

#include "pprocd/callable.h"

#if BAD_PLUGIN_KIND == 1  // Registers a name the built-ins already use.
PPROCD_PLUGIN(registrar) {
  registrar.AddFunction(
      "echo", "A second echo.", {},
      [](const pprocd::Arguments&) -> absl::StatusOr<pprocd::Value> { return pprocd::Null(); });
}
#elif BAD_PLUGIN_KIND == 2  // Crashes in its registration function.
PPROCD_PLUGIN(registrar) {
  (void)registrar;
  std::raise(SIGSEGV);
}
#elif BAD_PLUGIN_KIND == 3  // Has no registration function.
extern "C" int not_a_plugin() { return 0; }
#elif BAD_PLUGIN_KIND == 4  // Registers nothing.
PPROCD_PLUGIN(registrar) { (void)registrar; }
#endif
