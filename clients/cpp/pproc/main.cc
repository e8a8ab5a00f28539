// pproc: command-line client for pprocd, a local process farm served over
// gRPC. See `pproc --help`.
#include "pproc/app.h"
#include "pproc/common.h"
#include "pproc/interrupt.h"

int main(int argc, char** argv) {
  // Before any thread starts: all threads must inherit the blocked signals.
  absl::Status watching = pprocd::pproc::InterruptWatcher::Start();
  if (!watching.ok()) return pprocd::pproc::ReportError(watching);
  return pprocd::pproc::RunPproc(argc, argv);
}
