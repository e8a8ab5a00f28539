// The body of a worker process: reads TaskFrames from its socket, runs each
// item with the registry's callable, and writes ResultFrames back. Runs in a
// single-threaded process forked from the template; never returns.
#ifndef PPROCD_WORKER_WORKER_LOOP_H_
#define PPROCD_WORKER_WORKER_LOOP_H_

#include "worker/registry.h"

namespace pprocd {

// Serves tasks on `task_fd` until the server closes it, then exits the
// process with status 0. Exits with status 70 on a protocol error.
[[noreturn]] void RunWorker(int task_fd, const Registry& registry);

}  // namespace pprocd

#endif  // PPROCD_WORKER_WORKER_LOOP_H_
